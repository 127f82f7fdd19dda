"""Reports for privacy officers, from the audit trail and the shares (BEY-6, CON-7).

- **Who saw my photos** (:func:`access_report`): every entry of the audit trail about one
  patient, newest first, a page at a time, in plain words: when, who (name, role,
  institution, device), what (the object and its kind), the purpose, allowed or refused.
  Refused attempts are in it: the policy audits them against the patient whenever the object
  exists (decision 008). A page is one range scan of the ``(patient_ref, seq)`` index
  (migration 0010), then one look-up per table for the people, devices, photos and shares it
  names.
- **Disclosed before a withdrawal** (:func:`withdrawn_disclosures`): for a consent with
  withdrawals, the shares of the encounter's photos made for a purpose that was later
  withdrawn, before it was, with their recipients and how far each got (sent, delivered,
  acknowledged), for the privacy officer to follow up; :func:`withdrawal_queue` lists the
  consents that have any.

Who may ask: privacy officers, and the instance at the server's console; a clinician, care
team included, is answered "not found" (decision 013). Every request is audited through the
policy, allowed or refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.accounts.models import Device, User
from clinphoto.audit.models import AuditEntry
from clinphoto.audit.service import Action
from clinphoto.consent import service as consent_service
from clinphoto.consent.models import ALL_PURPOSES, Consent, ConsentWithdrawal
from clinphoto.core import text
from clinphoto.core.errors import Invalid
from clinphoto.disclosures import words_fr
from clinphoto.media.models import Media
from clinphoto.patients.models import Patient
from clinphoto.policy import Act, Coverage, ObjectKind, Resource
from clinphoto.sharing.models import Share

PAGE_DEFAULT = 50
PAGE_MAX = 1000

# What each audited action is, in plain words: (what it is about, done, refused).
PHOTO, CONSENT, MESSAGE, PATIENT, RECORD = "photo", "consent", "message", "patient", "record"
_WORDS: dict[str, tuple[str, str, str]] = {
    Action.MEDIA_UPLOAD: (PHOTO, "took and stored the photo", "tried to store a photo"),
    Action.MEDIA_VIEW: (PHOTO, "opened the photo", "tried to open the photo"),
    Action.MEDIA_LIST: (PHOTO, "saw the photo listed", "tried to list the patient's photos"),
    Action.MEDIA_INSPECT: (
        PHOTO,
        "inspected the photo for faces and text (records custodian)",
        "could not inspect the photo",
    ),
    Action.SHARE_SEND: (PHOTO, "shared the photo", "tried to share the photo"),
    Action.SHARE_DELIVER: (PHOTO, "downloaded the shared copy", "tried to open a shared copy"),
    Action.SHARE_ACK: (
        PHOTO,
        "acknowledged receiving the shared copy",
        "tried to acknowledge a shared copy",
    ),
    Action.INBOX_LIST: (PHOTO, "saw the shared copy in their inbox", "tried to see the inbox"),
    Action.SHARE_LIST: (PHOTO, "listed the photo's shares", "tried to list the photo's shares"),
    Action.QUARANTINE_REVIEW: (PHOTO, "reviewed the quarantined photo", "tried to review it"),
    Action.GRANT_LIST: (PHOTO, "listed what a new device could open", "tried to list it"),
    Action.GRANT_WRITE: (
        PHOTO,
        "gave a new device the key to open it",
        "tried to give a new device the key",
    ),
    Action.CONSENT_RECORD: (CONSENT, "recorded the consent", "tried to record a consent"),
    Action.CONSENT_TO_FOLLOW: (
        CONSENT,
        "recorded a consent to follow",
        "tried to record a consent to follow",
    ),
    Action.CONSENT_WITHDRAW: (CONSENT, "recorded a withdrawal", "tried to record a withdrawal"),
    Action.CONSENT_READ: (CONSENT, "read the consent", "tried to read the consent"),
    Action.CONSENT_REVIEW: (CONSENT, "reviewed the consent to follow", "tried to review it"),
    Action.CONSENT_SIGNATURE: (CONSENT, "attached the signature", "tried to attach a signature"),
    Action.DISCLOSURES_READ: (
        CONSENT,
        "read what was shared before the withdrawal",
        "tried to read what was shared before the withdrawal",
    ),
    Action.DISCLOSURES_REVIEW: (
        CONSENT,
        "saw the withdrawal in the follow-up queue",
        "tried to see the follow-up queue",
    ),
    Action.PATIENT_CREATE: (PATIENT, "registered the patient", "tried to register the patient"),
    Action.PATIENT_READ: (PATIENT, "read the patient's identifiers", "tried to read them"),
    Action.PATIENT_FIND: (PATIENT, "found the patient", "tried to find the patient"),
    Action.ENCOUNTER_OPEN: (PATIENT, "opened an encounter", "tried to open an encounter"),
    Action.CARE_TEAM_ADD: (PATIENT, "changed the care team", "tried to change the care team"),
    Action.EMERGENCY_OVERRIDE: (
        PATIENT,
        "broke the glass (emergency access)",
        "tried to break the glass",
    ),
    Action.OVERRIDE_REVIEW: (PATIENT, "reviewed an emergency access", "tried to review it"),
    Action.AUDIT_EXPORT: (RECORD, "exported the audit trail", "tried to export the audit trail"),
    Action.ACCESS_REPORT: (
        RECORD,
        "read who saw the patient's records",
        "tried to read who saw the patient's records",
    ),
    Action.RETENTION_READ: (RECORD, "read the retention dates", "tried to read them"),
    Action.RETENTION_RECOMPUTE: (RECORD, "recomputed the retention dates", "could not"),
    Action.HOLD_PLACE: (RECORD, "placed a legal hold", "tried to place a legal hold"),
    Action.HOLD_RELEASE: (RECORD, "released a legal hold", "tried to release a legal hold"),
    Action.RETENTION_DESTROY: (RECORD, "destroyed at the end of retention", "could not destroy"),
    Action.CONSENT_FORM: (CONSENT, "printed the consent form", "tried to print the consent form"),
    Action.COPY_REQUEST: (RECORD, "recorded a request for a copy", "tried to record one"),
    Action.COPY_REPORT: (RECORD, "printed the record's report for the patient", "tried to"),
    Action.COPY_PACKAGE: (RECORD, "made the patient's sealed copy of the record", "tried to"),
    Action.DELETION_REQUEST: (RECORD, "recorded a request for deletion", "tried to record one"),
    Action.DELETION_DECIDE: (RECORD, "decided the request for deletion", "tried to decide it"),
    Action.REQUEST_LETTER: (RECORD, "printed the letter to the patient", "tried to print it"),
    # The breach register and what devices confirm to it (BRE-1 to BRE-6; decision 014).
    Action.SHARE_RECALL: (
        PHOTO,
        "recalled the shared copy: its recipient can no longer open it",
        "tried to recall a shared copy",
    ),
    Action.SHARE_DELETE_CONFIRM: (
        PHOTO,
        "confirmed from their device that the recalled copy was deleted from it",
        "tried to confirm that a recalled copy was deleted",
    ),
    Action.BREACH_REPORT: (
        RECORD,
        "reported a device lost or stolen, or a photo sent to the wrong person",
        "tried to report a privacy problem",
    ),
    Action.WIPE_CONFIRM: (
        RECORD,
        "confirmed from the lost device that it was wiped (signed by the device)",
        "tried to confirm that a lost device was wiped",
    ),
    Action.BREACH_READ: (
        RECORD,
        "read the breach register's entry that names the patient",
        "tried to read an entry of the breach register",
    ),
    Action.BREACH_LIST: (RECORD, "listed the breach register", "tried to list it"),
    Action.BREACH_STEP: (
        RECORD,
        "moved a breach to its next step",
        "tried to move a breach to its next step",
    ),
    Action.BREACH_NOTIFY: (
        RECORD,
        "recorded that a breach notification was sent",
        "tried to record a breach notification",
    ),
    Action.BREACH_LETTER: (
        RECORD,
        "printed a breach notification letter",
        "tried to print a breach notification letter",
    ),
    Action.STATUS_KEY_REGISTER: (
        RECORD,
        "registered the status key of a device (for remote wipe)",
        "tried to register a device's status key",
    ),
}
# Who acts when no person does: the instance's own jobs and its operator.
_SYSTEM_ACTORS = {
    "cli": "the server's operator (command line)",
    "custodian": "the records custodian",
}


@dataclass(frozen=True)
class AccessEvent:
    """One line of "who saw my photos"."""

    seq: int
    at: str  # ISO 8601, UTC
    who: str
    role: str  # clinician, privacy_officer, administrator, or instance
    institution: str
    device: str  # the device's name, as its owner enrolled it
    user_id: str
    device_id: str
    about: str  # photo, consent, message, patient, record
    object_type: str
    object_id: str
    photo_id: str  # the photo itself: for a share, its original
    kind: str  # the photo's kind (photo, consent-signature), when known
    what: str  # in plain words
    to: str  # for a share: its recipient, named
    purpose: str
    outcome: str  # allowed, allowed under an emergency override, refused, failed
    allowed: bool


@dataclass(frozen=True)
class AccessPage:
    patient_id: str
    events: list[AccessEvent]
    next_cursor: int | None  # pass it back for the next (older) page; None: no more


def _patient_resource(db: Session, patient_id: str) -> Resource:
    """A patient is known while its record or any entry about it remains: the trail
    outlives the record (retention), and "who saw" must still answer then."""
    known = db.get(Patient, patient_id) is not None or bool(
        db.execute(select(exists().where(AuditEntry.patient_ref == patient_id))).scalar()
    )
    return Resource(
        ObjectKind.PATIENT,
        id=patient_id,
        patient_ref=patient_id if known else "",
        exists=known,
    )


def _check_patient_id(patient_id: str) -> None:
    if not text.is_id(patient_id):
        raise Invalid(
            "patient: expected the pseudonymous patient id (32 hexadecimal characters); "
            "find it with clinphoto patient find --mrn"
        )


# The columns a report line needs, read as plain rows (not ORM objects: a whole report of
# 10,000 entries spent most of its time building them; docs/benchmarks.md), with the actor
# and their device joined in (by primary key; long IN lists cost more to send than to run).
_ENTRY = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.device,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.purpose,
    AuditEntry.outcome,
    AuditEntry.details,
    User.display_name,
    User.role,
    User.institution,
    Device.name,
)
_Person = tuple[str, str, str]  # display name, role, institution


class _Line(NamedTuple):
    seq: int
    at: str
    actor: str
    device: str
    action: str
    object_type: str
    object_id: str
    purpose: str
    outcome: str
    details: str
    actor_name: str | None
    actor_role: str | None
    actor_institution: str | None
    device_name: str | None


class _Namer:
    """People, devices, photos and shares named by entries, looked up once per table per
    page and kept for the next pages."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.users: dict[str, _Person | None] = {}
        self.devices: dict[str, str] = {}
        self.media: dict[str, str] = {}  # id -> kind
        self.shares: dict[str, str] = {}  # id -> original photo id

    def load(self, rows: list[_Line], recipients: Iterable[str]) -> None:
        for r in rows:
            if r.actor_name is not None and r.actor not in self.users:
                self.users[r.actor] = (r.actor_name, str(r.actor_role), r.actor_institution or "")
            if r.device and r.device_name is not None:
                self.devices[r.device] = r.device_name
        want_users = {u for u in recipients if u and u not in self.users}
        if want_users:
            for uid, name, role, institution in self.db.execute(
                select(User.id, User.display_name, User.role, User.institution).where(
                    User.id.in_(want_users)
                )
            ).all():
                self.users[uid] = (name, str(role), institution)
            for u in want_users:
                self.users.setdefault(u, None)
        want_shares = {
            r.object_id
            for r in rows
            if r.object_type == "share" and r.object_id and r.object_id not in self.shares
        }
        if want_shares:
            for sid, original in self.db.execute(
                select(Share.id, Share.original_media_id).where(Share.id.in_(want_shares))
            ).all():
                self.shares[sid] = original
            for s in want_shares:
                self.shares.setdefault(s, "")
        want_media = {r.object_id for r in rows if r.object_type == "media" and r.object_id} | {
            self.shares[r.object_id] for r in rows if r.object_type == "share" and r.object_id
        }
        want_media = {m for m in want_media if m and m not in self.media}
        if want_media:
            for mid, kind in self.db.execute(
                select(Media.id, Media.kind).where(Media.id.in_(want_media))
            ).all():
                self.media[mid] = kind
            for m in want_media:
                self.media.setdefault(m, "")  # destroyed at the end of retention, or absent

    def person(self, user_id: str) -> _Person:
        found = self.users.get(user_id)
        if found is not None:
            return found
        if not user_id:
            return "someone not signed in", "", ""
        return _SYSTEM_ACTORS.get(user_id, f"clinphoto ({user_id})"), "instance", ""


_OVERRIDE = f'"{policy.Effect.ALLOW_OVERRIDE.value}"'


def _outcome(row: _Line) -> tuple[str, bool]:
    if row.outcome == "success":
        if _OVERRIDE in row.details and _details(row.details).get("decision") == _OVERRIDE[1:-1]:
            return "allowed under an emergency override", True
        return "allowed", True
    return ("refused" if row.outcome == "denied" else row.outcome), False


def _recipient(row: _Line) -> str:
    if row.action != Action.SHARE_SEND:
        return ""
    found = _details(row.details).get("recipient")
    return found if isinstance(found, str) else ""


def _event(row: _Line, recipient: str, names: _Namer, language: str = "en") -> AccessEvent:
    about, done, tried = _WORDS.get(
        row.action, (RECORD, row.action.replace("_", " "), f"tried: {row.action}")
    )
    outcome, allowed = _outcome(row)
    if language == "fr":
        about, done, tried = words_fr.WORDS.get(row.action, (about, done, tried))
    photo_id = ""
    if row.object_type == "media":
        photo_id = row.object_id
    elif row.object_type == "share":
        photo_id = names.shares.get(row.object_id, "")
    kind = names.media.get(photo_id, "") if photo_id else ""
    if kind == "consent-signature":
        about = CONSENT
    to = ""
    if recipient:
        name, _, institution = names.person(recipient)
        to = f"{name} ({institution})" if institution else name
    who, role, institution = names.person(row.actor)
    refused = "(refused)"
    if language == "fr":
        refused = words_fr.REFUSED
        outcome = words_fr.OUTCOMES.get(outcome, outcome)
        role = words_fr.ROLES.get(role, role)
        if role == words_fr.ROLES["instance"]:
            who = words_fr.SYSTEM_ACTORS.get(row.actor, who)
        elif not row.actor:
            who = words_fr.SOMEONE
    purpose = row.purpose
    if not purpose and '"purpose"' in row.details:  # a listing names it in its details
        purpose = str(_details(row.details).get("purpose", "") or "")
    return AccessEvent(
        seq=row.seq,
        at=row.at,
        who=who,
        role=role,
        institution=institution,
        device=names.devices.get(row.device, "") if row.device else "",
        user_id=row.actor,
        device_id=row.device,
        about=about,
        object_type=row.object_type,
        object_id=row.object_id,
        photo_id=photo_id,
        kind=kind,
        what=done if allowed else f"{tried} {refused}" if row.outcome == "denied" else tried,
        to=to,
        purpose=purpose,
        outcome=outcome,
        allowed=allowed,
    )


def page_query(patient_id: str, before: int | None, limit: int) -> Select[*tuple[Any, ...]]:
    """The statement that reads one page: newest first, down from ``before``, one more than
    ``limit`` (to know whether there is a next page). bench/disclosures.py explains it."""
    query = (
        select(*_ENTRY)
        .outerjoin(User, User.id == AuditEntry.actor)
        .outerjoin(Device, Device.id == AuditEntry.device)
        .where(AuditEntry.patient_ref == patient_id)
    )
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return query.order_by(AuditEntry.seq.desc()).limit(limit + 1)


def _page(
    db: Session,
    patient_id: str,
    before: int | None,
    limit: int,
    names: _Namer,
    language: str = "en",
) -> AccessPage:
    query = page_query(patient_id, before, limit)
    found = db.execute(query)
    rows = [_Line._make(r) for r in found]
    more = len(rows) > limit
    rows = rows[:limit]
    recipients = [_recipient(r) for r in rows]
    names.load(rows, recipients)
    events = [_event(r, to, names, language) for r, to in zip(rows, recipients, strict=True)]
    return AccessPage(patient_id, events, rows[-1].seq if more and rows else None)


def _details(raw: str) -> dict[str, object]:
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _custom_plans(db: Session) -> None:
    """On PostgreSQL, plan each page's statement for its own patient and cursor. The driver
    prepares a statement run five times on a connection, and the server may then switch to
    one generic plan, made without knowing the patient: measured at 10,000,000 entries, the
    whole report went from 0.3 s on the first run to 1.3-1.6 s on the next ones. For the
    rest of this transaction only."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))


def access_report(
    db: Session,
    *,
    subject: policy.Subject,
    patient_id: str,
    cursor: int | None = None,
    limit: int = PAGE_DEFAULT,
) -> AccessPage:
    """One page of "who saw my photos" (BEY-6), newest first; ``cursor`` is the previous
    page's ``next_cursor``. Privacy officers and the instance; audited, refusals too."""
    _check_patient_id(patient_id)
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid(f"limit: expected 1 to {PAGE_MAX}")
    if cursor is not None and cursor < 1:
        raise Invalid("cursor: expected the next_cursor of the previous page")
    resource = _patient_resource(db, patient_id)
    grant = policy.authorize(db, subject, Act.ACCESS_REPORT, resource, action=Action.ACCESS_REPORT)
    _custom_plans(db)
    page = _page(db, patient_id, cursor, limit, _Namer(db))
    grant.record(
        db,
        details={
            "entries": len(page.events),
            "cursor": cursor or 0,
            "more": bool(page.next_cursor),
        },
    )
    return page


def whole_access_report(
    db: Session,
    *,
    subject: policy.Subject,
    patient_id: str,
    page_size: int = PAGE_MAX,
    language: str = "en",
) -> Iterator[AccessEvent]:
    """Every line of "who saw my photos", newest first, read a page at a time; the request
    is authorized before the first line and audited once, after the last. ``language``
    "fr" gives the plain words (what, outcome, role, the instance's own actors) in French,
    for the patient's copy of their record (RET-4)."""
    _check_patient_id(patient_id)
    resource = _patient_resource(db, patient_id)
    grant = policy.authorize(db, subject, Act.ACCESS_REPORT, resource, action=Action.ACCESS_REPORT)
    _custom_plans(db)
    names = _Namer(db)
    cursor: int | None = None
    count = 0
    while True:
        page = _page(db, patient_id, cursor, page_size, names, language)
        yield from page.events
        count += len(page.events)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    grant.record(db, details={"entries": count, "whole": True})


# --- disclosures under withdrawn purposes (CON-7) ------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """A share made for a purpose before the patient withdrew it."""

    share_id: str
    photo_id: str
    purpose: str
    sent_at: datetime
    withdrawn_at: datetime
    sender_id: str
    sender_name: str
    recipient_id: str
    recipient_name: str
    recipient_institution: str
    recipient_email: str
    status: str  # sent, delivered, acknowledged
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    covered_now: bool  # another consent of the encounter covers the purpose today


@dataclass(frozen=True)
class WithdrawalView:
    purpose: str
    withdrawn_at: datetime


@dataclass(frozen=True)
class DisclosureReport:
    consent_id: str
    patient_id: str
    encounter_id: str
    withdrawals: list[WithdrawalView]
    disclosures: list[Disclosure]
    # What clinphoto records as a disclosure: shares. It has no export of photos yet, so
    # none can have happened; said here so that the report is read as complete.
    kinds: tuple[str, ...] = ("share",)


def _withdrawn_before(consent: Consent, rows: Iterable[ConsentWithdrawal]) -> dict[str, datetime]:
    """Each withdrawn purpose and when it was first withdrawn ("all" stands for each)."""
    first: dict[str, datetime] = {}
    for w in rows:
        purposes = (
            [p.value for p in consent_service.stored_purposes(consent)]
            if w.purpose == ALL_PURPOSES
            else [w.purpose]
        )
        for p in purposes:
            if p not in first or w.withdrawn_at < first[p]:
                first[p] = w.withdrawn_at
    return first


def _disclosures(db: Session, consent: Consent, withdrawn: dict[str, datetime]) -> list[Disclosure]:
    if not withdrawn:
        return []
    rows = db.execute(
        select(Share, User)
        .join(Media, Media.id == Share.original_media_id)
        .join(User, User.id == Share.recipient_user_id)
        .where(
            Media.patient_id == consent.patient_id,
            Media.encounter_id == consent.encounter_id,
            Share.purpose.in_(list(withdrawn)),
        )
        .order_by(Share.sent_at, Share.id)
    ).all()
    senders = {
        u.id: u.display_name
        for u in db.execute(
            select(User).where(User.id.in_({s.sender_user_id for s, _ in rows}))
        ).scalars()
    }
    covered: dict[str, bool] = {}
    found = []
    for share, recipient in rows:
        when = withdrawn[share.purpose]
        if share.sent_at > when:
            continue  # after the withdrawal the policy refuses a share; not a disclosure
        if share.purpose not in covered:
            now, _ = consent_service.coverage(
                db, consent.patient_id, consent.encounter_id, share.purpose
            )
            covered[share.purpose] = now is Coverage.COVERED
        found.append(
            Disclosure(
                share_id=share.id,
                photo_id=share.original_media_id,
                purpose=share.purpose,
                sent_at=share.sent_at,
                withdrawn_at=when,
                sender_id=share.sender_user_id,
                sender_name=senders.get(share.sender_user_id, ""),
                recipient_id=recipient.id,
                recipient_name=recipient.display_name,
                recipient_institution=recipient.institution,
                recipient_email=recipient.email,
                status=share.status,
                delivered_at=share.delivered_at,
                acknowledged_at=share.acknowledged_at,
                covered_now=covered[share.purpose],
            )
        )
    return found


def withdrawn_disclosures(
    db: Session, *, subject: policy.Subject, consent_id: str
) -> DisclosureReport:
    """What was shared under the consent's purposes that were later withdrawn, before they
    were (CON-7), with recipients and status, for a privacy officer to follow up; audited."""
    if not text.is_id(consent_id):
        raise Invalid("consent: expected a consent id (32 hexadecimal characters)")
    consent = db.get(Consent, consent_id)
    resource = (
        Resource(ObjectKind.CONSENT, id=consent.id, patient_ref=consent.patient_id)
        if consent is not None
        else Resource(ObjectKind.CONSENT, id=consent_id, exists=False)
    )
    grant = policy.authorize(
        db, subject, Act.READ_DISCLOSURES, resource, action=Action.DISCLOSURES_READ
    )
    assert consent is not None
    rows = list(
        db.execute(
            select(ConsentWithdrawal)
            .where(ConsentWithdrawal.consent_id == consent.id)
            .order_by(ConsentWithdrawal.withdrawn_at, ConsentWithdrawal.id)
        ).scalars()
    )
    withdrawn = _withdrawn_before(consent, rows)
    found = _disclosures(db, consent, withdrawn)
    grant.record(
        db,
        details={"disclosures": len(found), "shares": [d.share_id for d in found][:50]},
    )
    return DisclosureReport(
        consent_id=consent.id,
        patient_id=consent.patient_id,
        encounter_id=consent.encounter_id,
        withdrawals=[WithdrawalView(w.purpose, w.withdrawn_at) for w in rows],
        disclosures=found,
    )


@dataclass(frozen=True)
class WithdrawalToFollow:
    consent_id: str
    patient_id: str
    encounter_id: str
    last_withdrawn_at: datetime
    disclosures: int


def withdrawal_queue(
    db: Session, *, subject: policy.Subject, limit: int = 200
) -> list[WithdrawalToFollow]:
    """Consents whose withdrawn purposes had already been shared, most recent withdrawal
    first: the privacy officer's follow-up queue (CON-7). Each listed consent is audited
    against its patient."""
    grant = policy.authorize(
        db,
        subject,
        Act.READ_DISCLOSURES,
        Resource(ObjectKind.CONSENT),
        action=Action.DISCLOSURES_REVIEW,
    )
    # Candidates: consents with a withdrawal, whose encounter has a share sent no later than
    # a withdrawal; each is then counted exactly as its own report counts it.
    candidates = db.execute(
        select(Consent, func.max(ConsentWithdrawal.withdrawn_at))
        .join(ConsentWithdrawal, ConsentWithdrawal.consent_id == Consent.id)
        .join(
            Media,
            and_(
                Media.encounter_id == Consent.encounter_id, Media.patient_id == Consent.patient_id
            ),
        )
        .join(
            Share,
            and_(
                Share.original_media_id == Media.id,
                Share.sent_at <= ConsentWithdrawal.withdrawn_at,
            ),
        )
        .group_by(Consent.id)  # the primary key: every column of the row follows
        .order_by(func.max(ConsentWithdrawal.withdrawn_at).desc(), Consent.id)
        .limit(limit)
    ).all()
    found = []
    for consent, last in candidates:
        withdrawals = db.execute(
            select(ConsentWithdrawal).where(ConsentWithdrawal.consent_id == consent.id)
        ).scalars()
        count = len(_disclosures(db, consent, _withdrawn_before(consent, withdrawals)))
        if count:
            found.append(
                WithdrawalToFollow(
                    consent.id, consent.patient_id, consent.encounter_id, last, count
                )
            )
    grant.record_listing(db, [(f.consent_id, f.patient_id) for f in found], object_type="consent")
    return found
