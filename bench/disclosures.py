"""Issue 10, section 5: "who saw my photos" for a patient with 10,000 audit entries among
many (target: 10,000 among 10,000,000 in ≤ 1 s), on SQLite and PostgreSQL.

Run alone with ``python -m bench.disclosures [--entries N] [--patient-entries K]
[--postgres]`` (prints the rows and the query plans); a ``bench_disclosures`` function for
``bench/run.py``, which does not call it yet.

The trail is filled directly (SQLite ``executemany``, PostgreSQL ``COPY``) with the
composite index dropped during the load and built after it, then ANALYZE: a trail in its
steady state. Entries are spread over 100,000 patients; the patient asked about has every
(N / K)-th entry, so theirs are scattered through the whole table as a real patient's are.
Actors are 2,000 enrolled clinicians with a device each; the patient's entries name 100
of their photos and shares of them, so each page looks up people, devices, photos and
shares as it would in use. The hashes are not a chain (nothing here verifies it); the head
is moved past the last entry so that the report's own audit entry appends after it.

Timed, each as the privacy officer's whole unit of work (policy, reads, its own audit entry,
commit): the first page (50 entries), and the whole report (every entry, 1,000 a page).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from clinphoto.accounts.models import Device, DeviceStatus, User
from clinphoto.core.config import Settings
from clinphoto.disclosures import service as disclosures
from clinphoto.instance import keys as instance_keys
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.media.models import Media
from clinphoto.policy import Role, Subject
from clinphoto.sharing.models import Share
from clinphoto.storage.db import make_engine

Row = tuple[str, str, str, str]
POSTGRES_URL = os.environ.get(
    "CLINPHOTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PATIENTS = 100_000
USERS = 2_000
PHOTOS = 100
BATCH = 50_000
INDEX = "ix_audit_entries_patient_ref_seq"
COLUMNS = (
    "seq", "at", "actor", "device", "patient_ref", "action", "object_type", "object_id",
    "purpose", "outcome", "details", "prev_hash", "hash",
)  # fmt: skip
ACTIONS = (
    ("media.view", "media", "clinical_care", "success"),
    ("media.view", "media", "clinical_care", "success"),
    ("media.list", "media", "", "success"),
    ("share.send", "share", "clinical_care", "success"),
    ("share.deliver", "share", "clinical_care", "success"),
    ("share.ack", "share", "clinical_care", "success"),
    ("consent.read", "consent", "", "success"),
    ("media.view", "media", "education", "denied"),
)
DETAILS = json.dumps({"decision": "allow", "reasons": ["role:clinician", "relation:author"]})
ZERO = bytes(32)


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _people(inst: Instance, rng: random.Random) -> tuple[list[str], list[str]]:
    now = datetime.now(UTC)
    users = [_hex(rng) for _ in range(USERS)]
    devices = [_hex(rng) for _ in range(USERS)]
    with inst.engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": u,
                    "email": f"{u[:12]}@hospital.example",
                    "display_name": f"Dr {u[:6]}",
                    "institution": "Bench Hospital",
                    "role": Role.CLINICIAN,
                    "password_hash": None,
                    "failed_logins": 0,
                    "active": True,
                    "created_at": now,
                }
                for u in users
            ],
        )
        conn.execute(
            insert(Device),
            [
                {
                    "id": d,
                    "user_id": u,
                    "name": f"phone {d[:4]}",
                    "age_recipient": f"age1{d}",
                    "signing_public": d + u,
                    "fingerprint": d,
                    "status": DeviceStatus.ACTIVE,
                    "enrolled_at": now,
                }
                for u, d in zip(users, devices, strict=True)
            ],
        )
    return users, devices


def _objects(
    inst: Instance, rng: random.Random, patient: str, users: list[str], devices: list[str]
) -> tuple[list[str], list[str]]:
    """The patient's photos, and one share of each."""
    now = datetime.now(UTC)
    photos = [_hex(rng) for _ in range(PHOTOS)]
    copies = [_hex(rng) for _ in range(PHOTOS)]
    shares = [_hex(rng) for _ in range(PHOTOS)]

    def media(mid: str, kind: str, derived: str | None) -> dict[str, object]:
        return {
            "id": mid,
            "kind": kind,
            "patient_id": patient,
            "encounter_id": "e" * 32,
            "consent_id": "c" * 32,
            "author_user_id": users[0],
            "author_device_id": devices[0],
            "blob_sha256": mid + mid,
            "size": 1000,
            "plaintext_sha256": mid + mid,
            "content_type": "image/jpeg",
            "manifest": "{}",
            "signature": "x",
            "jurisdiction": "CA-QC",
            "derived_from": derived,
            "created_at": now,
        }

    with inst.engine.begin() as conn:
        conn.execute(insert(Media), [media(m, "photo", None) for m in photos])
        conn.execute(
            insert(Media), [media(c, "share", p) for c, p in zip(copies, photos, strict=True)]
        )
        conn.execute(
            insert(Share),
            [
                {
                    "id": s,
                    "original_media_id": p,
                    "copy_media_id": c,
                    "sender_user_id": users[0],
                    "sender_device_id": devices[0],
                    "recipient_user_id": users[1],
                    "purpose": "clinical_care",
                    "status": "acknowledged",
                    "sent_at": now,
                }
                for s, p, c in zip(shares, photos, copies, strict=True)
            ],
        )
    return photos, shares


def _entries(
    rng: random.Random,
    total: int,
    every: int,
    patient: str,
    others: list[str],
    users: list[str],
    devices: list[str],
    photos: list[str],
    shares: list[str],
) -> Iterator[tuple[object, ...]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, total + 1):
        mine = seq % every == 0
        action, otype, purpose, outcome = ACTIONS[seq % len(ACTIONS)]
        k = rng.randrange(USERS)
        if mine:
            oid = rng.choice(shares if otype == "share" else photos)
            ref = patient
        else:
            oid = _hex(rng)
            ref = others[rng.randrange(len(others))]
        at = (start + timedelta(seconds=seq * 3)).isoformat(timespec="microseconds")
        yield (
            seq, at, users[k], devices[k], ref, action, otype, oid, purpose, outcome,
            DETAILS, ZERO, ZERO,
        )  # fmt: skip


def _fill(inst: Instance, total: int, mine: int) -> tuple[str, float]:
    rng = random.Random(20261130)
    patient = _hex(rng)
    others = [_hex(rng) for _ in range(PATIENTS)]
    users, devices = _people(inst, rng)
    photos, shares = _objects(inst, rng, patient, users, devices)
    rows = _entries(rng, total, total // mine, patient, others, users, devices, photos, shares)
    t0 = time.perf_counter()
    postgres = inst.engine.dialect.name == "postgresql"
    with inst.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {INDEX}")
        if postgres:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            with raw.cursor() as cur:  # type: ignore[attr-defined]
                copy_sql = f"COPY audit_entries ({', '.join(COLUMNS)}) FROM STDIN"
                with cur.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            sql = (
                f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})"
            )
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cur = raw.cursor()
            batch: list[tuple[object, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cur.executemany(sql, batch)
                    batch.clear()
            cur.executemany(sql, batch)
            cur.close()
        conn.exec_driver_sql(f"CREATE INDEX {INDEX} ON audit_entries (patient_ref, seq)")
        conn.execute(
            text("UPDATE audit_head SET seq = :n, hash = :h WHERE id = 1"), {"n": total, "h": ZERO}
        )
    if postgres:
        with inst.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE audit_entries")
            conn.exec_driver_sql("CHECKPOINT")
    else:
        with inst.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return patient, time.perf_counter() - t0


def _plan(inst: Instance, patient: str) -> str:
    """The query plan of the statement that reads the first page, as the service builds it."""
    query = disclosures.page_query(patient, None, disclosures.PAGE_DEFAULT)
    sql = str(query.compile(inst.engine, compile_kwargs={"literal_binds": True}))
    postgres = inst.engine.dialect.name == "postgresql"
    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    with inst.engine.connect() as conn:
        found = conn.exec_driver_sql(explain + sql)
        return "\n".join(" | ".join(str(c) for c in r) for r in found)


def _time(inst: Instance, patient: str, whole: bool) -> float:
    officer = Subject("b" * 32, Role.PRIVACY_OFFICER, "", "server-console")
    t0 = time.perf_counter()
    with inst.unit_of_work() as db:
        if whole:
            n = sum(
                1 for _ in disclosures.whole_access_report(db, subject=officer, patient_id=patient)
            )
        else:
            n = len(disclosures.access_report(db, subject=officer, patient_id=patient).events)
    elapsed = time.perf_counter() - t0
    assert n > 0
    return elapsed


def _run(label: str, inst: Instance, total: int, mine: int) -> tuple[list[Row], str]:
    patient, filled = _fill(inst, total, mine)
    plan = _plan(inst, patient)
    _time(inst, patient, whole=False)  # warm the caches once, as a running server has them
    first = [_time(inst, patient, whole=False) for _ in range(21)]
    whole = [_time(inst, patient, whole=True) for _ in range(5)]
    scale = f"{mine:,} entries among {total:,}"
    note = (
        f"the privacy officer's whole unit of work (policy, reads, its audit entry, commit); "
        f"{scale}, 100,000 patients; filled in {filled:.0f} s"
    )
    return [
        (
            f'"who saw my photos", first page of 50, {scale} ({label})',
            f"p50 {statistics.median(first) * 1000:.1f} ms, max {max(first) * 1000:.1f} ms",
            "≤ 1 s (issue 10)",
            note + "; 21 runs",
        ),
        (
            f'"who saw my photos", the whole report, {scale} ({label})',
            f"p50 {statistics.median(whole) * 1000:.0f} ms, max {max(whole) * 1000:.0f} ms",
            "≤ 1 s (issue 10)",
            note + "; 5 runs, 1,000 entries a page",
        ),
    ], plan


def bench_disclosures(
    tmp: Path, entries: int = 1_000_000, mine: int = 10_000, postgres: bool = False
) -> tuple[list[Row], list[str]]:
    settings = Settings(data_dir=tmp / "var", kdf_profile="test", env="development")
    instance_keys.create(settings)
    inst = open_instance(settings)
    try:
        rows, plan = _run("SQLite", inst, entries, mine)
        plans = [f"SQLite:\n{plan}"]
    finally:
        inst.close()
    if not postgres:
        return rows, plans
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    except Exception as exc:  # noqa: BLE001 - unreachable: say so in the row
        return [*rows, ('"who saw my photos", PostgreSQL', "not run", "", f"{exc}")], plans
    try:
        sep = "&" if "?" in POSTGRES_URL else "?"
        engine = make_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}")
        pg_settings = Settings(data_dir=tmp / "pg", kdf_profile="test", env="development")
        instance_keys.create(pg_settings)
        inst = open_instance(pg_settings, engine=engine)
        try:
            pg_rows, plan = _run("PostgreSQL", inst, entries, mine)
            rows += pg_rows
            plans.append(f"PostgreSQL:\n{plan}")
        finally:
            inst.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()
    return rows, plans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--patient-entries", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows, plans = bench_disclosures(
            Path(tmp), args.entries, args.patient_entries, args.postgres
        )
        for row in rows:
            print(" | ".join(row))
        for plan in plans:
            print(plan)


if __name__ == "__main__":
    main()
