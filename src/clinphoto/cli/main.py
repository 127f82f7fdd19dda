"""The ``clinphoto`` command: server administration (and, later, the device client)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role, User
from clinphoto.audit import service as audit
from clinphoto.cli import clinical, deid
from clinphoto.cli.device import device as device_cli
from clinphoto.cli.ui import progress
from clinphoto.core.config import Settings
from clinphoto.core.errors import DomainError
from clinphoto.core.logging import configure as configure_logging
from clinphoto.crypto import FAST_TEST_KDF, RFC9106_KDF, FieldKeyring, KdfParams
from clinphoto.instance import keys as instance_keys
from clinphoto.instance import rewrap
from clinphoto.instance.runtime import Instance, open_instance

app = typer.Typer(
    help="clinphoto: secure clinical photography. `clinphoto COMMAND --help` explains each "
    "command with an example.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
admin = typer.Typer(help="Administer an instance (run on the server, next to its data).")
records_key = typer.Typer(help="The records key: the custodian's key to every media object.")
admin.add_typer(records_key, name="records-key")
app.add_typer(admin, name="admin")
app.add_typer(device_cli, name="device")
app.add_typer(clinical.patient, name="patient")
app.add_typer(clinical.consent_cli, name="consent")
app.command("capture")(clinical.capture)
app.command("open")(clinical.open_media)
app.command("share")(clinical.share)
app.command("shares")(clinical.shares)
app.command("inbox")(clinical.inbox)
app.command("ack")(clinical.ack)
app.command("inspection")(clinical.inspection)
app.command("scrub")(deid.scrub)
app.command("inspect")(deid.inspect)
app.command("redact")(deid.redact)
app.command("redact-media")(clinical.redact_media)
audit_cli = typer.Typer(help="The tamper-evident audit trail (AUD-1).")
app.add_typer(audit_cli, name="audit")
custodian_cli = typer.Typer(help="Jobs of the records custodian (run on the server).")
app.add_typer(custodian_cli, name="custodian")

FIRST_ADMIN_EMAIL = "admin@clinphoto.local"

err = Console(stderr=True)
out = Console()


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Instance data directory (default ./var, or CLINPHOTO_DATA_DIR)."),
    ] = None,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _open(settings: Settings) -> Instance:
    try:
        return open_instance(settings)
    except instance_keys.KeyFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _kdf(settings: Settings) -> KdfParams:
    return FAST_TEST_KDF if settings.kdf_profile == "test" else RFC9106_KDF


def _create_user_with_code(
    db: Session,
    inst: Instance,
    settings: Settings,
    email: str,
    name: str,
    role: Role,
    institution: str,
) -> tuple[User, str]:
    """A new user without a password, and the one-time code with which they enroll (and set
    it); both audited."""
    user = accounts.create_user(
        db,
        email=email,
        display_name=name,
        role=role,
        institution=institution,
        password=None,
        kdf=_kdf(settings),
    )
    code = accounts.issue_enrollment_code(db, user=user, issued_by="cli")
    for action in (audit.Action.USER_CREATE, audit.Action.ENROLLMENT_CODE_ISSUE):
        audit.append(
            db, inst.audit_keys, action=action, actor="cli", object_type="user", object_id=user.id
        )
    return user, code


def _warn_keys_on_disk(settings: Settings) -> None:
    err.print(
        "[bold red]WARNING:[/] the key-encryption key sits on disk at "
        f"{settings.key_dir / instance_keys.KEK_FILE}. This protects a copied database or "
        "blob store, not a stolen disk. In production set CLINPHOTO_KEK from a secret store "
        "and remove that file."
    )


@app.command()
def init(ctx: typer.Context) -> None:
    """Create an instance: data directory and sealed keys.

    Example: clinphoto --data-dir /srv/clinphoto init
    """
    settings = _settings(ctx)
    try:
        keys = instance_keys.create(settings)
    except instance_keys.KeyFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if keys.kek_on_disk:
        _warn_keys_on_disk(settings)
    inst = _open(settings)
    with inst.unit_of_work() as db:
        audit.append(db, inst.audit_keys, action=audit.Action.INSTANCE_INIT, actor="cli")
    inst.close()
    out.print(f"Instance created in {settings.data_dir.resolve()}")
    out.print(f"Records key recipient: {keys.records.recipient}")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Serve the HTTP API (OpenAPI at /docs).

    Example: CLINPHOTO_KEK=... clinphoto --data-dir /srv/clinphoto serve
    """
    import uvicorn

    from clinphoto.api.app import create_app

    settings = _settings(ctx)
    inst = _open(settings)
    if inst.keys.kek_on_disk:
        _warn_keys_on_disk(settings)
    configure_logging(settings.log_level)
    worker = None
    if settings.custodian_interval > 0:
        from clinphoto.instance.custodian import CustodianWorker

        worker = CustodianWorker(inst, settings.custodian_interval)
        worker.start()
    try:
        # uvicorn's own access log would print raw paths and query strings; ours logs
        # route templates.
        uvicorn.run(
            create_app(settings, inst),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.stop()


@custodian_cli.command("inspect")
def custodian_inspect(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many photos in this run.")] = 100,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="First clear failed verdicts (audited) to inspect them again."
        ),
    ] = False,
) -> None:
    """Inspect stored photos that have no verdict yet, as the records custodian (DEI-2).

    Opens each with the records key in memory, finds faces and burned-in text, records
    identifiable or not, and audits it. `clinphoto serve` does this continuously. A failed
    inspection counts as identifiable; once its cause is fixed, --retry-failed runs it again.

    Example: clinphoto custodian inspect --limit 500
    Example: clinphoto custodian inspect --retry-failed
    """
    from clinphoto.instance.custodian import inspect_pending, reopen_failed

    settings = _settings(ctx)
    inst = _open(settings)
    try:
        if retry_failed:
            out.print(f"{len(reopen_failed(inst, limit))} failed inspection(s) reopened")
        done = inspect_pending(inst, limit)
    finally:
        inst.close()
    for o in done:
        verdict = "identifiable" if o.identifiable else "not identifiable"
        out.print(f"{o.media_id}: {o.status}, {verdict}")
    out.print(f"{len(done)} inspected")


@app.command()
def quickstart(ctx: typer.Context) -> None:
    """Create an embedded instance if there is none, then serve it (what `make run` does).

    Example: clinphoto --data-dir ./var quickstart
    """
    settings = _settings(ctx)
    if not instance_keys.exists(settings):
        ctx.invoke(init, ctx)
    inst = _open(settings)
    with inst.unit_of_work() as db:
        first = not accounts.has_users(db)
        if first:
            _, code = _create_user_with_code(
                db, inst, settings, FIRST_ADMIN_EMAIL, "Administrator", Role.ADMINISTRATOR, ""
            )
    inst.close()
    if first:
        out.print(
            f"First administrator: {FIRST_ADMIN_EMAIL}\n"
            f"One-time enrollment code (valid 24 hours): [bold]{code}[/]\n"
            f"Enroll your device: clinphoto device enroll --server "
            f"http://{settings.host}:{settings.port} --code {code}"
        )
    ctx.invoke(serve, ctx)


@records_key.command("export")
def records_key_export(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the identity file.")],
) -> None:
    """Write the records key as an age identity file, for disaster recovery.

    With it the stock age tool opens any stored media object:
    age -d -i FILE BLOB > photo.jpg

    Example: clinphoto admin records-key export --out /secure/usb/records-key.txt
    """
    settings = _settings(ctx)
    inst = _open(settings)
    with inst.unit_of_work() as db:
        # Audited first: if the entry cannot be written, the key is not exported.
        audit.append(
            db,
            inst.audit_keys,
            action=audit.Action.RECORDS_KEY_EXPORT,
            actor="cli",
            details={"file": out_file.name},
        )
        try:
            recipient = instance_keys.export_records_key(settings, out_file)
        except instance_keys.KeyFileError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
    inst.close()
    out.print(f"Wrote the records key ({recipient}) to {out_file}. Keep it offline.")


def _rewrap(inst: Instance, keys: FieldKeyring) -> rewrap.RewrapReport:
    """Re-encrypt every field under the primary key, with a progress bar."""
    with inst.unit_of_work() as db:
        total = rewrap.pending(db, keys)
    with progress(total) as bar:
        task = bar.add_task("re-encrypting fields", total=total)
        examined = 0

        def advance(n: int) -> None:
            nonlocal examined
            examined += n
            bar.update(task, completed=min(examined, total))

        report = rewrap.rewrap_fields(inst.unit_of_work, keys, progress=advance)
    with inst.unit_of_work() as db:
        audit.append(
            db,
            inst.audit_keys,
            action=audit.Action.KEYS_REWRAP,
            actor="cli",
            details={
                "field_primary": keys.primary,
                "rewrapped": report.rewrapped,
                "skipped_changed": report.skipped_changed,
            },
        )
    return report


@admin.command("rotate-keys")
def rotate_keys(ctx: typer.Context) -> None:
    """Add a new field-encryption key, make it primary, and re-encrypt every field under it.

    Old keys stay in the keyring so nothing becomes unreadable. Restart `clinphoto serve`
    afterwards so new data is sealed with the new key, then run `clinphoto admin
    rewrap-fields` once more to catch anything written in between.

    Example: clinphoto admin rotate-keys
    """
    settings = _settings(ctx)
    inst = _open(settings)
    with inst.unit_of_work() as db:
        new_id = instance_keys.rotate_field_key(settings)
        audit.append(
            db,
            inst.audit_keys,
            action=audit.Action.KEYS_ROTATE,
            actor="cli",
            details={"field_primary": new_id},
        )
    out.print(f"New primary field key: {new_id}")
    report = _rewrap(inst, instance_keys.load(settings).fields)
    inst.close()
    out.print(f"Re-encrypted {report.rewrapped} fields under {new_id}.")
    if report.skipped_changed:
        out.print(f"{report.skipped_changed} changed meanwhile; run `admin rewrap-fields` again.")
    out.print("Restart `clinphoto serve`, then run `clinphoto admin rewrap-fields` once more.")


@admin.command("rewrap-fields")
def rewrap_fields(ctx: typer.Context) -> None:
    """Re-encrypt fields still under an older key (resumable; safe to run any time).

    Example: clinphoto admin rewrap-fields
    """
    settings = _settings(ctx)
    inst = _open(settings)
    report = _rewrap(inst, inst.keys.fields)
    with inst.unit_of_work() as db:
        left = rewrap.pending(db, inst.keys.fields)
    inst.close()
    out.print(
        f"Re-encrypted {report.rewrapped} of {report.examined} fields; "
        f"{left} still under an older key."
    )
    if left:
        raise typer.Exit(1)


def new_kek() -> str:
    """A fresh value for CLINPHOTO_KEK."""
    import secrets

    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@admin.command("new-kek")
def print_new_kek() -> None:
    """Print a random value for CLINPHOTO_KEK (set it before `init` in production).

    Example: export CLINPHOTO_KEK="$(clinphoto admin new-kek)"
    """
    out.print(new_kek())


@audit_cli.command("verify")
def audit_verify(
    ctx: typer.Context,
    workers: Annotated[
        int,
        typer.Option(help="Processes verifying segments in parallel (default: CPU count)."),
    ] = 0,
) -> None:
    """Check the whole audit chain and its signed checkpoints.

    Exits 0 when intact, 1 naming the first bad entry. A long chain is cut at signed
    checkpoints and the segments are verified in parallel; the answer is the same.

    Example: clinphoto audit verify
    """
    settings = _settings(ctx)
    inst = _open(settings)
    with inst.unit_of_work() as db:
        problem = audit.verify(
            db,
            inst.audit_keys.public_by_id,
            workers=workers or min(os.cpu_count() or 1, 8),
            database_url=settings.resolved_database_url,
        )
        count = audit.head_seq(db)
    inst.close()
    if problem is not None:
        err.print(f"[red]audit trail broken[/] at entry {problem.seq}: {problem.reason}")
        raise typer.Exit(1)
    out.print(f"audit trail intact: {count} entries")


@audit_cli.command("export")
def audit_export(
    ctx: typer.Context,
    patient: Annotated[str, typer.Option(help="Pseudonymous patient id.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Write every audit entry about one patient as JSON Lines (the export is audited).

    Example: clinphoto audit export --patient 6f1c... --out patient-audit.jsonl
    """
    inst = _open(_settings(ctx))
    with inst.unit_of_work() as db:
        lines = list(audit.export_patient(db, patient))
        audit.append(
            db,
            inst.audit_keys,
            action=audit.Action.AUDIT_EXPORT,
            actor="cli",
            patient_ref=patient,
            details={"entries": len(lines)},
        )
    inst.close()
    text = "".join(line + "\n" for line in lines)
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text)
        err.print(f"wrote {len(lines)} entries to {out_file}")


@admin.command("create-user")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Work e-mail address; the sign-in name.")],
    name: Annotated[str, typer.Option(help="Name shown to colleagues before they share.")],
    role: Annotated[Role, typer.Option(help="clinician, privacy_officer or administrator.")],
    institution: Annotated[str, typer.Option(help="Institution shown before sharing.")] = "",
) -> None:
    """Create a user and print a one-time enrollment code for their first device.

    The user chooses their password when they enroll with the code.

    Example: clinphoto admin create-user --email a.tremblay@chu.example --name "Dr A. Tremblay"
    --role clinician --institution "CHU Example"
    """
    settings = _settings(ctx)
    inst = _open(settings)
    try:
        with inst.unit_of_work() as db:
            user, code = _create_user_with_code(db, inst, settings, email, name, role, institution)
    except DomainError as exc:
        err.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(f"Created {role.value} {user.email} ({user.id})")
    out.print(f"One-time enrollment code (valid 24 hours): [bold]{code}[/]")


@admin.command("enrollment-code")
def enrollment_code(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="The user who will enroll a new device.")],
) -> None:
    """Issue a one-time code with which a user enrolls a new device.

    Example: clinphoto admin enrollment-code --email a.tremblay@chu.example
    """
    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            user = accounts.find_user_by_email(db, email)
            code = accounts.issue_enrollment_code(db, user=user, issued_by="cli")
            audit.append(
                db,
                inst.audit_keys,
                action=audit.Action.ENROLLMENT_CODE_ISSUE,
                actor="cli",
                object_type="user",
                object_id=user.id,
            )
    except DomainError as exc:
        err.print(f"[red]error:[/] no active user with that e-mail ({exc.code})")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(f"One-time enrollment code for {user.email} (valid 24 hours): [bold]{code}[/]")
