"""Accounts: users, enrollment of devices, sessions, revocation.

Every session belongs to one enrolled device; a revoked device's sessions end at once.
The caller owns the transaction and writes the audit entry for what happened.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from clinphoto import crypto
from clinphoto.accounts import passwords
from clinphoto.accounts.models import Device, DeviceStatus, EnrollmentCode, Role, Session, User
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import Forbidden, Invalid, NotFound, RateLimited, Unauthenticated
from clinphoto.core.protocol import login_message
from clinphoto.policy import Subject

SESSION_LIFETIME = timedelta(hours=12)
ENROLLMENT_CODE_LIFETIME = timedelta(hours=24)
LOGIN_CLOCK_SKEW = timedelta(minutes=2)
LOCK_AFTER_FAILURES = 5
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user acting through one active device."""

    user: User
    device: Device
    session_id: str

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def subject(self) -> Subject:
        """Who asks, as the access policy sees it."""
        return Subject(user_id=self.user.id, role=self.user.role, device_id=self.device.id)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def create_user(
    db: DbSession,
    *,
    email: str,
    display_name: str,
    role: Role,
    institution: str,
    password: str | None,
    kdf: crypto.KdfParams,
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid("a valid e-mail address is required")
    if db.execute(select(User).where(User.email == email)).scalar() is not None:
        raise Invalid("a user with that e-mail address exists")
    hashed = None
    if password is not None:
        passwords.check(password, context=(email.split("@")[0], display_name, "clinphoto"))
        hashed = crypto.hash_password(password, kdf)
    user = User(
        id=new_id(),
        email=email,
        display_name=display_name.strip(),
        institution=institution.strip(),
        role=role,
        password_hash=hashed,
        failed_logins=0,
        active=True,
        created_at=utcnow(),
    )
    db.add(user)
    db.flush()
    return user


def has_users(db: DbSession) -> bool:
    return db.execute(select(User.id).limit(1)).first() is not None


def get_user(db: DbSession, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None or not user.active:
        raise NotFound()
    return user


def find_user_by_email(db: DbSession, email: str) -> User:
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar()
    if user is None or not user.active:
        raise NotFound()
    return user


def issue_enrollment_code(db: DbSession, *, user: User, issued_by: str) -> str:
    """A one-time code to enroll a new device for ``user``. Shown once, stored hashed."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    code = "-".join(raw[i : i + 5] for i in range(0, 20, 5))
    db.add(
        EnrollmentCode(
            id=new_id(),
            user_id=user.id,
            code_hash=_sha256(code),
            issued_by=issued_by,
            expires_at=utcnow() + ENROLLMENT_CODE_LIFETIME,
        )
    )
    db.flush()
    return code


def issue_code_for(db: DbSession, *, actor: Principal, user_id: str | None) -> tuple[User, str]:
    """Administrators issue codes for anyone; a user, from an enrolled device, for themself
    (this is how a new device is approved from an existing one)."""
    if user_id is None or user_id == actor.user.id:
        target = actor.user
    elif actor.role is Role.ADMINISTRATOR:
        target = get_user(db, user_id)
    else:
        raise NotFound()
    return target, issue_enrollment_code(db, user=target, issued_by=actor.user.id)


def _new_session(db: DbSession, user: User, device: Device) -> str:
    token = crypto.random_token()
    now = utcnow()
    db.add(
        Session(
            id=new_id(),
            token_hash=_sha256(token),
            user_id=user.id,
            device_id=device.id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    db.flush()
    return token


def enroll_device(
    db: DbSession,
    *,
    code: str,
    password: str,
    device_name: str,
    age_recipient: str,
    signing_public: str,
    kdf: crypto.KdfParams,
) -> tuple[User, Device, str]:
    """Redeem a one-time code: register the device's public keys and open a session.

    A user with no password yet (a new account) sets it here; otherwise it must match.
    """
    row = db.execute(
        select(EnrollmentCode)
        .where(EnrollmentCode.code_hash == _sha256(code.strip().upper()))
        .with_for_update()
    ).scalar()
    now = utcnow()
    if row is None or row.used_at is not None or _aware(row.expires_at) < now:
        raise Unauthenticated("enrollment code is not valid (unknown, used or expired)")
    user = get_user(db, row.user_id)
    if user.password_hash is None:
        passwords.check(password, context=(user.email.split("@")[0], user.display_name))
        user.password_hash = crypto.hash_password(password, kdf)
    elif not crypto.verify_password(user.password_hash, password, kdf):
        raise Unauthenticated("enrollment code or password is not valid")
    if not crypto.is_age_recipient(age_recipient):
        raise Invalid("age_recipient is not an X25519 age recipient")
    if not crypto.is_signing_public(signing_public):
        raise Invalid("signing_public is not an Ed25519 public key")
    taken = db.execute(
        select(Device).where(
            (Device.age_recipient == age_recipient) | (Device.signing_public == signing_public)
        )
    ).scalar()
    if taken is not None:
        raise Invalid("these device keys are already enrolled")
    row.used_at = now
    device = Device(
        id=new_id(),
        user_id=user.id,
        name=device_name.strip()[:100] or "device",
        age_recipient=age_recipient,
        signing_public=signing_public,
        fingerprint=crypto.fingerprint(age_recipient, signing_public),
        status=DeviceStatus.ACTIVE,
        enrolled_at=now,
    )
    db.add(device)
    db.flush()
    return user, device, _new_session(db, user, device)


_DUMMY_HASH: dict[crypto.KdfParams, str] = {}


def login(
    db: DbSession,
    *,
    email: str,
    password: str,
    device_id: str,
    timestamp: str,
    signature: str,
    kdf: crypto.KdfParams,
) -> tuple[User, Device, str]:
    """Password plus a signature by an active device of the same user."""
    now = utcnow()
    user = db.execute(
        select(User).where(User.email == email.strip().lower()).with_for_update()
    ).scalar()
    if user is None or user.password_hash is None or not user.active:
        # Same work as a real check, so response time does not reveal who has an account.
        if kdf not in _DUMMY_HASH:
            _DUMMY_HASH[kdf] = crypto.hash_password(secrets.token_hex(16), kdf)
        crypto.verify_password(_DUMMY_HASH[kdf], password, kdf)
        raise Unauthenticated("e-mail, password or device is not valid")
    if user.locked_until is not None and _aware(user.locked_until) > now:
        raise RateLimited("too many failed sign-ins; try again later")
    device = db.get(Device, device_id)
    ok = crypto.verify_password(user.password_hash, password, kdf)
    try:
        when = datetime.fromisoformat(timestamp)
        fresh = abs(_aware(when) - now) <= LOGIN_CLOCK_SKEW
    except ValueError:
        fresh = False
    ok = (
        ok
        and fresh
        and device is not None
        and device.user_id == user.id
        and device.status is DeviceStatus.ACTIVE
        and crypto.verify_signature(
            device.signing_public, login_message(device_id, email, timestamp), signature
        )
    )
    if not ok or device is None:
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER_FAILURES:
            # Exponential back-off: 1, 2, 4 ... minutes, capped at a day.
            minutes = min(2 ** (user.failed_logins - LOCK_AFTER_FAILURES), 24 * 60)
            user.locked_until = now + timedelta(minutes=minutes)
        db.flush()
        raise Unauthenticated("e-mail, password or device is not valid")
    user.failed_logins = 0
    user.locked_until = None
    if crypto.password_needs_rehash(user.password_hash, kdf):
        user.password_hash = crypto.hash_password(password, kdf)
    return user, device, _new_session(db, user, device)


def authenticate(db: DbSession, token: str) -> Principal:
    """The principal behind a bearer token, or :class:`Unauthenticated`."""
    if not token or len(token) > 200:
        raise Unauthenticated()
    sess = db.execute(select(Session).where(Session.token_hash == _sha256(token))).scalar()
    now = utcnow()
    if sess is None or sess.revoked_at is not None or _aware(sess.expires_at) <= now:
        raise Unauthenticated("session is not valid (unknown, ended or expired)")
    device = db.get(Device, sess.device_id)
    user = db.get(User, sess.user_id)
    if device is None or device.status is not DeviceStatus.ACTIVE or user is None:
        raise Unauthenticated("session is not valid (unknown, ended or expired)")
    if not user.active:
        raise Unauthenticated("session is not valid (unknown, ended or expired)")
    return Principal(user=user, device=device, session_id=sess.id)


def end_session(db: DbSession, principal: Principal) -> None:
    db.execute(
        update(Session).where(Session.id == principal.session_id).values(revoked_at=utcnow())
    )


def list_devices(db: DbSession, *, actor: Principal, user_id: str | None) -> list[Device]:
    target = actor.user.id if user_id is None else user_id
    if target != actor.user.id and actor.role is not Role.ADMINISTRATOR:
        raise NotFound()
    return list(
        db.execute(
            select(Device).where(Device.user_id == target).order_by(Device.enrolled_at)
        ).scalars()
    )


def active_devices(db: DbSession, user_id: str) -> list[Device]:
    return list(
        db.execute(
            select(Device)
            .where(Device.user_id == user_id, Device.status == DeviceStatus.ACTIVE)
            .order_by(Device.enrolled_at)
        ).scalars()
    )


def revoke_device(db: DbSession, *, actor: Principal, device_id: str) -> Device:
    """Revoke a device: its sessions end at once; it can neither upload nor download."""
    device = db.get(Device, device_id)
    if device is None or (device.user_id != actor.user.id and actor.role is not Role.ADMINISTRATOR):
        raise NotFound()
    if device.status is DeviceStatus.REVOKED:
        return device
    now = utcnow()
    device.status = DeviceStatus.REVOKED
    device.revoked_at = now
    db.execute(
        update(Session)
        .where(Session.device_id == device.id, Session.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.flush()
    return device


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden("your role does not allow this")
