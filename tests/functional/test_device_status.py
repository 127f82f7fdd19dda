"""Device status and remote wipe through HTTP (BRE-4, BRE-5; decision 014), on SQLite and
PostgreSQL: a device registers its status key once; its signed reports are stored at most
once per 30 s as its history; a revoked device is still answered, and told to wipe; an
unknown device, a device with no status key and a bad signature get the same 401; the wipe
confirmation is kept with its signature, which verifies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clinphoto import crypto
from clinphoto.accounts.models import Device
from clinphoto.audit.models import AuditEntry
from clinphoto.breaches import devices
from clinphoto.breaches.models import DeviceStatusReport, DeviceWipe
from clinphoto.core import protocol
from clinphoto.instance.runtime import Instance
from clinphoto.records.clock import FixedClock
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]


def wire_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def register(client: TestClient, dev: EnrolledDevice) -> crypto.SigningKey:
    key = crypto.SigningKey.generate()
    r = client.put(
        "/v1/devices/current/status-key", json={"public_key": key.public}, headers=dev.auth
    )
    assert r.status_code == 204, r.text
    return key


def status_body(
    device_id: str,
    key: crypto.SigningKey,
    *,
    at: datetime | None = None,
    locked: bool = True,
    locked_since: str | None = None,
    holding: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    time = wire_time(at or datetime.now(UTC))
    if locked and locked_since is None:
        locked_since = time
    message = protocol.device_status_message(device_id, time, locked, locked_since, holding)
    return {
        "device_id": device_id,
        "time": time,
        "locked": locked,
        "locked_since": locked_since if locked else None,
        "holding": holding,
        "signature": crypto.sign(key, message),
    }


def report(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/v1/device-status", json=body)


def queue_wipe(instance: Instance, device_id: str) -> str:
    with instance.unit_of_work() as db:
        device = db.get(Device, device_id)
        assert device is not None
        return devices.queue_wipe(
            db, device=device, by="test", breach_id=None, now=datetime.now(UTC)
        ).id


def test_bre4_status_key_is_registered_once(client: TestClient, new_device: NewDevice) -> None:
    dev = new_device()
    key = register(client, dev)
    again = client.put(
        "/v1/devices/current/status-key", json={"public_key": key.public}, headers=dev.auth
    )
    assert again.status_code == 204
    other = crypto.SigningKey.generate().public
    refused = client.put(
        "/v1/devices/current/status-key", json={"public_key": other}, headers=dev.auth
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "status_key_set"
    bad = client.put(
        "/v1/devices/current/status-key", json={"public_key": "not-a-key"}, headers=dev.auth
    )
    assert bad.status_code == 422


def test_bre4_revoked_device_report_still_gets_its_wipe(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    key = register(client, dev)
    first = report(client, status_body(dev.device_id, key))
    assert first.status_code == 200, first.text
    assert first.json() == {"wipe": None, "delete_shares": [], "next_poll_seconds": 300}
    assert client.delete(f"/v1/devices/{dev.device_id}", headers=dev.auth).status_code == 200
    assert client.get("/v1/me", headers=dev.auth).status_code == 401  # sessions ended
    wipe_id = queue_wipe(instance, dev.device_id)
    answered = report(client, status_body(dev.device_id, key))
    assert answered.status_code == 200, answered.text
    assert answered.json()["wipe"]["wipe_id"] == wipe_id


def test_bre4_unknown_device_no_key_and_bad_signature_answer_the_same_401(
    client: TestClient, new_device: NewDevice
) -> None:
    dev, keyless = new_device(), new_device()
    key = register(client, dev)
    wrong = crypto.SigningKey.generate()
    answers = [
        report(client, status_body("ab" * 16, key)),  # unknown device
        report(client, status_body(keyless.device_id, key)),  # no status key
        report(client, status_body(dev.device_id, wrong)),  # bad signature
        report(client, {**status_body(dev.device_id, key), "locked": False}),  # altered
    ]
    bodies = []
    for r in answers:
        assert r.status_code == 401, r.text
        error = r.json()["error"]
        assert error["code"] == "bad_status_signature"
        bodies.append(error["message"])
    assert len(set(bodies)) == 1
    assert report(client, status_body(dev.device_id, key)).status_code == 200


def test_bre4_a_stale_report_is_refused(client: TestClient, new_device: NewDevice) -> None:
    dev = new_device()
    key = register(client, dev)
    old = report(
        client, status_body(dev.device_id, key, at=datetime.now(UTC) - timedelta(minutes=6))
    )
    assert old.status_code == 400
    assert old.json()["error"]["code"] == "stale_status"
    ahead = status_body(dev.device_id, key, at=datetime.now(UTC) + timedelta(minutes=6))
    assert report(client, ahead).status_code == 400


def _stored(instance: Instance, device_id: str) -> list[DeviceStatusReport]:
    with instance.unit_of_work() as db:
        rows = db.execute(
            select(DeviceStatusReport)
            .where(DeviceStatusReport.device_id == device_id)
            .order_by(DeviceStatusReport.reported_at)
        ).scalars()
        return list(rows)


def test_bre5_reports_are_kept_as_history_at_most_one_per_30_seconds(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    client.app.state.retention_clock = clock  # type: ignore[attr-defined]
    dev = new_device()
    key = register(client, dev)
    held = [{"patient_id": "1" * 32, "encounter_id": "2" * 32, "media_id": "3" * 32}]
    assert report(client, status_body(dev.device_id, key, at=clock.now())).status_code == 200
    clock.advance(timedelta(seconds=10))
    soon = status_body(dev.device_id, key, at=clock.now(), locked=False, holding=held)
    assert report(client, soon).status_code == 200  # answered, not stored
    assert len(_stored(instance, dev.device_id)) == 1
    clock.advance(timedelta(seconds=25))
    later = status_body(dev.device_id, key, at=clock.now(), locked=False, holding=held)
    assert report(client, later).status_code == 200
    # A replay of the first report, still inside the window, never stands for a newer one.
    clock.advance(timedelta(seconds=40))
    first_again = status_body(dev.device_id, key, at=clock.now() - timedelta(seconds=75))
    assert report(client, first_again).status_code == 200
    rows = _stored(instance, dev.device_id)
    assert [r.locked for r in rows] == [True, False]
    assert devices.holding_of(rows[1]) == held
    with instance.unit_of_work() as db:
        status_public = db.get(Device, dev.device_id).status_public  # type: ignore[union-attr]
    assert all(devices.report_signature_valid(r, status_public) for r in rows)
    with instance.unit_of_work() as db:
        found = devices.latest_report(db, dev.device_id, rows[0].reported_at + timedelta(seconds=1))
        assert found is not None
        assert found.id == rows[0].id


def test_bre4_wipe_confirmation_is_kept_with_its_signature(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    key = register(client, dev)
    wipe_id = queue_wipe(instance, dev.device_id)
    erased = {"vault": True, "outbox_items": 1, "databases": 1, "caches": 2}
    wiped_at = wire_time(datetime.now(UTC))
    message = protocol.wipe_confirmation_message(dev.device_id, wipe_id, wiped_at, erased)
    body = {
        "device_id": dev.device_id,
        "wipe_id": wipe_id,
        "wiped_at": wiped_at,
        "erased": erased,
        "signature": crypto.sign(key, message),
    }
    forged = {**body, "signature": crypto.sign(crypto.SigningKey.generate(), message)}
    refused = client.post("/v1/device-status/wipe-confirmation", json=forged)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "bad_status_signature"
    other_wipe = {**body, "wipe_id": "ef" * 16}
    assert client.post("/v1/device-status/wipe-confirmation", json=other_wipe).status_code == 401
    ok = client.post("/v1/device-status/wipe-confirmation", json=body)
    assert ok.status_code == 204, ok.text
    assert client.post("/v1/device-status/wipe-confirmation", json=body).status_code == 204
    with instance.unit_of_work() as db:
        wipe = db.get(DeviceWipe, wipe_id)
        assert wipe is not None
        assert wipe.confirmed_at is not None
        assert wipe.signature == body["signature"]
        assert json.loads(wipe.erased or "") == erased
        assert devices.wipe_signature_valid(wipe) is True
        confirmations = db.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "device.wipe_confirm", AuditEntry.object_id == wipe_id)
        ).scalar_one()
        assert confirmations == 1  # idempotent: the repeat recorded nothing
    # Once confirmed, the device is no longer told to wipe.
    assert report(client, status_body(dev.device_id, key)).json()["wipe"] is None


def test_bre4_bad_signatures_are_throttled_per_address(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    key = register(client, dev)
    wrong = crypto.SigningKey.generate()
    codes = [report(client, status_body(dev.device_id, wrong)).status_code for _ in range(21)]
    assert codes[:19] == [401] * 19
    assert 429 in codes[19:]
    # Blocked before any work: even a good report from that address waits.
    assert report(client, status_body(dev.device_id, key)).status_code == 429
