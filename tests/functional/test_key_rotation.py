"""Key rotation re-encrypts every stored field under the new key (STO-1, section 2 of the
core issue): `admin rotate-keys` on real data, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app
from clinphoto.consent import service as consents
from clinphoto.consent.models import Consent
from clinphoto.core.config import Settings
from clinphoto.instance import keys, rewrap
from clinphoto.instance.runtime import Instance
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]
runner = CliRunner()


def _records(client: TestClient, clin: EnrolledDevice) -> tuple[str, str]:
    patient = client.post(
        "/v1/patients",
        json={
            "name": "Élise Côté",
            "dob": "1964-08-30",
            "mrn": "MRN-77120",
            "hcn": "1234-567-890-AB",
            "province": "ON",
        },
        headers=clin.auth,
    ).json()
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": patient["id"],
            "purposes": ["clinical_care", "education"],
            "method": "verbal",
            "witness_name": "Nurse Aubin",
            "informed_of_rights": True,
            "text_version": "2026-11-fr",
        },
        headers=clin.auth,
    ).json()
    r = client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["education"], "reason": "changed her mind"},
        headers=clin.auth,
    )
    assert r.status_code == 200, r.text
    return str(patient["id"]), str(consent["id"])


def _key_ids(instance: Instance) -> set[bytes]:
    found: set[bytes] = set()
    with instance.unit_of_work() as db:
        for model, column in rewrap.ENCRYPTED_COLUMNS:
            col = getattr(model, column)
            for (value,) in db.execute(select(col).where(col.is_not(None))):
                found.add(bytes(value).partition(b"$")[0])
    return found


def test_rotate_keys_reencrypts_every_field_and_lookups_still_work(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid, cid = _records(client, clin)
    assert _key_ids(instance) == {b"k1"}
    with instance.unit_of_work() as db:
        bidx_before = db.execute(select(Patient.mrn_bidx, Patient.hcn_bidx)).one()
    monkeypatch.setenv(
        "CLINPHOTO_DATABASE_URL", instance.engine.url.render_as_string(hide_password=False)
    )

    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "admin", "rotate-keys"])
    assert result.exit_code == 0, result.output
    # name, dob, mrn, hcn, the witness and the withdrawal reason: six fields.
    assert "Re-encrypted 6 fields under k2" in result.output
    assert _key_ids(instance) == {b"k2"}

    fresh = keys.load(settings).fields
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 0
        patient = db.get(Patient, pid)
        consent = db.get(Consent, cid)
        assert patient is not None
        assert consent is not None
        view = patients.view(patient, fresh)
        assert (view.name, view.mrn) == ("Élise Côté", "MRN77120")
        assert consents.view(db, fresh, consent).witness_name == "Nurse Aubin"
        # The blind indexes have their own key and are untouched, so lookups keep working.
        assert db.execute(select(Patient.mrn_bidx, Patient.hcn_bidx)).one() == bidx_before
        actions = db.execute(
            select(AuditEntry.action).where(AuditEntry.action.like("instance.keys_%"))
        ).scalars()
        assert sorted(actions) == ["instance.keys_rewrap", "instance.keys_rotate"]
        assert audit.verify(db, instance.audit_keys.public_by_id) is None

    # Running again finds nothing to do and says so.
    again = runner.invoke(app, ["--data-dir", str(settings.data_dir), "admin", "rewrap-fields"])
    assert again.exit_code == 0, again.output
    assert "Re-encrypted 0 of 6 fields; 0 still under an older key" in again.output


def test_rewrap_leaves_a_field_changed_meanwhile_for_the_next_run(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clin = new_device(Role.CLINICIAN)
    _records(client, clin)
    keys.rotate_field_key(settings)
    fresh = keys.load(settings).fields
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 6

    real_batches = rewrap._batches
    edited: list[str] = []

    def racing(
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        model: Any,
        column: str,
        size: int,
    ) -> Iterator[tuple[Session, list[tuple[str, bytes]]]]:
        """Another writer changes the first row after the rewrap has read it."""
        for db, rows in real_batches(unit_of_work, model, column, size):
            if not edited:
                row_id = rows[0][0]
                aad = rewrap.field_aad(model.__tablename__, column, row_id)
                db.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values({column: fresh.encrypt("edited meanwhile", aad)})
                )
                edited.append(row_id)
            yield db, rows

    monkeypatch.setattr(rewrap, "_batches", racing)
    report = rewrap.rewrap_fields(instance.unit_of_work, fresh, batch=2)
    assert (report.rewrapped, report.skipped_changed) == (5, 1)
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 0  # the other writer's value stands, new key
        patient = db.get(Patient, edited[0])
        assert patient is not None
        assert patients.view(patient, fresh).name == "edited meanwhile"
