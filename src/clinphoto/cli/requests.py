"""``clinphoto request``: a patient's requests, handled by a privacy officer on the server
next to its data (RET-3, RET-4, AUD-3): a copy of their record (report and sealed package),
deletion requests and their decision, the letter to the patient; and ``clinphoto consent
form``, a consent printed as PDF (CON-2, CON-3).

Like the rest of the CLI it starts light: server-side modules are imported inside each
command. ``--as EMAIL`` names the privacy officer; without it the server's operator asks
(allowed for copies and consent forms, never for deciding a deletion). Every command goes
through the one access policy and is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from clinphoto.cli.privacy import AsOfficer, _subject
from clinphoto.cli.records import _clock, _fail, _instance
from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinphoto import policy
    from clinphoto.instance.runtime import Instance

request = typer.Typer(
    help="A patient's requests: a copy of their record, deletion of photos, the letters "
    "(privacy officers, on the server).",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()
T = TypeVar("T")
Language = Annotated[str, typer.Option("--lang", help="The patient's language: en or fr.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Where to write the file.")]


def _run(
    ctx: typer.Context,
    email: str | None,
    work: Callable[[Instance, Session, policy.Subject], T],
) -> T:
    inst = _instance(ctx)
    try:
        with inst.unit_of_work() as db:
            return work(inst, db, _subject(db, email))
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        inst.close()


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    err.print(f"wrote {path} ({len(data)} bytes)")


def _print(value: Any) -> None:
    from dataclasses import asdict, is_dataclass

    def plain(v: Any) -> Any:
        return asdict(v) if is_dataclass(v) and not isinstance(v, type) else v

    out.print_json(json.dumps(plain(value), default=str))


def _opener(inst: Instance) -> Callable[[Any], bytes | None]:
    from functools import partial

    from clinphoto.instance.custodian import open_media

    return partial(open_media, inst)


def _texts(inst: Instance) -> dict[str, Any]:
    from clinphoto.consent import texts

    return texts.catalogue(inst.settings.data_dir / "consent-texts")


@request.command("copy")
def copy(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="The pseudonymous patient id.")],
    lang: Language = "en",
    received: Annotated[
        str | None, typer.Option(help="The day the request was received (default: today).")
    ] = None,
    as_officer: AsOfficer = None,
) -> None:
    """Record a patient's request for a copy of their record (RET-4); prints its id.

    Example: clinphoto request copy 6f1c0e... --lang fr --received 2026-11-20
    --as privacy@hospital.example
    """
    from clinphoto.patientrights import service

    day = date.fromisoformat(received) if received else _clock().now().date()
    view = _run(ctx, as_officer, lambda inst, db, s: service.create_copy_request(
        db, subject=s, clock=_clock(), patient_id=patient, language=lang,
        received_at=day))  # fmt: skip
    _print(view)


@request.command("report")
def report(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The copy request's id.")],
    output: Output = Path("report.pdf"),
    as_officer: AsOfficer = None,
) -> None:
    """Print a copy request's report as PDF (AUD-3): photos, consents, who accessed them.

    Example: clinphoto request report 0a9b... -o copy-report.pdf --as privacy@hospital.example
    """
    from clinphoto.patientrights import service

    pdf = _run(ctx, as_officer, lambda inst, db, s: service.copy_report(
        db, subject=s, keys=inst.keys.fields, clock=_clock(), request_id=request_id,
        open_media=_opener(inst), texts=_texts(inst)))  # fmt: skip
    _write(output, pdf)


@request.command("package")
def package(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The copy request's id.")],
    output: Output = Path("record.age"),
    as_officer: AsOfficer = None,
) -> None:
    """Seal the patient's package (one age file) and write it; prints the passphrase ONCE.

    Give the file and the passphrase to the patient separately; they open it with
    `age -d -o record.zip record.age`.

    Example: clinphoto request package 0a9b... -o /media/usb/record.age --as po@chu.example
    """
    from clinphoto.patientrights import service

    def work(inst: Instance, db: Session, s: policy.Subject) -> tuple[str, bytes]:
        made = service.copy_package(
            db, subject=s, keys=inst.keys.fields, clock=_clock(), blobs=inst.blobs,
            request_id=request_id, open_media=_opener(inst), texts=_texts(inst),
        )  # fmt: skip
        data = service.package_file(
            db, subject=s, clock=_clock(), blobs=inst.blobs, request_id=request_id
        )
        return made.passphrase, data

    passphrase, data = _run(ctx, as_officer, work)
    _write(output, data)
    out.print(f"passphrase (shown once, give it separately): {passphrase}")


@request.command("delete")
def delete(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help="The pseudonymous patient id.")],
    reason: Annotated[str, typer.Option(help="The patient's reason (stored encrypted).")],
    as_officer: AsOfficer = None,
    encounter: Annotated[str | None, typer.Option(help="Only this encounter's photos.")] = None,
    media: Annotated[
        list[str] | None, typer.Option("--media", help="Only these photos (repeat).")
    ] = None,
    lang: Language = "en",
) -> None:
    """Record a patient's request that photos be deleted (RET-3).

    All their photos, an encounter's, or named ones.

    Example: clinphoto request delete 6f1c... --media 1b2c... --reason "mistake" --as po@chu.ca
    """
    from clinphoto.patientrights import service

    scope = "items" if media else "encounter" if encounter else "patient"
    view = _run(ctx, as_officer, lambda inst, db, s: service.create_deletion_request(
        db, subject=s, keys=inst.keys.fields, clock=_clock(), patient_id=patient, scope=scope,
        encounter_id=encounter, media_ids=media, reason=reason, language=lang))  # fmt: skip
    _print(view)


@request.command("decide")
def decide(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The deletion request's id.")],
    decision: Annotated[str, typer.Option(help="granted, refused or partly_granted.")],
    reason: Annotated[str, typer.Option(help="Why (stored encrypted, printed in the letter).")],
    as_officer: AsOfficer = None,
    retain: Annotated[
        list[str] | None,
        typer.Option(help="partly_granted: a photo kept under the retention rule (repeat)."),
    ] = None,
) -> None:
    """Decide a deletion request (a privacy officer's, --as required).

    Held photos and those integral to a clinical decision are kept on that ground; granted
    ones are destroyed now, each with a certificate of destruction.

    Example: clinphoto request decide 0a9b... --decision granted --reason "no use" --as po@chu.ca
    """
    from clinphoto.patientrights import service

    view = _run(ctx, as_officer, lambda inst, db, s: service.decide_deletion(
        db, subject=s, keys=inst.keys.fields, clock=_clock(), blobs=inst.blobs,
        request_id=request_id, decision=decision, reason=reason, retain=retain))  # fmt: skip
    _print(view)


@request.command("list")
def list_requests(
    ctx: typer.Context,
    as_officer: AsOfficer = None,
) -> None:
    """Copy and deletion requests, newest first, as JSON.

    Example: clinphoto request list --as privacy@hospital.example
    """
    from clinphoto.patientrights import service

    def work(inst: Instance, db: Session, s: policy.Subject) -> dict[str, Any]:
        return {
            "copies": service.list_copy_requests(db, subject=s),
            "deletions": service.list_deletion_requests(db, subject=s, keys=inst.keys.fields),
        }

    found = _run(ctx, as_officer, work)
    from dataclasses import asdict

    out.print_json(json.dumps({k: [asdict(v) for v in vs] for k, vs in found.items()}, default=str))


@request.command("letter")
def letter(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The deletion request's id.")],
    output: Output = Path("letter.pdf"),
    as_officer: AsOfficer = None,
) -> None:
    """Print the letter to the patient on a deletion request, in their language, as PDF.

    Example: clinphoto request letter 0a9b... -o letter.pdf --as privacy@hospital.example
    """
    from clinphoto.patientrights import service

    pdf = _run(ctx, as_officer, lambda inst, db, s: service.deletion_letter(
        db, subject=s, keys=inst.keys.fields, clock=_clock(), request_id=request_id))  # fmt: skip
    _write(output, pdf)


def consent_form(
    ctx: typer.Context,
    consent: Annotated[str, typer.Argument(help="The consent's id.")],
    lang: Language = "en",
    output: Output = Path("consent.pdf"),
    as_officer: AsOfficer = None,
) -> None:
    """Print a consent form as PDF from the stored consent (CON-2, CON-3): rights, record,
    the words shown and the signature.

    Example: clinphoto consent form 5d4e... --lang fr -o consent.pdf --as privacy@hospital.example
    """
    from clinphoto.patientrights import service

    pdf = _run(ctx, as_officer, lambda inst, db, s: service.consent_form(
        db, subject=s, keys=inst.keys.fields, clock=_clock(), consent_id=consent,
        language=lang, open_media=_opener(inst), texts=_texts(inst)))  # fmt: skip
    _write(output, pdf)
