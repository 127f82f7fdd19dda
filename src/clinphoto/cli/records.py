"""``clinphoto retention``: retention rules, legal holds, the sweep and certificates of
destruction, run on the server next to its data (RET-1, RET-3, RET-5).

Like the rest of the CLI, it starts light: what a command needs from the server side is
imported inside its body (tests/unit/test_cli_startup.py). A privacy officer's decisions
(changing a rule, placing or releasing a hold) name the officer with ``--as EMAIL``; the
policy checks that account's role and the audit trail records it. The sweep and the
certificates are the instance's own work and need no account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinphoto import policy
    from clinphoto.instance.runtime import Instance
    from clinphoto.records.clock import Clock

retention = typer.Typer(
    help="Keeping and ending records: retention rules by province, legal holds, the retention "
    "sweep and certificates of destruction (run on the server).",
    no_args_is_help=True,
)
rules_cli = typer.Typer(
    help="The retention rules in force (`clinphoto retention rules`), and a privacy "
    "officer's changes to them.",
    invoke_without_command=True,
)
hold_cli = typer.Typer(
    help="Legal holds and clinical-decision marks: they block deletion and destruction.",
    no_args_is_help=True,
)
retention.add_typer(rules_cli, name="rules")
retention.add_typer(hold_cli, name="hold")

err = Console(stderr=True)
out = Console()

AsOfficer = Annotated[
    str,
    typer.Option(
        "--as",
        help="The privacy officer taking this decision (their account's email); audited.",
    ),
]


def _instance(ctx: typer.Context) -> Instance:
    from clinphoto.cli.main import _open, _settings

    return _open(_settings(ctx))


def _officer(db: Session, email: str) -> policy.Subject:
    """The account named by ``--as``, as the policy's subject at the server's console. The
    policy decides whether its role may do what is asked."""
    from clinphoto import policy
    from clinphoto.accounts import service as accounts
    from clinphoto.core.errors import NotFound

    try:
        user = accounts.find_user_by_email(db, email.strip())
    except NotFound:
        user = None
    if user is None:
        err.print(f"[red]error:[/] no account with the email {email!r} (`clinphoto admin users`)")
        raise typer.Exit(2)
    return policy.Subject(user.id, policy.Role(user.role), "", "server-console")


def _fail(exc: DomainError) -> typer.Exit:
    message = "not found" if exc.code == "not_found" else exc.message
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(2)


def _clock() -> Clock:
    from clinphoto.records.clock import SystemClock

    return SystemClock()


# --- rules --------------------------------------------------------------------------------


@rules_cli.callback()
def rules_table(ctx: typer.Context) -> None:
    """The rules in force, one per province, territory and federal setting, with each
    source and how sure it is; a rule no college confirmed is the CMPA's recommendation.

    Example: clinphoto retention rules
    """
    if ctx.invoked_subcommand is not None:
        return
    from clinphoto import policy
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            views = records.list_rules(db, subject=policy.Subject.system("cli"))
    finally:
        inst.close()
    table = Table(title="Retention rules in force", show_lines=True)
    for col in ("Code", "Years after last entry", "Minors", "Basis", "Confidence", "Source"):
        table.add_column(col, overflow="fold")
    for v in views:
        r = v.rule
        minors = f"{r.years_after_majority} y after {r.age_of_majority}"
        if r.keep_until_age is not None:
            minors += f"; never before age {r.keep_until_age}"
        basis = "confirmed" if r.confirmed else "NOT confirmed: CMPA recommendation"
        if r.minor_basis != r.basis:
            basis += f" (minors: {r.minor_basis})"
        if v.overridden:
            basis += f"\nchanged by {v.set_by} on {v.set_at:%Y-%m-%d}" if v.set_at else ""
        table.add_row(
            f"{r.jurisdiction}\n{r.name}",
            str(r.years_after_last_entry),
            minors,
            basis,
            f"{r.confidence} (minors: {r.minor_confidence})",
            f"{r.source_url}",
        )
    out.print(table)


@rules_cli.command("set")
def rules_set(
    ctx: typer.Context,
    jurisdiction: Annotated[str, typer.Argument(help="BC, AB, ... NU, or CA (federal).")],
    officer: AsOfficer,
    source: Annotated[str, typer.Option(help="The rule's source, in a sentence.")],
    source_url: Annotated[str, typer.Option(help="Where the rule is published.")],
    reason: Annotated[
        str, typer.Option(help="Why the rule changes (kept, sealed, in the audit trail).")
    ],
    years_after_last_entry: Annotated[
        int | None, typer.Option(help="Years kept after the patient's last entry.")
    ] = None,
    years_after_majority: Annotated[
        int | None, typer.Option(help="A minor's records: years kept after majority.")
    ] = None,
    age_of_majority: Annotated[int | None, typer.Option(help="The age of majority.")] = None,
    keep_until_age: Annotated[
        int | None, typer.Option(help="Never destroy before the patient would be this old.")
    ] = None,
    confidence: Annotated[
        str, typer.Option(help="verified, secondary or knowledge: how sure the source is.")
    ] = "verified",
) -> None:
    r"""A privacy officer replaces one jurisdiction's rule with a confirmed college rule.

    Audited, with the old and the new rule and the reason; every date it governs is
    recomputed at once. Figures not given keep their current value.

    Example: clinphoto retention rules set NS --as privacy@chu.example \
      --years-after-last-entry 10 \
      --source "CPSNS Professional Standard Regarding Medical Records, s.4" \
      --source-url https://cpsns.ns.ca/guideline/medical-records/ \
      --reason "CPSNS standard confirmed by the college, 2026-11"
    """
    from pydantic import ValidationError

    from clinphoto.records import schedule
    from clinphoto.records import service as records
    from clinphoto.records.rules import RetentionRule

    code = jurisdiction.strip().upper()
    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            subject = _officer(db, officer)
            current = schedule.rulebook(db).get(code)
            if current is None:
                err.print(
                    f"[red]error:[/] {code} is not a jurisdiction (`clinphoto retention rules`)"
                )
                raise typer.Exit(2)
            changes = {
                "years_after_last_entry": years_after_last_entry,
                "years_after_majority": years_after_majority,
                "age_of_majority": age_of_majority,
                "keep_until_age": keep_until_age,
            }
            try:
                rule = RetentionRule.model_validate(
                    {
                        **current.model_dump(),
                        **{k: v for k, v in changes.items() if v is not None},
                        "basis": "college",
                        "minor_basis": "college",
                        "confidence": confidence,
                        "minor_confidence": confidence,
                        "confirmed": True,
                        "source": source,
                        "source_url": source_url,
                    }
                )
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                err.print(f"[red]error:[/] {'.'.join(map(str, first['loc']))}: {first['msg']}")
                raise typer.Exit(2) from None
            change = records.set_rule(
                db,
                subject=subject,
                rule=rule,
                reason=reason,
                keys=inst.keys.fields,
                clock=_clock(),
                federal=inst.settings.retention_federal,
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    out.print(
        f"{code}: {change.rule.summary()} (was: {change.previous.summary()}); "
        f"{change.patients_recomputed} patient(s) recomputed"
    )


@rules_cli.command("reset")
def rules_reset(
    ctx: typer.Context,
    jurisdiction: Annotated[str, typer.Argument(help="The jurisdiction to reset.")],
    officer: AsOfficer,
) -> None:
    """Back to the shipped default rule for one jurisdiction (audited; dates recomputed).

    Example: clinphoto retention rules reset NS --as privacy@chu.example
    """
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            change = records.reset_rule(
                db,
                subject=_officer(db, officer),
                jurisdiction=jurisdiction.strip().upper(),
                keys=inst.keys.fields,
                clock=_clock(),
                federal=inst.settings.retention_federal,
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    out.print(f"{change.rule.jurisdiction}: back to {change.rule.summary()}")


# --- holds --------------------------------------------------------------------------------


@hold_cli.command("place")
def hold_place(
    ctx: typer.Context,
    officer: AsOfficer,
    reason: Annotated[str, typer.Option(help="Why, in a sentence (kept encrypted).")],
    patient: Annotated[str | None, typer.Option(help="Hold every record of a patient.")] = None,
    encounter: Annotated[str | None, typer.Option(help="Hold an encounter's records.")] = None,
    item: Annotated[
        str | None,
        typer.Option(help="Hold one photo, share or consent, with what was made of it."),
    ] = None,
    clinical_decision: Annotated[
        bool,
        typer.Option(help="Mark it integral to a clinical decision rather than a legal hold."),
    ] = False,
) -> None:
    """Hold records against deletion and destruction until released (RET-3).

    Example: clinphoto retention hold place --as privacy@chu.example --patient 6f1c...
    --reason "Litigation notice 2026-114 received 3 May"
    """
    from clinphoto.records import service as records

    chosen = [
        (s, v) for s, v in (("patient", patient), ("encounter", encounter), ("item", item)) if v
    ]
    if len(chosen) != 1:
        err.print("[red]error:[/] name exactly one of --patient, --encounter, --item")
        raise typer.Exit(2)
    scope, target = chosen[0]
    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            view = records.place_hold(
                db,
                subject=_officer(db, officer),
                keys=inst.keys.fields,
                clock=_clock(),
                scope=scope,
                target_id=target.strip().lower(),
                reason=reason,
                kind="clinical_decision" if clinical_decision else "legal_hold",
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    out.print(f"Hold {view.id} placed on {scope} {view.target_id} ({view.kind})")


@hold_cli.command("release")
def hold_release(
    ctx: typer.Context,
    hold_id: Annotated[
        str, typer.Argument(help="The hold's id (`clinphoto retention hold list`).")
    ],
    officer: AsOfficer,
    reason: Annotated[str, typer.Option(help="Why it ends, in a sentence (kept encrypted).")],
) -> None:
    """Release a hold (audited): the next sweep may destroy what it kept, if its time is up.

    Example: clinphoto retention hold release 9b0e... --as privacy@chu.example --reason
    "Claim settled; counsel's letter of 2 June"
    """
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            view = records.release_hold(
                db,
                subject=_officer(db, officer),
                keys=inst.keys.fields,
                clock=_clock(),
                hold_id=hold_id.strip().lower(),
                reason=reason,
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    out.print(f"Hold {view.id} released")


@hold_cli.command("list")
def hold_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Released holds too.")] = False,
) -> None:
    """Holds and clinical-decision marks, newest first, with their reasons (audited).

    Example: clinphoto retention hold list --all
    """
    from clinphoto import policy
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            views = records.list_holds(
                db,
                subject=policy.Subject.system("cli"),
                keys=inst.keys.fields,
                include_released=all_,
            )
    finally:
        inst.close()
    if not views:
        out.print("No holds.")
        return
    table = Table(show_lines=True)
    for col in ("Hold", "Kind", "On", "Patient", "Reason", "Placed", "Released"):
        table.add_column(col, overflow="fold")
    for h in views:
        released = (
            f"{h.released_at:%Y-%m-%d} by {h.released_by}: {h.release_reason}"
            if h.released_at
            else "in force"
        )
        table.add_row(
            h.id,
            h.kind,
            f"{h.scope} {h.target_id}",
            h.patient_id,
            h.reason,
            f"{h.placed_at:%Y-%m-%d} by {h.placed_by}",
            released,
        )
    out.print(table)


# --- sweep and certificates ---------------------------------------------------------------


@retention.command("sweep")
def sweep(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be destroyed; destroy nothing.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Apply this day's expiry (YYYY-MM-DD); a later day than today only with "
            "--dry-run.",
        ),
    ] = None,
) -> None:
    """Destroy what has expired and is not held (RET-5).

    Every photo, share and consent whose retention has ended and that no hold keeps: the
    ciphertext of the item, its share copies and derived versions, and the keys re-wrapped
    for devices. Each destruction writes a certificate into the audit trail.
    `clinphoto serve` runs it on a schedule (CLINPHOTO_RETENTION_SWEEP_INTERVAL).

    Example: clinphoto retention sweep --dry-run --as-of 2036-01-01
    """
    from datetime import date

    from clinphoto import policy
    from clinphoto.records import sweep as sweeper
    from clinphoto.records.clock import SystemClock, today

    clock = SystemClock()
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            err.print(f"[red]error:[/] --as-of {as_of!r}: expected a date, YYYY-MM-DD")
            raise typer.Exit(2) from None
        if day > today(clock) and not dry_run:
            err.print(
                "[red]error:[/] --as-of is after today: destroying ahead of time is never "
                "allowed. Preview it with --dry-run."
            )
            raise typer.Exit(2)
    inst = _instance(ctx)
    try:
        report = sweeper.sweep(
            inst.unit_of_work,
            keys=inst.keys.fields,
            blobs=inst.blobs,
            clock=clock,
            subject=policy.Subject.system("cli"),
            as_of=day,
            dry_run=dry_run,
            federal=inst.settings.retention_federal,
        )
    finally:
        inst.close()
    verb = "would destroy" if dry_run else "destroyed"
    for p in report.destroyed:
        items = ", ".join(f"{k} {i}" for k, i in p.items)
        out.print(
            f"{verb} {p.kind} family {p.family} of patient {p.patient_id} "
            f"(not before {p.destroy_not_before}): {items}"
        )
    out.print(
        f"As of {report.as_of}: {verb} {len(report.destroyed)} famil(ies), {report.items} "
        f"item(s); {report.held} held; {report.waiting} waiting; job {report.job}"
        + (
            f"; certificates {', '.join(map(str, report.certificates))}"
            if report.certificates
            else ""
        )
    )


@retention.command("certificate")
def certificate(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="The certificate's number, or the id of anything it destroyed.")
    ],
) -> None:
    """Print a certificate of destruction from the audit trail (the read is audited).

    Example: clinphoto retention certificate 48213
    """
    from clinphoto import policy
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            cert = records.certificate(db, subject=policy.Subject.system("cli"), ref=ref.strip())
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    typer.echo(records.render_certificate(cert), nl=False)


@retention.command("certificates")
def certificates(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="Only those numbered below this (the next page).")
    ] = None,
) -> None:
    """The certificates of destruction, newest first (the read is audited).

    Number, date, job, rule and what was destroyed. Print one with
    `clinphoto retention certificate N`.

    Example: clinphoto retention certificates --limit 20
    """
    from clinphoto import policy
    from clinphoto.records import service as records

    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            found = records.list_certificates(
                db, subject=policy.Subject.system("cli"), limit=limit, before=before
            )
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()
    table = Table(title="Certificates of destruction, newest first")
    for col in ("No.", "Destroyed at", "Job", "Rule", "Families", "Items", "Blobs"):
        table.add_column(col, overflow="fold")
    for c in found:
        items = f"{c.media} media, {c.shares} shares, {c.consents} consents"
        table.add_row(
            str(c.seq), c.destroyed_at, c.job, c.rule or "-", str(c.families), items, str(c.blobs)
        )
    out.print(table)
    if len(found) == limit:
        out.print(f"more: --before {found[-1].seq}")
