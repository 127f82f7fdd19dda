"""Backups that destruction reaches (issue 10 §1 and §5; RET-5, STO-5, AUD-1), on SQLite and
PostgreSQL.

A photo with a share copy, a derived version and a later device's grant is backed up; its
time comes and the sweep destroys it; the backup is then restored into a fresh instance.
Nothing of the photo comes back, the stock `age` CLI with the exported records key opens
nothing of it (neither in the restored blob store nor in the raw backup files, which are
still there), the audit trail verifies and holds the certificate, which states from when the
backups are unrecoverable. A held photo survives and is restored whole, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select
from typer.testing import CliRunner

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app as cli_app
from clinphoto.core.config import Settings
from clinphoto.instance import backup as backups
from clinphoto.instance import schema
from clinphoto.instance import service as instance_service
from clinphoto.instance.grants import grant_with_records_key
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.media.models import Media
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import FixedClock, SystemClock
from clinphoto.records.models import LEDGER_WINDOW_DAYS, BackupKey, RetentionItem
from clinphoto.sharing.models import DeviceGrant, Share
from clinphoto.storage.db import make_engine
from tests.conftest import POSTGRES_URL, EnrolledDevice
from tests.functional.test_device_grants import _second_device
from tests.functional.test_inspection_gate import _capture
from tests.functional.test_media_api import _jpeg
from tests.functional.test_retention import (
    RULES,
    _age_opens,
    _cli_env,
    _photo_of,
    _plus,
    _sweep,
    _years_ago,
)
from tests.functional.test_retention import _blob_path as _blob
from tests.functional.test_sharing_api import _captured, _reseal

NewDevice = Callable[..., EnrolledDevice]
AGE = shutil.which("age")


@pytest.fixture
def fresh(engine: Engine, tmp_path: Path) -> Iterator[Callable[[Settings], Instance]]:
    """Fresh, empty instances on the same kind of database as ``engine``, holding the keys
    directory of the instance under test (the operator restores it from its key backup)."""
    made: list[tuple[Instance, str | None]] = []
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def make(source: Settings) -> Instance:
        n = len(made)
        target = Settings(data_dir=tmp_path / f"restored-{n}", kdf_profile="test",
                          env="development")  # fmt: skip
        shutil.copytree(source.key_dir, target.key_dir)
        name = None
        if engine.dialect.name == "sqlite":
            eng = make_engine(f"sqlite:///{tmp_path / f'restored-{n}.sqlite3'}")
        else:
            name = f"t_{uuid.uuid4().hex[:16]}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {name}")
            sep = "&" if "?" in POSTGRES_URL else "?"
            eng = make_engine(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}")
        schema.upgrade(eng)
        inst = open_instance(target, engine=eng)
        made.append((inst, name))
        return inst

    yield make
    for inst, name in made:
        inst.close()
        if name is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    admin.dispose()


def _hold(client: TestClient, officer: EnrolledDevice, pid: str) -> None:
    hold = {"scope": "patient", "target_id": pid, "reason": "Litigation notice 2026-7"}
    assert client.post("/v1/retention/holds", json=hold, headers=officer.auth).status_code == 200


def _media_of(inst: Instance, pid: str) -> list[Media]:
    with inst.unit_of_work() as db:
        return list(db.execute(select(Media).where(Media.patient_id == pid)).scalars())


@pytest.mark.skipif(AGE is None, reason="the age CLI is not installed")
def test_ret5_sto5_restored_backup_cannot_bring_back_a_destroyed_photo(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    fresh: Callable[[Settings], Instance],
    tmp_path: Path,
) -> None:
    alice, bob, officer = new_device(), new_device(), new_device(Role.PRIVACY_OFFICER)
    # Another patient's photo, held: it must survive and come back whole.
    held_id, held_plain, held_pid = _captured(client, instance, alice)
    _hold(client, officer, held_pid)
    # The photo that will be destroyed: a share copy for bob, a derived version, a grant.
    media_id, plain, pid = _captured(client, instance, alice)  # QC, an adult
    records = instance.keys.records.recipient
    sent = _reseal(client, alice, media_id, plain, bob.user_id, [bob.age.recipient, records])
    share_id = sent.json()["id"]  # type: ignore[attr-defined]
    eid = _media_of(instance, pid)[0].encounter_id
    version = _capture(client, instance, alice, _jpeg(), pid, eid, derived_from=media_id)
    alice2 = _second_device(client, alice)
    grant_with_records_key(
        instance, device_id=alice2.device_id, custodian="Test Custodian",
        reason="The phone was replaced by a new one",
    )  # fmt: skip

    key = tmp_path / "records-key.txt"
    instance_service.export_records_key(instance, key)
    family = _media_of(instance, pid)
    assert {m.kind for m in family} == {"photo", "share"}
    assert len(family) == 3
    doomed = {m.blob_sha256 for m in family}
    assert all(_age_opens(key, _blob(settings, sha)) for sha in doomed)  # the check can fail

    repo = tmp_path / "backups"
    first = backups.create(instance, repo, SystemClock())
    assert first.objects_written == first.objects >= 4
    assert first.tables["media"] == 4
    raw = {sha: backups._object_path(repo, sha) for sha in doomed}
    # The raw backup files: the records key opens none of them, even before destruction.
    assert all(p.exists() for p in raw.values())
    assert not any(_age_opens(key, p) for p in raw.values())
    assert all(_age_opens(key, _blob(settings, sha)) for sha in doomed)
    assert backups.verify(instance, repo) == []
    # Nor does the dump carry what opens a sealed manifest or a device grant.
    dump = repo / "snapshots" / first.snapshot / "db"
    assert records not in (dump / "media.jsonl").read_text()
    assert "X25519" not in (dump / "device_grants.jsonl").read_text()
    assert not (dump / "backup_ledger.jsonl").exists()

    due = _plus(datetime.now(UTC).date(), RULES["QC"]["years_after_last_entry"])
    done = _sweep(instance, due)
    assert media_id in {i for p in done.destroyed for _, i in p.items}
    assert held_id not in {i for p in done.destroyed for _, i in p.items}
    held_sha = _media_of(instance, held_pid)[0].blob_sha256
    with instance.unit_of_work() as db:
        # The blobs' backup keys went with them, in the same transaction.
        assert not db.execute(select(BackupKey).where(BackupKey.blob_sha256.in_(doomed))).first()
        assert db.get(BackupKey, held_sha) is not None
        [cert] = db.execute(
            select(AuditEntry).where(AuditEntry.action == "retention.destroy")
        ).scalars()
    # The sweep's clock is the retention clock, moved to the due day.
    unrecoverable = due + timedelta(days=LEDGER_WINDOW_DAYS)
    assert json.loads(cert.details)["backups_unrecoverable_from"] == unrecoverable.isoformat()
    nightly = backups.create(instance, repo, SystemClock())
    assert nightly.objects_written == 0  # the held photo's blobs are already there
    assert all(p.exists() for p in raw.values())  # the older snapshot's copies remain

    # Restore the newest snapshot: the repository still holds the destroyed blobs (copied by
    # the first snapshot) but no ledger key for them.
    target = fresh(settings)
    report = backups.restore(target, repo)
    assert report.snapshot == nightly.snapshot
    assert not _media_of(target, pid)
    assert not any(_blob(target.settings, sha).exists() for sha in doomed)
    assert not any(_age_opens(key, p) for p in raw.values())
    [held] = _media_of(target, held_pid)
    restored = _blob(target.settings, held.blob_sha256)
    assert held.id == held_id
    assert _age_opens(key, restored)  # whole, under its original header: same hash
    with target.unit_of_work() as db:
        assert audit.verify(db, target.audit_keys.public_by_id) is None
        [again] = db.execute(
            select(AuditEntry).where(AuditEntry.action == "retention.destroy")
        ).scalars()
        assert again.details == cert.details
        assert "backups_unrecoverable_from" in again.details
        stones = db.execute(select(RetentionItem).where(RetentionItem.patient_id == pid))
        assert {t.status for t in stones.scalars()} == {"destroyed"}
        assert db.execute(select(Share).where(Share.id == share_id)).first() is None
        assert (
            db.execute(select(DeviceGrant).where(DeviceGrant.media_id == media_id)).first() is None
        )
    # The held photo opens to the very bytes its author sealed.
    run = subprocess.run([AGE, "-d", "-i", str(key), str(restored)], capture_output=True)  # type: ignore[list-item]
    assert run.stdout == held_plain

    # Restore the first snapshot, taken before the destruction: the newest ledger has no
    # key for the photo's blobs and the newest tombstones are replayed: nothing comes back.
    older = fresh(settings)
    report = backups.restore(older, repo, first.snapshot)
    assert report.ledger_from == nightly.snapshot
    assert report.blobs_skipped == len(doomed)
    assert report.tombstones_replayed > 0
    assert not _media_of(older, pid)
    assert not any(_blob(older.settings, sha).exists() for sha in doomed)
    assert _age_opens(key, _blob(older.settings, _media_of(older, held_pid)[0].blob_sha256))
    with older.unit_of_work() as db:
        assert audit.verify(db, older.audit_keys.public_by_id) is None
        assert db.get(Media, version.object_id) is None
        # The restore is in the restored trail, with what was left out for want of a key.
        [entry] = db.execute(
            select(AuditEntry).where(AuditEntry.action == "backup.restore")
        ).scalars()
        said = json.loads(entry.details)
        assert entry.object_id == first.snapshot
        assert said["ledger_from"] == nightly.snapshot
        assert said["skipped_blobs"] == sorted(doomed)
        assert set(said["skipped_media"]) >= {media_id, version.object_id}
        assert {
            t.status
            for t in db.execute(
                select(RetentionItem).where(RetentionItem.patient_id == pid)
            ).scalars()
        } == {"destroyed"}

    # After the window every ledger key is destroyed: the raw copies open with no key at all.
    later = FixedClock(datetime.now(UTC) + timedelta(days=LEDGER_WINDOW_DAYS + 1))
    assert set(backups.expire_ledger_keys(instance, later)) == {first.snapshot, nightly.snapshot}
    with pytest.raises(backups.BackupError, match="unrecoverable"):
        backups.restore(fresh(settings), repo, first.snapshot)


def test_sto5_backup_cli_creates_lists_verifies_and_restores(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    fresh: Callable[[Settings], Instance],
    tmp_path: Path,
) -> None:
    alice = new_device()
    media_id, _, pid = _captured(client, instance, alice)
    repo = tmp_path / "repo"
    env = _cli_env(instance)
    cli = CliRunner()
    helped = cli.invoke(cli_app, ["backup", "create", "--help"], env=env)
    assert "Example: clinphoto" in helped.output
    made = cli.invoke(cli_app, ["backup", "create", str(repo)], env=env)
    assert made.exit_code == 0, made.output
    assert "1 new to the repository" in made.output
    listed = cli.invoke(cli_app, ["backup", "list", str(repo)], env=env)
    assert listed.exit_code == 0, listed.output
    assert "kept until" in listed.output
    assert cli.invoke(cli_app, ["backup", "verify", str(repo)], env=env).exit_code == 0
    # A damaged file is found.
    [snap] = backups.snapshot_ids(repo)
    damaged = repo / "snapshots" / snap / "db" / "media.jsonl"
    damaged.write_text(damaged.read_text() + "\n")
    bad = cli.invoke(cli_app, ["backup", "verify", str(repo)], env=env)
    assert bad.exit_code == 1
    assert "media.jsonl" in bad.output
    refused = cli.invoke(cli_app, ["backup", "restore", str(repo)], env=env)
    assert refused.exit_code == 2
    # A good snapshot restores into a fresh instance only.
    assert cli.invoke(cli_app, ["backup", "create", str(repo)], env=env).exit_code == 0
    target = fresh(settings)
    env2 = _cli_env(target)
    into_live = cli.invoke(cli_app, ["backup", "restore", str(repo)], env=env)
    assert into_live.exit_code == 2
    assert "not empty" in into_live.output
    done = cli.invoke(cli_app, ["backup", "restore", str(repo)], env=env2)
    assert done.exit_code == 0, done.output
    assert [m.id for m in _media_of(target, pid)] == [media_id]
    assert os.listdir(target.settings.blob_dir / "objects")


def _entries(inst: Instance, action: str) -> list[AuditEntry]:
    with inst.unit_of_work() as db:
        return list(
            db.execute(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            ).scalars()
        )


def test_ret5_sto5_backups_are_audited_and_a_restore_destroys_what_came_due_at_once(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    fresh: Callable[[Settings], Instance],
    tmp_path: Path,
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    _, photo = _photo_of(client, instance, alice, "QC", _years_ago(45))
    held_pid, held = _photo_of(client, instance, alice, "QC", _years_ago(45))
    _hold(client, officer, held_pid)
    with instance.unit_of_work() as db:
        sha = db.get(Media, photo).blob_sha256  # type: ignore[union-attr]

    repo = tmp_path / "backups"
    snap = backups.create(instance, repo, SystemClock())
    [made] = _entries(instance, "backup.create")
    said = json.loads(made.details)
    assert made.object_id == snap.snapshot
    assert said["objects"] == snap.objects
    assert said["rows"] == sum(snap.tables.values())
    meta = repo / "snapshots" / snap.snapshot / "backup.json"
    assert said["backup_json_sha256"] == hashlib.sha256(meta.read_bytes()).hexdigest()
    assert said["files_sha256"] == json.loads(meta.read_text())["files"]
    assert backups.verify(instance, repo) == []
    [checked] = _entries(instance, "backup.verify")
    assert json.loads(checked.details)["whole"] is True

    # The photo is destroyed after the snapshot, which still holds it (and its backup key).
    due = _plus(datetime.now(UTC).date(), RULES["QC"]["years_after_last_entry"])
    done = _sweep(instance, due)
    assert photo in {i for p in done.destroyed for _, i in p.items}

    target = fresh(settings)
    report = backups.restore(target, repo, clock=FixedClock.on(due))
    assert report.blobs_skipped == 0  # the snapshot's own ledger still had its key...
    assert report.destroyed_after is not None
    assert photo in {i for p in report.destroyed_after.destroyed for _, i in p.items}
    # ...and yet, as the restore ends, it is gone: row, blob and backup key.
    assert _media_of(target, held_pid)[0].id == held  # held: restored, kept
    with target.unit_of_work() as db:
        assert db.get(Media, photo) is None
        assert db.get(BackupKey, sha) is None
        assert {
            t.status
            for t in db.execute(
                select(RetentionItem).where(RetentionItem.item_id == photo)
            ).scalars()
        } == {"destroyed"}
    assert not _blob(target.settings, sha).exists()
    assert _blob(target.settings, _media_of(target, held_pid)[0].blob_sha256).exists()
    [cert] = [
        e
        for e in _entries(target, "retention.destroy")
        if e.seq in report.destroyed_after.certificates
    ]
    assert json.loads(cert.details)["why"] == sweeper.AFTER_RESTORE
    assert snap.snapshot in json.loads(cert.details)["job"]
    [restored] = _entries(target, "backup.restore")
    assert restored.seq < cert.seq
    assert json.loads(restored.details)["skipped_blobs"] == []
    with target.unit_of_work() as db:
        assert audit.verify(db, target.audit_keys.public_by_id) is None
    with instance.unit_of_work() as db:
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
