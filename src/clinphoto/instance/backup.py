"""Backups that destruction reaches (RET-5, STO-5; decision 012, "Backups").

A backup *repository* is a directory (a mounted volume, an off-site disk) holding:

- ``objects/ab/<sha256>``: each ciphertext blob once, shared by every snapshot that has it,
  *without a header anyone can use*: the blob's age header (its file key wrapped to the
  records key and to the author's devices) is sealed under a random per-blob **backup key**
  (AES-256-GCM), followed by the unchanged age payload. The stock ``age`` CLI with the
  exported records key opens nothing here; neither does a device's key.
- ``snapshots/<id>/``: ``db/<table>.jsonl``, a logical dump of every table but the ledger
  (read in one consistent snapshot: SQLite's online backup API into a private temporary
  copy, PostgreSQL's ``REPEATABLE READ``), with the columns that carry key material (a media
  row's manifest, whose sealed captions are wrapped to the records key; a device grant's
  header) sealed under the blob's backup key too; ``ledger.sealed``, the backup keys of
  every blob of the snapshot, sealed under a **ledger key** made for this snapshot; and
  ``backup.json``, written last, with the SHA-256 of every file.

The ledger keys are kept with the instance keys (``<keys>/backup-ledger/<id>.key``, sealed
by the field keyring, itself under the KEK), never in the repository, and each is destroyed
:data:`~clinphoto.records.models.LEDGER_WINDOW_DAYS` days after its snapshot. The live
ledger (``backup_ledger``) is in the database, excluded from every dump; the retention sweep
deletes a blob's entry in the transaction that destroys it. So after the window no copy of a
destroyed blob's backup key exists anywhere, and each of its backups is ciphertext that no
key opens (crypto-shredding: it reaches copies nobody can find to delete).

A restore reads one snapshot into a fresh, empty instance, with the *newest* ledger copy
whose key is still kept (the freshest word on what was destroyed): a blob that ledger no
longer has is skipped, with the rows that need it; the newest snapshot's tombstones
(``retention_items`` marked destroyed) are replayed, so an older snapshot never brings a
destroyed row back; each blob kept gets its original header back, bit for bit (content
addressing, the hashes in the audit trail and the signatures stay true). Its last step is
the retention sweep's destruction, at once: whatever the snapshot holds whose date has come
and that no hold keeps (a photo destroyed after the snapshot was taken) is destroyed again,
with a certificate that says it follows a restore, before the instance serves anyone.

Each ``create``, ``verify`` and ``restore`` writes an audit entry (``backup.*``): the
snapshot's id, its counts and hashes; a restore's, into the restored instance's trail, with
what was left out because its backup key is gone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import struct
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from clinphoto import crypto
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.crypto import CryptoError
from clinphoto.instance import schema
from clinphoto.instance.keys import _sync_dir, _write_private
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import Clock, SystemClock
from clinphoto.records.models import DESTROYED, LEDGER_WINDOW_DAYS, BackupKey
from clinphoto.storage.db import make_engine
from clinphoto.storage.files import private_dir

FORMAT = "clinphoto-backup-v1"
OBJECT_MAGIC = b"clinphoto-backup-object-v1\n"
LEDGER_DIR = "backup-ledger"
BATCH = 1000
_LEDGER_TABLE = BackupKey.__tablename__
# Columns that carry key material: sealed in a dump under the backup key of the blob named
# by the row (media: its own blob; a device grant: its media's blob).
_SEALED = {("media", "manifest"), ("device_grants", "header")}
# Tables the migrations seed in a new database (the audit chain's genesis head): a restore
# replaces their rows.
_SEEDED = {"audit_head"}
ACTOR = "backup"  # the audit trail's actor for backups, made at the server's console
LISTED = 1000  # ids named in an audit entry at most (the counts are whole)


class BackupError(Exception):
    """A backup cannot be made, checked or restored (the message says why)."""


@dataclass
class BackupReport:
    snapshot: str
    created_at: datetime
    tables: dict[str, int]
    objects: int  # blobs in the snapshot
    objects_written: int  # of which new to the repository
    objects_missing: int  # destroyed between the dump and the copy: left out
    ledger_keys_destroyed: list[str]


@dataclass
class RestoreReport:
    snapshot: str
    ledger_from: str
    rows: dict[str, int] = field(default_factory=dict)
    rows_skipped: dict[str, int] = field(default_factory=dict)
    blobs_restored: int = 0
    blobs_skipped: int = 0  # no backup key left: destroyed after the snapshot
    tombstones_replayed: int = 0
    skipped_blobs: list[str] = field(default_factory=list)
    skipped_media: list[str] = field(default_factory=list)
    destroyed_after: sweeper.SweepReport | None = None  # the sweep that ends the restore


@dataclass(frozen=True)
class Snapshot:
    id: str
    created_at: datetime
    tables: dict[str, int]
    objects: int
    ledger_key_kept: bool
    ledger_key_expires: date


# --- ledger keys: kept with the instance keys, destroyed after the window ----------------


def _ledger_dir(instance: Instance) -> Path:
    return instance.settings.key_dir / LEDGER_DIR


def _store_ledger_key(instance: Instance, snapshot: str, key: bytes, now: datetime) -> None:
    sealed = instance.keys.fields.encrypt(_b64(key), f"backup-ledger-key:{snapshot}")
    doc = {"snapshot": snapshot, "created_at": now.isoformat(), "sealed": _b64(sealed)}
    _write_private(_ledger_dir(instance) / f"{snapshot}.key", json.dumps(doc).encode())


def _ledger_key(instance: Instance, snapshot: str) -> bytes | None:
    path = _ledger_dir(instance) / f"{snapshot}.key"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    token = base64.b64decode(doc["sealed"])
    return base64.b64decode(instance.keys.fields.decrypt(token, f"backup-ledger-key:{snapshot}"))


def expire_ledger_keys(instance: Instance, clock: Clock) -> list[str]:
    """Destroy the ledger keys older than the window; returns their snapshots. After this,
    the blobs those snapshots alone still had keys for are unrecoverable."""
    folder = _ledger_dir(instance)
    if not folder.exists():
        return []
    limit = clock.now() - timedelta(days=LEDGER_WINDOW_DAYS)
    gone = []
    for path in sorted(folder.glob("*.key")):
        made = datetime.fromisoformat(json.loads(path.read_text())["created_at"])
        if made <= limit:
            path.unlink()
            gone.append(path.stem)
    if gone:
        _sync_dir(folder)
    return gone


# --- encodings ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encode(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": _b64(bytes(value))}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if "b" in value:
            return base64.b64decode(value["b"])
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
    return value


def _seal_context(table: str, column: str, row_id: str) -> bytes:
    return f"{FORMAT}:{table}.{column}:{row_id}".encode()


def _object_context(sha: str) -> bytes:
    return f"{FORMAT}:object:{sha}".encode()


def _blob_of(rec: dict[str, Any], sha_of: dict[str, str]) -> str:
    """The blob whose backup key seals a row's sealed columns: a media row's own, a device
    grant's media's."""
    return str(rec["blob_sha256"]) if "blob_sha256" in rec else sha_of[rec["media_id"]]


def _object_path(repo: Path, sha: str) -> Path:
    return repo / "objects" / sha[:2] / sha


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the live ledger ------------------------------------------------------------------------


def _ledger_aad(sha: str) -> str:
    return f"backup_ledger.key_ct:{sha}"


def enroll_blobs(db: Session, instance: Instance, clock: Clock) -> int:
    """Give every stored blob that has none a backup key in the live ledger."""
    missing = list(
        db.execute(
            select(Media.blob_sha256)
            .where(~select(BackupKey.blob_sha256).where(
                BackupKey.blob_sha256 == Media.blob_sha256).exists())
            .distinct()
        ).scalars()
    )  # fmt: skip
    now = clock.now()
    fields = instance.keys.fields
    for i in range(0, len(missing), BATCH):
        db.execute(
            insert(BackupKey),
            [
                {"blob_sha256": sha, "created_at": now,
                 "key_ct": fields.encrypt(_b64(secrets.token_bytes(32)), _ledger_aad(sha))}
                for sha in missing[i : i + BATCH]
            ],
        )  # fmt: skip
    return len(missing)


# --- create ---------------------------------------------------------------------------------


@contextmanager
def _consistent_read(instance: Instance) -> Iterator[Connection]:
    """One read-consistent view of the whole database, held briefly on the live one."""
    engine = instance.engine
    if engine.dialect.name != "sqlite":
        read = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with read as conn, conn.begin():
            yield conn
        return
    # SQLite: the online backup API copies the database in one step under a read lock; the
    # dump then reads the private copy while the server goes on writing.
    folder = private_dir(instance.settings.data_dir / "backup-tmp")
    fd, name = tempfile.mkstemp(dir=folder, suffix=".sqlite3")
    os.close(fd)
    copy: Engine | None = None
    try:
        raw = engine.raw_connection()
        try:
            dst = sqlite3.connect(name)
            try:
                raw.driver_connection.backup(dst)  # type: ignore[union-attr]
            finally:
                dst.close()
        finally:
            raw.close()
        copy = make_engine(f"sqlite:///{name}")
        with copy.connect() as conn:
            yield conn
    finally:
        if copy is not None:
            copy.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


class _Keys:
    """Backup keys read from the live ledger (field-encrypted), or made for a blob stored
    after the ledger was brought up to date (recorded in the live ledger after the dump)."""

    def __init__(self, instance: Instance, conn: Connection) -> None:
        self._fields = instance.keys.fields
        rows = conn.execute(select(BackupKey.blob_sha256, BackupKey.key_ct))
        self._sealed: dict[str, bytes] = {r.blob_sha256: r.key_ct for r in rows}
        self.used: dict[str, bytes] = {}
        self.late: dict[str, bytes] = {}

    def key(self, sha: str) -> bytes:
        found = self.used.get(sha)
        if found is not None:
            return found
        ct = self._sealed.get(sha)
        if ct is None:
            key = self.late[sha] = secrets.token_bytes(32)
        else:
            key = base64.b64decode(self._fields.decrypt(ct, _ledger_aad(sha)))
        self.used[sha] = key
        return key


def _seal_value(value: str | bytes, key: bytes, ctx: bytes) -> dict[str, object]:
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return {"s": _b64(crypto.wrap_key(key, raw, ctx)), "text": isinstance(value, str)}


def _dump(conn: Connection, keys: _Keys, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    media_sha: dict[str, str] = {}
    private_dir(folder)
    for table in schema.metadata.sorted_tables:
        if table.name == _LEDGER_TABLE:
            continue
        sealed = [col for tname, col in _SEALED if tname == table.name]
        n = 0
        with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as fh:
            result = conn.execution_options(yield_per=BATCH).execute(select(table))
            for row in result.mappings():
                rec = dict(row)
                if table.name == "media":
                    media_sha[rec["id"]] = rec["blob_sha256"]
                for col in sealed:
                    if rec[col] is None:
                        continue
                    sha = (
                        rec["blob_sha256"] if table.name == "media" else media_sha[rec["media_id"]]
                    )
                    ctx = _seal_context(table.name, col, str(rec["id"]))
                    rec[col] = _seal_value(rec[col], keys.key(sha), ctx)
                fh.write(json.dumps({k: _encode(v) for k, v in rec.items()}) + "\n")
                n += 1
        counts[table.name] = n
    return counts


def _copy_object(instance: Instance, repo: Path, sha: str, key: bytes) -> str:
    """The blob into the repository, its header sealed under its backup key: ``written``,
    ``present`` (another snapshot has it) or ``missing`` (destroyed since the dump)."""
    from clinphoto.storage.blobs import BlobError

    dest = _object_path(repo, sha)
    if dest.exists():
        return "present"
    try:
        chunks = iter(instance.blobs.open(sha))
    except BlobError:
        return "missing"
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) > crypto.MAX_AGE_HEADER_BYTES:
            break
    header, rest = crypto.split_age(head)
    sealed = crypto.wrap_key(key, header, _object_context(sha))
    private_dir(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(OBJECT_MAGIC + struct.pack(">I", len(sealed)) + sealed + rest)
        for chunk in chunks:
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest)
    return "written"


def _revision(conn: Connection) -> str:
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def create(instance: Instance, repo: Path, clock: Clock) -> BackupReport:
    """Take a snapshot of the instance into the repository ``repo`` (created if new)."""
    now = clock.now()
    snapshot = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
    destroyed = expire_ledger_keys(instance, clock)
    with instance.unit_of_work() as db:
        enroll_blobs(db, instance, clock)
    private_dir(repo / "objects")
    folder = private_dir(repo / "snapshots" / snapshot)
    with _consistent_read(instance) as conn:
        keys = _Keys(instance, conn)
        counts = _dump(conn, keys, folder / "db")
        revision = _revision(conn)
        dialect = conn.dialect.name
    if keys.late:
        _record_late_keys(instance, keys.late, now)
    written = missing = 0
    for sha in sorted(keys.used):
        outcome = _copy_object(instance, repo, sha, keys.used[sha])
        written += outcome == "written"
        missing += outcome == "missing"
    (folder / "objects.txt").write_text("".join(f"{sha}\n" for sha in sorted(keys.used)))
    ledger_key = secrets.token_bytes(32)
    ledger = json.dumps({sha: _b64(k) for sha, k in sorted(keys.used.items())}).encode()
    _write_private(
        folder / "ledger.sealed",
        crypto.wrap_key(ledger_key, ledger, f"{FORMAT}:ledger:{snapshot}".encode()),
    )
    _store_ledger_key(instance, snapshot, ledger_key, now)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    meta = {
        "format": FORMAT,
        "snapshot": snapshot,
        "created_at": now.isoformat(),
        "database": dialect,
        "alembic_revision": revision,
        "tables": counts,
        "objects": len(keys.used),
        "ledger_window_days": LEDGER_WINDOW_DAYS,
        "files": {str(p.relative_to(folder)): _sha256_file(p) for p in files},
    }
    _write_private(folder / "backup.json", json.dumps(meta, indent=1).encode())  # commit point
    _audit(
        instance,
        Action.BACKUP_CREATE,
        snapshot,
        {
            "created_at": now.isoformat(),
            "rows": sum(counts.values()),
            "tables": counts,
            "objects": len(keys.used),
            "objects_written": written,
            "objects_missing": missing,
            "ledger_keys_destroyed": destroyed,
            "backup_json_sha256": _sha256_file(folder / "backup.json"),
            "files_sha256": meta["files"],
        },
    )
    return BackupReport(snapshot, now, counts, len(keys.used), written, missing, destroyed)


def _audit(instance: Instance, action: Action, snapshot: str, details: dict[str, Any]) -> None:
    """One backup entry in the instance's trail (ids, counts and hashes: no patient data)."""
    with instance.unit_of_work() as db:
        audit.log(
            db,
            action=action,
            actor=ACTOR,
            object_type="backup_snapshot",
            object_id=snapshot[:64],
            details=details,
        )


def _record_late_keys(instance: Instance, late: dict[str, bytes], now: datetime) -> None:
    """Blobs stored during the dump: their keys enter the live ledger, unless destroyed
    meanwhile (a key for a destroyed blob must not outlive it)."""
    fields = instance.keys.fields
    with instance.unit_of_work() as db:
        alive = set(
            db.execute(select(Media.blob_sha256).where(Media.blob_sha256.in_(list(late)))).scalars()
        )
        have = set(
            db.execute(
                select(BackupKey.blob_sha256).where(BackupKey.blob_sha256.in_(list(alive)))
            ).scalars()
        )
        rows = [
            {"blob_sha256": sha, "created_at": now,
             "key_ct": fields.encrypt(_b64(late[sha]), _ledger_aad(sha))}
            for sha in sorted(alive - have)
        ]  # fmt: skip
        if rows:
            db.execute(insert(_ledger_table()), rows)


def _ledger_table() -> Table:
    table = BackupKey.__table__
    assert isinstance(table, Table)
    return table


# --- list and verify ------------------------------------------------------------------------


def _meta(repo: Path, snapshot: str) -> dict[str, Any]:
    path = repo / "snapshots" / snapshot / "backup.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"no complete snapshot {snapshot!r} in {repo}") from None
    if meta.get("format") != FORMAT:
        raise BackupError(f"{path} is not a {FORMAT} snapshot")
    return meta


def snapshot_ids(repo: Path) -> list[str]:
    """The complete snapshots of a repository, oldest first (a snapshot without its
    ``backup.json`` was interrupted and is not one)."""
    folder = repo / "snapshots"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "backup.json").exists())


def list_snapshots(instance: Instance, repo: Path) -> list[Snapshot]:
    out = []
    for sid in snapshot_ids(repo):
        meta = _meta(repo, sid)
        made = datetime.fromisoformat(meta["created_at"])
        out.append(
            Snapshot(
                sid,
                made,
                dict(meta["tables"]),
                int(meta["objects"]),
                (_ledger_dir(instance) / f"{sid}.key").exists(),
                (made + timedelta(days=LEDGER_WINDOW_DAYS)).date(),
            )
        )
    return out


def _open_ledger(repo: Path, snapshot: str, key: bytes) -> dict[str, bytes]:
    sealed = (repo / "snapshots" / snapshot / "ledger.sealed").read_bytes()
    raw = crypto.unwrap_key(key, sealed, f"{FORMAT}:ledger:{snapshot}".encode())
    return {sha: base64.b64decode(k) for sha, k in json.loads(raw).items()}


def _read_object(repo: Path, sha: str, key: bytes) -> Iterator[bytes]:
    """A repository object as the original age file: its header unsealed, then the payload."""
    with _object_path(repo, sha).open("rb") as fh:
        if fh.read(len(OBJECT_MAGIC)) != OBJECT_MAGIC:
            raise BackupError(f"object {sha} is not a backup object")
        (size,) = struct.unpack(">I", fh.read(4))
        yield crypto.unwrap_key(key, fh.read(size), _object_context(sha))
        yield from iter(lambda: fh.read(1 << 20), b"")


def verify(instance: Instance, repo: Path, snapshot: str | None = None) -> list[str]:
    """Problems with a snapshot (the newest by default): files changed or missing, objects
    missing, and, while its ledger key is kept, objects that do not open to their hash.
    Empty: the snapshot is whole. Audited, whole or not."""
    ids = snapshot_ids(repo)
    sid = snapshot or (ids[-1] if ids else None)
    if sid is None:
        return [f"no snapshot in {repo}"]
    problems = _problems(instance, repo, sid)
    meta_path = repo / "snapshots" / sid / "backup.json"
    _audit(
        instance,
        Action.BACKUP_VERIFY,
        sid,
        {
            "whole": not problems,
            "problems": len(problems),
            "listed": problems[:LISTED],
            "ledger_key_kept": _ledger_key(instance, sid) is not None,
            "backup_json_sha256": _sha256_file(meta_path) if meta_path.exists() else None,
        },
    )
    return problems


def _problems(instance: Instance, repo: Path, sid: str) -> list[str]:
    meta = _meta(repo, sid)
    folder = repo / "snapshots" / sid
    problems = [
        f"{name}: changed or missing"
        for name, digest in meta["files"].items()
        if not (folder / name).exists() or _sha256_file(folder / name) != digest
    ]
    if problems:
        return problems
    key = _ledger_key(instance, sid)
    ledger = _open_ledger(repo, sid, key) if key is not None else None
    for sha in (folder / "objects.txt").read_text().split():
        if not _object_path(repo, sha).exists():
            problems.append(f"object {sha}: missing (destroyed before it was copied?)")
        elif ledger is not None:
            digest = hashlib.sha256()
            try:
                for chunk in _read_object(repo, sha, ledger[sha]):
                    digest.update(chunk)
            except (CryptoError, BackupError, KeyError):
                problems.append(f"object {sha}: does not open with its backup key")
                continue
            if digest.hexdigest() != sha:
                problems.append(f"object {sha}: does not match its hash")
    return problems


# --- restore --------------------------------------------------------------------------------


def _rows(repo: Path, snapshot: str, table: str) -> Iterator[dict[str, Any]]:
    path = repo / "snapshots" / snapshot / "db" / f"{table}.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _tombstones(repo: Path, snapshot: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r["kind"], r["item_id"]): r
        for r in _rows(repo, snapshot, "retention_items")
        if r["status"] == DESTROYED
    }


def _gone_media(
    repo: Path, snapshot: str, ledger: dict[str, bytes], tomb: Iterable[tuple[str, str]]
) -> tuple[set[str], dict[str, str]]:
    """Media of the snapshot that must not come back: destroyed since (a tombstone), with no
    backup key left, or derived from one of those. Also every media id's blob."""
    destroyed = {i for k, i in tomb if k == "media"}
    sha_of: dict[str, str] = {}
    parent: dict[str, str | None] = {}
    for r in _rows(repo, snapshot, "media"):
        sha_of[r["id"]] = r["blob_sha256"]
        parent[r["id"]] = r["derived_from"]
    gone = {m for m, sha in sha_of.items() if m in destroyed or sha not in ledger}
    grew = True
    while grew:
        more = {m for m, p in parent.items() if p in gone and m not in gone}
        gone |= more
        grew = bool(more)
    return gone, sha_of


def _target_is_empty(target: Instance) -> None:
    with target.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name in _SEEDED:
                continue
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                raise BackupError(
                    f"the instance to restore into is not empty ({table.name} has rows): "
                    "restore into a fresh data directory"
                )


def restore(
    target: Instance, repo: Path, snapshot: str | None = None, clock: Clock | None = None
) -> RestoreReport:
    """Restore a snapshot (the newest by default) into ``target``, a fresh instance holding
    the same instance keys (and the ledger keys kept with them) but no data; then destroy at
    once what is due and not held (on ``clock``'s day), as the retention sweep would."""
    clock = clock or SystemClock()
    ids = snapshot_ids(repo)
    sid = snapshot or (ids[-1] if ids else None)
    if sid is None:
        raise BackupError(f"no snapshot in {repo}")
    meta = _meta(repo, sid)
    problems = [p for p in _problems(target, repo, sid) if not p.startswith("object ")]
    if problems:
        raise BackupError(f"snapshot {sid} is damaged: {'; '.join(problems[:5])}")
    _target_is_empty(target)
    with target.engine.connect() as conn:
        if _revision(conn) != meta["alembic_revision"]:
            raise BackupError(
                f"snapshot {sid} is of schema {meta['alembic_revision']}, this instance of "
                f"{_revision(conn)}: restore with the release that made it"
            )
    # The newest ledger copy still kept is the freshest word on what was destroyed.
    ledger_from = next(
        (c for c in reversed(ids) if c >= sid and _ledger_key(target, c) is not None), None
    )
    if ledger_from is None:
        raise BackupError(
            f"snapshot {sid}: no ledger key kept for it or any later snapshot (they are "
            f"destroyed {LEDGER_WINDOW_DAYS} days after their snapshot): its objects are "
            "unrecoverable, by design"
        )
    key = _ledger_key(target, ledger_from)
    assert key is not None
    ledger = _open_ledger(repo, ledger_from, key)
    tomb = _tombstones(repo, sid) | _tombstones(repo, ledger_from)
    gone, sha_of = _gone_media(repo, sid, ledger, tomb)
    report = RestoreReport(sid, ledger_from)
    # Blobs first: each kept one whole, with its original header (and hash) again.
    restored: set[str] = set()
    for sha in sorted({sha_of[m] for m in sha_of if m not in gone}):
        if not _object_path(repo, sha).exists():
            continue  # destroyed before the backup copied it
        target.blobs.put_stream(_read_object(repo, sha, ledger[sha]), max_bytes=1 << 40,
                                expect_sha256=sha)  # fmt: skip
        restored.add(sha)
    gone |= {m for m, sha in sha_of.items() if sha not in restored}
    report.blobs_restored = len(restored)
    report.blobs_skipped = len({sha_of[m] for m in gone})
    report.skipped_blobs = sorted({sha_of[m] for m in gone})
    report.skipped_media = sorted(gone)
    skipped: dict[str, set[str]] = {
        "media": gone,
        "shares": {i for k, i in tomb if k == "share"},
        "consents": {i for k, i in tomb if k == "consent"},
    }
    with target.engine.begin() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name == _LEDGER_TABLE:
                continue
            if table.name in _SEEDED:
                conn.execute(table.delete())
            if table.name == "retention_items":
                report.tombstones_replayed = _restore_items(conn, table, repo, sid, tomb)
                continue
            done, dropped = _restore_table(conn, table, _rows(repo, sid, table.name),
                                           skipped, ledger, sha_of)  # fmt: skip
            report.rows[table.name] = done
            if dropped:
                report.rows_skipped[table.name] = dropped
        fields = target.keys.fields
        now = clock.now()
        rows = [
            {"blob_sha256": sha, "created_at": now,
             "key_ct": fields.encrypt(_b64(ledger[sha]), _ledger_aad(sha))}
            for sha in sorted(restored)
        ]  # fmt: skip
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(_ledger_table()), rows[i : i + BATCH])
    _audit(
        target,
        Action.BACKUP_RESTORE,
        sid,
        {
            "ledger_from": ledger_from,
            "rows": sum(report.rows.values()),
            "rows_skipped": report.rows_skipped,
            "blobs_restored": report.blobs_restored,
            "blobs_skipped": report.blobs_skipped,
            "tombstones_replayed": report.tombstones_replayed,
            # Left out: no backup key for them in the newest ledger kept (destroyed since).
            "skipped_blobs": report.skipped_blobs[:LISTED],
            "skipped_media": report.skipped_media[:LISTED],
            "backup_json_sha256": _sha256_file(repo / "snapshots" / sid / "backup.json"),
        },
    )
    # Last: what was destroyed after the snapshot (and so is in it) goes again at once.
    report.destroyed_after = sweeper.sweep(
        target.unit_of_work,
        keys=target.keys.fields,
        blobs=target.blobs,
        clock=clock,
        federal=target.settings.retention_federal,
        job=f"{sweeper.JOB}/after-restore-{sid}"[:64],
        why=sweeper.AFTER_RESTORE,
    )
    return report


def _restore_items(
    conn: Connection,
    table: Table,
    repo: Path,
    sid: str,
    tomb: dict[tuple[str, str], dict[str, Any]],
) -> int:
    """The snapshot's schedule, with every later tombstone in place of its row (and the
    tombstones of items the snapshot never saw)."""
    replayed = 0
    seen: set[tuple[str, str]] = set()
    batch: list[dict[str, Any]] = []
    for rec in _rows(repo, sid, "retention_items"):
        ref = (rec["kind"], rec["item_id"])
        seen.add(ref)
        if ref in tomb and rec["status"] != DESTROYED:
            rec = tomb[ref]
            replayed += 1
        batch.append(rec)
    batch += [rec for ref, rec in tomb.items() if ref not in seen]
    replayed += len(tomb) - len(tomb.keys() & seen)
    rows = [{k: _decode(v) for k, v in r.items()} for r in batch]
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])
    return replayed


def _restore_table(
    conn: Connection,
    table: Table,
    records: Iterable[dict[str, Any]],
    skipped: dict[str, set[str]],
    ledger: dict[str, bytes],
    sha_of: dict[str, str],
) -> tuple[int, int]:
    """Insert a table's rows, leaving out those that need a row left out (a non-null
    foreign key to it; a nullable one is emptied), and, in a table that refers to itself,
    each row after the row it names."""
    pk = [c.name for c in table.primary_key.columns]
    own = skipped.setdefault(table.name, set())
    fks = [
        (c.name, fk.column.table.name, c.nullable)
        for c in table.columns
        for fk in c.foreign_keys
        if len(fk.column.table.primary_key.columns) == 1
    ]
    self_refs = [name for name, ref, _ in fks if ref == table.name]
    sealed = [col for tname, col in _SEALED if tname == table.name]
    done = dropped = 0
    pending = list(records)
    inserted: set[str] = set()
    while pending:
        later: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []
        for rec in pending:
            key = str(rec[pk[0]]) if len(pk) == 1 else None
            if key is not None and key in own:
                dropped += 1
                continue
            if any(rec[c] is not None and rec[c] not in inserted and rec[c] not in own
                   for c in self_refs):  # fmt: skip
                later.append(rec)
                continue
            drop = False
            for col, ref, nullable in fks:
                if rec[col] is not None and rec[col] in skipped.get(ref, ()):
                    if nullable and ref != table.name:
                        rec[col] = None
                    else:
                        drop = True
            if drop:
                if key is not None:
                    own.add(key)
                dropped += 1
                continue
            for col in sealed:
                value = rec[col]
                if isinstance(value, dict) and "s" in value:
                    ctx = _seal_context(table.name, col, str(rec["id"]))
                    bkey = ledger[_blob_of(rec, sha_of)]
                    raw = crypto.unwrap_key(bkey, base64.b64decode(value["s"]), ctx)
                    rec[col] = raw.decode("utf-8") if value.get("text") else raw
            batch.append({k: _decode(v) for k, v in rec.items()})
            if key is not None:
                inserted.add(key)
        for i in range(0, len(batch), BATCH):
            conn.execute(insert(table), batch[i : i + BATCH])
        done += len(batch)
        if len(later) == len(pending):  # a cycle or a dangling reference: cannot be placed
            raise BackupError(f"{table.name}: {len(later)} rows refer to rows not in the backup")
        pending = later
    return done, dropped
