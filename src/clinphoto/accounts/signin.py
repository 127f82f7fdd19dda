"""Sign-in and enrollment: the public use cases, throttled, all or nothing (AUD-2).

Both guess at secrets, so both are throttled (``accounts.throttle``) per client address
and, for a wrong password, per account and per enrollment code. Unknown, disabled,
throttled and wrong-password accounts get the same answer after the same Argon2 work.

Each runs in transactions of its own: a short one to gather the facts, the Argon2 work with
no transaction open (it takes time and memory, and on SQLite a transaction holds the
database's write lock, so a sign-in flood would stall every user), and a short one that
records the outcome. A refused attempt commits only its throttle counts and its audit entry,
never a password, a key, a device or a spent code.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from clinphoto import crypto
from clinphoto.accounts import passwords, throttle
from clinphoto.accounts.models import Device, DeviceStatus, EnrollmentCode, User
from clinphoto.accounts.service import (
    DEVICE_NAME_MAX,
    SignedIn,
    audited,
    aware,
    code_hash_of,
    email_ref,
    open_session,
)
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core import text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import DomainError, Invalid, Unauthenticated
from clinphoto.core.protocol import login_message

LOGIN_CLOCK_SKEW = timedelta(minutes=2)

UnitOfWork = Callable[[], AbstractContextManager[DbSession]]

# One answer for every refused sign-in: unknown account, wrong password, wrong device,
# stale clock, and an account throttled after repeated guesses all read the same, so the
# answer tells nobody which accounts exist or are under attack. It still says what to do.
SIGN_IN_REFUSED = (
    "sign-in refused: the e-mail, password or device is not valid, or this account had "
    "too many failed attempts. Check them, and your device's clock, then try again in "
    "2 minutes"
)
ENROLLMENT_REFUSED = (
    "enrollment refused: the enrollment code or the password is not valid, or there were "
    "too many failed attempts. Check them and try again in 2 minutes; a code that was used "
    "or is older than 24 hours needs a new one from your administrator (or approved from "
    "another of your devices)"
)

_DUMMY_HASH: dict[crypto.KdfParams, str] = {}


def _dummy_hash(kdf: crypto.KdfParams) -> str:
    """A hash to check unknown accounts against, so they cost what a real check costs."""
    if kdf not in _DUMMY_HASH:
        _DUMMY_HASH[kdf] = crypto.hash_password(secrets.token_hex(16), kdf)
    return _DUMMY_HASH[kdf]


def _fresh(timestamp: str, now: datetime) -> bool:
    try:
        return abs(aware(datetime.fromisoformat(timestamp)) - now) <= LOGIN_CLOCK_SKEW
    except (ValueError, TypeError, OverflowError):
        return False


@dataclass(frozen=True)
class _SignInFacts:
    user_id: str | None  # an account named by the e-mail that could sign in, if any
    password_hash: str | None
    second_factor: bool  # an active device of this account signed a fresh login message
    account_blocked: bool
    reasons: tuple[str, ...]


def _sign_in_facts(
    db: DbSession,
    *,
    email: str,
    device_id: str,
    timestamp: str,
    signature: str,
    account_key: str,
    now: datetime,
) -> _SignInFacts:
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar()
    device = db.get(Device, device_id) if text.is_id(device_id) else None
    reasons: list[str] = []
    if user is None or not user.active or user.password_hash is None:
        reasons.append("account:unknown-or-disabled")
        user = None
    elif device is None or device.user_id != user.id or device.status is not DeviceStatus.ACTIVE:
        reasons.append("device:not-an-active-device-of-the-account")
    elif not _fresh(timestamp, now):
        reasons.append("timestamp:stale")
    elif not crypto.verify_signature(
        device.signing_public, login_message(device_id, email, timestamp), signature
    ):
        reasons.append("signature:invalid")
    second_factor = not reasons
    blocked = throttle.blocked_for(db, account_key, now) is not None
    if blocked:
        reasons.append("throttle:account")
    return _SignInFacts(
        user_id=user.id if user is not None else None,
        password_hash=user.password_hash if user is not None else None,
        second_factor=second_factor,
        account_blocked=blocked,
        reasons=tuple(reasons),
    )


def sign_in(
    unit_of_work: UnitOfWork,
    *,
    email: str,
    password: str,
    device_id: str,
    timestamp: str,
    signature: str,
    client: str,
    kdf: crypto.KdfParams,
    lookup_key: bytes,
) -> SignedIn:
    """Password plus a signature by an active device of the same user, throttled.

    A failed guess counts against the client's address; it counts against the account only
    when everything but the password was right (an active device of the account signed a
    fresh message), because only then is it a guess at the password: nobody without one of
    the clinician's devices can lock them out. Unknown, disabled, throttled and
    wrong-password accounts get the same answer after the same Argon2 work.
    """
    now = utcnow()
    client_key = throttle.key(lookup_key, "client", client)
    account_key = throttle.key(lookup_key, "account", email.strip().lower())
    with unit_of_work() as db:
        wait = throttle.blocked_for(db, client_key, now)
        if wait is not None:
            # Answered before any password work; it depends on the address alone.
            raise throttle.client_blocked(wait)
        facts = _sign_in_facts(
            db,
            email=email,
            device_id=device_id,
            timestamp=timestamp,
            signature=signature,
            account_key=account_key,
            now=now,
        )
    # No transaction open: Argon2 takes its time and memory without holding a lock.
    password_ok = crypto.verify_password(facts.password_hash or _dummy_hash(kdf), password, kdf)
    password_ok = password_ok and facts.password_hash is not None
    rehash = None
    if password_ok and crypto.password_needs_rehash(facts.password_hash or "", kdf):
        rehash = crypto.hash_password(password, kdf)
    with unit_of_work() as db:
        user = db.get(User, facts.user_id) if facts.user_id else None
        device = db.get(Device, device_id) if facts.second_factor else None
        ok = (
            password_ok
            and facts.second_factor
            and not facts.account_blocked
            and user is not None
            and user.active
            and user.password_hash == facts.password_hash
            and device is not None
            and device.status is DeviceStatus.ACTIVE
        )
        if ok and user is not None and device is not None:
            throttle.clear(db, account_key)
            if rehash is not None:
                user.password_hash = rehash
            token = open_session(db, user, device)
            audit.log(db, action=Action.LOGIN, actor=user.id, device=device.id)
            return SignedIn(user=user, device=device, token=token)
        reasons = list(facts.reasons)
        if facts.second_factor and not password_ok:
            reasons.append("password:wrong")
        reasons = reasons or ["account-changed-meanwhile"]
        client_blocked = throttle.record_failure(db, client_key, throttle.CLIENT, now)
        account_blocked = facts.account_blocked
        if facts.second_factor and not password_ok:
            account_blocked = throttle.record_failure(db, account_key, throttle.ACCOUNT, now)
        audit.log_denied(
            db,
            action=Action.LOGIN,
            object_type="user" if user is not None else "",
            object_id=user.id if user is not None else "",
            details={
                "reasons": reasons,
                "email_ref": email_ref(lookup_key, email),
                "client_blocked": client_blocked,
                "account_blocked": account_blocked,
            },
        )
    raise audited(Unauthenticated(SIGN_IN_REFUSED))


def _device_keys_problem(age_recipient: str, signing_public: str) -> Invalid | None:
    if not crypto.is_age_recipient(age_recipient):
        return Invalid(
            "age_recipient: expected an X25519 age recipient (age1...)", field="age_recipient"
        )
    if not crypto.is_signing_public(signing_public):
        return Invalid(
            "signing_public: expected an Ed25519 public key (base64, 32 bytes)",
            field="signing_public",
        )
    return None


def _refuse_enrollment(
    unit_of_work: UnitOfWork, error: DomainError, details: Mapping[str, object]
) -> DomainError:
    with unit_of_work() as db:
        audit.log_denied(db, action=Action.DEVICE_ENROLL, details={"reason": error.code, **details})
    return audited(error)


@dataclass(frozen=True)
class _EnrollFacts:
    code_id: str | None  # a valid (unused, unexpired) code, and its account
    user_id: str | None
    email: str
    display_name: str
    password_hash: str | None
    blocked: bool
    keys_taken: bool


def _keys_taken(db: DbSession, age_recipient: str, signing_public: str) -> bool:
    taken = db.execute(
        select(Device.id).where(
            (Device.age_recipient == age_recipient) | (Device.signing_public == signing_public)
        )
    ).first()
    return taken is not None


def _enroll_facts(
    db: DbSession,
    *,
    code_hash: str,
    age_recipient: str,
    signing_public: str,
    lookup_key: bytes,
    now: datetime,
) -> _EnrollFacts:
    row = db.execute(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash)).scalar()
    user = db.get(User, row.user_id) if row is not None else None
    valid = (
        row is not None
        and row.used_at is None
        and row.expires_at > now
        and user is not None
        and user.active
    )
    blocked = False
    if valid and user is not None:
        blocked = any(
            throttle.blocked_for(db, k, now) is not None
            for k in (
                throttle.key(lookup_key, "code", code_hash),
                throttle.key(lookup_key, "account", user.email),
            )
        )
    return _EnrollFacts(
        code_id=row.id if valid and row is not None else None,
        user_id=user.id if valid and user is not None else None,
        email=user.email if valid and user is not None else "",
        display_name=user.display_name if valid and user is not None else "",
        password_hash=user.password_hash if valid and user is not None else None,
        blocked=blocked,
        keys_taken=_keys_taken(db, age_recipient, signing_public),
    )


def enroll(
    unit_of_work: UnitOfWork,
    *,
    code: str,
    password: str,
    device_name: str,
    age_recipient: str,
    signing_public: str,
    client: str,
    kdf: crypto.KdfParams,
    lookup_key: bytes,
) -> SignedIn:
    """Redeem a one-time code: register the device's public keys and open a session.

    A user with no password yet (a new account) sets it here; otherwise it must match, and
    a wrong one counts as a guess against the client, the code and the account. All or
    nothing: every input is checked before anything is written, and a refused enrollment
    leaves no password, key or device behind and does not use up the code.
    """
    try:
        name = text.clean(device_name, "device_name", max_len=DEVICE_NAME_MAX) or "device"
    except Invalid as exc:
        raise _refuse_enrollment(unit_of_work, exc, {"field": "device_name"}) from None
    bad_keys = _device_keys_problem(age_recipient, signing_public)
    if bad_keys is not None:
        raise _refuse_enrollment(unit_of_work, bad_keys, {"field": bad_keys.field or ""})
    now = utcnow()
    code_hash = code_hash_of(code)
    client_key = throttle.key(lookup_key, "client", client)
    with unit_of_work() as db:
        wait = throttle.blocked_for(db, client_key, now)
        if wait is not None:
            raise throttle.client_blocked(wait)
        facts = _enroll_facts(
            db,
            code_hash=code_hash,
            age_recipient=age_recipient,
            signing_public=signing_public,
            lookup_key=lookup_key,
            now=now,
        )
    if facts.keys_taken:
        taken = Invalid(
            "these device keys are already enrolled: generate new ones", field="age_recipient"
        )
        raise _refuse_enrollment(unit_of_work, taken, {"field": "keys"})
    new_hash = None
    if facts.code_id is not None and facts.password_hash is None:
        # A new account chooses its password: the rules, not a guess.
        try:
            passwords.check(password, context=(facts.email.split("@")[0], facts.display_name))
        except Invalid as exc:
            raise _refuse_enrollment(unit_of_work, exc, {"field": "password"}) from None
        new_hash = crypto.hash_password(password, kdf)
        password_ok = True
    else:
        password_ok = crypto.verify_password(
            facts.password_hash or _dummy_hash(kdf), password, kdf
        ) and (facts.password_hash is not None)
    with unit_of_work() as db:
        done = _finish_enrollment(
            db,
            facts=facts,
            code_hash=code_hash,
            password_ok=password_ok,
            new_hash=new_hash,
            name=name,
            age_recipient=age_recipient,
            signing_public=signing_public,
            client_key=client_key,
            lookup_key=lookup_key,
            now=now,
        )
    if done is None:
        raise audited(Unauthenticated(ENROLLMENT_REFUSED))
    return done


def _finish_enrollment(
    db: DbSession,
    *,
    facts: _EnrollFacts,
    code_hash: str,
    password_ok: bool,
    new_hash: str | None,
    name: str,
    age_recipient: str,
    signing_public: str,
    client_key: str,
    lookup_key: bytes,
    now: datetime,
) -> SignedIn | None:
    """Record the outcome: the device and session, or the refusal and its guess counts."""
    row = (
        db.execute(
            select(EnrollmentCode).where(EnrollmentCode.id == facts.code_id).with_for_update()
        ).scalar()
        if facts.code_id
        else None
    )
    user = db.get(User, facts.user_id) if facts.user_id else None
    still_valid = (
        row is not None
        and row.used_at is None
        and user is not None
        and user.active
        and user.password_hash == facts.password_hash  # nobody set it in the meantime
        and not _keys_taken(db, age_recipient, signing_public)
    )
    if still_valid and password_ok and not facts.blocked and user is not None and row is not None:
        code_key = throttle.key(lookup_key, "code", code_hash)
        account_key = throttle.key(lookup_key, "account", user.email)
        for k in (code_key, account_key):
            throttle.clear(db, k)
        if new_hash is not None:
            user.password_hash = new_hash
        row.used_at = now
        device = Device(
            id=new_id(),
            user_id=user.id,
            name=name,
            age_recipient=age_recipient,
            signing_public=signing_public,
            fingerprint=crypto.fingerprint(age_recipient, signing_public),
            status=DeviceStatus.ACTIVE,
            enrolled_at=now,
        )
        db.add(device)
        db.flush()
        token = open_session(db, user, device)
        audit.log(
            db,
            action=Action.DEVICE_ENROLL,
            actor=user.id,
            device=device.id,
            object_type="device",
            object_id=device.id,
        )
        return SignedIn(user=user, device=device, token=token)
    reasons = []
    if facts.code_id is None:
        reasons.append("code:unknown-used-or-expired")
    elif not still_valid:
        reasons.append("code:used-meanwhile")
    if facts.blocked:
        reasons.append("throttle:code-or-account")
    if facts.code_id is not None and not password_ok:
        reasons.append("password:wrong")
    client_blocked = throttle.record_failure(db, client_key, throttle.CLIENT, now)
    code_blocked = False
    if facts.code_id is not None and not password_ok and user is not None:
        # A wrong password through a valid code: a guess at this account's password.
        code_blocked = throttle.record_failure(
            db, throttle.key(lookup_key, "code", code_hash), throttle.ACCOUNT, now
        )
        throttle.record_failure(
            db, throttle.key(lookup_key, "account", user.email), throttle.ACCOUNT, now
        )
    audit.log_denied(
        db,
        action=Action.DEVICE_ENROLL,
        object_type="user" if user is not None else "",
        object_id=user.id if user is not None else "",
        details={
            "reason": "unauthenticated",
            "reasons": reasons,
            "client_blocked": client_blocked,
            "code_blocked": code_blocked,
        },
    )
    return None
