"""Sharing through HTTP (TRN-4, AUD-2, CON-7): the sender sees who and which devices, the
copy is re-sealed to exactly the recipient's devices and the records key, the recipient
verifies, opens and acknowledges, and the sender sees sent / delivered / acknowledged."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.client.capture import open_capture
from clinphoto.core import protocol
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _patient_and_encounter, _seal, _upload

NewDevice = Callable[..., EnrolledDevice]


def _reseal(
    client: TestClient,
    sender: EnrolledDevice,
    media_id: str,
    plain: bytes,
    recipient_id: str,
    recipients: list[str],
    purpose: str = "clinical_care",
) -> object:
    ciphertext = crypto.seal(plain, recipients)
    manifest = {
        "v": 1,
        "object_id": secrets.token_hex(16),
        "kind": "share",
        "content_type": "image/jpeg",
        "device_id": sender.device_id,
        "plaintext_sha256": hashlib.sha256(plain).hexdigest(),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
        "recipients": sorted(recipients),
        "recipient_user_id": recipient_id,
        "purpose": purpose,
        "sent_at": datetime.now(UTC).isoformat(),
    }
    mb = protocol.encode_manifest(manifest)
    return client.post(
        f"/v1/media/{media_id}/shares",
        content=ciphertext,
        headers={
            **sender.auth,
            protocol.MANIFEST_HEADER: protocol.manifest_header(mb),
            protocol.SIGNATURE_HEADER: crypto.sign(sender.signing, mb),
        },
    )


def _captured(
    client: TestClient, instance: Instance, dev: EnrolledDevice
) -> tuple[str, bytes, str]:
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    # The records custodian inspects it before it may travel (DEI-2): a plain skin-coloured
    # test image has no face and no text.
    [verdict] = inspect_pending(instance)
    assert (verdict.status, verdict.identifiable) == ("done", False), verdict.reasons
    return sealed.object_id, crypto.open_sealed(sealed.ciphertext, dev.age), pid


def test_trn4_share_is_received_opened_and_acknowledged(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, bob = new_device(), new_device(email="bob@h.example")
    media_id, plain, pid = _captured(client, instance, alice)

    shown = client.get("/v1/directory?email=bob@h.example", headers=alice.auth).json()
    assert shown["display_name"] == "Dr Test"
    assert shown["role"] == "clinician"
    assert shown["institution"] == "Test Hospital"
    assert [d["fingerprint"] for d in shown["devices"]] == [
        crypto.fingerprint(bob.age.recipient, bob.signing.public)
    ]
    recipients = [d["age_recipient"] for d in shown["devices"]] + [instance.keys.records.recipient]
    sent = _reseal(client, alice, media_id, plain, shown["id"], recipients)
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    share_id = sent.json()["id"]  # type: ignore[attr-defined]

    inbox = client.get("/v1/inbox", headers=bob.auth).json()
    assert [i["share"]["id"] for i in inbox] == [share_id]
    item = inbox[0]
    assert (item["sender_name"], item["sender_institution"]) == ("Dr Test", "Test Hospital")
    content = client.get(f"/v1/shares/{share_id}/content", headers=bob.auth)
    assert content.status_code == 200
    opened = open_capture(
        content.content,
        identity=bob.age,
        manifest_bytes=item["media"]["manifest"].encode(),
        signature=item["media"]["signature"],
        author_signing_public=item["sender_signing_public"],
        plaintext_sha256=item["media"]["plaintext_sha256"],
    )
    assert opened == plain
    status = client.get(f"/v1/media/{media_id}/shares", headers=alice.auth).json()
    assert status[0]["status"] == "delivered"
    # The sender sees to whom each share went, as the directory names them.
    assert (status[0]["recipient_name"], status[0]["recipient_institution"]) == (
        "Dr Test",
        "Test Hospital",
    )

    bad = client.post(
        f"/v1/shares/{share_id}/ack",
        json={"signature": crypto.sign(crypto.SigningKey.generate(), b"x")},
        headers=bob.auth,
    )
    assert bad.status_code == 422
    sig = crypto.sign(
        bob.signing, protocol.ack_message(share_id, item["media"]["plaintext_sha256"])
    )
    acked = client.post(f"/v1/shares/{share_id}/ack", json={"signature": sig}, headers=bob.auth)
    assert acked.status_code == 200
    status = client.get(f"/v1/media/{media_id}/shares", headers=alice.auth).json()
    assert status[0]["status"] == "acknowledged"
    with instance.unit_of_work() as db:
        actions = [json.loads(x)["action"] for x in audit.export_patient(db, pid)]
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    assert {"share.send", "share.deliver"} <= set(actions)


def test_trn4_share_must_be_sealed_to_exactly_the_recipients_devices(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, bob, eve = new_device(), new_device(), new_device()
    media_id, plain, _ = _captured(client, instance, alice)
    records = instance.keys.records.recipient
    extra = _reseal(
        client, alice, media_id, plain, bob.user_id, [bob.age.recipient, eve.age.recipient, records]
    )
    assert extra.status_code == 422  # type: ignore[attr-defined]
    no_records = _reseal(client, alice, media_id, plain, bob.user_id, [bob.age.recipient])
    assert no_records.status_code == 422  # type: ignore[attr-defined]
    other_photo = _reseal(
        client, alice, media_id, b"\xff\xd8 other", bob.user_id, [bob.age.recipient, records]
    )
    assert other_photo.status_code == 422  # type: ignore[attr-defined]


def test_aud2_share_needs_care_relationship_and_consented_purpose(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, bob, eve = new_device(), new_device(), new_device()
    media_id, plain, _ = _captured(client, instance, alice)
    records = instance.keys.records.recipient
    # Eve has no care relationship with the photo: not found.
    r = _reseal(client, eve, media_id, plain, bob.user_id, [bob.age.recipient, records])
    assert r.status_code == 404  # type: ignore[attr-defined]
    # The consent covers clinical care only: sharing for research is "not found" too.
    r = _reseal(
        client,
        alice,
        media_id,
        plain,
        bob.user_id,
        [bob.age.recipient, records],
        purpose="research",
    )
    assert r.status_code == 404  # type: ignore[attr-defined]
    # Someone else's share is not in your inbox and its content is not found.
    ok = _reseal(client, alice, media_id, plain, bob.user_id, [bob.age.recipient, records])
    share_id = ok.json()["id"]  # type: ignore[attr-defined]
    assert client.get("/v1/inbox", headers=eve.auth).json() == []
    assert client.get(f"/v1/shares/{share_id}/content", headers=eve.auth).status_code == 404


def test_administrators_cannot_be_recipients_or_look_them_up(
    client: TestClient, new_device: NewDevice
) -> None:
    alice = new_device()
    new_device(Role.ADMINISTRATOR, email="root@h.example")
    # An administrator is not a recipient: answered like an unknown address, the sender's
    # own mistake to check.
    admin = client.get("/v1/directory?email=root@h.example", headers=alice.auth)
    unknown = client.get("/v1/directory?email=nobody@h.example", headers=alice.auth)
    assert admin.status_code == unknown.status_code == 422
    assert admin.json()["error"]["message"] == unknown.json()["error"]["message"]


def _share_to(
    client: TestClient,
    instance: Instance,
    sender: EnrolledDevice,
    media_id: str,
    plain: bytes,
    email: str,
) -> str:
    shown = client.get(f"/v1/directory?email={email}", headers=sender.auth).json()
    recipients = [d["age_recipient"] for d in shown["devices"]] + [instance.keys.records.recipient]
    sent = _reseal(client, sender, media_id, plain, shown["id"], recipients)
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    return str(sent.json()["id"])  # type: ignore[attr-defined]


def test_trn4_sender_lists_every_share_and_follows_up_those_not_acknowledged(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    """`GET /v1/shares/sent`: the sender's shares of all their photos, newest first, a page at
    a time, with `waiting` for those not acknowledged yet; each listed share audited against
    its patient; nobody sees another sender's shares."""
    alice = new_device()
    bob = new_device(email="bob@h.example")
    new_device(email="carol@h.example")  # a second recipient, never logged in here
    first, plain1, pid1 = _captured(client, instance, alice)
    second, plain2, pid2 = _captured(client, instance, alice)
    to_bob = _share_to(client, instance, alice, first, plain1, "bob@h.example")
    to_carol = _share_to(client, instance, alice, second, plain2, "carol@h.example")

    listed = client.get("/v1/shares/sent", headers=alice.auth).json()
    assert [s["id"] for s in listed] == [to_carol, to_bob]  # newest first
    assert [s["original_media_id"] for s in listed] == [second, first]
    assert {s["status"] for s in listed} == {"sent"}

    # Bob opens and acknowledges his; only Carol's is left to follow up.
    [item] = client.get("/v1/inbox", headers=bob.auth).json()
    assert client.get(f"/v1/shares/{to_bob}/content", headers=bob.auth).status_code == 200
    sig = crypto.sign(bob.signing, protocol.ack_message(to_bob, item["media"]["plaintext_sha256"]))
    assert (
        client.post(
            f"/v1/shares/{to_bob}/ack", json={"signature": sig}, headers=bob.auth
        ).status_code
        == 200
    )
    waiting = client.get("/v1/shares/sent?waiting=true", headers=alice.auth).json()
    assert [s["id"] for s in waiting] == [to_carol]
    statuses = {
        s["id"]: s["status"] for s in client.get("/v1/shares/sent", headers=alice.auth).json()
    }
    assert statuses == {to_bob: "acknowledged", to_carol: "sent"}

    # A page at a time.
    page = client.get("/v1/shares/sent?limit=1", headers=alice.auth).json()
    assert [s["id"] for s in page] == [to_carol]
    rest = client.get(f"/v1/shares/sent?limit=1&before={to_carol}", headers=alice.auth).json()
    assert [s["id"] for s in rest] == [to_bob]

    # Not yours: Bob sent nothing, and cannot page from Alice's share.
    assert client.get("/v1/shares/sent", headers=bob.auth).json() == []
    assert client.get(f"/v1/shares/sent?before={to_carol}", headers=bob.auth).status_code == 422
    assert client.get("/v1/shares/sent?limit=0", headers=alice.auth).status_code == 422
    assert client.get("/v1/shares/sent").status_code == 401

    # Each share listed is in its patient's trail.
    with instance.unit_of_work() as db:
        for pid, share_id in ((pid1, to_bob), (pid2, to_carol)):
            entries = [json.loads(x) for x in audit.export_patient(db, pid)]
            assert any(
                e["action"] == "share.list_sent" and e["object_id"] == share_id for e in entries
            ), share_id
