"""Issue 10, section 5: the retention sweep over many items of which 1 % expire (target
1,000,000 items in ≤ 60 s), and computing destroy-not-before dates for every item after a
rule change, on SQLite (and PostgreSQL when ``--postgres`` is given and reachable).

Run alone with ``python -m bench.retention [--items N] [--postgres]`` (prints the rows);
``bench/run.py`` calls :func:`bench_retention` for ``make bench``.

The database is filled directly (Core ``executemany``), as the real services would leave it:
patients with their date of birth field-encrypted under the instance's keyring (the sweep
decrypts every one of them), one encounter and one consent each, and photos; the patients of
1 % of the items photographed 12 years ago (due under Ontario's 10 years), the rest last
year. Each expiring photo has a real ciphertext blob in the store, which the sweep deletes;
each destroyed family gets its certificate (one audit entry, one commit).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert

from clinphoto import crypto
from clinphoto.accounts.models import Device, DeviceStatus, User
from clinphoto.consent.models import Consent, ConsentStatus, Encounter
from clinphoto.core.config import Settings
from clinphoto.instance import keys as instance_keys
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.media.models import Media
from clinphoto.patients.models import Patient
from clinphoto.policy import Role, Subject
from clinphoto.records import schedule
from clinphoto.records import service as records
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import FixedClock
from clinphoto.records.rules import RetentionRule, load_default
from clinphoto.storage.db import make_engine

Row = tuple[str, str, str, str]
PHOTOS_PER_PATIENT = 8  # + 1 consent = 9 items; an encounter is not an item
BATCH = 20_000
POSTGRES_URL = os.environ.get(
    "CLINPHOTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
OLD = datetime(2014, 3, 3, 10, tzinfo=UTC)  # due 2024 under Ontario's 10 years
RECENT = datetime(2025, 6, 2, 10, tzinfo=UTC)  # due 2035
AS_OF = date(2026, 1, 15)


def _fill(inst: Instance, items: int, expiring: float) -> tuple[int, int]:
    """Patients, encounters, consents, photos; returns (patients, expiring patients)."""
    per = PHOTOS_PER_PATIENT + 1
    n_patients = max(1, items // per)
    n_old = max(1, round(n_patients * expiring))
    keys = inst.keys.fields
    user_id, device_id = uuid.uuid4().hex, uuid.uuid4().hex
    blob = crypto.seal(b"\xff\xd8 a small photo \xff\xd9", [inst.keys.records.recipient])
    with inst.engine.begin() as conn:
        conn.execute(
            insert(User),
            [{"id": user_id, "email": "bench@h.example", "display_name": "Bench",
              "role": Role.CLINICIAN, "institution": "Bench", "password_hash": None,
              "failed_logins": 0, "locked_until": None, "active": True,
              "created_at": RECENT}],
        )  # fmt: skip
        conn.execute(
            insert(Device),
            [{"id": device_id, "user_id": user_id, "name": "bench", "age_recipient": "age1x",
              "signing_public": "x", "fingerprint": "x", "status": DeviceStatus.ACTIVE,
              "enrolled_at": RECENT, "revoked_at": None}],
        )  # fmt: skip
        patients, encounters, consents, media = [], [], [], []

        def flush(force: bool = False) -> None:
            for table, rows in (
                (Patient, patients),
                (Encounter, encounters),
                (Consent, consents),
                (Media, media),
            ):
                if rows and (force or len(rows) >= BATCH):
                    conn.execute(insert(table), rows)
                    rows.clear()

        for i in range(n_patients):
            pid, eid, cid = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
            at = OLD if i < n_old else RECENT
            patients.append(
                {"id": pid, "province": "ON", "name_ct": b"n" * 40,
                 "dob_ct": keys.encrypt(f"19{40 + i % 50}-0{1 + i % 9}-1{i % 9}",
                                        f"patients.dob_ct:{pid}"),
                 "mrn_ct": b"m" * 40, "hcn_ct": None, "mrn_bidx": uuid.uuid4().hex,
                 "hcn_bidx": None, "created_by": user_id, "created_at": at}
            )  # fmt: skip
            encounters.append(
                {"id": eid, "patient_id": pid, "started_at": at, "created_by": user_id}
            )
            consents.append(
                {"id": cid, "patient_id": pid, "encounter_id": eid, "purposes": "clinical_care",
                 "method": "written", "obtained_by": user_id, "witness_name_ct": None,
                 "informed_of_rights": True, "identifiable_allowed": False,
                 "unsecure_channel_allowed": False, "foreign_storage_allowed": False,
                 "text_version": "2026-11-en", "obtained_at": at, "signature_sha256": None,
                 "status": ConsentStatus.ACTIVE, "to_follow_reason_ct": None,
                 "to_follow_deadline": None, "completes_consent_id": None}
            )  # fmt: skip
            for _ in range(PHOTOS_PER_PATIENT):
                if at is OLD:
                    # A real ciphertext in the store, distinct per photo (content addressed).
                    stored = inst.blobs.put_stream([blob, uuid.uuid4().bytes], max_bytes=1 << 20)
                    sha, size = stored.sha256, stored.size
                else:
                    sha, size = uuid.uuid4().hex * 2, 4096
                media.append(
                    {"id": uuid.uuid4().hex, "kind": "photo", "patient_id": pid,
                     "encounter_id": eid, "consent_id": cid, "author_user_id": user_id,
                     "author_device_id": device_id, "blob_sha256": sha, "size": size,
                     "plaintext_sha256": "0" * 64, "content_type": "image/jpeg",
                     "manifest": "{}", "signature": "x", "jurisdiction": "CA-ON",
                     "derived_from": None, "created_at": at}
                )  # fmt: skip
            flush()
        flush(force=True)
    return n_patients, n_old


def _run(label: str, inst: Instance, items: int) -> list[Row]:
    t0 = time.perf_counter()
    n_patients, n_old = _fill(inst, items, 0.01)
    fill_s = time.perf_counter() - t0
    clock = FixedClock.on(AS_OF)
    total_items = n_patients * (PHOTOS_PER_PATIENT + 1)

    t0 = time.perf_counter()
    with inst.unit_of_work() as db:
        recomputed = schedule.refresh(db, keys=inst.keys.fields, clock=clock)
    first_s = time.perf_counter() - t0
    assert recomputed == n_patients

    officer = Subject("o" * 32, Role.PRIVACY_OFFICER, "", "bench")
    on = load_default().by_code()["ON"]
    changed = RetentionRule.model_validate(
        {**on.model_dump(), "years_after_last_entry": 11, "source": "bench"}
    )
    t0 = time.perf_counter()
    with inst.unit_of_work() as db:
        change = records.set_rule(
            db, subject=officer, rule=changed, reason="bench", keys=inst.keys.fields, clock=clock
        )
    rule_s = time.perf_counter() - t0
    assert change.patients_recomputed == n_patients

    t0 = time.perf_counter()
    dry = sweeper.sweep(
        inst.unit_of_work, keys=inst.keys.fields, blobs=inst.blobs, clock=clock, dry_run=True
    )
    dry_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = sweeper.sweep(inst.unit_of_work, keys=inst.keys.fields, blobs=inst.blobs, clock=clock)
    sweep_s = time.perf_counter() - t0
    # Each photo is a family of its own, and each patient's consents one more.
    families = n_old * (PHOTOS_PER_PATIENT + 1)
    assert len(done.destroyed) == len(dry.destroyed) == families, (len(done.destroyed), families)
    assert done.blobs_deleted == n_old * PHOTOS_PER_PATIENT
    scale = f"{total_items:,} items ({n_patients:,} patients), {done.items:,} expiring"
    return [
        (
            f"retention sweep, {label}: destroy the 1 % expired (blobs, rows, a certificate "
            "per family)",
            f"{sweep_s:.1f} s ({len(done.destroyed):,} families, {done.blobs_deleted:,} blobs; "
            f"dry run {dry_s:.1f} s)",
            "1,000,000 items, 1 % expiring, ≤ 60 s (issue 10)",
            scale,
        ),
        (
            f"destroy-not-before for every item after a rule change, {label}",
            f"{rule_s:.1f} s (first computation of all dates: {first_s:.1f} s)",
            "1,000,000 items (issue 10; no figure set)",
            f"{scale}; filled in {fill_s:.0f} s",
        ),
    ]


def bench_retention(tmp: Path, items: int = 100_000, postgres: bool = False) -> list[Row]:
    settings = Settings(data_dir=tmp / "var", kdf_profile="test", env="development")
    instance_keys.create(settings)
    inst = open_instance(settings)
    try:
        rows = _run("SQLite", inst, items)
    finally:
        inst.close()
    if not postgres:
        return rows
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    except Exception as exc:  # noqa: BLE001 - unreachable: say so in the row
        return [*rows, ("retention sweep, PostgreSQL", "not run", "", f"unreachable: {exc}")]
    try:
        sep = "&" if "?" in POSTGRES_URL else "?"
        engine = make_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}")
        pg_settings = Settings(data_dir=tmp / "pg", kdf_profile="test", env="development")
        instance_keys.create(pg_settings)
        inst = open_instance(pg_settings, engine=engine)
        try:
            rows += _run("PostgreSQL", inst, items)
        finally:
            inst.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for row in bench_retention(Path(tmp), args.items, args.postgres):
            print(" | ".join(row))


if __name__ == "__main__":
    main()
