"""``clinphoto backup``: backups that the retention sweep's destruction reaches (RET-5, STO-5;
decision 012, "Backups"), run on the server next to its data.

A backup repository is a directory (a mounted volume, an off-site disk). Each ``create``
adds a snapshot: a logical dump of the database and every ciphertext blob not already in the
repository, each blob's header sealed under its own backup key; the keys go into a ledger
copy sealed under a ledger key that stays in ``<data>/keys/backup-ledger`` and is destroyed
35 days later. Like the rest of the CLI it starts light: the server side is imported inside
each command's body.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from clinphoto.instance.runtime import Instance

backup = typer.Typer(
    help="Backups of the database and the blob store, made so that destruction at the end "
    "of retention reaches them (run on the server).",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()
T = TypeVar("T")

Repo = Annotated[
    Path,
    typer.Argument(help="The backup repository: a directory, created by the first backup."),
]
SnapshotOpt = Annotated[
    str | None, typer.Option("--snapshot", help="A snapshot's id (default: the newest).")
]


def _with_instance(ctx: typer.Context, work: Callable[[Instance], T]) -> T:
    """Run ``work`` on the instance, closed after; a backup's refusal stops with exit 2."""
    from clinphoto.cli.main import _open, _settings
    from clinphoto.instance.backup import BackupError

    inst = _open(_settings(ctx))
    try:
        return work(inst)
    except BackupError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        inst.close()


@backup.command("create")
def create(ctx: typer.Context, repo: Repo) -> None:
    """Add a snapshot of this instance to REPO (audited: its id, counts and hashes).

    Destroys, first, the ledger keys older than 35 days: run it daily (cron, a systemd
    timer) so that a destroyed photo is unrecoverable from every backup 35 days on.

    Example: clinphoto --data-dir /srv/clinphoto backup create /mnt/backup/clinphoto
    """
    from clinphoto.instance import backup as backups
    from clinphoto.records.clock import SystemClock

    report = _with_instance(ctx, lambda inst: backups.create(inst, repo, SystemClock()))
    rows = sum(report.tables.values())
    out.print(
        f"snapshot {report.snapshot}: {rows} rows in {len(report.tables)} tables, "
        f"{report.objects} blobs ({report.objects_written} new to the repository"
        + (f", {report.objects_missing} destroyed meanwhile" if report.objects_missing else "")
        + ")"
    )
    for sid in report.ledger_keys_destroyed:
        out.print(f"ledger key of snapshot {sid} destroyed (older than 35 days)")


@backup.command("list")
def list_(ctx: typer.Context, repo: Repo) -> None:
    """The snapshots in REPO, and whether their ledger key is still kept.

    Without it the snapshot's objects open with no key: by design, after 35 days.

    Example: clinphoto backup list /mnt/backup/clinphoto
    """
    from clinphoto.instance import backup as backups

    snaps = _with_instance(ctx, lambda inst: backups.list_snapshots(inst, repo))
    table = Table("snapshot", "taken", "rows", "blobs", "ledger key")
    for s in snaps:
        kept = f"kept until {s.ledger_key_expires}" if s.ledger_key_kept else "destroyed"
        table.add_row(
            s.id, s.created_at.isoformat(timespec="seconds"), str(sum(s.tables.values())),
            str(s.objects), kept,
        )  # fmt: skip
    out.print(table)


@backup.command("verify")
def verify(ctx: typer.Context, repo: Repo, snapshot: SnapshotOpt = None) -> None:
    """Check a snapshot; exit 1 if anything is wrong.

    Every file against its recorded SHA-256, every blob present and, while the ledger key is
    kept, opening to its own hash. Audited, whole or not.

    Example: clinphoto backup verify /mnt/backup --snapshot 20261130T020000000000Z-1a2b3c4d
    """
    from clinphoto.instance import backup as backups

    problems = _with_instance(ctx, lambda inst: backups.verify(inst, repo, snapshot))
    for p in problems:
        err.print(f"[red]problem:[/] {p}")
    if problems:
        raise typer.Exit(1)
    out.print("snapshot whole")


@backup.command("restore")
def restore(ctx: typer.Context, repo: Repo, snapshot: SnapshotOpt = None) -> None:
    """Restore a snapshot into this instance, which must be fresh.

    The instance is `clinphoto init`'s, with its keys replaced by the instance's own keys
    directory, restored from its key backup; and no data.

    Blobs destroyed after the snapshot (no backup key in the newest ledger kept) are left
    out with every row that needs them, and the newest snapshot's tombstones are replayed:
    a restore never brings back what the retention sweep destroyed. Last, whatever is due
    and not held is destroyed at once, with a certificate saying it follows a restore.
    Audited in the restored instance's trail.

    Example: clinphoto --data-dir /srv/clinphoto-new backup restore /mnt/backup/clinphoto
    """
    from clinphoto.instance import backup as backups
    from clinphoto.records.clock import SystemClock

    report = _with_instance(
        ctx, lambda inst: backups.restore(inst, repo, snapshot, clock=SystemClock())
    )
    out.print(
        f"restored snapshot {report.snapshot} (ledger of {report.ledger_from}): "
        f"{sum(report.rows.values())} rows, {report.blobs_restored} blobs; left out as "
        f"destroyed: {report.blobs_skipped} blobs, {sum(report.rows_skipped.values())} rows; "
        f"{report.tombstones_replayed} tombstones replayed"
    )
    swept = report.destroyed_after
    if swept is not None:
        out.print(
            f"due and not held, destroyed at once: {len(swept.destroyed)} famil(ies), "
            f"{swept.items} item(s)"
            + (
                f"; certificates {', '.join(map(str, swept.certificates))}"
                if swept.certificates
                else ""
            )
        )
