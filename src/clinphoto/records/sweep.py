"""The retention sweep (RET-5): destroy what has expired and is not held, with a certificate
of destruction in the audit trail for each thing destroyed.

What is destroyed together is a *family*: a photo (or video) with its derived versions
(redactions), its share copies and shares; or an encounter's consents with their signature
images, once no photo of the encounter is left. Destroying a family deletes, in one unit of
work: every ciphertext blob of it (the item, each share copy, each derived version), the
device grants (the file keys re-wrapped for later devices, decision 011), the inspection
verdicts, the share rows, and the media rows with their signed manifests (which carry sealed
captions and messages). What stays is the family's ``retention_items`` rows as tombstones
(ids, the ciphertext hashes, when, the certificate's audit sequence number) and the
certificate itself, so the audit chain, which names objects by id only, still verifies.

Blobs are deleted after the rows, before the commit: if the commit fails the next sweep
finds the family still due and finishes it (deleting a blob that is gone is a no-op); a
certificate is never committed for a blob that is still there.

Time comes from the :class:`~clinphoto.records.clock.Clock` given; ``as_of`` (a date) says
which day's expiry is applied. A dry run plans the same work, changes nothing but its one
summary audit entry, and reports what it would destroy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.consent.models import Consent, ConsentWithdrawal
from clinphoto.core.clock import new_id
from clinphoto.crypto import FieldKeyring
from clinphoto.inspection.models import InspectionLease, MediaInspection
from clinphoto.media.models import Media
from clinphoto.policy import Act, ObjectKind, Resource, Subject
from clinphoto.records import schedule
from clinphoto.records.clock import Clock, today
from clinphoto.records.models import (
    DESTROYED,
    LEDGER_WINDOW_DAYS,
    SCHEDULED,
    BackupKey,
    LegalHold,
    RetentionItem,
    RetentionPatient,
)
from clinphoto.records.rules import RetentionRule
from clinphoto.records.service import ENCOUNTER, ITEM, PATIENT
from clinphoto.sharing.models import DeviceGrant, Share
from clinphoto.storage.blobs import BlobStore

log = logging.getLogger(__name__)
JOB = "retention-sweep"
BATCH = 100  # families per unit of work: one commit, a few statements, a certificate each
RETENTION_ENDED = "retention period ended; no legal hold or clinical-decision mark in force"
# The pass that ends a restore: what was destroyed after the snapshot goes again at once.
AFTER_RESTORE = RETENTION_ENDED + "; destroyed again at once on restoring a backup taken before"
UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Planned:
    family: str
    kind: str  # media | consent
    patient_id: str
    encounter_id: str
    destroy_not_before: date
    items: tuple[tuple[str, str], ...]  # (kind, id)


@dataclass
class SweepReport:
    as_of: date
    dry_run: bool
    job: str
    destroyed: list[Planned] = field(default_factory=list)
    certificates: list[int] = field(default_factory=list)
    held: int = 0  # families due but held
    waiting: int = 0  # consent families due whose encounter still has a photo
    blobs_deleted: int = 0
    patients_recomputed: int = 0

    @property
    def items(self) -> int:
        return sum(len(p.items) for p in self.destroyed)


@dataclass(frozen=True)
class _Holds:
    patients: frozenset[str]
    encounters: frozenset[str]
    families: frozenset[str]

    def hold(self, p: Planned) -> bool:
        return (
            p.patient_id in self.patients
            or p.encounter_id in self.encounters
            or p.family in self.families
            or (p.kind == "consent" and p.family in self.encounters)
        )


def _holds(db: Session) -> _Holds:
    rows = db.execute(
        select(LegalHold.scope, LegalHold.target_id, LegalHold.family).where(
            LegalHold.released_at.is_(None)
        )
    ).all()
    return _Holds(
        frozenset(t for s, t, _ in rows if s == PATIENT),
        frozenset(t for s, t, _ in rows if s == ENCOUNTER),
        frozenset(f for s, _, f in rows if s == ITEM and f),
    )


def due(db: Session, as_of: date) -> list[Planned]:
    """Families with an item due on ``as_of`` (an index scan), each with all its scheduled
    items; a family with any item not yet due is left whole."""
    rows = db.execute(
        select(RetentionItem.family)
        .where(
            RetentionItem.status == SCHEDULED,
            RetentionItem.destroy_not_before <= as_of,
        )
        .distinct()
    ).scalars()
    return _plan(db, sorted(set(rows)), as_of)


def _members(families: Sequence[str]) -> Select[RetentionItem]:
    """Every item of these families, found by the family index. (The status is checked by
    the caller: with ``status = 'scheduled'`` in the query, SQLite's planner prefers the
    ``(status, destroy_not_before)`` index for a list of families and walks every scheduled
    item in the table, once per batch: most of the sweep's time at 1,000,000 items.)"""
    return select(RetentionItem).where(RetentionItem.family.in_(families))


def _plan(db: Session, families: Sequence[str], as_of: date) -> list[Planned]:
    planned: list[Planned] = []
    for i in range(0, len(families), schedule.CHUNK):
        chunk = families[i : i + schedule.CHUNK]
        members: dict[str, list[RetentionItem]] = {}
        for item in db.execute(_members(chunk)).scalars():
            if item.status == SCHEDULED:
                members.setdefault(item.family, []).append(item)
        for fam in chunk:
            items = members.get(fam, [])
            if not items or any(it.destroy_not_before > as_of for it in items):
                continue
            first = items[0]
            consent_family = fam == first.encounter_id
            planned.append(
                Planned(
                    family=fam,
                    kind="consent" if consent_family else "media",
                    patient_id=first.patient_id,
                    encounter_id=first.encounter_id,
                    destroy_not_before=max(it.destroy_not_before for it in items),
                    items=tuple(sorted((it.kind, it.item_id) for it in items)),
                )
            )
    # Photos first: an encounter's consents go only once its photos are gone.
    # A patient's families together (one certificate), photos before consents: an
    # encounter's consents go only once its photos are gone.
    planned.sort(key=lambda p: (p.patient_id, p.kind != "media", p.family))
    return planned


def sweep(
    unit_of_work: UnitOfWork,
    *,
    keys: FieldKeyring,
    blobs: BlobStore,
    clock: Clock,
    subject: Subject | None = None,
    as_of: date | None = None,
    dry_run: bool = False,
    federal: bool = False,
    limit: int | None = None,
    job: str | None = None,
    batch: int = BATCH,
    why: str = RETENTION_ENDED,
) -> SweepReport:
    """One pass: bring the schedules up to date, then destroy the due families that no hold
    keeps, ``batch`` families per unit of work, each family with its own certificate (whose
    ``why`` says why: :data:`AFTER_RESTORE` for the pass that ends a restore).
    Returns what was done (or, in a dry run, what would be)."""
    subject = subject or Subject.system(JOB)
    day = as_of or today(clock)
    # This run's name, in each certificate and the summary: "by which job".
    report = SweepReport(day, dry_run, job or f"{JOB}/{new_id()[:12]}")
    with unit_of_work() as db:
        policy.authorize(
            db, subject, Act.RUN_SWEEP, Resource(ObjectKind.INSTANCE), action=Action.RETENTION_SWEEP
        )
        report.patients_recomputed = schedule.refresh(db, keys=keys, clock=clock, federal=federal)
        planned = due(db, day)
        if len(planned) >= schedule.ANALYZE_FROM:
            # The batches' lookups by id lists need statistics (PostgreSQL).
            schedule.fresh_statistics(db, "media", "shares", "consents", "retention_items")
        holds = _holds(db)
        rules = schedule.rulebook(db)
    free = []
    for p in planned:
        if holds.hold(p):
            report.held += 1
        else:
            free.append(p)
    if limit is not None:
        free = free[:limit]
    for i in range(0, len(free), batch):
        chunk = free[i : i + batch]
        with unit_of_work() as db:
            work = _Batch(db, chunk, as_of=day)
            if dry_run:
                # What this run destroys first (photos before consents) counts as gone.
                work.gone |= {i for d in report.destroyed for k, i in d.items if k == "media"}
                work.settle()
                done = [(p, 0, 0) for p in work.ready]
            else:
                work.settle()
                done = work.destroy(subject=subject, blobs=blobs, clock=clock, job=report.job,
                                    rules=rules, why=why)  # fmt: skip
        report.waiting += len(chunk) - len(done)
        for p, seq, deleted in done:
            report.destroyed.append(p)
            if not dry_run:
                if seq not in report.certificates[-1:]:  # one per patient per batch
                    report.certificates.append(seq)
                report.blobs_deleted += deleted
    with unit_of_work() as db:
        audit.log(
            db,
            action=Action.RETENTION_SWEEP,
            actor=subject.user_id,
            device=subject.device_id,
            object_type="retention_sweep",
            details={
                "as_of": day.isoformat(),
                "job": report.job,
                "dry_run": dry_run,
                "families": len(report.destroyed),
                "items": report.items,
                "held": report.held,
                "waiting": report.waiting,
                "blobs_deleted": report.blobs_deleted,
                "certificates": report.certificates[:1000],
            },
        )
    return report


def destroy_now(
    db: Session,
    *,
    families: Sequence[str],
    subject: Subject,
    blobs: BlobStore,
    clock: Clock,
    job: str,
    why: str,
) -> dict[str, int]:
    """Destroy these families now, before their date, exactly as the sweep destroys a family
    (the same deletions, the same certificate, whose ``why`` says why): for a patient's
    deletion request a privacy officer granted (RET-3). The caller has asked the policy.

    A family under a hold or a clinical-decision mark is never destroyed here either; nor is
    an encounter's consents while a photo of it remains. Returns each destroyed family's
    certificate sequence number; a family left out is not in it."""
    schedule.schedule_new(db)
    work = _Batch(db, _plan(db, sorted(set(families)), date.max), as_of=date.max)
    work.settle()
    done = work.destroy(
        subject=subject, blobs=blobs, clock=clock, job=job, rules=schedule.rulebook(db), why=why
    )
    return {p.family: seq for p, seq, _ in done}


def _media_kind(m: Media) -> str:
    if m.kind == "share":
        return "share-copy"
    if m.kind == "photo" and m.derived_from:
        return "derived-version"
    return m.kind


class _Batch:
    """Families destroyed in one unit of work: their items locked and checked again (a hold
    placed, something derived or shared since the plan), then deleted with set-based
    statements, one certificate per family."""

    def __init__(self, db: Session, plans: Sequence[Planned], *, as_of: date) -> None:
        self.db = db
        self.as_of = as_of
        self.gone: set[str] = set()
        families = [p.family for p in plans]
        # Locked: a second sweep (another server process) waits, then finds nothing.
        rows = db.execute(_members(families).with_for_update()).scalars()
        self.items: dict[str, list[RetentionItem]] = {}
        for it in rows:
            if it.status == SCHEDULED:
                self.items.setdefault(it.family, []).append(it)
        holds = _holds(db)
        self.ready = [
            p
            for p in plans
            if self.items.get(p.family)
            and all(it.destroy_not_before <= as_of for it in self.items[p.family])
            and not holds.hold(p)
        ]

    def _ids(self, kind: str, plans: Sequence[Planned] | None = None) -> list[str]:
        return [
            it.item_id
            for p in (self.ready if plans is None else plans)
            for it in self.items[p.family]
            if it.kind == kind
        ]

    def settle(self) -> None:
        """Drop the families that must wait: a photo with a derived version or share not yet
        scheduled; an encounter's consents while a photo of it remains."""
        media_ids = self._ids("media")
        share_ids = set(self._ids("share"))
        family_of = {i: p.family for p in self.ready for i in self._ids("media", [p])}
        late: set[str] = set()
        if media_ids:
            for mid, parent in self.db.execute(
                select(Media.id, Media.derived_from).where(Media.derived_from.in_(media_ids))
            ).all():
                if mid not in family_of and parent is not None:
                    late.add(family_of[parent])
            for sid, original in self.db.execute(
                select(Share.id, Share.original_media_id).where(
                    Share.original_media_id.in_(media_ids)
                )
            ).all():
                if sid not in share_ids:
                    late.add(family_of[original])
        self.ready = [p for p in self.ready if p.family not in late]
        consents = [p for p in self.ready if p.kind == "consent"]
        if consents:
            leaving = self.gone | set(self._ids("media"))
            encounters = [p.encounter_id for p in consents]
            kept = {
                eid
                for mid, eid in self.db.execute(
                    select(Media.id, Media.encounter_id).where(
                        Media.encounter_id.in_(encounters), Media.kind != schedule.SIGNATURE
                    )
                ).all()
                if mid not in leaving
            }
            self.ready = [
                p for p in self.ready if p.kind != "consent" or p.encounter_id not in kept
            ]

    def destroy(
        self,
        *,
        subject: Subject,
        blobs: BlobStore,
        clock: Clock,
        job: str,
        rules: dict[str, RetentionRule],
        why: str = RETENTION_ENDED,
    ) -> list[tuple[Planned, int, int]]:
        db = self.db
        if not self.ready:
            return []
        media_ids = self._ids("media")
        share_ids = self._ids("share")
        consent_ids = self._ids("consent")
        media = (
            list(db.execute(select(Media).where(Media.id.in_(media_ids))).scalars())
            if media_ids
            else []
        )
        by_id = {m.id: m for m in media}
        grants: dict[str, int] = {}
        if media_ids:
            for (mid,) in db.execute(
                select(DeviceGrant.media_id).where(DeviceGrant.media_id.in_(media_ids))
            ).all():
                grants[mid] = grants.get(mid, 0) + 1
            db.execute(delete(DeviceGrant).where(DeviceGrant.media_id.in_(media_ids)))
            db.execute(delete(MediaInspection).where(MediaInspection.media_id.in_(media_ids)))
            db.execute(delete(InspectionLease).where(InspectionLease.media_id.in_(media_ids)))
            db.execute(
                delete(Share).where(
                    Share.copy_media_id.in_(media_ids) | Share.original_media_id.in_(media_ids)
                )
            )
        if share_ids:
            db.execute(delete(Share).where(Share.id.in_(share_ids)))
        _delete_media(db, media)
        if consent_ids:
            db.execute(
                delete(ConsentWithdrawal).where(ConsentWithdrawal.consent_id.in_(consent_ids))
            )
            _delete_consents(db, consent_ids)
        db.flush()
        # A blob is shared only by identical ciphertexts; keep it while another row names it.
        shas = sorted({m.blob_sha256 for m in media})
        still = (
            set(db.execute(select(Media.blob_sha256).where(Media.blob_sha256.in_(shas))).scalars())
            if shas
            else set()
        )
        # The blobs' backup keys go in this transaction too: every backup of them becomes
        # unreadable once the ledger copies made before now are past their window.
        doomed = [sha for sha in shas if sha not in still]
        for i in range(0, len(doomed), schedule.CHUNK):
            db.execute(
                delete(BackupKey).where(BackupKey.blob_sha256.in_(doomed[i : i + schedule.CHUNK]))
            )
        patients = {
            r.patient_id: r
            for r in db.execute(
                select(RetentionPatient).where(
                    RetentionPatient.patient_id.in_({p.patient_id for p in self.ready})
                )
            ).scalars()
        }
        now = clock.now()
        done: list[tuple[Planned, int, list[str]]] = []
        marks: list[dict[str, object]] = []
        # One certificate per patient per batch: all of a patient's records share one
        # date (their last entry's), so they expire, and are destroyed, together.
        by_patient: dict[str, list[Planned]] = {}
        for p in self.ready:
            by_patient.setdefault(p.patient_id, []).append(p)
        for patient_id, plans in by_patient.items():
            sections = []
            fam_shas: dict[str, list[str]] = {}
            for p in plans:
                fam_media = [by_id[i] for i in self._ids("media", [p]) if i in by_id]
                fam_shas[p.family] = sorted({m.blob_sha256 for m in fam_media} - still)
                sections.append(
                    _section(
                        p,
                        fam_media,
                        shares=self._ids("share", [p]),
                        consents=self._ids("consent", [p]),
                        grants=sum(grants.get(m.id, 0) for m in fam_media),
                        blobs=len(fam_shas[p.family]),
                    )
                )
            entry = audit.log(
                db,
                action=Action.RETENTION_DESTROY,
                actor=subject.user_id,
                device=subject.device_id,
                patient_ref=patient_id,
                object_type="records",
                object_id=plans[0].family,
                details=_certificate(
                    patients.get(patient_id),
                    rules,
                    sections,
                    job=job,
                    as_of=self.as_of,
                    now=now,
                    why=why,
                ),
            )
            for p in plans:
                marks.append({"fam": p.family, "seq": entry.seq})
                done.append((p, entry.seq, fam_shas[p.family]))
        table = RetentionItem.__table__
        assert isinstance(table, Table)
        db.execute(
            update(table)
            .where(table.c.family == bindparam("fam"), table.c.status == SCHEDULED)
            .values(status=DESTROYED, destroyed_at=now, certificate_seq=bindparam("seq")),
            marks,
        )
        db.flush()
        # Blobs go last, before the commit: a failed commit leaves the families due, and the
        # next sweep finishes them; a certificate never outlives its blob.
        with ThreadPoolExecutor(max_workers=8) as pool:  # unlink and fsync overlap
            deleted = {
                sha
                for sha, gone in zip(doomed, pool.map(blobs.delete, doomed), strict=True)
                if gone
            }
        return [(p, seq, len(set(fam) & deleted)) for p, seq, fam in done]


def _section(
    p: Planned,
    media: Sequence[Media],
    *,
    shares: Sequence[str],
    consents: Sequence[str],
    grants: int,
    blobs: int,
) -> dict[str, object]:
    """One family destroyed: ids and ciphertext hashes, no identifier."""
    return {
        "family": p.family,
        "kind": p.kind,
        "destroy_not_before": p.destroy_not_before.isoformat(),
        "media": [
            {
                "kind": _media_kind(m),
                "id": m.id,
                "ciphertext_sha256": m.blob_sha256,
                "size": m.size,
                "created_at": m.created_at.isoformat(),
            }
            for m in sorted(media, key=lambda m: (m.created_at, m.id))
        ],
        "shares": sorted(shares),
        "consents": sorted(consents),
        "device_grants_destroyed": grants,
        "blobs_destroyed": blobs,
    }


def _certificate(
    patient: RetentionPatient | None,
    rules: dict[str, RetentionRule],
    sections: list[dict[str, object]],
    *,
    job: str,
    as_of: date,
    now: datetime,
    why: str = RETENTION_ENDED,
) -> dict[str, object]:
    """What a certificate of destruction says: what (each family, by id and hash), why,
    under which rule and its source, when and by which job. No identifier, no date of
    birth: the patient is named by the pseudonymous reference of the entry."""
    rule = rules.get(patient.jurisdiction) if patient is not None else None
    return {
        "certificate": "destruction",
        "why": why,
        "job": job,
        "as_of": as_of.isoformat(),
        "destroyed_at": now.isoformat(),
        "destroy_not_before": max(str(x["destroy_not_before"]) for x in sections),
        "last_entry": patient.last_entry.isoformat() if patient is not None else None,
        "minor_at_last_entry": patient.minor_at_last_entry if patient is not None else None,
        "rule": (
            {
                "jurisdiction": rule.jurisdiction,
                "summary": rule.summary(),
                "basis": rule.basis,
                "minor_basis": rule.minor_basis,
                "confidence": rule.confidence,
                "confirmed": rule.confirmed,
                "source_url": rule.source_url,
            }
            if rule is not None
            else None
        ),
        "families": sections,
        # Backups hold these objects sealed under keys whose last copy (a backup's ledger,
        # under a ledger key destroyed after the window) is gone by this date (decision 012).
        "backups_unrecoverable_from": (now + timedelta(days=LEDGER_WINDOW_DAYS)).date().isoformat(),
    }


def _delete_media(db: Session, media: Sequence[Media]) -> None:
    """Delete media rows, each after whatever derives from it (the foreign key)."""
    remaining = {m.id: m for m in media}
    while remaining:
        parents = {m.derived_from for m in remaining.values() if m.derived_from}
        leaves = [mid for mid in remaining if mid not in parents] or list(remaining)
        for i in range(0, len(leaves), schedule.CHUNK):
            db.execute(
                delete(Media)
                .where(Media.id.in_(leaves[i : i + schedule.CHUNK]))
                .execution_options(synchronize_session=False)
            )
        for mid in leaves:
            remaining.pop(mid)


def _delete_consents(db: Session, consent_ids: Sequence[str]) -> None:
    """Delete consents, one that completes another first (the foreign key points at it)."""
    remaining = set(consent_ids)
    while remaining:
        referenced = set(
            db.execute(
                select(Consent.completes_consent_id).where(
                    Consent.id.in_(remaining), Consent.completes_consent_id.is_not(None)
                )
            ).scalars()
        )
        leaves = remaining - referenced or remaining
        db.execute(
            delete(Consent)
            .where(Consent.id.in_(leaves))
            .execution_options(synchronize_session=False)
        )
        remaining -= leaves
