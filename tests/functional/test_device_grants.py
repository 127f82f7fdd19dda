"""Device grants through HTTP (decision 011, issue 9): a device enrolled later opens its
user's earlier photos, captions and the shares sent to them, once another device of theirs
(or the custodian, with the records key) writes it grants; nobody else can grant, and
everything is audited, refusals included."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto import crypto
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.client.capture import open_capture, seal_capture
from clinphoto.client.grants import open_text
from clinphoto.instance.grants import grant_with_records_key
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice, enroll
from tests.functional.test_media_api import _jpeg, _patient_and_encounter, _upload
from tests.functional.test_sharing_api import _captured, _reseal

NewDevice = Callable[..., EnrolledDevice]
CAPTION = "Day 3 post-op, margin healing"


def _second_device(client: TestClient, first: EnrolledDevice) -> EnrolledDevice:
    """What `device approve` then `device enroll` do: a new device of the same user."""
    code = client.post("/v1/enrollment-codes", json={}, headers=first.auth)
    assert code.status_code == 200, code.text
    return enroll(client, code.json()["code"], password=first.password)


def _capture_with_caption(
    client: TestClient, instance: Instance, dev: EnrolledDevice
) -> tuple[str, bytes]:
    pid, eid, _ = _patient_and_encounter(client, dev)
    recipients = [instance.keys.records.recipient, dev.age.recipient]
    caption = base64.b64encode(crypto.seal(CAPTION.encode(), recipients)).decode()
    sealed = seal_capture(
        _jpeg(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=recipients,
        text={"caption_sealed": caption},
    )
    r = _upload(client, dev, sealed)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    return sealed.object_id, crypto.open_sealed(sealed.ciphertext, dev.age)


def _missing(client: TestClient, granter: EnrolledDevice, target: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        r = client.get(f"/v1/devices/{target}/missing-grants", params=params, headers=granter.auth)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        after = r.json()["next_after"]
        if after is None:
            return items


def _grants(items: list[dict[str, Any]], opener: crypto.AgeIdentity, recipient: str) -> list[Any]:
    out = []
    for item in items:
        for name, header in item["headers"].items():
            key = crypto.file_key(base64.b64decode(header), opener)
            out.append(
                {
                    "object_id": item["object_id"],
                    "kind": item["kind"],
                    "field": name,
                    "header": base64.b64encode(crypto.grant_header(key, [recipient])).decode(),
                }
            )
    return out


def _post(client: TestClient, dev: EnrolledDevice, target: str, grants: list[Any]) -> Any:
    return client.post(f"/v1/devices/{target}/grants", json={"grants": grants}, headers=dev.auth)


def _own_photo(client: TestClient, dev: EnrolledDevice, media_id: str) -> tuple[Any, bytes]:
    meta = client.get(f"/v1/media/{media_id}?purpose=clinical_care", headers=dev.auth)
    content = client.get(f"/v1/media/{media_id}/content?purpose=clinical_care", headers=dev.auth)
    assert meta.status_code == 200, meta.text
    assert content.status_code == 200, content.text
    return meta.json(), content.content


def _actions(instance: Instance) -> list[dict[str, Any]]:
    """Every audit entry, the chain checked first."""
    with instance.unit_of_work() as db:
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
        rows = db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        return [
            {
                "actor": e.actor,
                "patient_ref": e.patient_ref,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "outcome": e.outcome,
                "details": json.loads(e.details),
            }
            for e in rows
        ]


def test_new_devices_open_earlier_photos_captions_and_shares_once_granted(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    a, c = new_device(), new_device()
    shared_id, shared_plain, _ = _captured(client, instance, a)  # inspected, so shareable
    media_id, plain = _capture_with_caption(client, instance, a)
    records = instance.keys.records.recipient
    sent = _reseal(client, a, shared_id, shared_plain, c.user_id, [c.age.recipient, records])
    share_id = sent.json()["id"]  # type: ignore[attr-defined]
    a2, c2 = _second_device(client, a), _second_device(client, c)

    # Before: the new devices are not among the recipients and cannot open anything.
    meta, stored = _own_photo(client, a2, media_id)
    assert meta["sealed_text_grants"] == {}
    with pytest.raises(crypto.CryptoError):  # enrolled later, no grant yet
        crypto.open_sealed(stored, a2.age)
    missing = _missing(client, a2, a2.device_id)
    by_id = {i["object_id"]: i for i in missing}
    assert set(by_id) == {media_id, shared_id}
    assert by_id[media_id]["fields"] == ["content", "caption_sealed"]
    assert by_id[media_id]["kind"] == "media"
    header = base64.b64decode(by_id[media_id]["headers"]["content"])
    assert stored.startswith(header)  # the original header, and no payload
    [received] = _missing(client, c, c2.device_id)
    assert (received["kind"], received["object_id"], received["fields"]) == (
        "share",
        share_id,
        ["content"],
    )

    # A grants from its own identity; C grants the share.
    done = _post(client, a, a2.device_id, _grants(missing, a.age, a2.age.recipient))
    assert done.status_code == 200, done.text
    assert (done.json()["granted"], done.json()["existing"]) == (3, 0)
    again = _post(client, a, a2.device_id, _grants(missing, a.age, a2.age.recipient))
    assert (again.json()["granted"], again.json()["existing"]) == (0, 3)
    assert _missing(client, a2, a2.device_id) == []
    assert (
        _post(client, c, c2.device_id, _grants([received], c.age, c2.age.recipient)).json()[
            "granted"
        ]
        == 1
    )

    # After: the new devices open, and check against the author's signed manifest.
    meta, served = _own_photo(client, a2, media_id)
    assert crypto.split_age(served)[1] == crypto.split_age(stored)[1]  # same payload
    opened = open_capture(
        served,
        identity=a2.age,
        manifest_bytes=meta["manifest"].encode(),
        signature=meta["signature"],
        author_signing_public=a.signing.public,
        plaintext_sha256=meta["plaintext_sha256"],
    )
    assert opened == plain
    sealed_caption = json.loads(meta["manifest"])["caption_sealed"]
    grant = meta["sealed_text_grants"]["caption_sealed"]
    assert open_text(sealed_caption, a2.age, grant) == CAPTION
    # The device that was a recipient still gets the object as stored.
    assert _own_photo(client, a, media_id)[1] == stored
    assert _own_photo(client, a, media_id)[0]["sealed_text_grants"] == {}

    shared = client.get(f"/v1/shares/{share_id}/content", headers=c2.auth)
    assert shared.status_code == 200
    assert crypto.open_sealed(shared.content, c2.age) == shared_plain
    inbox = client.get("/v1/inbox", headers=c2.auth).json()
    assert [i["share"]["id"] for i in inbox] == [share_id]

    entries = _actions(instance)
    writes = [e for e in entries if e["action"] == "device_grant.write"]
    assert {(e["object_type"], e["object_id"]) for e in writes} == {
        ("media", media_id),
        ("media", shared_id),
        ("share", share_id),
    }
    assert all(e["outcome"] == "success" and e["patient_ref"] for e in writes)
    assert {e["details"]["by"] for e in writes} == {"device"}
    listed = [e for e in entries if e["action"] == "device_grant.list_missing"]
    assert any(e["object_id"] == share_id and e["patient_ref"] for e in listed)


def test_grants_for_another_users_device_or_object_are_refused_as_not_found(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    a, eve = new_device(), new_device()
    media_id, _ = _capture_with_caption(client, instance, a)
    eve_media, _ = _capture_with_caption(client, instance, eve)
    a2 = _second_device(client, a)
    missing = _missing(client, a, a2.device_id)
    grants = _grants(missing, a.age, a2.age.recipient)

    # Another user's device: as if it did not exist, listing and granting alike.
    unknown = "0" * 32
    for target in (a2.device_id, unknown):
        listing = client.get(f"/v1/devices/{target}/missing-grants", headers=eve.auth)
        assert listing.status_code == 404
        assert listing.json()["error"]["message"] == "not found"
        assert _post(client, eve, target, grants).status_code == 404
    # Another user's object, for one's own new device: not found either, and nothing stored.
    eve2 = _second_device(client, eve)
    theirs = [{**grants[0], "object_id": media_id}]
    refused = _post(client, eve, eve2.device_id, theirs)
    assert refused.status_code == 404
    assert refused.json()["error"]["message"] == "not found"
    no_such = _post(client, eve, eve2.device_id, [{**grants[0], "object_id": "e" * 32}])
    assert no_such.status_code == 404
    # All or none: a batch with one object of somebody else's stores nothing.
    mixed = _post(client, a, a2.device_id, [*grants, {**grants[0], "object_id": eve_media}])
    assert mixed.status_code == 404
    assert len(_missing(client, a, a2.device_id)) == 1

    entries = _actions(instance)
    denied = [
        e for e in entries if e["action"].startswith("device_grant.") and e["outcome"] == "denied"
    ]
    assert any(e["object_type"] == "device" and e["object_id"] == a2.device_id for e in denied)
    assert any(
        e["object_id"] == media_id and e["actor"] == eve.user_id and e["patient_ref"]
        for e in denied
    )
    assert any(e["object_id"] == eve_media and e["actor"] == a.user_id for e in denied)


def test_bad_grants_are_refused_naming_the_field(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    a = new_device()
    media_id, _ = _capture_with_caption(client, instance, a)
    a2 = _second_device(client, a)
    [item] = _missing(client, a, a2.device_id)
    good = _grants([item], a.age, a2.age.recipient)[0]
    raw = base64.b64decode(good["header"])
    mac_at = raw.rindex(b"\n--- ") + 1
    many = [crypto.AgeIdentity.generate().recipient for _ in range(17)]
    with_other = raw[:mac_at] + b"-> other-stanza\n\n" + raw[mac_at:]
    assert crypto.parse_header(with_other, x25519_only=False).x25519_count == 1
    bad_headers = [
        base64.b64encode(b"not an age header").decode(),
        "%%% not base64 %%%",
        base64.b64encode(with_other).decode(),  # X25519 stanzas only
        base64.b64encode(raw[:-5] + b"\n").decode(),  # a cut MAC
        base64.b64encode(crypto.grant_header(bytes(16), many)).decode(),  # 17 stanzas
    ]
    for header in bad_headers:
        r = _post(client, a, a2.device_id, [{**good, "header": header}])
        assert r.status_code == 422, r.text
        assert r.json()["error"]["fields"][0]["field"] == "grants[0].header"
    share_field = _post(client, a, a2.device_id, [{**good, "field": "message_sealed"}])
    assert share_field.status_code == 422  # the photo seals no message
    already = _post(client, a, a.device_id, [good])  # A is a recipient itself
    assert already.status_code == 422
    assert _post(client, a, a2.device_id, []).status_code == 422
    too_many = _post(client, a, a2.device_id, [good] * 201)
    assert too_many.status_code in (413, 422)
    assert _missing(client, a, a2.device_id)[0]["object_id"] == media_id


def test_revoked_devices_get_no_grants_and_are_served_none(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    a = new_device()
    media_id, _ = _capture_with_caption(client, instance, a)
    a2, a3 = _second_device(client, a), _second_device(client, a)
    grants = _grants(_missing(client, a, a2.device_id), a.age, a2.age.recipient)
    assert _post(client, a, a2.device_id, grants).status_code == 200
    assert client.delete(f"/v1/devices/{a2.device_id}", headers=a.auth).status_code == 200
    # The revoked device's grant is never served: it cannot download at all.
    gone = client.get(f"/v1/media/{media_id}/content?purpose=clinical_care", headers=a2.auth)
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "device_revoked"
    for r in (
        client.get(f"/v1/devices/{a2.device_id}/missing-grants", headers=a.auth),
        _post(client, a, a2.device_id, grants),
    ):
        assert r.status_code == 422
        assert "revoked" in r.json()["error"]["message"]
    # Another device's grant does not open for a third one: each device gets its own.
    meta, served = _own_photo(client, a3, media_id)
    assert meta["sealed_text_grants"] == {}
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(served, a3.age)


def test_custodian_grants_with_the_records_key_when_no_device_is_left(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    a, c = new_device(), new_device()
    shared_id, shared_plain, _ = _captured(client, instance, a)  # inspected, so shareable
    media_id, plain = _capture_with_caption(client, instance, a)
    records = instance.keys.records.recipient
    sent = _reseal(client, a, shared_id, shared_plain, c.user_id, [c.age.recipient, records])
    share_id = sent.json()["id"]  # type: ignore[attr-defined]
    a2 = _second_device(client, a)
    # A's phone is lost: revoked, and A2 is all that is left.
    assert client.delete(f"/v1/devices/{a.device_id}", headers=a2.auth).status_code == 200
    c2 = _second_device(client, c)

    report = grant_with_records_key(
        instance,
        device_id=a2.device_id,
        custodian="R. Custodian",
        reason="Phone lost on the ward; replacement enrolled by the user, ticket 4411",
    )
    assert (report.granted, report.objects, report.unopenable) == (3, 2, [])
    assert report.device_name == "test phone"
    again = grant_with_records_key(
        instance, device_id=a2.device_id, custodian="R. Custodian", reason="Run a second time."
    )
    assert (again.granted, again.objects) == (0, 0)
    for_c2 = grant_with_records_key(
        instance, device_id=c2.device_id, custodian="R. Custodian", reason="C asked for it too."
    )
    assert for_c2.granted == 1

    meta, served = _own_photo(client, a2, media_id)
    assert crypto.open_sealed(served, a2.age) == plain
    grant = meta["sealed_text_grants"]["caption_sealed"]
    assert open_text(json.loads(meta["manifest"])["caption_sealed"], a2.age, grant) == CAPTION
    shared = client.get(f"/v1/shares/{share_id}/content", headers=c2.auth)
    assert crypto.open_sealed(shared.content, c2.age) == shared_plain

    writes = [e for e in _actions(instance) if e["action"] == "device_grant.write"]
    by_custodian = [e for e in writes if e["details"]["by"] == "custodian"]
    assert len(by_custodian) == 3
    assert all(e["actor"] == "custodian" for e in by_custodian)
    assert {e["details"]["custodian"] for e in by_custodian} == {"R. Custodian"}
    assert "ticket 4411" in by_custodian[0]["details"]["reason"]
    assert all(e["details"]["device"] in (a2.device_id, c2.device_id) for e in by_custodian)


def test_custodian_grant_needs_a_name_a_reason_and_a_known_device(
    instance: Instance, client: TestClient, new_device: NewDevice
) -> None:
    from clinphoto.core.errors import Invalid, NotFound

    a = new_device()
    for name, reason in (("", "A reason of a sentence."), ("R. Custodian", "short")):
        with pytest.raises(Invalid):
            grant_with_records_key(instance, device_id=a.device_id, custodian=name, reason=reason)
    with pytest.raises(NotFound):
        grant_with_records_key(
            instance, device_id="1" * 32, custodian="R. Custodian", reason="A real reason here."
        )
    denied = [
        e
        for e in _actions(instance)
        if e["action"] == "device_grant.list_missing" and e["outcome"] == "denied"
    ]
    assert [e["object_id"] for e in denied] == ["1" * 32]
