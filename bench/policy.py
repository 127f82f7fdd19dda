"""Issue 7, section 4: what the access policy costs a request, and a patient lookup by MRN
with 1,000,000 patients and 100,000 care-team rows, on SQLite and on PostgreSQL.

Run alone with ``python -m bench.policy`` (prints the rows); ``bench/run.py`` calls
:func:`bench_policy` for ``make bench``. PostgreSQL is the server of the test suite
(``CLINPHOTO_TEST_POSTGRES_URL``, default ``127.0.0.1:5432/test``); the benchmark works in a
fresh schema and drops it afterwards. Without a reachable server its rows say so.

Timings are per call (``perf_counter_ns`` around each one), reported as percentiles; each
database also gets an anchor measured in the same run: a bare ``SELECT 1`` round trip on an
open connection.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select

from clinphoto import crypto
from clinphoto.accounts.models import Device, DeviceStatus, User
from clinphoto.accounts.service import Principal
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core.config import Settings
from clinphoto.instance import keys as instance_keys
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.patients.models import CareTeamMember, EmergencyOverride, Patient
from clinphoto.policy import (
    Act,
    Coverage,
    ObjectKind,
    Relation,
    Resource,
    Role,
    Subject,
    authorize,
    decide,
)
from clinphoto.storage.db import make_engine

Row = tuple[str, str, str, str]

POSTGRES_URL = os.environ.get(
    "CLINPHOTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PATIENTS = 1_000_000
CARE_TEAM_ROWS = 100_000
CLINICIANS = 2_000  # 50 care-team rows each on average
BATCH = 50_000
LOOKUPS = 2_000
CREATED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PROVINCES = ("ON", "QC", "BC", "AB", "MB", "NS", "NB", "SK", "NL", "PE")
GIVEN = ("Émilie", "Jean", "Marie", "Liam", "Olivia", "Noah", "Chloé", "Amir", "Mei", "Tariq")
FAMILY = ("Côté-Tremblay", "Smith", "Nguyen", "Gagnon", "Roy", "Singh", "Wilson", "Lee")


def _pcts(samples_ns: list[int]) -> dict[str, float]:
    """p50, p95, p99 in microseconds."""
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return {"p50": cuts[49] / 1000, "p95": cuts[94] / 1000, "p99": cuts[98] / 1000}


def _timed(fn: Callable[[int], object], n: int, warmup: int = 50) -> list[int]:
    for i in range(warmup):
        fn(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return samples


def _timed_turns(fns: list[Callable[[int], object]], n: int) -> list[list[int]]:
    """Several alternatives timed call for call in turn, so that the machine's drift (other
    work on the same cores and disk) hits them all alike."""
    for i in range(50):
        for fn in fns:
            fn(i)
    samples: list[list[int]] = [[] for _ in fns]
    for i in range(n):
        for fn, out in zip(fns, samples, strict=True):
            t0 = time.perf_counter_ns()
            fn(i)
            out.append(time.perf_counter_ns() - t0)
    return samples


def _us(p: dict[str, float], *keys: str) -> str:
    return ", ".join(f"{k} {p[k]:.1f} µs" for k in keys)


def _ms(p: dict[str, float], *keys: str) -> str:
    return ", ".join(f"{k} {p[k] / 1000:.2f} ms" for k in keys)


# --- (a) the policy's cost per request ------------------------------------------------------

CLINICIAN = Subject(user_id="c" * 32, role=Role.CLINICIAN, device_id="d" * 32)
# The longest path through decide(): role gate, existence, relation, quarantine, consent.
VIEW_COVERED = Resource(
    ObjectKind.MEDIA,
    id="m" * 32,
    patient_ref="p" * 32,
    relations=frozenset({Relation.AUTHOR, Relation.CARE_TEAM}),
    coverage=Coverage.COVERED,
)


def bench_decide(n: int = 200_000) -> list[Row]:
    samples = _timed(lambda _: decide(CLINICIAN, Act.VIEW, VIEW_COVERED, "clinical_care"), n)
    p = _pcts(samples)
    return [
        (
            "access policy: `decide()` alone (clinician views own photo under consent, the "
            "longest path)",
            _us(p, "p50", "p99"),
            "≤ 1 ms added per request at p99 (issue 7)",
            f"{n:,} calls, one thread",
        )
    ]


def bench_authorize(inst: Instance, label: str, n: int = 3_000) -> list[Row]:
    """authorize() + Grant.record() against a plain audit.log() of the same entry (what a
    route paid before the policy), both inside one open transaction; and a whole unit of
    work (begin, authorize, record, commit) for scale."""
    subject = CLINICIAN

    def allowed(db: Any) -> None:
        grant = authorize(
            db, subject, Act.VIEW, VIEW_COVERED, action=Action.MEDIA_VIEW, purpose="clinical_care"
        )
        grant.record(db)

    def plain(db: Any) -> None:
        audit.log(
            db,
            action=Action.MEDIA_VIEW,
            actor=subject.user_id,
            device=subject.device_id,
            patient_ref=VIEW_COVERED.patient_ref,
            object_type="media",
            object_id=VIEW_COVERED.id,
            purpose="clinical_care",
            details={"decision": "allow", "reasons": ["role:clinician", "relation:author"]},
        )

    with inst.unit_of_work() as db:
        timed_with, timed_without = _timed_turns([lambda _: allowed(db), lambda _: plain(db)], n)
    with_policy, without = _pcts(timed_with), _pcts(timed_without)

    def whole(_: int) -> None:
        with inst.unit_of_work() as db:
            allowed(db)

    uow = _pcts(_timed(whole, n // 3, warmup=20))
    added = {k: with_policy[k] - without[k] for k in with_policy}
    return [
        (
            f"access policy: what `authorize()` + `Grant.record()` add to writing the same "
            f"audit entry with `audit.log()`, in an open transaction ({label})",
            f"p50 {added['p50']:+.1f} µs, p99 {added['p99']:+.1f} µs",
            "≤ 1 ms added per request at p99 (issue 7)",
            f"with the policy {_us(with_policy, 'p50', 'p99')}; the entry alone "
            f"{_us(without, 'p50', 'p99')}; {n:,} calls of each, alternated",
        ),
        (
            f"access policy: a whole unit of work (begin, authorize, record, commit) ({label})",
            _ms(uow, "p50", "p99"),
            "—",
            f"{n // 3:,} requests, one at a time",
        ),
    ]


# --- (b) a patient lookup by MRN at scale ---------------------------------------------------


def _hex_ids(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(f"{rng.getrandbits(128):032x}")
    return list(seen)


def _ciphertext(rng: random.Random, plaintext_len: int) -> bytes:
    # What FieldKeyring.encrypt produces: key id, "$", 12-byte nonce, ciphertext, 16-byte tag.
    return b"f1$" + rng.randbytes(12 + plaintext_len + 16)


@dataclass
class Population:
    """What the fill left to look up: MRNs (normalised) and the bench clinician."""

    mrns: list[str]
    clinician_id: str
    team_mrns: list[str]


def _patient_rows(
    rng: random.Random, bidx_key: bytes, ids: list[str], mrns: list[int], creators: list[str]
) -> Iterator[tuple[Any, ...]]:
    for pid, mrn_n in zip(ids, mrns, strict=True):
        mrn = f"{mrn_n:08d}"
        hcn = f"{rng.randrange(10**9, 10**10)}{rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEF')}"
        name_len = len(rng.choice(GIVEN)) + 1 + len(rng.choice(FAMILY))
        yield (
            pid,
            rng.choice(PROVINCES),
            _ciphertext(rng, name_len),
            _ciphertext(rng, 10),
            _ciphertext(rng, len(mrn)),
            _ciphertext(rng, len(hcn)),
            crypto.blind_index(bidx_key, "mrn", mrn),
            crypto.blind_index(bidx_key, "hcn", hcn),
            rng.choice(creators),
            CREATED + timedelta(seconds=rng.randrange(86_400 * 300)),
        )


PATIENT_COLUMNS = (
    "id, province, name_ct, dob_ct, mrn_ct, hcn_ct, mrn_bidx, hcn_bidx, created_by, created_at"
)
MEMBER_COLUMNS = "patient_id, user_id, source, added_by, added_at"


def _fill(inst: Instance, patients: int, members: int, *, seed: int = 7) -> Population:
    """``patients`` patients, ``members`` care-team rows over 2,000 clinicians; bulk inserts
    in batches of 50,000 inside one transaction (COPY on PostgreSQL)."""
    rng = random.Random(seed)
    bidx_key = inst.keys.blind_index_key
    users = _hex_ids(rng, CLINICIANS)
    with inst.unit_of_work() as db:
        db.execute(
            insert(User),
            [
                {
                    "id": uid,
                    "email": f"clinician{i}@hospital.example",
                    "display_name": f"Dr {rng.choice(FAMILY)}",
                    "institution": "Bench Hospital",
                    "role": Role.CLINICIAN,
                    "password_hash": None,
                    "failed_logins": 0,
                    "locked_until": None,
                    "active": True,
                    "created_at": CREATED,
                }
                for i, uid in enumerate(users)
            ],
        )
    ids = _hex_ids(rng, patients)
    mrns = rng.sample(range(10**7, 10**8), patients)
    # 100,000 (patient, clinician) pairs, distinct.
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < members:
        pairs.add((rng.randrange(patients), rng.randrange(CLINICIANS)))
    sources = ("registered", "encounter", "encounter", "added", "share")
    member_rows = [
        (ids[p], users[u], rng.choice(sources), users[u], CREATED) for p, u in sorted(pairs)
    ]
    postgres = inst.engine.dialect.name == "postgresql"
    raw = inst.engine.raw_connection()
    try:
        cur = raw.cursor()
        if postgres:
            pg = raw.driver_connection
            assert pg is not None
            with pg.cursor() as pcur:
                with pcur.copy(f"COPY patients ({PATIENT_COLUMNS}) FROM STDIN") as copy:
                    for row in _patient_rows(rng, bidx_key, ids, mrns, users):
                        copy.write_row(row)
                with pcur.copy(f"COPY care_team_members ({MEMBER_COLUMNS}) FROM STDIN") as copy:
                    for row in member_rows:
                        copy.write_row(row)
            pg.commit()
            # A database in its steady state, not one loaded a second ago: vacuumed and
            # analysed (hint bits and statistics set, as autovacuum would, and this server
            # runs with autovacuum off), and checkpointed, so that the gigabyte of WAL the
            # load wrote is not being flushed while the lookups run.
            pg.autocommit = True
            pg.execute("VACUUM (ANALYZE) patients, care_team_members")
            pg.execute("CHECKPOINT")
            pg.autocommit = False
        else:
            # SQLAlchemy's SQLite DATETIME text form; the engine emits BEGIN itself.
            def sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
                return (*row[:-1], row[-1].strftime("%Y-%m-%d %H:%M:%S.%f"))

            cur.execute("BEGIN")
            batch: list[tuple[Any, ...]] = []
            sql = f"INSERT INTO patients ({PATIENT_COLUMNS}) VALUES ({', '.join('?' * 10)})"
            for row in _patient_rows(rng, bidx_key, ids, mrns, users):
                batch.append(sqlite_row(row))
                if len(batch) == BATCH:
                    cur.executemany(sql, batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
            cur.executemany(
                f"INSERT INTO care_team_members ({MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                [sqlite_row(m) for m in member_rows],
            )
            cur.execute("COMMIT")
            # The same for SQLite: the load's WAL copied into the database file now, not by
            # the first lookup's commit.
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
    # The clinician who looks patients up: the one with most care-team rows.
    counts: dict[int, int] = {}
    for _, u in pairs:
        counts[u] = counts.get(u, 0) + 1
    me = max(counts, key=lambda u: counts[u])
    team = [f"{mrns[p]:08d}" for p, u in pairs if u == me]
    return Population(
        mrns=[f"{m:08d}" for m in rng.sample(mrns, LOOKUPS)],
        clinician_id=users[me],
        team_mrns=team,
    )


def _principal(inst: Instance, user_id: str) -> Principal:
    with inst.unit_of_work() as db:
        user = db.get(User, user_id)
        assert user is not None
        device = Device(
            id=uuid.uuid4().hex,
            user_id=user_id,
            name="bench phone",
            age_recipient=crypto.AgeIdentity.generate().recipient,
            signing_public=uuid.uuid4().hex * 2,
            fingerprint=uuid.uuid4().hex * 2,
            status=DeviceStatus.ACTIVE,
            enrolled_at=CREATED,
        )
        db.add(device)
    return Principal(user=user, device=device, session_id=uuid.uuid4().hex)


def _round_trip(engine: Engine, n: int = 2_000) -> dict[str, float]:
    """The anchor: a bare ``SELECT 1`` on an open connection."""
    with engine.connect() as conn:
        return _pcts(_timed(lambda _: conn.exec_driver_sql("SELECT 1").scalar(), n))


def _commit_anchor(engine: Engine) -> Callable[[int], None]:
    """The other anchor: one small row written and committed, what the disk makes any
    audited request pay (a scratch table in the bench's throwaway database)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_commit_anchor (n INTEGER)")

    def write(i: int) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO bench_commit_anchor (n) VALUES ({i})")

    return write


def bench_lookup(
    inst: Instance, label: str, patients_n: int = PATIENTS, members_n: int = CARE_TEAM_ROWS
) -> list[Row]:
    from clinphoto.patients import service as patients

    t0 = time.perf_counter()
    pop = _fill(inst, patients_n, members_n)
    fill_s = time.perf_counter() - t0
    actor = _principal(inst, pop.clinician_id)
    bidx_key = inst.keys.blind_index_key
    round_trip = _round_trip(inst.engine)
    load = os.getloadavg()[0]  # other work on the same 2 cores shows in the tails

    def service(i: int) -> None:
        # The real use case: policy, blind index, query, one audit entry, commit.
        with inst.unit_of_work() as db:
            found = patients.find(db, bidx_key=bidx_key, actor=actor, mrn=pop.mrns[i % LOOKUPS])
            assert len(found) == 1

    def sql(i: int) -> None:
        # The same lookup as bare SQL, plus the care-team membership check (and an active
        # emergency override) that reading the patient next costs.
        pool = pop.team_mrns if i % 10 == 0 else pop.mrns  # one in ten: the caller's patient
        mrn = pool[i % len(pool)]
        bidx = crypto.blind_index(bidx_key, "mrn", mrn)
        with inst.sessions() as db:
            pid = db.execute(select(Patient.id).where(Patient.mrn_bidx == bidx)).scalar_one()
            db.get(CareTeamMember, (pid, actor.user.id))
            db.execute(
                select(EmergencyOverride.id).where(
                    EmergencyOverride.user_id == actor.user.id,
                    EmergencyOverride.patient_id == pid,
                    EmergencyOverride.expires_at > datetime.now(UTC),
                )
            ).first()

    timed = _timed_turns([service, sql, _commit_anchor(inst.engine)], LOOKUPS)
    through_service, bare, commit = (_pcts(t) for t in timed)
    return [
        (
            f"patient lookup by exact MRN, {patients_n:,} patients, {members_n:,} care-team rows "
            f"(`patients.service.find`, {label})",
            _ms(through_service, "p50", "p95"),
            "≤ 5 ms at p95 (issue 7)",
            "a clinician's whole unit of work: policy, blind index, query, audit entry, "
            f"commit; {LOOKUPS:,} random MRNs. Anchors, same run: `SELECT 1` round trip "
            f"{_us(round_trip, 'p50')}; one-row INSERT and commit, alternated with the "
            f"lookups, {_ms(commit, 'p50', 'p95')}. Filled in {fill_s:.0f} s; load average "
            f"{load:.1f} at the start",
        ),
        (
            f"the same lookup as bare SQL, with the care-team and override checks ({label})",
            _ms(bare, "p50", "p95"),
            "—",
            "blind-index equality on patients, care_team_members by primary key, "
            "emergency_overrides by user; one session each",
        ),
    ]


# --- instances ------------------------------------------------------------------------------


@contextmanager
def _sqlite_instance(tmp: Path) -> Iterator[Instance]:
    settings = Settings(data_dir=tmp / "var")
    instance_keys.create(settings)
    inst = open_instance(settings)
    try:
        yield inst
    finally:
        inst.close()


@contextmanager
def _postgres_instance(tmp: Path, url: str) -> Iterator[Instance]:
    """An instance on a fresh PostgreSQL schema, dropped afterwards (as tests/conftest.py)."""
    settings = Settings(data_dir=tmp / "pgvar")
    instance_keys.create(settings)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        sep = "&" if "?" in url else "?"
        engine = make_engine(f"{url}{sep}options=-csearch_path%3D{name}")
        inst = open_instance(settings, engine=engine)
        try:
            yield inst
        finally:
            inst.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.dispose()


def _postgres_problem(url: str) -> str | None:
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def bench_policy(
    tmp: Path,
    postgres_url: str = POSTGRES_URL,
    patients_n: int = PATIENTS,
    members_n: int = CARE_TEAM_ROWS,
) -> list[Row]:
    rows = bench_decide()
    with _sqlite_instance(tmp) as inst:
        rows += bench_authorize(inst, "SQLite")
        rows += bench_lookup(inst, "SQLite", patients_n, members_n)
    problem = _postgres_problem(postgres_url)
    if problem is not None:
        return [*rows, ("patient lookup by MRN (PostgreSQL)", "not run", "—", problem)]
    with _postgres_instance(tmp, postgres_url) as inst:
        rows += bench_authorize(inst, "PostgreSQL")
        rows += bench_lookup(inst, "PostgreSQL", patients_n, members_n)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--patients", type=int, default=PATIENTS, help="for a quick try")
    parser.add_argument("--care-team-rows", type=int, default=CARE_TEAM_ROWS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_policy(Path(tmp), args.postgres_url, args.patients, args.care_team_rows)
    for a, b, c, d in rows:
        print(f"| {a} | {b} | {c} | {d} |")


if __name__ == "__main__":
    main()
