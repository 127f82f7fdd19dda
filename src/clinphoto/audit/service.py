"""Appending to, checkpointing, verifying and exporting the audit trail (AUD-1).

Appends are serialised on the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions begin IMMEDIATE, see ``storage/db.py``), so concurrent
writers can never fork the chain. The service never commits: the caller's unit of work does,
so an audit entry lands if and only if the change it records lands.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto.audit import chain
from clinphoto.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from clinphoto.crypto import SigningKey, sign, verify_signature

CHECKPOINT_EVERY = 1000
VERIFY_BATCH = 50_000


class Action(enum.StrEnum):
    """Every audited action. New actions are added here, never spelled inline."""

    INSTANCE_INIT = "instance.init"
    RECORDS_KEY_EXPORT = "instance.records_key_export"
    KEYS_ROTATE = "instance.keys_rotate"
    AUDIT_EXPORT = "audit.export"
    USER_CREATE = "account.user_create"
    ENROLLMENT_CODE_ISSUE = "account.enrollment_code_issue"
    DEVICE_ENROLL = "account.device_enroll"
    DEVICE_REVOKE = "account.device_revoke"
    LOGIN = "account.login"
    LOGOUT = "account.logout"
    PATIENT_CREATE = "patient.create"
    PATIENT_FIND = "patient.find"
    PATIENT_READ = "patient.read"
    CONSENT_RECORD = "consent.record"
    CONSENT_TO_FOLLOW = "consent.record_to_follow"
    CONSENT_WITHDRAW = "consent.withdraw"
    CONSENT_READ = "consent.read"
    CONSENT_REVIEW = "consent.review_to_follow"
    MEDIA_UPLOAD = "media.upload"
    MEDIA_VIEW = "media.view"
    SHARE_SEND = "share.send"
    SHARE_DELIVER = "share.deliver"
    SHARE_ACK = "share.ack"
    DIRECTORY_LOOKUP = "account.directory_lookup"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The checkpoint signing key and the public keys of every key id ever used."""

    signing: SigningKey
    key_id: str
    public_by_id: Mapping[str, str]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _head(db: Session) -> AuditHead:
    # The migration creates this row; locking it serialises appends on every backend.
    return db.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()


def append(
    db: Session,
    keys: AuditKeys,
    *,
    action: Action,
    outcome: Outcome = Outcome.SUCCESS,
    actor: str = "",
    device: str = "",
    patient_ref: str = "",
    object_type: str = "",
    object_id: str = "",
    purpose: str = "",
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append one entry. ``details`` must never hold patient identifiers or free text."""
    head = _head(db)
    fields = chain.EntryFields(
        seq=head.seq + 1,
        at=_now(),
        actor=actor,
        device=device,
        patient_ref=patient_ref,
        action=action.value,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        outcome=outcome.value,
        details=chain.canonical_details(details or {}),
    )
    digest = chain.entry_hash(head.hash, fields)
    entry = AuditEntry(
        seq=fields.seq,
        at=fields.at,
        actor=fields.actor,
        device=fields.device,
        patient_ref=fields.patient_ref,
        action=fields.action,
        object_type=fields.object_type,
        object_id=fields.object_id,
        purpose=fields.purpose,
        outcome=fields.outcome,
        details=fields.details,
        prev_hash=head.hash,
        hash=digest,
    )
    db.add(entry)
    head.seq, head.hash = fields.seq, digest
    if fields.seq % CHECKPOINT_EVERY == 0:
        _write_checkpoint(db, keys, fields.seq, digest)
    db.flush()
    return entry


def _write_checkpoint(db: Session, keys: AuditKeys, seq: int, digest: bytes) -> None:
    signature = sign(keys.signing, chain.checkpoint_message(seq, digest))
    db.add(
        AuditCheckpoint(seq=seq, hash=digest, at=_now(), key_id=keys.key_id, signature=signature)
    )


def checkpoint(db: Session, keys: AuditKeys) -> int:
    """Sign a checkpoint at the current head (if there is none there yet); returns its seq."""
    head = _head(db)
    if head.seq and db.get(AuditCheckpoint, head.seq) is None:
        _write_checkpoint(db, keys, head.seq, head.hash)
        db.flush()
    return head.seq


def head_seq(db: Session) -> int:
    head = db.get(AuditHead, 1)
    return head.seq if head is not None else 0


def _rows(db: Session) -> Iterator[chain.ChainRow]:
    """Every entry in sequence order, as plain tuples straight from the driver's cursor.

    Verification reads the whole trail, so this bypasses ORM row objects (a measured 3x);
    the query is fixed text over our own column names.
    """
    columns = ", ".join(chain.COLUMNS)
    sql = (
        f"SELECT {columns} FROM {AuditEntry.__tablename__}"  # noqa: S608 - fixed text
        f" WHERE seq > %s ORDER BY seq LIMIT {VERIFY_BATCH}"
    )
    conn = db.connection()
    if conn.dialect.paramstyle == "qmark":
        sql = sql.replace("%s", "?")
    last = 0
    while True:
        batch = conn.exec_driver_sql(sql, (last,)).fetchall()
        if not batch:
            return
        for row in batch:
            yield tuple(row)
        last = batch[-1][0]


def verify(db: Session, public_by_id: Mapping[str, str]) -> chain.Problem | None:
    """The first problem in the stored chain, or None when it is intact."""
    checkpoints = [
        chain.Checkpoint(c.seq, c.hash, c.signature.encode("ascii"), c.key_id)
        for c in db.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars()
    ]

    def check(key_id: str, message: bytes, signature: bytes) -> bool:
        public = public_by_id.get(key_id)
        return public is not None and verify_signature(public, message, signature.decode())

    problem = chain.verify_chain(_rows(db), checkpoints, check)
    if problem is not None:
        return problem
    head = db.get(AuditHead, 1)
    last = db.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar()
    if head is not None and (last is None or head.seq != last.seq or head.hash != last.hash):
        return chain.Problem(head.seq, chain.TRUNCATED)
    return None


def export_patient(db: Session, patient_ref: str) -> Iterator[str]:
    """JSON Lines of every entry about one (pseudonymous) patient reference."""
    entries = db.execute(
        select(AuditEntry).where(AuditEntry.patient_ref == patient_ref).order_by(AuditEntry.seq)
    ).scalars()
    for e in entries:
        yield json.dumps(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "device": e.device,
                "patient_ref": e.patient_ref,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "purpose": e.purpose,
                "outcome": e.outcome,
                "details": json.loads(e.details),
                "hash": e.hash.hex(),
            },
            sort_keys=True,
        )
