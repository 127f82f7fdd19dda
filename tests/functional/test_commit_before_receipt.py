"""A receipt never precedes its commit (STO-1, TRN-1): the request's transaction commits
before the response is sent, so a commit that fails is answered as a server error, and a
device that deletes its sealed copy on a receipt never loses what the server did not keep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from clinphoto.accounts.models import Role
from clinphoto.api.app import create_app
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance
from clinphoto.patients.models import Patient
from tests.conftest import enroll, make_user

PATIENT = {
    "name": "Louis Gagnon",
    "dob": "1948-07-21",
    "mrn": "G-7702",
    "hcn": "GAGL 4807 2117",
    "province": "QC",
}


@pytest.fixture
def quiet_client(settings: Settings, instance: Instance) -> Iterator[TestClient]:
    """The app as a device sees it: server errors come back as responses."""
    with TestClient(create_app(settings, instance), raise_server_exceptions=False) as c:
        yield c


def test_sto1_a_failed_commit_is_answered_as_an_error_never_as_a_receipt(
    quiet_client: TestClient, instance: Instance
) -> None:
    dev = enroll(quiet_client, make_user(instance, Role.CLINICIAN, "l.roy@h.example"))
    failing = {"armed": True}

    def fail_once(session: Session) -> None:
        # The handler's transaction: the one that writes the patient (the session check
        # before it commits a transaction of its own).
        if failing["armed"] and any(isinstance(o, Patient) for o in session.identity_map.values()):
            failing["armed"] = False
            raise RuntimeError("the database went away at commit")

    event.listen(Session, "before_commit", fail_once)
    try:
        r = quiet_client.post("/v1/patients", json=PATIENT, headers=dev.auth)
    finally:
        event.remove(Session, "before_commit", fail_once)
    assert not failing["armed"], "the commit was attempted"
    assert r.status_code == 500, r.text
    # Nothing was kept: the same patient registers afresh.
    again = quiet_client.post("/v1/patients", json=PATIENT, headers=dev.auth)
    assert again.status_code == 200, again.text
