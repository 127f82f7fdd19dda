"""Use cases of the instance itself: key rotation, field rewrap, records-key export (STO-1).

Each asks the access policy (the operator at the server's console is the instance's subject,
``Subject.system("cli")``) and writes its audit entry. Each also keeps its audit entry and
its effect on disk consistent across a crash:

- **Rotation**: the new keyring is staged in a pending file, the audit entry is committed,
  then the pending file is renamed over the keys file. A crash before the commit leaves a
  pending file with no entry, which the next start-up (:func:`resolve_staged_rotation`, run
  by ``open_instance``) discards; a crash after it leaves a pending file with its entry,
  which start-up promotes. So a rotation is in use if and only if its entry committed. A
  lock file keeps a start-up from resolving a rotation that is still being staged.
- **Rewrap**: re-sealing every field under the new primary key, in small transactions, while
  the server keeps answering (it reloads the keys file when it changes, see
  ``keys.KeyStore``). Resumable; its entry says how many fields it re-sealed and how many
  are left.
- **Records-key export**: the file is created empty first (so a path that cannot be written
  is refused before anything happens), the entry is committed, and only then is the key
  written. The key is never on disk without its entry; a crash between the two leaves an
  entry for an export whose file is empty, and a write that fails is followed by a second
  entry, ``failed``, and the file is removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from clinphoto import policy
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.audit.service import Action
from clinphoto.core.config import Settings
from clinphoto.instance import keys as instance_keys
from clinphoto.instance import rewrap
from clinphoto.policy import Act, ObjectKind, Resource, Subject

if TYPE_CHECKING:
    from clinphoto.instance.runtime import Instance

OPERATOR = "cli"
_INSTANCE = Resource(ObjectKind.INSTANCE)


def _authorize(db: Any, actor: str, action: Action) -> policy.Grant:
    return policy.authorize(db, Subject.system(actor), Act.ADMINISTER, _INSTANCE, action=action)


# --- rotation -----------------------------------------------------------------------------


def _rotation_audited(sessions: sessionmaker[Any], rotation_id: str) -> bool:
    if not rotation_id:
        return False
    with sessions() as db:
        found = db.execute(
            select(AuditEntry.seq)
            .where(
                AuditEntry.action == Action.KEYS_ROTATE.value,
                AuditEntry.object_id == rotation_id,
            )
            .limit(1)
        ).first()
    return found is not None


def _resolve_locked(settings: Settings, sessions: sessionmaker[Any]) -> str | None:
    staged = instance_keys.staged_rotation(settings)
    if staged is None:
        return None
    if _rotation_audited(sessions, staged.rotation_id):
        instance_keys.promote_rotation(settings, staged)
        return "promoted"
    instance_keys.discard_rotation(settings)
    return "discarded"


def resolve_staged_rotation(settings: Settings, sessions: sessionmaker[Any]) -> str | None:
    """Finish a rotation a crash left staged: "promoted" when its audit entry committed,
    "discarded" when it did not, None when there was none."""
    if instance_keys.staged_rotation(settings) is None:
        return None  # the common case: no lock taken
    with instance_keys.rotation_lock(settings):
        return _resolve_locked(settings, sessions)


def audit_rotation(
    inst: Instance, staged: instance_keys.StagedRotation, *, actor: str = OPERATOR
) -> None:
    """Commit the audit entry of a staged rotation (the rotation's commit point)."""
    with inst.unit_of_work() as db:
        grant = _authorize(db, actor, Action.KEYS_ROTATE)
        grant.record(
            db,
            object_type="keyring",
            object_id=staged.rotation_id,
            details={"field_primary": staged.field_primary},
        )


def rotate_field_key(inst: Instance, *, actor: str = OPERATOR) -> str:
    """Add a new primary field key (stage, audit, promote); returns its id.

    From the promotion on, every process using the instance (a running server included)
    seals new fields with it; :func:`rewrap_fields` re-seals the existing ones.
    """
    settings = inst.settings
    with instance_keys.rotation_lock(settings):
        _resolve_locked(settings, inst.sessions)
        staged = instance_keys.stage_field_key_rotation(settings)
        try:
            audit_rotation(inst, staged, actor=actor)
        except BaseException:
            # Whether the commit landed decides, as at start-up; unknown: left for start-up.
            with contextlib.suppress(Exception):  # the database is gone: start-up resolves
                _resolve_locked(settings, inst.sessions)
            raise
        instance_keys.promote_rotation(settings, staged)
    return staged.field_primary


# --- rewrap -------------------------------------------------------------------------------


def fields_to_rewrap(inst: Instance) -> int:
    """How many fields are still sealed under a key other than the primary."""
    with inst.unit_of_work() as db:
        return rewrap.pending(db, inst.keys.fields)


def rewrap_fields(
    inst: Instance,
    *,
    actor: str = OPERATOR,
    progress: Callable[[int], None] | None = None,
    passes: int = 3,
) -> rewrap.RewrapReport:
    """Re-seal every field under the primary key, audited; safe while the server runs.

    A field another process sealed under the old key just before it saw the rotation is
    caught by a further pass (up to ``passes``); what is still left is reported, and
    ``admin rewrap-fields`` picks it up later.
    """
    keys = inst.keys.fields
    report = rewrap.RewrapReport()
    for _ in range(passes):
        done = rewrap.rewrap_fields(inst.unit_of_work, keys, progress=progress)
        report.examined += done.examined
        report.rewrapped += done.rewrapped
        report.skipped_changed += done.skipped_changed
        with inst.unit_of_work() as db:
            report.left = rewrap.pending(db, keys)
        if report.left == 0:
            break
        progress = None  # the bar counts the first pass
    with inst.unit_of_work() as db:
        grant = _authorize(db, actor, Action.KEYS_REWRAP)
        grant.record(
            db,
            object_type="keyring",
            details={
                "field_primary": keys.primary,
                "rewrapped": report.rewrapped,
                "skipped_changed": report.skipped_changed,
                "left": report.left,
            },
        )
    return report


# --- records-key export -------------------------------------------------------------------


def begin_records_key_export(inst: Instance, out: Path, *, actor: str = OPERATOR) -> int:
    """Create ``out`` (empty) and commit the export's audit entry; returns the open file.

    Refuses an existing or unwritable path before anything is audited. If the entry cannot
    be committed, the empty file is removed and nothing is exported.
    """
    fd = instance_keys.create_private_file(out)
    try:
        with inst.unit_of_work() as db:
            grant = _authorize(db, actor, Action.RECORDS_KEY_EXPORT)
            grant.record(db, object_type="records_key", details={"file": out.name})
    except BaseException:
        os.close(fd)
        out.unlink(missing_ok=True)
        raise
    return fd


def finish_records_key_export(inst: Instance, out: Path, fd: int, *, actor: str = OPERATOR) -> str:
    """Write the key into the file begun by :func:`begin_records_key_export`; returns the
    records recipient. A failed write removes the file and is audited as failed."""
    try:
        return instance_keys.write_records_key(inst.keys, fd)
    except BaseException as exc:
        out.unlink(missing_ok=True)
        with inst.unit_of_work() as db:
            audit.log(
                db,
                action=Action.RECORDS_KEY_EXPORT,
                outcome=audit.Outcome.FAILED,
                actor=actor,
                object_type="records_key",
                details={
                    "file": out.name,
                    "error": type(exc).__name__,
                    "note": "the key file could not be written and was removed",
                },
            )
        raise


def export_records_key(inst: Instance, out: Path, *, actor: str = OPERATOR) -> str:
    """Write the records key as an age identity file (disaster recovery), audited first;
    returns the records recipient. With it the stock ``age -d -i FILE`` opens any media."""
    fd = begin_records_key_export(inst, out, actor=actor)
    return finish_records_key_export(inst, out, fd, actor=actor)
