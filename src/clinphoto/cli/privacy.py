"""``clinphoto privacy``: a privacy officer's reports, run on the server next to its data:
who saw a patient's records (BEY-6), and what was shared under purposes a patient later
withdrew (CON-7).

Like the rest of the CLI, it starts light: what a command needs from the server side is
imported inside its body (tests/unit/test_cli_startup.py). ``--as EMAIL`` names the privacy
officer asking; without it the server's operator asks, as for ``audit export``. Either way
the request is decided by the access policy and audited; a clinician named by ``--as`` is
answered "not found", as over HTTP (decision 013).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from clinphoto.cli.records import _fail, _instance, _officer
from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinphoto import policy

privacy = typer.Typer(
    help="A privacy officer's reports: who saw a patient's records, and what was shared "
    "before a consent was withdrawn (run on the server).",
    no_args_is_help=True,
)

err = Console(stderr=True)
out = Console()

AsOfficer = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The privacy officer asking (their account's email); audited. Default: the "
        "server's operator.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _subject(db: Session, email: str | None) -> policy.Subject:
    from clinphoto import policy

    if email is None:
        return policy.Subject.system("cli")
    return _officer(db, email)


@privacy.command("who-saw")
def who_saw(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="The pseudonymous patient id.")],
    as_officer: AsOfficer = None,
    as_json: AsJson = False,
    limit: Annotated[
        int | None, typer.Option(help="Only the newest N entries (default: all).", min=1)
    ] = None,
) -> None:
    """Who saw this patient's photos, consents and records (BEY-6).

    Every access, share, download, acknowledgement and inspection, and every refused attempt,
    newest first.

    Example: clinphoto privacy who-saw 6f1c0e... --as privacy@hospital.example

    Example: clinphoto privacy who-saw 6f1c0e... --json > who-saw.jsonl
    """
    from dataclasses import asdict

    from clinphoto.disclosures import service as disclosures

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            subject = _subject(db, as_officer)
            if limit is not None and limit <= disclosures.PAGE_MAX:
                events = disclosures.access_report(
                    db, subject=subject, patient_id=patient, limit=limit
                ).events
            else:
                found = disclosures.whole_access_report(db, subject=subject, patient_id=patient)
                events = list(found)[:limit] if limit else list(found)
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    if as_json:
        for e in events:
            typer.echo(json.dumps(asdict(e), sort_keys=True))
        return
    table = Table(title=f"Who saw the records of patient {patient} (newest first)")
    for col in ("When (UTC)", "Who", "What", "Photo / object", "Purpose", "Outcome"):
        table.add_column(col, overflow="fold")
    for e in events:
        who = e.who + (f", {e.role}" if e.role else "")
        who += f"\n{e.institution}" if e.institution else ""
        who += f"\ndevice: {e.device}" if e.device else ""
        what = e.what + (f" with {e.to}" if e.to else "")
        obj = e.photo_id or e.object_id
        obj = f"{e.kind or e.object_type} {obj}".strip() if obj else e.object_type
        table.add_row(e.at[:19].replace("T", " "), who, what, obj, e.purpose, e.outcome)
    out.print(table)
    out.print(f"{len(events)} entries")


@privacy.command("disclosures")
def disclosures_cmd(
    ctx: typer.Context,
    consent: Annotated[str, typer.Argument(help="The consent id.")],
    as_officer: AsOfficer = None,
    as_json: AsJson = False,
) -> None:
    """What was shared under this consent's purposes before the patient withdrew them (CON-7).

    With each recipient and how far the share got (sent, delivered, acknowledged), to follow up
    (CON-7). clinphoto has no export of photos: shares are its only disclosures.

    Example: clinphoto privacy disclosures 0b7d2a... --as privacy@hospital.example
    """
    from dataclasses import asdict

    from clinphoto.disclosures import service as disclosures

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            report = disclosures.withdrawn_disclosures(
                db, subject=_subject(db, as_officer), consent_id=consent
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    if as_json:
        for d in report.disclosures:
            typer.echo(json.dumps(asdict(d), sort_keys=True, default=str))
        return
    withdrawn = ", ".join(
        f"{w.purpose} on {w.withdrawn_at:%Y-%m-%d %H:%M} UTC" for w in report.withdrawals
    )
    out.print(f"Consent {report.consent_id}, patient {report.patient_id}")
    out.print(f"Withdrawn: {withdrawn or 'nothing'}")
    if not report.disclosures:
        out.print("Nothing was shared under a withdrawn purpose before its withdrawal.")
        return
    table = Table(title="Shared before the withdrawal: follow up with each recipient")
    for col in ("Sent (UTC)", "Purpose", "Recipient", "Status", "Photo", "Shared by"):
        table.add_column(col, overflow="fold")
    for d in report.disclosures:
        status = d.status
        if d.acknowledged_at:
            status += f" {d.acknowledged_at:%Y-%m-%d %H:%M}"
        elif d.delivered_at:
            status += f" {d.delivered_at:%Y-%m-%d %H:%M}"
        purpose = d.purpose + (" (consented again since)" if d.covered_now else "")
        table.add_row(
            f"{d.sent_at:%Y-%m-%d %H:%M}",
            purpose,
            f"{d.recipient_name}\n{d.recipient_institution}\n{d.recipient_email}",
            status,
            d.photo_id,
            d.sender_name,
        )
    out.print(table)
