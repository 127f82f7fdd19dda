"""``clinphoto breach``: the breach register at the server's console, for batch work and
scripts (BRE-1 to BRE-6; decision 014). The same use cases as the HTTP API.

Every command acts for the account named by ``--as`` (a privacy officer, or for ``report``
and ``list`` any user): the access policy decides, and the audit trail records who asked,
as over HTTP. The server's operator alone handles no breach.

Like the rest of the CLI, it starts light: what a command needs from the server side is
imported inside its body (tests/unit/test_cli_startup.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clinphoto.cli.records import _clock, _fail, _instance, _officer
from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from clinphoto.instance.runtime import Instance

breach = typer.Typer(
    help="The breach register: report a problem, see what could have been exposed, take it "
    "through its steps, notify and print letters (run on the server).",
    no_args_is_help=True,
)

err = Console(stderr=True)
out = Console()

AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        help="The account acting (its email): a privacy officer, or the reporter; audited.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run(ctx: typer.Context, email: str, work: Any) -> Any:
    inst: Instance = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            return work(inst, db, _officer(db, email))
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()


def _lock(inst: Instance) -> int:
    return inst.settings.lock_after_seconds


@breach.command("report")
def report(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            help="lost_device, stolen_device, misdirected_share, shown_by_accident or other."
        ),
    ],
    as_user: AsUser,
    device: Annotated[str | None, typer.Option(help="The lost or stolen device's id.")] = None,
    share: Annotated[str | None, typer.Option(help="The misdirected share's id.")] = None,
    occurred: Annotated[
        str | None, typer.Option(help="When it happened (ISO 8601 with offset), if known.")
    ] = None,
    description: Annotated[str, typer.Option(help="What happened (stored encrypted).")] = "",
) -> None:
    """Report a problem: a lost or stolen device, a misdirected share (BRE-2).

    A lost or stolen device is revoked at once and told to wipe at its next contact; a
    misdirected share is recalled at once.

    Example: clinphoto breach report lost_device --device 0d3f6c1e... --as po@chu.example

    Example: clinphoto breach report misdirected_share --share 1f1f... --as a.roy@chu.example
    """
    from clinphoto.breaches import service

    when = datetime.fromisoformat(occurred) if occurred else None

    def work(inst: Instance, db: Any, subject: Any) -> str:
        found = service.report(
            db,
            subject=subject,
            keys=inst.keys.fields,
            clock=_clock(),
            kind=kind,
            device_id=device,
            share_id=share,
            occurred_at=when,
            description=description,
        )
        return found.id

    breach_id = _run(ctx, as_user, work)
    out.print(f"reported: breach {breach_id}")
    if device:
        out.print("the device is revoked; it is told to wipe at its next contact")
    if share:
        out.print("the share is recalled; the recipient's devices are told to delete it")


@breach.command("list")
def list_cmd(ctx: typer.Context, as_user: AsUser, as_json: AsJson = False) -> None:
    """The register, newest first (a privacy officer sees every breach; others their own).

    Example: clinphoto breach list --as po@chu.example
    """
    from clinphoto.breaches import service

    def work(inst: Instance, db: Any, subject: Any) -> list[dict[str, Any]]:
        found = service.list_breaches(db, subject=subject, lock_after_seconds=_lock(inst))
        return [
            {
                "id": s.breach.id,
                "kind": s.breach.kind,
                "status": s.breach.status,
                "reported_at": s.breach.reported_at.isoformat(),
                "reported_by_name": s.reported_by_name,
                "proposed_classification": s.proposed,
                "classification": s.breach.classification,
            }
            for s in found
        ]

    rows = _run(ctx, as_user, work)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table(title="Breach register")
    for col in ("Id", "Reported (UTC)", "Kind", "Status", "By", "Proposed", "Decided"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"],
            r["reported_at"][:16].replace("T", " "),
            r["kind"],
            r["status"],
            r["reported_by_name"],
            r["proposed_classification"],
            r["classification"] or "",
        )
    out.print(table)


@breach.command("show")
def show(
    ctx: typer.Context,
    breach_id: Annotated[str, typer.Argument(help="The breach id.")],
    as_user: AsUser,
    as_json: AsJson = False,
) -> None:
    """One breach: what could have been exposed, the assessment and the steps.

    The device or share, what could have been exposed (patients, reasons, photos), the
    inspector's verdicts, overridden caption warnings, the proposed classification, and the
    steps (BRE-2, BRE-3, BRE-5).

    Example: clinphoto breach show 5e6f... --as po@chu.example --json
    """
    from clinphoto.breaches import service

    def work(inst: Instance, db: Any, subject: Any) -> dict[str, Any]:
        view = service.get(
            db,
            subject=subject,
            keys=inst.keys.fields,
            breach_id=breach_id,
            lock_after_seconds=_lock(inst),
        )
        return _render(db, view)

    doc = _run(ctx, as_user, work)
    if as_json:
        typer.echo(json.dumps(doc, indent=1))
        return
    out.print(f"[bold]{doc['kind']}[/] {doc['id']}: {doc['status']}")
    proposed = doc["proposed_classification"]
    out.print(f"proposed: {proposed['classification']} ({'; '.join(proposed['reasons'])})")
    if doc["classification"]:
        out.print(f"decided: {doc['classification']}")
    if doc["device"]:
        d = doc["device"]
        wipe = d["wipe"] or {}
        out.print(
            f"device {d['id']} ({d['name']}, {d['owner_name']}): revoked {d['revoked_at']}; "
            f"locked {d['locked']}; wipe confirmed {wipe.get('confirmed_at')} "
            f"(signature valid: {wipe.get('signature_valid')})"
        )
    if doc["share"]:
        s = doc["share"]
        out.print(
            f"share {s['id']} to {s['recipient_name']}: recalled {s['recalled_at']}; opened "
            f"before the recall: {s['opened_before_recall']}; deletions: {len(s['deletions'])}"
        )
    table = Table(title=f"Could have been exposed (as of {doc['exposure']['as_of']})")
    for col in ("Patient", "Name", "Why", "Photos"):
        table.add_column(col, overflow="fold")
    for p in doc["exposure"]["patients"]:
        table.add_row(
            p["patient_id"],
            p["display_name"] or "",
            ", ".join(p["reasons"]),
            " ".join(p["media_ids"]),
        )
    out.print(table)
    for st in doc["steps"]:
        out.print(f"{st['at'][:16]} {st['step']} by {st['by_name']}: {st['reason'] or ''}")


def _render(db: Any, view: Any) -> dict[str, Any]:
    from clinphoto.api import breaches as api

    result: dict[str, Any] = json.loads(api.render(db, view).model_dump_json())
    return result


@breach.command("step")
def step(
    ctx: typer.Context,
    breach_id: Annotated[str, typer.Argument(help="The breach id.")],
    step_name: Annotated[
        str, typer.Argument(metavar="STEP", help="contained, assessed, notified or closed.")
    ],
    reason: Annotated[str, typer.Option(help="Why (stored encrypted).")],
    as_user: AsUser,
    classification: Annotated[
        str | None,
        typer.Option(help="With assessed: not_a_breach, breach_low_risk or breach_real_risk."),
    ] = None,
) -> None:
    """Take a breach to its next step, with the reason (privacy officers; in order).

    Example: clinphoto breach step 5e6f... contained --reason "revoked" --as po@chu.example

    Example: clinphoto breach step 5e6f... assessed --reason locked --as po@chu.example
    --classification breach_low_risk
    """
    from clinphoto.breaches import service

    def work(inst: Instance, db: Any, subject: Any) -> str:
        found = service.step(
            db,
            subject=subject,
            keys=inst.keys.fields,
            clock=_clock(),
            breach_id=breach_id,
            step=step_name,
            reason=reason,
            classification=classification,
        )
        return found.status

    out.print(f"breach {breach_id}: {_run(ctx, as_user, work)}")


@breach.command("notify")
def notify_cmd(
    ctx: typer.Context,
    breach_id: Annotated[str, typer.Argument(help="The breach id.")],
    as_user: AsUser,
    party: Annotated[
        str | None,
        typer.Option(
            help="Record a sending to: patients, cmpa, organization, college or commissioner."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="How it was sent.")] = "letter",
    note: Annotated[str, typer.Option(help="A note (stored encrypted).")] = "",
    sent_at: Annotated[
        str | None, typer.Option(help="When it was sent (ISO 8601 with offset); default: now.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The notification checklist; with --party, record a sending (BRE-6).

    Under the patients' province: who must be told, by when, the rule's source and whether
    it is confirmed.

    Example: clinphoto breach notify 5e6f... --as po@chu.example

    Example: clinphoto breach notify 5e6f... --party cmpa --method telephone --as po@chu.example
    """
    from clinphoto.breaches import notify

    def work(inst: Instance, db: Any, subject: Any) -> tuple[str, list[Any]]:
        if party is not None:
            clock = _clock()
            notify.record_sent(
                db,
                subject=subject,
                keys=inst.keys.fields,
                clock=clock,
                breach_id=breach_id,
                party=party,
                sent_at=datetime.fromisoformat(sent_at) if sent_at else clock.now(),
                method=method,
                note=note,
                lock_after_seconds=_lock(inst),
            )
        jurisdiction, items = notify.checklist(
            db,
            subject=subject,
            keys=inst.keys.fields,
            breach_id=breach_id,
            lock_after_seconds=_lock(inst),
        )
        return jurisdiction, [
            {
                "party": i.party,
                "who": i.who,
                "required": i.required,
                "deadline": i.deadline,
                "source": i.source,
                "confirmed": i.confirmed,
                "sent_at": i.sent.sent_at.isoformat() if i.sent else None,
                "method": i.sent.method if i.sent else None,
            }
            for i in items
        ]

    jurisdiction, items = _run(ctx, as_user, work)
    if as_json:
        typer.echo(json.dumps({"jurisdiction": jurisdiction, "items": items}, indent=1))
        return
    table = Table(title=f"Who must be told ({jurisdiction})")
    for col in ("Party", "Who", "Required", "By when", "Confirmed", "Sent"):
        table.add_column(col, overflow="fold")
    for i in items:
        sent = f"{i['sent_at'][:16]} ({i['method']})" if i["sent_at"] else ""
        confirmed = "yes" if i["confirmed"] else "not confirmed"
        table.add_row(i["party"], i["who"], i["required"], i["deadline"], confirmed, sent)
    out.print(table)


@breach.command("letter")
def letter(
    ctx: typer.Context,
    breach_id: Annotated[str, typer.Argument(help="The breach id.")],
    party: Annotated[
        str, typer.Argument(help="patients, cmpa, organization, college or commissioner.")
    ],
    output: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    as_user: AsUser,
    lang: Annotated[str, typer.Option(help="en or fr.")] = "en",
    patient: Annotated[
        str | None, typer.Option(help="For the patients' letter: the patient's id.")
    ] = None,
) -> None:
    """A notification letter as PDF, in English or French (BRE-6).

    Example: clinphoto breach letter 5e6f... cmpa --out cmpa.pdf --as po@chu.example

    Example: clinphoto breach letter 5e6f... patients --patient 6f1c... --lang fr --out a.pdf
    --as po@chu.example
    """
    from clinphoto.breaches import notify

    def work(inst: Instance, db: Any, subject: Any) -> bytes:
        pdf: bytes = notify.letter(
            db,
            subject=subject,
            keys=inst.keys.fields,
            clock=_clock(),
            breach_id=breach_id,
            party=party,
            language=lang,
            patient_id=patient,
            lock_after_seconds=_lock(inst),
        )
        return pdf

    pdf = _run(ctx, as_user, work)
    output.write_bytes(pdf)
    out.print(f"wrote {output} ({len(pdf)} bytes)")


@breach.command("recall")
def recall(
    ctx: typer.Context,
    share_id: Annotated[str, typer.Argument(help="The share id.")],
    reason: Annotated[str, typer.Option(help="Why (stored encrypted).")],
    as_user: AsUser,
) -> None:
    """Recall a share sent to the wrong person (its sender, or a privacy officer) (BRE-2).

    The recipient's access ends at once and their devices are told to delete it.

    Example: clinphoto breach recall 1f1f... --reason "wrong Dr Tremblay" --as po@chu.example
    """
    from clinphoto.sharing import service as sharing

    def work(inst: Instance, db: Any, subject: Any) -> str:
        share = sharing.recall(
            db, subject=subject, keys=inst.keys.fields, share_id=share_id, reason=reason
        )
        return share.id

    out.print(f"recalled: share {_run(ctx, as_user, work)}")


@breach.command("prune-status")
def prune_status(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Keep this many days (default: CLINPHOTO_STATUS_HISTORY_DAYS, 90)."
        ),
    ] = None,
) -> None:
    """Delete devices' status reports older than the history kept (decision 014).

    Except what the register reads: each device's latest report, and the last one before each
    breach's time of loss. `serve` does it on the retention sweep's schedule; this runs it
    now (the server's operator; no patient data is involved).

    Example: clinphoto breach prune-status --days 90
    """
    from clinphoto.breaches import devices

    inst: Instance = _instance(ctx)
    try:
        keep = days if days is not None else inst.settings.status_history_days
        pruned = devices.prune_history(inst.unit_of_work, clock=_clock(), keep_days=keep)
    finally:
        inst.close()
    out.print(f"deleted {pruned} status report(s) older than {keep} days")
