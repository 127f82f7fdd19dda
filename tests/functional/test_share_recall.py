"""Recalling a misdirected share through HTTP (BRE-2; decision 014), on SQLite and PostgreSQL:
the sender (or a privacy officer) recalls it; the recipient's inbox drops it and its download
answers 404 at once; the recipient's devices are told to delete their copy and confirm, signed
by their status key; the register records that the wrong recipient downloaded it before the
recall, and each device's confirmation. Nobody else can recall it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit.models import AuditEntry
from clinphoto.core import protocol
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_breaches import breach, person, recipients_of
from tests.functional.test_device_status import register, report, status_body, wire_time
from tests.functional.test_sharing_api import _reseal
from tests.functional.test_who_saw import _photo


def _shared(
    client: TestClient, instance: Instance
) -> tuple[EnrolledDevice, EnrolledDevice, str, str]:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Wrong", Role.CLINICIAN)
    pid, mid, plain = _photo(client, instance, alice)
    sent = _reseal(client, alice, mid, plain, bob.user_id, recipients_of(client, bob, instance))
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    return alice, bob, sent.json()["id"], pid  # type: ignore[attr-defined]


def _inbox(client: TestClient, who: EnrolledDevice) -> list[str]:
    got = client.get("/v1/inbox", headers=who.auth)
    assert got.status_code == 200
    return [i["share"]["id"] for i in got.json()]


def test_bre2_recall_ends_access_and_asks_the_device_to_delete(
    client: TestClient, instance: Instance
) -> None:
    alice, bob, sid, pid = _shared(client, instance)
    mallory = person(client, instance, "Dr Mallory", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    key = register(client, bob)
    assert _inbox(client, bob) == [sid]
    assert client.get(f"/v1/shares/{sid}/content", headers=bob.auth).status_code == 200
    assert report(client, status_body(bob.device_id, key)).json()["delete_shares"] == []

    for outsider in (mallory, bob):  # not theirs to recall: "not found"
        refused = client.post(
            f"/v1/shares/{sid}/recall", json={"reason": "mine?"}, headers=outsider.auth
        )
        assert refused.status_code == 404
    found = breach(client, alice, kind="misdirected_share", share_id=sid)
    assert found["share"]["recalled_at"] is not None
    assert found["share"]["opened_before_recall"] is True
    assert found["share"]["recipient_name"] == "Dr Bob Wrong"
    [exposed] = found["exposure"]["patients"]
    assert exposed["patient_id"] == pid
    assert exposed["reasons"] == ["shared_by_mistake"]
    assert found["proposed_classification"]["classification"] == "breach_real_risk"

    assert _inbox(client, bob) == []
    assert client.get(f"/v1/shares/{sid}/content", headers=bob.auth).status_code == 404
    told = report(client, status_body(bob.device_id, key)).json()
    assert told["delete_shares"] == [sid]
    again = client.post(f"/v1/shares/{sid}/recall", json={"reason": "twice"}, headers=officer.auth)
    assert again.status_code == 409

    deleted_at = wire_time(datetime.now(UTC))
    body = {
        "device_id": bob.device_id,
        "share_id": sid,
        "deleted_at": deleted_at,
        "signature": crypto.sign(
            key, protocol.share_deleted_message(bob.device_id, sid, deleted_at)
        ),
    }
    forged = {**body, "signature": crypto.sign(crypto.SigningKey.generate(), b"x")}
    assert client.post("/v1/device-status/delete-confirmation", json=forged).status_code == 401
    ok = client.post("/v1/device-status/delete-confirmation", json=body)
    assert ok.status_code == 204, ok.text
    assert client.post("/v1/device-status/delete-confirmation", json=body).status_code == 204
    assert report(client, status_body(bob.device_id, key)).json()["delete_shares"] == []
    view = client.get(f"/v1/breaches/{found['id']}", headers=officer.auth).json()
    assert view["share"]["deletions"] == [{"device_id": bob.device_id, "deleted_at": deleted_at}]
    with instance.unit_of_work() as db:
        trail = db.execute(
            select(AuditEntry.action, AuditEntry.outcome).where(
                AuditEntry.object_id == sid, AuditEntry.patient_ref == pid
            )
        ).all()
    assert ("share.recall", "success") in trail
    assert ("share.recall", "denied") in trail
    assert ("share.delete_confirm", "success") in trail


def test_bre2_a_privacy_officer_recalls_a_share_before_it_was_opened(
    client: TestClient, instance: Instance
) -> None:
    _, bob, sid, _ = _shared(client, instance)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    recalled = client.post(
        f"/v1/shares/{sid}/recall", json={"reason": "wrong Dr Bob"}, headers=officer.auth
    )
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["recalled_at"] is not None
    assert _inbox(client, bob) == []
    found = breach(client, officer, kind="misdirected_share", share_id=sid)
    assert found["share"]["opened_before_recall"] is False
    assert found["proposed_classification"]["classification"] == "breach_low_risk"
