"""Accounts through HTTP: enrollment, sign-in, rate limiting, devices, revocation (AUD-2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.core.protocol import login_message
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice, enroll, make_user

NewDevice = Callable[..., EnrolledDevice]


def _login(
    client: TestClient, dev: EnrolledDevice, password: str | None = None, **over: str
) -> object:
    ts = over.get("timestamp", datetime.now(UTC).isoformat())
    body = {
        "email": dev.email,
        "password": password or dev.password,
        "device_id": dev.device_id,
        "timestamp": ts,
        "signature": crypto.sign(dev.signing, login_message(dev.device_id, dev.email, ts)),
    }
    body.update(over)
    return client.post("/v1/sessions", json=body)


def test_enrollment_sets_the_password_and_registers_the_device_keys(
    client: TestClient, instance: Instance
) -> None:
    dev = enroll(client, make_user(instance, Role.CLINICIAN, "a@h.example"))
    me = client.get("/v1/me", headers=dev.auth).json()
    assert me["device"]["age_recipient"] == dev.age.recipient
    assert me["device"]["signing_public"] == dev.signing.public
    assert me["device"]["fingerprint"] == crypto.fingerprint(dev.age.recipient, dev.signing.public)
    assert me["records_recipient"] == instance.keys.records.recipient


def test_enrollment_code_works_once(client: TestClient, instance: Instance) -> None:
    code = make_user(instance, Role.CLINICIAN, "b@h.example")
    enroll(client, code)
    again = client.post(
        "/v1/enroll",
        json={
            "code": code,
            "password": "a long clinical passphrase",
            "device_name": "x",
            "age_recipient": crypto.AgeIdentity.generate().recipient,
            "signing_public": crypto.SigningKey.generate().public,
        },
    )
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "unauthenticated"


def test_weak_password_is_refused_at_enrollment_with_a_reason(
    client: TestClient, instance: Instance
) -> None:
    code = make_user(instance, Role.CLINICIAN, "c@h.example")
    for weak, reason in [("short", "at least 12"), ("password123!", "too common")]:
        r = client.post(
            "/v1/enroll",
            json={
                "code": code,
                "password": weak,
                "device_name": "x",
                "age_recipient": crypto.AgeIdentity.generate().recipient,
                "signing_public": crypto.SigningKey.generate().public,
            },
        )
        assert r.status_code == 422
        assert reason in r.json()["error"]["message"]
    enroll(client, code)  # the code was not spent by the refused attempts


def test_sign_in_needs_password_and_device_signature(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    ok = _login(client, dev)
    assert ok.status_code == 200  # type: ignore[attr-defined]
    assert _login(client, dev, password="not the password at all").status_code == 401  # type: ignore[attr-defined]
    forged = _login(client, dev, signature=crypto.sign(crypto.SigningKey.generate(), b"x"))
    assert forged.status_code == 401  # type: ignore[attr-defined]
    stale = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    old = _login(client, dev, timestamp=stale)
    assert old.status_code == 401  # type: ignore[attr-defined]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    wrong = _login(client, dev, password="not the password at all").json()  # type: ignore[attr-defined]
    unknown = _login(client, dev, email="nobody@h.example").json()  # type: ignore[attr-defined]
    assert wrong["error"]["message"] == unknown["error"]["message"]


def test_repeated_failures_throttle_sign_in_even_with_the_right_password(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    for _ in range(5):
        assert _login(client, dev, password="wrong wrong wrong").status_code == 401  # type: ignore[attr-defined]
    throttled = _login(client, dev)
    # Answered exactly like a wrong password (tests/functional/test_accounts_hardening.py).
    assert throttled.status_code == 401  # type: ignore[attr-defined]
    assert "too many failed attempts" in throttled.json()["error"]["message"]  # type: ignore[attr-defined]


def test_revoked_device_session_ends_at_once_and_cannot_sign_in(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    assert client.get("/v1/me", headers=dev.auth).status_code == 200
    r = client.delete(f"/v1/devices/{dev.device_id}", headers=dev.auth)
    assert r.status_code == 200
    assert r.json()["status"] == "revoked"
    after = client.get("/v1/me", headers=dev.auth)
    # A distinct code, so the device's app knows to wipe what it holds (BRE-4).
    assert (after.status_code, after.json()["error"]["code"]) == (401, "device_revoked")
    assert _login(client, dev).status_code == 401  # type: ignore[attr-defined]


def test_a_device_that_revokes_itself_is_told_to_wipe_its_site_data(
    client: TestClient, new_device: NewDevice
) -> None:
    first, second = new_device(), new_device()
    other = client.delete(f"/v1/devices/{second.device_id}", headers=second.auth)
    assert other.headers["Clear-Site-Data"] == '"cache", "storage"'
    code = client.post("/v1/enrollment-codes", json={}, headers=first.auth).json()["code"]
    spare = enroll(client, code, password=first.password)
    # Revoking another of one's devices says nothing to wipe on this one.
    kept = client.delete(f"/v1/devices/{spare.device_id}", headers=first.auth)
    assert kept.status_code == 200
    assert "Clear-Site-Data" not in kept.headers


def test_sto3_me_tells_the_device_the_institutions_lock_and_wipe_policy(
    client: TestClient, new_device: NewDevice
) -> None:
    policy = client.get("/v1/me", headers=new_device().auth).json()["device_policy"]
    assert policy == {
        "lock_after_seconds": 120,
        "lock_warning_seconds": 20,
        "max_failed_unlocks": 10,
    }


def test_sto3_the_lock_delay_is_bounded() -> None:
    from pydantic import ValidationError

    from clinphoto.core.config import Settings

    assert Settings(lock_after_seconds=300).lock_after_seconds == 300
    for wrong in (10, 7200):
        with pytest.raises(ValidationError):
            Settings(lock_after_seconds=wrong)


def test_logout_ends_the_session(client: TestClient, new_device: NewDevice) -> None:
    dev = new_device()
    assert client.delete("/v1/sessions/current", headers=dev.auth).status_code == 204
    assert client.get("/v1/me", headers=dev.auth).status_code == 401


def test_new_device_approved_from_an_existing_device(
    client: TestClient, new_device: NewDevice
) -> None:
    first = new_device()
    code = client.post("/v1/enrollment-codes", json={}, headers=first.auth).json()["code"]
    second = enroll(client, code, password=first.password)
    assert second.user_id == first.user_id
    devices = client.get("/v1/devices", headers=first.auth).json()
    assert {d["id"] for d in devices} == {first.device_id, second.device_id}


def test_not_yours_looks_like_not_found(client: TestClient, new_device: NewDevice) -> None:
    alice, bob = new_device(), new_device()
    theirs = client.delete(f"/v1/devices/{bob.device_id}", headers=alice.auth)
    missing = client.delete(f"/v1/devices/{'f' * 32}", headers=alice.auth)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["message"] == missing.json()["error"]["message"]
    assert client.get(f"/v1/devices?user_id={bob.user_id}", headers=alice.auth).status_code == 404
    other_code = client.post(
        "/v1/enrollment-codes", json={"user_id": bob.user_id}, headers=alice.auth
    )
    assert other_code.status_code == 404


def test_administrator_manages_other_users_devices(
    client: TestClient, new_device: NewDevice
) -> None:
    admin, clin = new_device(Role.ADMINISTRATOR), new_device()
    listed = client.get(f"/v1/devices?user_id={clin.user_id}", headers=admin.auth)
    assert [d["id"] for d in listed.json()] == [clin.device_id]
    assert client.delete(f"/v1/devices/{clin.device_id}", headers=admin.auth).status_code == 200
    assert client.get("/v1/me", headers=clin.auth).status_code == 401


def test_aud1_sign_in_attempts_and_revocations_are_audited(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    _login(client, dev, password="wrong wrong wrong")
    _login(client, dev)
    client.delete(f"/v1/devices/{dev.device_id}", headers=dev.auth)
    with instance.unit_of_work() as db:
        lines = list(audit.export_patient(db, ""))
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    actions = [(line.split('"action": "')[1].split('"')[0], "denied" in line) for line in lines]
    assert ("account.device_enroll", False) in actions
    assert ("account.login", True) in actions
    assert ("account.login", False) in actions
    assert ("account.device_revoke", False) in actions
