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
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, select, update
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
    SCHEDULED,
    LegalHold,
    RetentionItem,
    RetentionPatient,
)
from clinphoto.records.service import ENCOUNTER, ITEM, PATIENT
from clinphoto.sharing.models import DeviceGrant, Share
from clinphoto.storage.blobs import BlobStore

log = logging.getLogger(__name__)
JOB = "retention-sweep"
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
    families = sorted(set(rows))
    planned: list[Planned] = []
    for i in range(0, len(families), schedule.CHUNK):
        chunk = families[i : i + schedule.CHUNK]
        members: dict[str, list[RetentionItem]] = {}
        for item in db.execute(
            select(RetentionItem).where(
                RetentionItem.family.in_(chunk), RetentionItem.status == SCHEDULED
            )
        ).scalars():
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
    planned.sort(key=lambda p: (p.kind != "media", p.destroy_not_before, p.family))
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
) -> SweepReport:
    """One pass: bring the schedules up to date, then destroy each due family that no hold
    keeps, each in its own unit of work with its certificate. Returns what was done (or, in a
    dry run, what would be)."""
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
        holds = _holds(db)
    for p in planned:
        if limit is not None and len(report.destroyed) >= limit:
            break
        if holds.hold(p):
            report.held += 1
            continue
        if dry_run:
            # What this run would already have destroyed counts as gone.
            gone = {i for d in report.destroyed for k, i in d.items if k == "media"}
            with unit_of_work() as db:
                if p.kind == "consent" and _encounter_has_photos(
                    db, p.encounter_id, [*p.items, *(("media", i) for i in gone)]
                ):
                    report.waiting += 1
                    continue
            report.destroyed.append(p)
            continue
        with unit_of_work() as db:
            outcome = _destroy(
                db, p, subject=subject, blobs=blobs, clock=clock, as_of=day, job=report.job
            )
        if outcome is None:
            report.waiting += 1
            continue
        seq, deleted = outcome
        report.destroyed.append(p)
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


def _encounter_has_photos(
    db: Session, encounter_id: str, family_items: Sequence[tuple[str, str]]
) -> bool:
    own = {i for k, i in family_items if k == "media"}
    ids = db.execute(
        select(Media.id).where(Media.encounter_id == encounter_id, Media.kind != schedule.SIGNATURE)
    ).scalars()
    return any(i not in own for i in ids)


def _still_held(db: Session, p: Planned) -> bool:
    from clinphoto.records.service import active_holds

    if active_holds(db, patient_id=p.patient_id, encounter_id=p.encounter_id, family=p.family):
        return True
    return p.kind == "consent" and bool(
        active_holds(db, patient_id=p.patient_id, encounter_id=p.family, family=None)
    )


def _media_kind(m: Media) -> str:
    if m.kind == "share":
        return "share-copy"
    if m.kind == "photo" and m.derived_from:
        return "derived-version"
    return m.kind


def _destroy(
    db: Session,
    p: Planned,
    *,
    subject: Subject,
    blobs: BlobStore,
    clock: Clock,
    as_of: date,
    job: str,
) -> tuple[int, int] | None:
    """Destroy one family in this unit of work; its certificate's sequence number and the
    number of blobs deleted, or None when it must wait (held meanwhile, a new derived
    version or share not yet scheduled, an encounter's consents with photos left)."""
    # Locked: a second sweep (another server process) waits, then finds nothing scheduled.
    items = (
        db.execute(
            select(RetentionItem)
            .where(RetentionItem.family == p.family, RetentionItem.status == SCHEDULED)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    if not items or any(it.destroy_not_before > as_of for it in items) or _still_held(db, p):
        return None
    media_ids = [it.item_id for it in items if it.kind == "media"]
    share_ids = [it.item_id for it in items if it.kind == "share"]
    consent_ids = [it.item_id for it in items if it.kind == "consent"]
    if p.kind == "consent" and _encounter_has_photos(db, p.encounter_id, p.items):
        return None
    media = (
        db.execute(select(Media).where(Media.id.in_(media_ids))).scalars().all()
        if media_ids
        else []
    )
    if media_ids:
        # Something made from this family since the schedule was refreshed: next time.
        newer = db.execute(
            select(Media.id).where(Media.derived_from.in_(media_ids), Media.id.not_in(media_ids))
        ).first()
        newer_share = db.execute(
            select(Share.id).where(
                Share.original_media_id.in_(media_ids), Share.id.not_in(share_ids or [""])
            )
        ).first()
        if newer is not None or newer_share is not None:
            return None
    described = [
        {
            "kind": _media_kind(m),
            "id": m.id,
            "ciphertext_sha256": m.blob_sha256,
            "size": m.size,
            "created_at": m.created_at.isoformat(),
        }
        for m in sorted(media, key=lambda m: (m.created_at, m.id))
    ]
    grants = 0
    if media_ids:
        done = db.execute(delete(DeviceGrant).where(DeviceGrant.media_id.in_(media_ids)))
        grants = int(getattr(done, "rowcount", 0) or 0)
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
        db.execute(delete(ConsentWithdrawal).where(ConsentWithdrawal.consent_id.in_(consent_ids)))
        # A consent that completes another goes first (the foreign key points at the other).
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
            db.execute(delete(Consent).where(Consent.id.in_(leaves)))
            remaining -= leaves
    db.flush()
    # A blob is shared only by identical ciphertexts; keep it while another row names it.
    shas = sorted({m.blob_sha256 for m in media})
    still = (
        set(db.execute(select(Media.blob_sha256).where(Media.blob_sha256.in_(shas))).scalars())
        if shas
        else set()
    )
    patient = db.get(RetentionPatient, p.patient_id)
    rule = schedule.rulebook(db).get(patient.jurisdiction) if patient is not None else None
    entry = audit.log(
        db,
        action=Action.RETENTION_DESTROY,
        actor=subject.user_id,
        device=subject.device_id,
        patient_ref=p.patient_id,
        object_type=p.kind,
        object_id=p.family,
        details={
            "certificate": "destruction",
            "why": "retention period ended; no legal hold or clinical-decision mark in force",
            "job": job,
            "as_of": as_of.isoformat(),
            "destroyed_at": clock.now().isoformat(),
            "destroy_not_before": p.destroy_not_before.isoformat(),
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
            "media": described,
            "shares": sorted(share_ids),
            "consents": sorted(consent_ids),
            "device_grants_destroyed": grants,
            "blobs_destroyed": len([s for s in shas if s not in still]),
        },
    )
    db.execute(
        update(RetentionItem)
        .where(RetentionItem.family == p.family, RetentionItem.status == SCHEDULED)
        .values(status=DESTROYED, destroyed_at=clock.now(), certificate_seq=entry.seq)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    deleted = 0
    for sha in shas:
        if sha not in still and blobs.delete(sha):
            deleted += 1
    return entry.seq, deleted


def _delete_media(db: Session, media: Sequence[Media]) -> None:
    """Delete media rows, each after whatever derives from it (the foreign key)."""
    remaining = {m.id: m for m in media}
    while remaining:
        parents = {m.derived_from for m in remaining.values() if m.derived_from}
        leaves = [mid for mid in remaining if mid not in parents] or list(remaining)
        db.execute(delete(Media).where(Media.id.in_(leaves)))
        for mid in leaves:
            remaining.pop(mid)
