"""One test per finding of the attack review behind issue 7 that concerns who may do what
(AUD-2, CON-1, CON-7, AUD-1), each named for the property it proves, through HTTP on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role
from clinphoto.audit.models import AuditEntry
from clinphoto.core import protocol
from clinphoto.core.errors import Unauthenticated
from clinphoto.instance.runtime import Instance
from clinphoto.media import service as media_service
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _seal, _upload
from tests.functional.test_sharing_api import _captured, _reseal

NewDevice = Callable[..., EnrolledDevice]


def _patient(client: TestClient, dev: EnrolledDevice, name: str = "Rosalie Bergeron") -> dict:
    mrn = uuid.uuid4().hex[:10].upper()
    r = client.post(
        "/v1/patients",
        json={"name": name, "dob": "1950-06-01", "mrn": mrn, "hcn": None, "province": "ON"},
        headers=dev.auth,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _consent(client: TestClient, dev: EnrolledDevice, pid: str, **over: Any) -> Any:
    body: dict[str, Any] = {
        "patient_id": pid,
        "purposes": ["clinical_care", "education"],
        "method": "written",
        "informed_of_rights": True,
        "text_version": "2026-11-en",
    }
    body.update(over)
    return client.post("/v1/consents", json=body, headers=dev.auth)


def _entries(instance: Instance, **where: str) -> list[AuditEntry]:
    with instance.unit_of_work() as db:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        rows = list(db.execute(query).scalars())
        db.expunge_all()
    return rows


# --- finding patients ---------------------------------------------------------------------


def test_unrelated_clinician_cannot_find_patient_by_name(
    client: TestClient, new_device: NewDevice
) -> None:
    owner, stranger = new_device(), new_device()
    _patient(client, owner)
    assert client.get("/v1/patients?name=Bergeron", headers=owner.auth).json() != []
    assert client.get("/v1/patients?name=Bergeron", headers=stranger.auth).json() == []


def test_unrelated_clinician_cannot_read_patient_identifiers_by_id(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, stranger = new_device(), new_device()
    pid = _patient(client, owner)["id"]
    hidden = client.get(f"/v1/patients/{pid}", headers=stranger.auth)
    absent = client.get(f"/v1/patients/{'0' * 32}", headers=stranger.auth)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["error"]["message"] == absent.json()["error"]["message"]
    # The refusal is audited against the patient, so their audit export shows it.
    [refused] = [e for e in _entries(instance, patient_ref=pid) if e.outcome == "denied"]
    assert (refused.action, refused.actor) == ("patient.read", stranger.user_id)


def test_wristband_lookup_confirms_the_patient_and_opening_an_encounter_joins_the_care_team(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, colleague = new_device(), new_device()
    created = _patient(client, owner)
    [match] = client.get(f"/v1/patients?mrn={created['mrn']}", headers=colleague.auth).json()
    # Enough to confirm against the wristband; no more identifiers until on the team.
    assert match == {
        "id": created["id"],
        "name": created["name"],
        "dob": created["dob"],
        "province": "ON",
        "relation": None,
    }
    assert client.get(f"/v1/patients/{created['id']}", headers=colleague.auth).status_code == 404
    opened = client.post(f"/v1/patients/{created['id']}/encounters", headers=colleague.auth)
    assert opened.status_code == 201, opened.text
    assert client.get(f"/v1/patients/{created['id']}", headers=colleague.auth).status_code == 200
    team = client.get(f"/v1/patients/{created['id']}/care-team", headers=colleague.auth).json()
    assert {(m["user_id"], m["source"]) for m in team} == {
        (owner.user_id, "registered"),
        (colleague.user_id, "encounter"),
    }
    [entry] = _entries(instance, action="patient.encounter_open")
    assert json.loads(entry.details)["joined_care_team"] is True
    # The MRN typed is never written to the audit trail.
    for e in _entries(instance):
        assert created["mrn"] not in (e.details + e.object_id + e.patient_ref)


def test_second_registration_of_an_mrn_is_refused(
    client: TestClient, new_device: NewDevice
) -> None:
    a, b = new_device(), new_device()
    first = _patient(client, a)
    again = client.post(
        "/v1/patients",
        json={"name": "X Y", "dob": "1990-01-01", "mrn": first["mrn"], "province": "QC"},
        headers=b.auth,
    )
    assert again.status_code == 409
    assert "find them by MRN" in again.json()["error"]["message"]


def test_emergency_override_is_reasoned_time_limited_audited_and_reviewed(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, er_doctor = new_device(), new_device()
    officer = new_device(Role.PRIVACY_OFFICER)
    pid = _patient(client, owner)["id"]
    path = f"/v1/patients/{pid}/emergency-override"
    assert client.post(path, json={"reason": "x"}, headers=er_doctor.auth).status_code == 422
    too_long = {"reason": "unconscious, no team reachable", "minutes": 24 * 60}
    assert client.post(path, json=too_long, headers=er_doctor.auth).status_code == 422
    body = {"reason": "unconscious in the ER, team unreachable", "minutes": 30}
    made = client.post(path, json=body, headers=er_doctor.auth)
    assert made.status_code == 201, made.text
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(minutes=29) < expires - datetime.now(UTC) <= timedelta(minutes=30)
    assert client.get(f"/v1/patients/{pid}", headers=er_doctor.auth).status_code == 200
    read = [e for e in _entries(instance, action="patient.read") if e.actor == er_doctor.user_id]
    assert json.loads(read[-1].details)["decision"] == "allow_override"
    # Listed for privacy officers until reviewed; clinicians are told it is not theirs.
    assert client.get("/v1/review/emergency-overrides", headers=er_doctor.auth).status_code == 403
    queue = client.get("/v1/review/emergency-overrides", headers=officer.auth).json()
    assert [(o["user_id"], o["reason"]) for o in queue] == [(er_doctor.user_id, body["reason"])]
    done = client.post(f"/v1/review/emergency-overrides/{queue[0]['id']}", headers=officer.auth)
    assert done.json()["reviewed_by"] == officer.user_id
    assert client.get("/v1/review/emergency-overrides", headers=officer.auth).json() == []
    # Once it expires, the door closes again.
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE emergency_overrides SET expires_at = :t"),
            {"t": datetime.now(UTC) - timedelta(minutes=1)},
        )
    assert client.get(f"/v1/patients/{pid}", headers=er_doctor.auth).status_code == 404
    # The reason is stored encrypted.
    with instance.engine.connect() as conn:
        raw = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in conn.execute(text("SELECT * FROM emergency_overrides"))
            for v in row
        )
    assert b"unconscious" not in raw


# --- consent ------------------------------------------------------------------------------


def test_unrelated_clinician_cannot_withdraw_another_teams_consent(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, stranger = new_device(), new_device()
    pid = _patient(client, owner)["id"]
    consent = _consent(client, owner, pid).json()
    r = client.post(f"/v1/consents/{consent['id']}/withdrawals", json={}, headers=stranger.auth)
    assert r.status_code == 404
    still = client.get(f"/v1/consents/{consent['id']}", headers=owner.auth).json()
    assert still["effective_purposes"] == ["clinical_care", "education"]
    [refused] = _entries(instance, action="consent.withdraw")
    assert (refused.outcome, refused.patient_ref) == ("denied", pid)


def test_unrelated_clinician_cannot_record_consent_in_another_teams_encounter(
    client: TestClient, new_device: NewDevice
) -> None:
    owner, stranger = new_device(), new_device()
    pid = _patient(client, owner)["id"]
    consent = _consent(client, owner, pid, purposes=["clinical_care"]).json()
    owner_withdraws = client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["clinical_care"]},
        headers=owner.auth,
    )
    assert owner_withdraws.status_code == 200
    side_door = _consent(client, stranger, pid, encounter_id=consent["encounter_id"])
    assert side_door.status_code == 404


def test_withdrawn_purpose_comes_back_only_through_a_documented_renewal(
    client: TestClient, new_device: NewDevice
) -> None:
    owner = new_device()
    pid = _patient(client, owner)["id"]
    consent = _consent(client, owner, pid, purposes=["clinical_care", "publication"]).json()
    eid = consent["encounter_id"]
    client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["publication"]},
        headers=owner.auth,
    )
    plain = _consent(client, owner, pid, purposes=["publication"], encounter_id=eid)
    assert plain.status_code == 422
    assert "renew" in plain.json()["error"]["message"]
    renewed = _consent(
        client, owner, pid, purposes=["publication"], encounter_id=eid, renews_withdrawn=True
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["effective_purposes"] == ["publication"]


def test_consent_to_follow_stops_covering_capture_at_its_deadline(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid = _patient(client, dev)["id"]
    deadline = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    follow = client.post(
        "/v1/consents/to-follow",
        json={"patient_id": pid, "reason": "trauma bay, unconscious", "deadline": deadline},
        headers=dev.auth,
    ).json()
    eid = follow["encounter_id"]
    assert _upload(client, dev, _seal(instance, dev, pid, eid)).status_code == 201  # type: ignore[attr-defined]
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE consents SET to_follow_deadline = :t WHERE id = :id"),
            {"t": datetime.now(UTC) - timedelta(minutes=1), "id": follow["id"]},
        )
    late = _upload(client, dev, _seal(instance, dev, pid, eid))
    assert late.status_code == 403  # type: ignore[attr-defined]
    assert "deadline" in late.json()["error"]["message"]  # type: ignore[attr-defined]


def test_consent_to_follow_deadline_has_an_upper_bound_and_keeps_its_offset(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    pid = _patient(client, dev)["id"]
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"patient_id": pid, "reason": "trauma bay", "deadline": far}
    assert client.post("/v1/consents/to-follow", json=body, headers=dev.auth).status_code == 422
    # A deadline given with an offset (Eastern time) means the same instant once stored.
    eastern = datetime.now(UTC).astimezone(__import__("datetime").timezone(timedelta(hours=-5)))
    wanted = (eastern + timedelta(hours=3)).replace(microsecond=0)
    made = client.post(
        "/v1/consents/to-follow",
        json={**body, "deadline": wanted.isoformat()},
        headers=dev.auth,
    )
    assert made.status_code == 200, made.text
    stored = client.get(f"/v1/consents/{made.json()['id']}", headers=dev.auth).json()
    assert datetime.fromisoformat(stored["to_follow_deadline"]) == wanted


def test_electronic_signature_consent_covers_nothing_until_its_signature_is_attached(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid = _patient(client, dev)["id"]
    consent = _consent(client, dev, pid, method="electronic_signature").json()
    r = _upload(client, dev, _seal(instance, dev, pid, consent["encounter_id"]))
    assert r.status_code == 403  # type: ignore[attr-defined]


# --- media and shares ---------------------------------------------------------------------


def test_refused_views_are_audited_with_the_patient_reference(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, stranger = new_device(), new_device()
    media_id, _, pid = _captured(client, instance, owner)
    r = client.get(f"/v1/media/{media_id}?purpose=clinical_care", headers=stranger.auth)
    assert r.status_code == 404
    [refused] = [e for e in _entries(instance, action="media.view") if e.outcome == "denied"]
    assert (refused.patient_ref, refused.actor, refused.object_id) == (
        pid,
        stranger.user_id,
        media_id,
    )


def test_inbox_sent_listing_and_refused_acknowledgement_after_withdrawal_are_audited(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, bob = new_device(), new_device()
    media_id, plain, pid = _captured(client, instance, alice)
    records = instance.keys.records.recipient
    share = _reseal(client, alice, media_id, plain, bob.user_id, [bob.age.recipient, records])
    share_id = share.json()["id"]  # type: ignore[attr-defined]
    assert len(client.get("/v1/inbox", headers=bob.auth).json()) == 1
    assert len(client.get(f"/v1/media/{media_id}/shares", headers=alice.auth).json()) == 1
    [inbox_entry] = _entries(instance, action="share.inbox")
    assert (inbox_entry.patient_ref, inbox_entry.object_id) == (pid, share_id)
    [listing] = _entries(instance, action="share.list_sent")
    assert listing.patient_ref == pid
    # The recipient may confirm whose photo it is, and nothing else about the patient.
    assert client.get(f"/v1/patients/{pid}", headers=bob.auth).status_code == 200
    consent_list = client.get(f"/v1/patients/{pid}/consents", headers=bob.auth)
    assert consent_list.status_code == 404
    # The patient withdraws: the acknowledgement is refused, and the refusal is audited.
    [consent] = client.get(f"/v1/patients/{pid}/consents", headers=alice.auth).json()
    client.post(f"/v1/consents/{consent['id']}/withdrawals", json={}, headers=alice.auth)
    signature = crypto.sign(bob.signing, protocol.ack_message(share_id, "0" * 64))
    ack = client.post(f"/v1/shares/{share_id}/ack", json={"signature": signature}, headers=bob.auth)
    assert ack.status_code == 404
    [refused] = _entries(instance, action="share.ack")
    assert (refused.outcome, refused.patient_ref) == ("denied", pid)


def test_upload_streaming_when_its_device_is_revoked_is_not_recorded(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    """The three steps of the HTTP upload, driven one by one: the manifest is accepted, the
    body is stored, the device is revoked meanwhile, and recording the upload refuses."""
    dev = new_device()
    pid = _patient(client, dev)["id"]
    eid = _consent(client, dev, pid).json()["encounter_id"]
    sealed = _seal(instance, dev, pid, eid)
    me = client.get("/v1/me", headers=dev.auth)
    assert me.status_code == 200
    with instance.unit_of_work() as db:
        principal = accounts.authenticate(db, dev.token)
        plan = media_service.check_upload(
            db,
            principal=principal,
            records_recipient=instance.keys.records.recipient,
            manifest_bytes=sealed.manifest_bytes,
            manifest=json.loads(sealed.manifest_bytes),
            signature=sealed.signature,
        )
        db.expunge_all()
    writer = instance.blobs.writer(max_bytes=plan.size)
    writer.write(sealed.ciphertext)
    blob = writer.finish(plan.ciphertext_sha256)
    # Meanwhile, the device is revoked from another device.
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE devices SET status = 'revoked' WHERE id = :id"), {"id": dev.device_id}
        )
    with pytest.raises(Unauthenticated, match="revoked"), instance.unit_of_work() as db:
        media_service.record_capture(
            db, principal=principal, plan=plan, blob=blob, jurisdiction="CA"
        )
    with instance.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM media")).scalar() == 0
    [refused] = [e for e in _entries(instance, action="media.upload") if e.outcome == "denied"]
    assert refused.patient_ref == pid


def test_audit_export_refuses_an_mrn_and_never_writes_it(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    owner, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    created = _patient(client, owner)
    mrn_path = client.get(f"/v1/patients/{created['mrn']}/audit", headers=officer.auth)
    assert mrn_path.status_code == 422
    exported = client.get(f"/v1/patients/{created['id']}/audit", headers=officer.auth)
    assert exported.status_code == 200
    assert [e["action"] for e in exported.json()][:1] == ["patient.create"]
    assert client.get(f"/v1/patients/{created['id']}/audit", headers=owner.auth).status_code == 404
    for e in _entries(instance):
        assert created["mrn"] not in (e.details + e.object_id + e.patient_ref + e.purpose)


def test_privacy_officer_documents_consent_in_an_existing_encounter_only(
    client: TestClient, new_device: NewDevice
) -> None:
    owner, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    pid = _patient(client, owner)["id"]
    eid = _consent(client, owner, pid, purposes=["clinical_care"]).json()["encounter_id"]
    no_encounter = _consent(client, officer, pid, purposes=["education"])
    assert no_encounter.status_code == 422
    assert "existing encounter" in no_encounter.json()["error"]["message"]
    documented = _consent(client, officer, pid, purposes=["education"], encounter_id=eid)
    assert documented.status_code == 200, documented.text
    assert documented.json()["obtained_by"] == officer.user_id
