"""Each item's destroy-not-before date (RET-1): computed per patient from the rule of the
patient's province (or the federal rule), the patient's date of birth and the patient's
latest record date, and copied to every item of the patient, so that the sweep is one index
scan over ``retention_items``.

The date of birth is a field ciphertext (decision 004): it is decrypted here, in memory, for
the computation, and never stored; only the resulting date and whether the patient was a
minor at the last entry are.

Work is set-based, in chunks of patients: a rule change recomputes a whole province with a
few aggregate queries, one decryption per patient and one UPDATE per chunk of patients,
whatever the number of items (issue 10 target: 1,000,000 items).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from clinphoto.consent.models import Consent, Encounter
from clinphoto.crypto import FieldKeyring
from clinphoto.media.models import Media
from clinphoto.patients.models import Patient
from clinphoto.records import rules as rules_mod
from clinphoto.records.clock import Clock
from clinphoto.records.models import (
    SCHEDULED,
    RetentionItem,
    RetentionPatient,
    RetentionRuleOverride,
)
from clinphoto.records.rules import RetentionRule
from clinphoto.sharing.models import Share

CHUNK = 500  # patients per statement: under every driver's bound-parameter limit
# An item recorded but not yet computed is never due: its date is the last one there is.
NOT_YET = date(9999, 12, 31)
SIGNATURE = "consent-signature"  # media.service.SIGNATURE: a consent's signature image
MEDIA, SHARE, CONSENT = "media", "share", "consent"
FEDERAL = "CA"
ANALYZE_FROM = 1000  # patients recomputed at once: enough to refresh the planner's statistics
BULK_FROM = 20_000  # patients at once: their last entries in one pass over each table


def rulebook(db: Session) -> dict[str, RetentionRule]:
    """The rules in force: the shipped default, with any privacy officer's overrides."""
    rules = rules_mod.load_default().by_code()
    for row in db.execute(select(RetentionRuleOverride)).scalars():
        rules[row.jurisdiction] = RetentionRule.model_validate(json.loads(row.rule))
    return rules


def jurisdiction_for(province: str, *, federal: bool) -> str:
    """The rule that governs a patient: the federal one in a federal setting (Settings
    ``retention_federal``), else the patient's province's."""
    return FEDERAL if federal else province


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _dob(keys: FieldKeyring, patient_id: str, dob_ct: bytes) -> date:
    # The associated data that patients.service seals the date of birth with.
    return date.fromisoformat(keys.decrypt(dob_ct, f"patients.dob_ct:{patient_id}"))


def _day(value: datetime) -> date:
    return value.astimezone(UTC).date() if value.tzinfo else value.date()


def last_entries(db: Session, patient_ids: Sequence[str]) -> dict[str, date]:
    """Each patient's latest record date: a photo or other object stored, a consent
    obtained, an encounter opened. For many patients at once (a rule change, the first
    computation) one aggregate pass over each table beats hundreds of lists of ids."""
    latest: dict[str, date] = {}
    sources: list[tuple[ColumnElement[str], ColumnElement[datetime]]] = [
        (Media.patient_id, Media.created_at),  # type: ignore[list-item]
        (Consent.patient_id, Consent.obtained_at),  # type: ignore[list-item]
        (Encounter.patient_id, Encounter.started_at),  # type: ignore[list-item]
    ]
    wanted = set(patient_ids) if len(patient_ids) >= BULK_FROM else None
    chunks: Iterable[Sequence[str] | None] = [None] if wanted is not None else _chunks(patient_ids)
    for chunk in chunks:
        for pid_col, at_col in sources:
            query = select(pid_col, func.max(at_col)).group_by(pid_col)
            if chunk is not None:
                query = query.where(pid_col.in_(chunk))
            for pid, at in db.execute(query):
                if at is None or (wanted is not None and pid not in wanted):
                    continue
                day = _day(at) if isinstance(at, datetime) else _parse_day(at)
                if pid not in latest or day > latest[pid]:
                    latest[pid] = day
    return latest


def _parse_day(value: object) -> date:
    # SQLite's MAX() over a DateTime column comes back as text, without the type's processing.
    return datetime.fromisoformat(str(value)).date()


@dataclass(frozen=True)
class Computed:
    patient_id: str
    jurisdiction: str
    last_entry: date
    minor: bool
    destroy_not_before: date


def compute(rule: RetentionRule, patient_id: str, dob: date, last_entry: date) -> Computed:
    return Computed(
        patient_id,
        rule.jurisdiction,
        last_entry,
        rules_mod.age_on(dob, last_entry) < rule.age_of_majority,
        rules_mod.destroy_not_before(rule, dob=dob, last_entry=last_entry),
    )


def recompute_patients(
    db: Session,
    *,
    keys: FieldKeyring,
    clock: Clock,
    patient_ids: Iterable[str],
    federal: bool = False,
) -> int:
    """Recompute the date of these patients and of every scheduled item of theirs; returns
    how many patients have a date now (a patient with no record yet has none)."""
    ids = sorted(set(patient_ids))
    rules = rulebook(db)
    now = clock.now()
    done = 0
    bulk = last_entries(db, ids) if len(ids) >= BULK_FROM else None
    for chunk in _chunks(ids):
        patients = db.execute(
            select(Patient.id, Patient.province, Patient.dob_ct).where(Patient.id.in_(chunk))
        ).all()
        latest = bulk if bulk is not None else last_entries(db, chunk)
        computed = [
            compute(
                rules[jurisdiction_for(prov, federal=federal)],
                pid,
                _dob(keys, pid, ct),
                latest[pid],
            )
            for pid, prov, ct in patients
            if pid in latest
        ]
        _store(db, computed, now)
        done += len(computed)
    if done:
        _copy_dates(db, now, analyze=done >= ANALYZE_FROM)
    return done


def fresh_statistics(db: Session, *tables: str) -> None:
    """PostgreSQL: refresh the planner's statistics of ``tables`` (a sampled ANALYZE, well
    under a second at a million rows). A bulk load or a large change leaves them stale until
    autovacuum runs, and without them the planner takes the sequential scan: a list of ids
    in ``media.derived_from`` read all of media, 0.3 s a batch. No-op elsewhere."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"ANALYZE {', '.join(tables)}"))


def _copy_dates(db: Session, now: datetime, *, analyze: bool) -> None:
    """Every scheduled item of the patients just computed takes its patient's date: one
    joined UPDATE, touching only the items whose date changed. PostgreSQL first gets fresh
    statistics for the two tables (a bulk load leaves none until autovacuum runs, and without
    them it nested-loops the join)."""
    if analyze:
        fresh_statistics(db, "retention_items", "retention_patients")
    db.execute(
        update(RetentionItem)
        .where(
            RetentionItem.patient_id == RetentionPatient.patient_id,
            RetentionPatient.computed_at == now,
            RetentionItem.status == SCHEDULED,
            RetentionItem.destroy_not_before != RetentionPatient.destroy_not_before,
        )
        .values(destroy_not_before=RetentionPatient.destroy_not_before)
        .execution_options(synchronize_session=False)
    )


def _store(db: Session, computed: Sequence[Computed], now: datetime) -> None:
    if not computed:
        return
    chunk = [c.patient_id for c in computed]
    db.execute(delete(RetentionPatient).where(RetentionPatient.patient_id.in_(chunk)))
    db.execute(
        insert(cast(Table, RetentionPatient.__table__)),
        [
            {
                "patient_id": c.patient_id,
                "jurisdiction": c.jurisdiction,
                "last_entry": c.last_entry,
                "minor_at_last_entry": c.minor,
                "destroy_not_before": c.destroy_not_before,
                "computed_at": now,
            }
            for c in computed
        ],
    )


def recompute_jurisdiction(
    db: Session, *, keys: FieldKeyring, clock: Clock, jurisdiction: str, federal: bool = False
) -> int:
    """After a rule change: every patient the rule governs (all patients, for the federal
    rule in a federal setting)."""
    query = select(Patient.id)
    if jurisdiction == FEDERAL and not federal:
        return 0
    if jurisdiction != FEDERAL:
        if federal:
            return 0
        query = query.where(Patient.province == jurisdiction)
    ids = list(db.execute(query).scalars())
    return recompute_patients(db, keys=keys, clock=clock, patient_ids=ids, federal=federal)


# --- new items ----------------------------------------------------------------------------


def _unscheduled(kind: str, id_col: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(and_(RetentionItem.kind == kind, RetentionItem.item_id == id_col))


def _roots(db: Session, rows: dict[str, str | None]) -> dict[str, str]:
    """The original photo each media id descends from (itself for an original)."""
    parent: dict[str, str | None] = dict(rows)
    roots: dict[str, str] = {}

    def root(mid: str) -> str:
        seen = []
        cur = mid
        while True:
            if cur in roots:
                found = roots[cur]
                break
            if cur not in parent:
                known = db.execute(
                    select(RetentionItem.family).where(
                        RetentionItem.kind == MEDIA, RetentionItem.item_id == cur
                    )
                ).scalar()
                if known is not None:
                    found = known
                    break
                parent[cur] = db.execute(select(Media.derived_from).where(Media.id == cur)).scalar()
            up = parent[cur]
            seen.append(cur)
            if up is None or up in seen:
                found = cur
                break
            cur = up
        for s in seen:
            roots[s] = found
        return found

    return {mid: root(mid) for mid in rows}


def schedule_new(db: Session) -> set[str]:
    """Record every photo, share and consent that has no schedule yet (with a date that is
    never due until computed); returns their patients, whose dates must be recomputed."""
    patients: set[str] = set()
    media = db.execute(
        select(
            Media.id,
            Media.kind,
            Media.patient_id,
            Media.encounter_id,
            Media.derived_from,
            Media.blob_sha256,
        ).where(_unscheduled(MEDIA, Media.id))  # type: ignore[arg-type]
    ).all()
    roots = _roots(db, {m.id: m.derived_from for m in media if m.kind != SIGNATURE})
    rows: list[dict[str, object]] = []
    for m in media:
        family = m.encounter_id if m.kind == SIGNATURE else roots[m.id]
        rows.append(_row(MEDIA, m.id, m.patient_id, m.encounter_id, family, m.blob_sha256))
        patients.add(m.patient_id)
    copy = Media.__table__.alias("copy")
    shares = db.execute(
        select(Share.id, Share.original_media_id, copy.c.patient_id, copy.c.encounter_id)
        .join(copy, copy.c.id == Share.copy_media_id)
        .where(_unscheduled(SHARE, Share.id))  # type: ignore[arg-type]
    ).all()
    share_roots = _roots(db, {s.original_media_id: None for s in shares})
    for s in shares:
        root = roots.get(s.original_media_id) or share_roots[s.original_media_id]
        rows.append(_row(SHARE, s.id, s.patient_id, s.encounter_id, root, None))
        patients.add(s.patient_id)
    consents = db.execute(
        select(Consent.id, Consent.patient_id, Consent.encounter_id).where(
            _unscheduled(CONSENT, Consent.id)  # type: ignore[arg-type]
        )
    ).all()
    for c in consents:
        rows.append(_row(CONSENT, c.id, c.patient_id, c.encounter_id, c.encounter_id, None))
        patients.add(c.patient_id)
    for i in range(0, len(rows), 2000):
        db.execute(
            insert(cast(Table, RetentionItem.__table__)), rows[i : i + 2000]
        )  # Core: no ORM cost
    return patients


def _row(
    kind: str, item_id: str, patient_id: str, encounter_id: str, family: str, sha: str | None
) -> dict[str, object]:
    return {
        "kind": kind,
        "item_id": item_id,
        "patient_id": patient_id,
        "encounter_id": encounter_id,
        "family": family,
        "status": SCHEDULED,
        "destroy_not_before": NOT_YET,
        "ciphertext_sha256": sha,
        "destroyed_at": None,
        "certificate_seq": None,
    }


def stale_patients(db: Session) -> set[str]:
    """Patients with an encounter opened after their computed last entry, or with items
    whose date is not computed yet. (A new photo,
    share or consent is an item without a schedule, which :func:`schedule_new` finds; rows
    are never updated, so nothing else moves a last entry.)"""
    rows = db.execute(
        select(Encounter.patient_id, func.max(Encounter.started_at), RetentionPatient.last_entry)
        .join(RetentionPatient, RetentionPatient.patient_id == Encounter.patient_id)
        .group_by(Encounter.patient_id, RetentionPatient.last_entry)
    ).all()
    found: set[str] = set()
    for pid, at, last in rows:
        day = _day(at) if isinstance(at, datetime) else _parse_day(at)
        if day > last:
            found.add(pid)
    # Items recorded (a hold placed, a date shown) but whose date was not computed yet.
    found.update(
        db.execute(
            select(RetentionItem.patient_id)
            .where(RetentionItem.status == SCHEDULED, RetentionItem.destroy_not_before == NOT_YET)
            .distinct()
        ).scalars()
    )
    return found


def refresh(db: Session, *, keys: FieldKeyring, clock: Clock, federal: bool = False) -> int:
    """Bring every schedule up to date: new items, and the patients whose latest record
    changed. Run by the sweep before it looks for what is due; returns patients recomputed."""
    dirty = schedule_new(db) | stale_patients(db)
    if not dirty:
        return 0
    return recompute_patients(db, keys=keys, clock=clock, patient_ids=dirty, federal=federal)
