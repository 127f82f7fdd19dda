"""Consent through HTTP: recording, witnesses, rights, withdrawal, consent-to-follow, the
privacy officer's review queue, the consent options (CON-1..CON-3, CON-5) and auditing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.consent import service as consents
from clinphoto.core.errors import Invalid
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]

PATIENT = {
    "name": "Jean-François Roy",
    "dob": "1950-11-02",
    "mrn": "R-221",
    "hcn": "ROYJ 5011 0299",
    "province": "QC",
}


def _patient(client: TestClient, dev: EnrolledDevice) -> str:
    r = client.post("/v1/patients", json=PATIENT, headers=dev.auth)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _consent_body(patient_id: str, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "patient_id": patient_id,
        "purposes": ["clinical_care", "education"],
        "method": "written",
        "informed_of_rights": True,
        "text_version": "2026-11-fr",
    }
    body.update(over)
    return body


def _consent(
    client: TestClient, dev: EnrolledDevice, patient_id: str, **over: object
) -> dict[str, Any]:
    r = client.post("/v1/consents", json=_consent_body(patient_id, **over), headers=dev.auth)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _deadline(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_con1_written_consent_is_recorded_with_a_new_encounter(
    client: TestClient, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    consent = _consent(client, clin, pid)
    assert consent["status"] == "active"
    assert consent["purposes"] == ["clinical_care", "education"]
    assert consent["effective_purposes"] == consent["purposes"]
    assert consent["obtained_by"] == clin.user_id
    assert consent["encounter_id"]
    assert consent["signature_sha256"] is None
    read = client.get(f"/v1/consents/{consent['id']}", headers=clin.auth).json()
    assert read == consent
    # A second consent for the same encounter; another patient's encounter is refused.
    same = _consent(client, clin, pid, encounter_id=consent["encounter_id"], purposes=["research"])
    assert same["encounter_id"] == consent["encounter_id"]
    other = client.post("/v1/patients", json={**PATIENT, "mrn": "Z-9"}, headers=clin.auth)
    wrong = client.post(
        "/v1/consents",
        json=_consent_body(other.json()["id"], encounter_id=consent["encounter_id"]),
        headers=clin.auth,
    )
    assert wrong.status_code == 422  # the caller's own mistake, named
    assert "encounter_id" in wrong.json()["error"]["message"]
    listed = client.get(f"/v1/patients/{pid}/consents", headers=clin.auth).json()
    assert [c["id"] for c in listed] == [consent["id"], same["id"]]


def test_con3_verbal_consent_needs_witness(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    for witness in (None, "", "   "):
        r = client.post(
            "/v1/consents",
            json=_consent_body(pid, method="verbal", witness_name=witness),
            headers=clin.auth,
        )
        assert r.status_code == 422
        assert r.json()["error"]["message"] == "witness_name: a verbal consent needs a witness"
    ok = _consent(client, clin, pid, method="verbal", witness_name="Nurse Gagnon")
    assert ok["witness_name"] == "Nurse Gagnon"
    assert ok["method"] == "verbal"


def test_con1_rights_not_affirmed_refused(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    r = client.post(
        "/v1/consents", json=_consent_body(pid, informed_of_rights=False), headers=clin.auth
    )
    assert r.status_code == 422
    assert "rights" in r.json()["error"]["message"]
    assert client.get(f"/v1/patients/{pid}/consents", headers=clin.auth).json() == []


def test_con1_unknown_purpose_refused(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    for purposes in (["marketing"], ["clinical_care", "advertising"], []):
        r = client.post(
            "/v1/consents", json=_consent_body(pid, purposes=purposes), headers=clin.auth
        )
        assert r.status_code == 422, purposes
        assert r.json()["error"]["code"] == "invalid_request"
    with pytest.raises(Invalid, match="unknown purpose"):
        consents.parse_purposes(["marketing"])


def test_con2_withdrawing_one_purpose_leaves_the_others(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    consent = _consent(client, clin, pid, purposes=["clinical_care", "education", "research"])
    r = client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["education"], "reason": "changed their mind"},
        headers=clin.auth,
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["purposes"] == ["clinical_care", "education", "research"]  # record is kept
    assert after["effective_purposes"] == ["clinical_care", "research"]
    assert [w["purpose"] for w in after["withdrawals"]] == ["education"]
    enc = consent["encounter_id"]
    with instance.unit_of_work() as db:
        assert consents.covering_consent(db, pid, enc, "clinical_care").id == consent["id"]
        assert consents.covering_consent(db, pid, enc, "research").id == consent["id"]
        with pytest.raises(Invalid, match="no consent covers education for this encounter"):
            consents.covering_consent(db, pid, enc, "education")
        with pytest.raises(Invalid, match="no consent covers publication"):
            consents.covering_consent(db, pid, enc, "publication")
    # Withdrawing it again is refused; withdrawing everything leaves nothing.
    again = client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["education"]},
        headers=clin.auth,
    )
    assert again.status_code == 422
    everything = client.post(
        f"/v1/consents/{consent['id']}/withdrawals", json={}, headers=clin.auth
    )
    assert everything.json()["effective_purposes"] == []
    with instance.unit_of_work() as db, pytest.raises(Invalid):
        consents.covering_consent(db, pid, enc, "clinical_care")


def test_con3_to_follow_is_queued_for_the_privacy_officer_until_completed(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clin, officer = new_device(Role.CLINICIAN), new_device(Role.PRIVACY_OFFICER)
    pid = _patient(client, clin)
    later = client.post(
        "/v1/consents/to-follow",
        json={"patient_id": pid, "reason": "unconscious on arrival", "deadline": _deadline(48)},
        headers=clin.auth,
    )
    sooner = client.post(
        "/v1/consents/to-follow",
        json={"patient_id": pid, "reason": "sedated", "deadline": _deadline(2)},
        headers=clin.auth,
    )
    assert later.status_code == sooner.status_code == 200, later.text
    follow = later.json()
    assert follow["status"] == "to_follow"
    assert follow["purposes"] == ["clinical_care"]
    assert follow["to_follow_reason"] == "unconscious on arrival"
    with instance.unit_of_work() as db:
        enc = follow["encounter_id"]
        assert consents.covering_consent(db, pid, enc, "clinical_care").id == follow["id"]
        with pytest.raises(Invalid):
            consents.covering_consent(db, pid, enc, "education")
    past = client.post(
        "/v1/consents/to-follow",
        json={"patient_id": pid, "reason": "x", "deadline": _deadline(-1)},
        headers=clin.auth,
    )
    assert past.status_code == 422

    queue = client.get("/v1/review/consents-to-follow", headers=officer.auth)
    assert queue.status_code == 200
    assert [c["id"] for c in queue.json()] == [sooner.json()["id"], follow["id"]]
    # The queue is the privacy officers': the role is told, nothing about any patient.
    assert client.get("/v1/review/consents-to-follow", headers=clin.auth).status_code == 403

    done = _consent(client, clin, pid, completes=follow["id"], purposes=["clinical_care"])
    assert done["completes_consent_id"] == follow["id"]
    assert done["encounter_id"] == follow["encounter_id"]
    assert client.get(f"/v1/consents/{follow['id']}", headers=clin.auth).json()["status"] == (
        "completed_follow"
    )
    queue = client.get("/v1/review/consents-to-follow", headers=officer.auth).json()
    assert [c["id"] for c in queue] == [sooner.json()["id"]]
    # A completed consent-to-follow cannot be completed again.
    twice = client.post(
        "/v1/consents", json=_consent_body(pid, completes=follow["id"]), headers=clin.auth
    )
    assert twice.status_code == 422


def test_aud2_administrator_cannot_create_or_read_consent(
    client: TestClient, new_device: NewDevice
) -> None:
    clin, admin = new_device(Role.CLINICIAN), new_device(Role.ADMINISTRATOR)
    pid = _patient(client, clin)
    consent = _consent(client, clin, pid)
    # About a named patient or consent, "not yours" answers exactly like "not found".
    assert client.post("/v1/consents", json=_consent_body(pid), headers=admin.auth).status_code == (
        404
    )
    follow = {"patient_id": pid, "reason": "x", "deadline": _deadline(1)}
    assert client.post("/v1/consents/to-follow", json=follow, headers=admin.auth).status_code == (
        404
    )
    assert client.get(f"/v1/consents/{consent['id']}", headers=admin.auth).status_code == 404
    assert client.get(f"/v1/patients/{pid}/consents", headers=admin.auth).status_code == 404
    withdrawal = client.post(
        f"/v1/consents/{consent['id']}/withdrawals", json={}, headers=admin.auth
    )
    assert withdrawal.status_code == 404
    assert client.get("/v1/review/consents-to-follow", headers=admin.auth).status_code == 403


def test_con5_consent_options_change_nothing_security_related(
    client: TestClient, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    for identifiable, unsecure, foreign in itertools.product([False, True], repeat=3):
        consent = _consent(
            client,
            clin,
            pid,
            identifiable_allowed=identifiable,
            unsecure_channel_allowed=unsecure,
            foreign_storage_allowed=foreign,
        )
        # The options are recorded exactly as given...
        stored = client.get(f"/v1/consents/{consent['id']}", headers=clin.auth).json()
        assert (
            stored["identifiable_allowed"],
            stored["unsecure_channel_allowed"],
            stored["foreign_storage_allowed"],
        ) == (identifiable, unsecure, foreign)
        # ...and no control is relaxed: sessions are still required for the patient and
        # its consents, a bogus token is still refused, and rights must still be affirmed.
        for path in (f"/v1/patients/{pid}", f"/v1/patients/{pid}/consents", "/v1/patients"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer x"}).status_code == 401
        refused = client.post(
            "/v1/consents",
            json=_consent_body(
                pid,
                informed_of_rights=False,
                identifiable_allowed=identifiable,
                unsecure_channel_allowed=unsecure,
                foreign_storage_allowed=foreign,
            ),
            headers=clin.auth,
        )
        assert refused.status_code == 422


def test_aud1_every_consent_action_is_audited_against_the_patient(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clin, officer = new_device(Role.CLINICIAN), new_device(Role.PRIVACY_OFFICER)
    pid = _patient(client, clin)
    consent = _consent(client, clin, pid, method="verbal", witness_name="Nurse Gagnon")
    follow = client.post(
        "/v1/consents/to-follow",
        json={"patient_id": pid, "reason": "trauma bay", "deadline": _deadline(4)},
        headers=clin.auth,
    ).json()
    client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["education"], "reason": "private reason"},
        headers=clin.auth,
    )
    client.get(f"/v1/consents/{consent['id']}", headers=clin.auth)
    client.get(f"/v1/patients/{pid}/consents", headers=clin.auth)
    client.get("/v1/review/consents-to-follow", headers=officer.auth)
    _consent(client, clin, pid, completes=follow["id"], purposes=["clinical_care"])
    with instance.unit_of_work() as db:
        lines = list(audit.export_patient(db, pid))
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    actions = [line.split('"action": "')[1].split('"')[0] for line in lines]
    for action in (
        "consent.record",
        "consent.record_to_follow",
        "consent.withdraw",
        "consent.read",
        "consent.review_to_follow",
    ):
        assert action in actions
    assert actions.count("consent.record") == 2
    text = "\n".join(lines)
    for secret in ("Nurse Gagnon", "private reason", "trauma bay", "Roy", "R-221", "1950-11-02"):
        assert secret not in text
