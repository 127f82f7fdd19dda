"""Accounts hardening (issue #7): throttled sign-in and enrollment that neither lock a
clinician out nor tell accounts apart, all-or-nothing enrollment, session errors that say
what to do, administrators' listings and revocation by prefix, and audit entries written by
the use cases with no e-mail in clear (AUD-2)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.accounts import throttle
from clinphoto.accounts.models import (
    Device,
    DeviceStatus,
    EnrollmentCode,
    Role,
    Session,
    SignInThrottle,
    User,
)
from clinphoto.audit.models import AuditEntry
from clinphoto.core.clock import utcnow
from clinphoto.core.protocol import login_message
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice, enroll, make_user

NewDevice = Callable[..., EnrolledDevice]
PASSWORD = "a long clinical passphrase"


def _from(client: TestClient, address: str) -> TestClient:
    """The same server, reached from another network address."""
    return TestClient(client.app, client=(address, 40000))


def _login(
    client: TestClient,
    dev: EnrolledDevice,
    password: str | None = None,
    *,
    email: str | None = None,
    signing: crypto.SigningKey | None = None,
) -> httpx.Response:
    email = email or dev.email
    ts = datetime.now(UTC).isoformat()
    message = login_message(dev.device_id, email, ts)
    return client.post(
        "/v1/sessions",
        json={
            "email": email,
            "password": password or dev.password,
            "device_id": dev.device_id,
            "timestamp": ts,
            "signature": crypto.sign(signing or dev.signing, message),
        },
    )


def _enroll_body(code: str, password: str = PASSWORD, **over: str) -> dict[str, str]:
    body = {
        "code": code,
        "password": password,
        "device_name": "new phone",
        "age_recipient": crypto.AgeIdentity.generate().recipient,
        "signing_public": crypto.SigningKey.generate().public,
    }
    body.update(over)
    return body


def _answer(r: httpx.Response) -> tuple[int, str, str]:
    error = r.json()["error"]
    return r.status_code, error["code"], error["message"]


def _entries(instance: Instance, action: str) -> list[AuditEntry]:
    with instance.unit_of_work() as db:
        return list(
            db.execute(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            ).scalars()
        )


def _account_row(instance: Instance, email: str) -> SignInThrottle | None:
    row_key = throttle.key(instance.keys.blind_index_key, "account", email)
    with instance.unit_of_work() as db:
        return db.get(SignInThrottle, row_key)


def _unblock_everything(instance: Instance) -> None:
    """Let the blocks run out (what waiting two minutes does)."""
    with instance.unit_of_work() as db:
        db.execute(update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))


# --- sign-in: throttled, without a lock-out and without telling accounts apart ---------


def test_locked_unknown_and_wrong_password_accounts_get_the_same_answer(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    for _ in range(throttle.ACCOUNT.failures):
        assert _login(client, dev, "not the password at all").status_code == 401
    locked_right = _answer(_login(client, dev))  # blocked: even the right password
    locked_wrong = _answer(_login(client, dev, "still not the password"))
    unknown = _answer(_login(client, dev, email="nobody.here@h.example"))
    assert locked_right == locked_wrong == unknown
    assert locked_right[:2] == (401, "unauthenticated")
    assert "try again in 2 minutes" in locked_right[2]


def test_guesses_at_an_account_block_it_briefly_and_never_for_long(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    for _ in range(15):
        _login(client, dev, "not the password at all")
    row = _account_row(instance, dev.email)
    assert row is not None
    assert row.blocked_until is not None
    left = accounts.aware(row.blocked_until) - utcnow()
    assert timedelta(0) < left <= timedelta(minutes=2)
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == dev.email)).scalar_one()
        assert user.locked_until is None  # the old lock-out of up to a day is gone
    _unblock_everything(instance)
    assert _login(client, dev).status_code == 200


def test_a_client_without_the_clinicians_device_cannot_lock_them_out(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    attacker = _from(client, "203.0.113.7")
    forged = crypto.SigningKey.generate()
    for _ in range(throttle.CLIENT.failures - 1):
        assert _login(attacker, dev, "guess guess guess", signing=forged).status_code == 401
    assert _login(_from(client, "10.1.2.3"), dev).status_code == 200


def test_a_flood_from_one_address_is_stopped_with_one_answer_for_every_account(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    flood = _from(client, "198.51.100.9")
    for i in range(throttle.CLIENT.failures):
        assert _login(flood, dev, email=f"probe{i}@h.example").status_code == 401
    known, unknown = _login(flood, dev), _login(flood, dev, email="nobody@h.example")
    assert _answer(known) == _answer(unknown)
    assert _answer(known)[:2] == (429, "rate_limited")
    # The flood stopped at the address: the account was never touched, and the clinician
    # signs in from elsewhere.
    assert _account_row(instance, dev.email) is None
    assert _login(_from(client, "10.9.8.7"), dev).status_code == 200


# --- enrollment: all or nothing, and guesses through a code count ----------------------


def test_failed_enrollment_leaves_no_password_key_or_device_and_keeps_the_code(
    client: TestClient, instance: Instance
) -> None:
    code = make_user(instance, Role.CLINICIAN, "new.user@h.example")
    bad = [
        {"signing_public": "not a key"},
        {"age_recipient": "age1notarecipient"},
        {"device_name": "phone\u202e"},
    ]
    for over in bad:
        r = client.post("/v1/enroll", json=_enroll_body(code, **over))
        assert r.status_code == 422, r.text
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == "new.user@h.example")).scalar_one()
        assert user.password_hash is None
        assert db.execute(select(Device).where(Device.user_id == user.id)).first() is None
        row = db.execute(select(EnrollmentCode).where(EnrollmentCode.user_id == user.id)).scalar()
        assert row is not None
        assert row.used_at is None
    enroll(client, code)


def test_enrollment_with_keys_already_enrolled_sets_no_password(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    other = new_device()
    code = make_user(instance, Role.CLINICIAN, "second.user@h.example")
    body = _enroll_body(code, age_recipient=other.age.recipient)
    assert client.post("/v1/enroll", json=body).status_code == 422
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == "second.user@h.example")).scalar_one()
        assert user.password_hash is None
    enroll(client, code)


def test_wrong_passwords_through_a_code_count_as_guesses_and_do_not_spend_it(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    first = new_device()
    code = client.post("/v1/enrollment-codes", json={}, headers=first.auth).json()["code"]
    answers = set()
    for _ in range(throttle.ACCOUNT.failures):
        r = client.post("/v1/enroll", json=_enroll_body(code, "not the password at all"))
        answers.add(_answer(r))
    right = _answer(client.post("/v1/enroll", json=_enroll_body(code, first.password)))
    unknown = _answer(client.post("/v1/enroll", json=_enroll_body("AAAAA-BBBBB-CCCCC-DDDDD")))
    assert answers == {right} == {unknown}  # blocked: the right password is refused alike
    assert right[:2] == (401, "unauthenticated")
    # The guesses counted against the account too: sign-in is blocked as well.
    assert _login(client, first).status_code == 401
    _unblock_everything(instance)
    second = enroll(client, code, password=first.password)  # the code was not spent
    assert second.user_id == first.user_id


def test_approving_devices_is_throttled_per_account(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    for _ in range(throttle.APPROVAL.failures):
        assert client.post("/v1/enrollment-codes", json={}, headers=dev.auth).status_code == 200
    r = client.post("/v1/enrollment-codes", json={}, headers=dev.auth)
    assert r.status_code == 429
    assert "too many enrollment codes" in r.json()["error"]["message"]


# --- sessions: each error says what to do ---------------------------------------------


def test_session_errors_say_whether_to_sign_in_again_or_ask_for_a_new_code(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    expired, signed_out, revoked = new_device(), new_device(), new_device()
    with instance.unit_of_work() as db:
        db.execute(
            update(Session)
            .where(Session.device_id == expired.device_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    client.delete("/v1/sessions/current", headers=signed_out.auth)
    client.delete(f"/v1/devices/{revoked.device_id}", headers=revoked.auth)
    answers = {
        "expired": client.get("/v1/me", headers=expired.auth),
        "signed out": client.get("/v1/me", headers=signed_out.auth),
        "revoked": client.get("/v1/me", headers=revoked.auth),
        "unknown": client.get("/v1/me", headers={"Authorization": "Bearer nonsense"}),
        "none": client.get("/v1/me"),
    }
    for name, r in answers.items():
        assert r.status_code == 401
        # A revoked device is told so by its own code: its app wipes what it holds (BRE-4).
        code = "device_revoked" if name == "revoked" else "unauthenticated"
        assert r.json()["error"]["code"] == code
    messages = {k: r.json()["error"]["message"] for k, r in answers.items()}
    assert len(set(messages.values())) == len(messages)
    assert "expired" in messages["expired"]
    assert "sign in again" in messages["expired"]
    assert "sign in again" in messages["signed out"]
    assert "revoked" in messages["revoked"]
    assert "new enrollment code" in messages["revoked"]
    assert "sign in" in messages["unknown"]
    assert "sign in" in messages["none"]


# --- administrators: users, devices, revocation by prefix ------------------------------


def test_administrator_lists_users_with_role_status_and_active_devices(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    admin, clin = new_device(Role.ADMINISTRATOR), new_device()
    second = enroll(
        client,
        client.post("/v1/enrollment-codes", json={}, headers=clin.auth).json()["code"],
        password=clin.password,
    )
    client.delete(f"/v1/devices/{second.device_id}", headers=clin.auth)
    make_user(instance, Role.PRIVACY_OFFICER, "po@h.example")
    r = client.get("/v1/users", headers=admin.auth)
    assert r.status_code == 200, r.text
    users = {u["email"]: u for u in r.json()}
    assert users[clin.email]["role"] == "clinician"
    assert users[clin.email]["active"] is True
    assert users[clin.email]["active_devices"] == 1
    assert users["po@h.example"]["active_devices"] == 0
    assert users[admin.email]["role"] == "administrator"
    refused = client.get("/v1/users", headers=clin.auth)
    assert refused.status_code == 403
    listed = _entries(instance, "account.user_list")
    assert [e.outcome for e in listed] == ["success", "denied"]
    assert listed[0].actor == admin.user_id


def test_every_device_listing_is_audited(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    admin, clin = new_device(Role.ADMINISTRATOR), new_device()
    assert client.get("/v1/devices", headers=clin.auth).status_code == 200
    theirs = client.get(f"/v1/devices?user_id={clin.user_id}", headers=admin.auth)
    assert [d["id"] for d in theirs.json()] == [clin.device_id]
    assert client.get(f"/v1/devices?user_id={admin.user_id}", headers=clin.auth).status_code == 404
    listed = [(e.actor, e.object_id, e.outcome) for e in _entries(instance, "account.device_list")]
    assert listed == [
        (clin.user_id, clin.user_id, "success"),
        (admin.user_id, clin.user_id, "success"),
        (clin.user_id, admin.user_id, "denied"),
    ]


def _device_with_id(instance: Instance, user_id: str, device_id: str) -> None:
    with instance.unit_of_work() as db:
        age, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
        db.add(
            Device(
                id=device_id,
                user_id=user_id,
                name="spare",
                age_recipient=age.recipient,
                signing_public=signing.public,
                fingerprint=crypto.fingerprint(age.recipient, signing.public),
                status=DeviceStatus.ACTIVE,
                enrolled_at=utcnow(),
            )
        )


def test_devices_are_revoked_by_an_unambiguous_prefix(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    admin, clin, other = new_device(Role.ADMINISTRATOR), new_device(), new_device()
    _device_with_id(instance, clin.user_id, "abcdef12" + "0" * 24)
    _device_with_id(instance, other.user_id, "abcdef12" + "1" * 24)
    ambiguous = client.delete("/v1/devices/abcdef12", headers=admin.auth)
    assert ambiguous.status_code == 422
    message = ambiguous.json()["error"]["message"]
    assert "abcdef120" not in message
    assert "abcdef121" not in message
    assert "more of the id" in message
    too_short = client.delete("/v1/devices/abcdef1", headers=admin.auth)
    assert too_short.status_code == 422
    # A clinician sees only their own devices: the same prefix is theirs alone.
    mine = client.delete("/v1/devices/abcdef12", headers=clin.auth)
    assert mine.status_code == 200
    assert mine.json()["id"] == "abcdef12" + "0" * 24
    # Another user's device by prefix answers like one that does not exist.
    theirs = client.delete(f"/v1/devices/{other.device_id[:10]}", headers=clin.auth)
    missing = client.delete("/v1/devices/0123456789", headers=clin.auth)
    assert _answer(theirs) == _answer(missing)
    assert theirs.status_code == 404
    by_admin = client.delete(f"/v1/devices/{other.device_id[:8]}", headers=admin.auth)
    assert by_admin.json()["id"] == other.device_id
    assert client.get("/v1/me", headers=other.auth).status_code == 401
    outcomes = [e.outcome for e in _entries(instance, "account.device_revoke")]
    assert outcomes.count("denied") == 3  # ambiguous, not theirs, missing
    assert outcomes.count("success") == 2


# --- the audit trail: written by the use cases, no e-mail in clear ---------------------


def _all_audit_text(instance: Instance) -> str:
    with instance.unit_of_work() as db:
        rows = db.execute(select(AuditEntry)).scalars()
        return "\n".join(
            " ".join(
                str(getattr(e, c))
                for c in ("actor", "device", "patient_ref", "object_type", "object_id", "details")
            )
            for e in rows
        )


def test_failed_sign_in_is_audited_with_a_keyed_reference_never_the_email(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    typed = "emilie.cote.1980@h.example"
    _login(client, dev, email=typed)
    _login(client, dev, "not the password at all")
    denied = [e for e in _entries(instance, "account.login") if e.outcome == "denied"]
    assert len(denied) == 2
    expected = accounts.email_ref(instance.keys.blind_index_key, typed)
    assert expected in denied[0].details
    assert denied[1].object_id == dev.user_id
    text = _all_audit_text(instance)
    assert typed not in text
    assert dev.email not in text


def test_accounts_routes_do_not_write_the_audit_trail() -> None:
    from clinphoto.api import accounts as routes

    source = inspect.getsource(routes)
    assert "audit." not in source
    assert "clinphoto.audit" not in source


def test_stale_throttle_rows_are_pruned_and_live_blocks_kept(instance: Instance) -> None:
    now = utcnow()
    with instance.unit_of_work() as db:
        for key in ("stale", "blocked", "recent"):
            throttle.record_failure(db, key, throttle.ACCOUNT, now)
        db.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key.in_(["stale", "blocked"]))
            .values(window_started_at=now - timedelta(days=2))
        )
        db.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == "blocked")
            .values(blocked_until=now + timedelta(minutes=1))
        )
    with instance.unit_of_work() as db:
        # Rows loaded as the database returns them (naive on SQLite), as in a sign-in.
        loaded = db.execute(select(SignInThrottle)).scalars().all()
        assert len(loaded) == 3
        assert throttle.prune(db, now) == 1
    with instance.unit_of_work() as db:
        left = set(db.execute(select(SignInThrottle.key)).scalars())
    assert left == {"blocked", "recent"}
