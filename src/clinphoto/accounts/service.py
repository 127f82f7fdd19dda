"""Accounts: users, enrollment codes, sessions, devices, and their listings (AUD-2).

Every session belongs to one enrolled device; a revoked device's sessions end at once.

Each use case (issuing a code, sign-out, listing users or devices, revoking a device,
creating a user; sign-in and enrollment are in ``accounts.signin``) writes its own audit
entry, allowed or refused, in the caller's unit of work: the routes and commands that call
them only parse, call and render. Administrators' actions on other users' accounts and
devices are decided by the access policy (Act.ADMINISTER); what users do to their own
account or devices is self-service, audited as such.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from clinphoto import crypto, policy
from clinphoto.accounts import passwords, throttle
from clinphoto.accounts.models import Device, DeviceStatus, EnrollmentCode, Role, Session, User
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core import text
from clinphoto.core.clock import new_id, utcnow
from clinphoto.core.errors import (
    Conflict,
    DeviceRevoked,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from clinphoto.policy import Act, Decision, Effect, ObjectKind, Resource, Subject

SESSION_LIFETIME = timedelta(hours=12)
ENROLLMENT_CODE_LIFETIME = timedelta(hours=24)
DEVICE_NAME_MAX = 100
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U
_DEVICE_REF = re.compile(r"[0-9a-f]{8,32}")
_EMAIL_REF = "account-email"  # blind-index kind: e-mail addresses typed as a lookup

# What a bearer token that no longer works means, and what to do about it.
NO_SESSION = "this request needs a session: sign in first"
UNKNOWN_SESSION = (
    "this session is not known to the server (signed out, or never issued): sign in again"
)
SESSION_EXPIRED = "your session expired: sign in again"
SESSION_ENDED = "this session was signed out: sign in again"
DEVICE_REVOKED = (
    "this device was revoked: ask an administrator for a new enrollment code (or approve "
    "a new device from another of yours), then enroll again"
)
ACCOUNT_DISABLED = "this account is disabled: ask an administrator"


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


@dataclass(frozen=True)
class SignedIn:
    """A new session: what sign-in and enrollment return."""

    user: User
    device: Device
    token: str


@dataclass(frozen=True)
class UserSummary:
    """A user as administrators list them."""

    user: User
    active_devices: int


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def code_hash_of(code: str) -> str:
    """How an enrollment code is stored and looked up: typed in any case, with spaces."""
    return _sha256(code.strip().upper())


def aware(dt: datetime) -> datetime:
    """A time a client sent, read as UTC when it carries no offset. (Times read from the
    database always carry theirs: ``storage.db.UtcDateTime``.)"""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def audited(error: DomainError) -> DomainError:
    """Mark ``error`` as audited by the use case that raises it."""
    error.audited = True
    return error


# --- audit helpers ---------------------------------------------------------------------


def _self_service(subject: Subject, action: Action, resource: Resource) -> policy.Grant:
    """A user acting on their own account or device: allowed by the accounts area itself
    (the policy decides access to others' objects), and audited like a policy grant."""
    decision = Decision(Effect.ALLOW, (f"role:{subject.role}", "relation:self"))
    return policy.Grant(subject, Act.ADMINISTER, action, resource, "", decision)


def _grant(
    db: DbSession, subject: Subject, action: Action, resource: Resource, *, own: bool
) -> policy.Grant:
    if own:
        return _self_service(subject, action, resource)
    return policy.authorize(db, subject, Act.ADMINISTER, resource, action=action)


def email_ref(lookup_key: bytes, email: str) -> str:
    """A keyed hash of an e-mail address typed as a lookup: what the audit trail records
    instead of the address (an unknown address may be anything a person typed)."""
    return crypto.blind_index(lookup_key, _EMAIL_REF, email.strip().lower())


# --- users -----------------------------------------------------------------------------


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
    """A new user (a building block: :func:`register_user` is the audited use case)."""
    email = text.clean(email, "email", max_len=254).lower()
    if "@" not in email:
        raise Invalid(
            "email: expected an e-mail address, like a.tremblay@chu.example", field="email"
        )
    display_name = text.clean(display_name, "name", max_len=200)
    institution = text.clean(institution, "institution", max_len=200)
    if db.execute(select(User).where(User.email == email)).scalar() is not None:
        raise Invalid("email: a user with that e-mail address exists", field="email")
    hashed = None
    if password is not None:
        passwords.check(password, context=(email.split("@")[0], display_name, "clinphoto"))
        hashed = crypto.hash_password(password, kdf)
    user = User(
        id=new_id(),
        email=email,
        display_name=display_name,
        institution=institution,
        role=role,
        password_hash=hashed,
        failed_logins=0,
        active=True,
        created_at=utcnow(),
    )
    db.add(user)
    db.flush()
    return user


def register_user(
    db: DbSession,
    *,
    actor: Subject,
    email: str,
    display_name: str,
    role: Role,
    institution: str,
    kdf: crypto.KdfParams,
) -> tuple[User, str]:
    """Create a user without a password and the one-time code with which they enroll their
    first device (and set it). Both are audited."""
    resource = Resource(ObjectKind.USER)
    grant = policy.authorize(db, actor, Act.ADMINISTER, resource, action=Action.USER_CREATE)
    with policy.refusals_audited(db, actor, Action.USER_CREATE, resource):
        user = create_user(
            db,
            email=email,
            display_name=display_name,
            role=role,
            institution=institution,
            password=None,
            kdf=kdf,
        )
    grant.record(db, object_id=user.id)
    code = issue_enrollment_code(db, user=user, issued_by=actor.user_id)
    issue = policy.authorize(
        db,
        actor,
        Act.ADMINISTER,
        Resource(ObjectKind.USER, id=user.id),
        action=Action.ENROLLMENT_CODE_ISSUE,
    )
    issue.record(db)
    return user, code


def has_users(db: DbSession) -> bool:
    return db.execute(select(User.id).limit(1)).first() is not None


def get_user(db: DbSession, user_id: str) -> User:
    user = db.get(User, user_id) if text.is_id(user_id) else None
    if user is None or not user.active:
        raise NotFound()
    return user


def find_user_by_email(db: DbSession, email: str) -> User:
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar()
    if user is None or not user.active:
        raise NotFound()
    return user


def list_users(db: DbSession, *, actor: Subject) -> list[UserSummary]:
    """Every user with their role, whether active, and their number of active devices:
    for administrators (and the instance's own console), audited."""
    grant = policy.authorize(
        db, actor, Act.ADMINISTER, Resource(ObjectKind.INSTANCE), action=Action.USER_LIST
    )
    counts = dict(
        db.execute(
            select(Device.user_id, func.count(Device.id))
            .where(Device.status == DeviceStatus.ACTIVE)
            .group_by(Device.user_id)
        ).all()
    )
    users = db.execute(select(User).order_by(User.email)).scalars()
    found = [UserSummary(user=u, active_devices=int(counts.get(u.id, 0))) for u in users]
    grant.record(db, details={"count": len(found)})
    return found


# --- enrollment codes ------------------------------------------------------------------


def issue_enrollment_code(db: DbSession, *, user: User, issued_by: str) -> str:
    """A one-time code to enroll a new device for ``user``. Shown once, stored hashed.

    A building block: :func:`approve_device` and :func:`issue_code_by_email` are the
    audited use cases."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    code = "-".join(raw[i : i + 5] for i in range(0, 20, 5))
    db.add(
        EnrollmentCode(
            id=new_id(),
            user_id=user.id,
            code_hash=code_hash_of(code),
            issued_by=issued_by,
            expires_at=utcnow() + ENROLLMENT_CODE_LIFETIME,
        )
    )
    db.flush()
    return code


def approve_device(
    db: DbSession,
    *,
    actor: Subject,
    user_id: str | None,
    client: str,
    lookup_key: bytes,
) -> tuple[User, str]:
    """A one-time enrollment code: a user approves a new device of their own from an
    enrolled one; an administrator issues one for anybody. Throttled per client (after
    failed guesses from it) and per account (codes issued in the last hour)."""
    own = user_id is None or user_id == actor.user_id
    target_id = actor.user_id if user_id is None else user_id
    resource = Resource(ObjectKind.USER, id=target_id if text.is_id(target_id) else "")
    with policy.refusals_audited(db, actor, Action.ENROLLMENT_CODE_ISSUE, resource):
        if not own and actor.role is not Role.ADMINISTRATOR:
            raise NotFound()  # another user's account: not theirs to know of
        target = db.get(User, target_id) if text.is_id(target_id) else None
        exists = target is not None and target.active
        grant = _grant(
            db,
            actor,
            Action.ENROLLMENT_CODE_ISSUE,
            Resource(ObjectKind.USER, id=resource.id, exists=exists),
            own=own,
        )
        assert target is not None
        now = utcnow()
        wait = throttle.blocked_for(db, throttle.key(lookup_key, "client", client), now)
        if wait is not None:
            raise throttle.client_blocked(wait)
        approval_key = throttle.key(lookup_key, "approval", target.id)
        if throttle.blocked_for(db, approval_key, now) is not None:
            raise RateLimited(
                "too many enrollment codes were issued for this account in the last hour: "
                "use one of them, or try again later"
            )
        throttle.record_failure(db, approval_key, throttle.APPROVAL, now)
    code = issue_enrollment_code(db, user=target, issued_by=actor.user_id)
    grant.record(db)
    return target, code


def issue_code_by_email(
    db: DbSession, *, actor: Subject, email: str, lookup_key: bytes
) -> tuple[User, str]:
    """A one-time code for the user with ``email`` (the server's console). An unknown
    address is audited as a keyed hash, never in clear."""
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar()
    exists = user is not None and user.active
    grant = policy.authorize(
        db,
        actor,
        Act.ADMINISTER,
        Resource(ObjectKind.USER, id=user.id if user else "", exists=exists),
        action=Action.ENROLLMENT_CODE_ISSUE,
        details=None if exists else {"email_ref": email_ref(lookup_key, email)},
    )
    assert user is not None
    code = issue_enrollment_code(db, user=user, issued_by=actor.user_id)
    grant.record(db)
    return user, code


# --- sessions --------------------------------------------------------------------------


def open_session(db: DbSession, user: User, device: Device) -> str:
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


def authenticate(db: DbSession, token: str) -> Principal:
    """The principal behind a bearer token, or :class:`Unauthenticated` saying what to do:
    sign in again (unknown, signed out or expired session) or get a new enrollment code
    (revoked device). The token's holder learns nothing about anybody else."""
    if not token:
        raise Unauthenticated(NO_SESSION)
    sess = None
    if len(token) <= 200:
        sess = db.execute(select(Session).where(Session.token_hash == _sha256(token))).scalar()
    if sess is None:
        raise Unauthenticated(UNKNOWN_SESSION)
    device = db.get(Device, sess.device_id)
    user = db.get(User, sess.user_id)
    if device is None or user is None or device.status is not DeviceStatus.ACTIVE:
        raise DeviceRevoked(DEVICE_REVOKED)
    if not user.active:
        raise Unauthenticated(ACCOUNT_DISABLED)
    if sess.revoked_at is not None:
        raise Unauthenticated(SESSION_ENDED)
    if sess.expires_at <= utcnow():
        raise Unauthenticated(SESSION_EXPIRED)
    return Principal(user=user, device=device, session_id=sess.id)


def logout(db: DbSession, principal: Principal) -> None:
    """End the caller's session (audited)."""
    db.execute(
        update(Session).where(Session.id == principal.session_id).values(revoked_at=utcnow())
    )
    audit.log(db, action=Action.LOGOUT, actor=principal.user.id, device=principal.device.id)


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden("your role does not allow this")


def require_still_signed_in(db: DbSession, principal: Principal) -> None:
    """Check again, inside this unit of work, that the caller's device and session are
    still active: a long upload that began before a revocation must not be recorded."""
    sess = db.get(Session, principal.session_id)
    device = db.get(Device, principal.device.id)
    now = utcnow()
    if device is None or device.status is not DeviceStatus.ACTIVE:
        raise DeviceRevoked(
            "this device was revoked during the upload: nothing was recorded; ask for a new "
            "enrollment code"
        )
    if sess is None or sess.revoked_at is not None or sess.expires_at <= now:
        raise Unauthenticated(
            "your session ended during the upload: nothing was recorded; sign in again"
        )


# --- devices ---------------------------------------------------------------------------


def active_devices(db: DbSession, user_id: str) -> list[Device]:
    return list(
        db.execute(
            select(Device)
            .where(Device.user_id == user_id, Device.status == DeviceStatus.ACTIVE)
            .order_by(Device.enrolled_at)
        ).scalars()
    )


def _devices_of(db: DbSession, user_id: str) -> list[Device]:
    return list(
        db.execute(
            select(Device).where(Device.user_id == user_id).order_by(Device.enrolled_at)
        ).scalars()
    )


def list_devices(db: DbSession, *, actor: Subject, user_id: str | None) -> list[Device]:
    """A user's devices, revoked ones included: one's own, or (administrators) anybody's.
    Audited; another user's list is "not found" to anyone but administrators."""
    own = user_id is None or user_id == actor.user_id
    target = actor.user_id if user_id is None else user_id
    resource = Resource(ObjectKind.USER, id=target if text.is_id(target) else "")
    with policy.refusals_audited(db, actor, Action.DEVICE_LIST, resource):
        if not own and actor.role is not Role.ADMINISTRATOR and actor.role is not None:
            raise NotFound()
        exists = own or (text.is_id(target) and db.get(User, target) is not None)
        grant = _grant(
            db,
            actor,
            Action.DEVICE_LIST,
            Resource(ObjectKind.USER, id=resource.id, exists=exists),
            own=own,
        )
    devices = _devices_of(db, target)
    grant.record(db, details={"count": len(devices)})
    return devices


def devices_by_email(
    db: DbSession, *, actor: Subject, email: str, lookup_key: bytes
) -> tuple[User, list[Device]]:
    """A user's devices by their e-mail (the server's console). Audited; an unknown
    address is recorded as a keyed hash, never in clear."""
    user = db.execute(select(User).where(User.email == email.strip().lower())).scalar()
    grant = policy.authorize(
        db,
        actor,
        Act.ADMINISTER,
        Resource(ObjectKind.USER, id=user.id if user else "", exists=user is not None),
        action=Action.DEVICE_LIST,
        details=None if user else {"email_ref": email_ref(lookup_key, email)},
    )
    assert user is not None
    devices = _devices_of(db, user.id)
    grant.record(db, details={"count": len(devices)})
    return user, devices


def _resolve_device(db: DbSession, actor: Subject, ref: str) -> Device:
    """The one device that ``ref`` (a full id, or its first 8 or more characters) names
    among those the actor may see: their own, or every device for administrators."""
    if _DEVICE_REF.fullmatch(ref) is None:
        raise Invalid(
            "device: expected a device id (32 lowercase hexadecimal characters, as "
            "`device list` shows) or at least its first 8 characters",
            field="device_id",
        )
    query = select(Device).where(Device.id.startswith(ref, autoescape=True))
    if actor.role is not Role.ADMINISTRATOR and actor.role is not None:
        query = query.where(Device.user_id == actor.user_id)
    found = list(db.execute(query.limit(10)).scalars())
    if not found:
        raise NotFound()
    if len(found) > 1:
        raise Invalid(
            f"device: {ref} is the start of {len(found)} device ids; give more of the id "
            "(`device list` shows them in full)",
            field="device_id",
        )
    return found[0]


def revoke_device(db: DbSession, *, actor: Subject, ref: str) -> Device:
    """Revoke a device named by its id or an unambiguous prefix: its sessions end at once,
    and it can neither upload nor download. Users revoke their own devices; administrators
    (and the instance's console) anybody's. Audited, refusals included."""
    resource = Resource(ObjectKind.DEVICE, id=ref[:64] if _DEVICE_REF.fullmatch(ref) else "")
    with policy.refusals_audited(db, actor, Action.DEVICE_REVOKE, resource):
        device = _resolve_device(db, actor, ref)
        grant = _grant(
            db,
            actor,
            Action.DEVICE_REVOKE,
            Resource(ObjectKind.DEVICE, id=device.id),
            own=device.user_id == actor.user_id,
        )
    end_device(db, device)
    grant.record(db, details={"user": device.user_id})
    return device


def end_device(db: DbSession, device: Device) -> None:
    """Revoke ``device`` and end its sessions at once (a building block: the caller decides
    and audits, as :func:`revoke_device` and the breach register do)."""
    if device.status is not DeviceStatus.REVOKED:
        now = utcnow()
        device.status = DeviceStatus.REVOKED
        device.revoked_at = now
        db.execute(
            update(Session)
            .where(Session.device_id == device.id, Session.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        db.flush()


def email_of(db: DbSession, user_id: str) -> str:
    """A user's sign-in address, for the administrator's own console; the id when unknown."""
    user = db.get(User, user_id)
    return user.email if user is not None else user_id


# --- the status key (decision 014) -----------------------------------------------------


class StatusKeySet(Conflict):
    """The device already registered another status key: it keeps one for life."""

    code = "status_key_set"


def set_status_key(db: DbSession, *, principal: Principal, public_key: str) -> Device:
    """Register the caller's device's status key (self-service, audited): the key that signs
    its status reports and wipe confirmations even while the app is locked. The same key
    again changes nothing; another key is refused."""
    subject = principal.subject
    resource = Resource(ObjectKind.DEVICE, id=principal.device.id)
    grant = _self_service(subject, Action.STATUS_KEY_REGISTER, resource)
    device = db.get(Device, principal.device.id)
    with policy.refusals_audited(db, subject, Action.STATUS_KEY_REGISTER, resource):
        if device is None:
            raise NotFound()
        if not crypto.is_signing_public(public_key):
            raise Invalid(
                "public_key: expected a base64url Ed25519 public key (32 bytes)",
                field="public_key",
            )
        if device.status_public is not None and device.status_public != public_key:
            raise StatusKeySet(
                "this device registered another status key already; a device keeps one "
                "status key for life (enroll again for a new one)"
            )
    if device.status_public is None:
        device.status_public = public_key
        db.flush()
    grant.record(db)
    return device
