"""The ``clinphoto`` command: server administration and the device client.

The device's commands (``device``, ``capture``, ``inbox``...) run on a clinician's machine
and must start at once, so this module and the modules it imports load only Typer, Rich and
light parts of clinphoto. What a server command needs (SQLAlchemy, the instance, accounts,
audit, settings) is imported inside that command's body, and only builtins, typing names and
``Path`` appear in command signatures, which Typer evaluates to build ``--help``.
tests/unit/test_cli_startup.py checks which modules a start loads.
"""

from __future__ import annotations

import base64
import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from clinphoto.cli import clinical, deid
from clinphoto.cli.backup import backup as backup_cli
from clinphoto.cli.breach import breach as breach_cli
from clinphoto.cli.device import device as device_cli
from clinphoto.cli.privacy import privacy as privacy_cli
from clinphoto.cli.records import retention as retention_cli
from clinphoto.cli.requests import consent_form
from clinphoto.cli.requests import request as requests_cli
from clinphoto.cli.tree import prepare
from clinphoto.cli.ui import progress
from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinphoto import policy
    from clinphoto.accounts.models import Role, User
    from clinphoto.core.config import Settings
    from clinphoto.crypto import KdfParams
    from clinphoto.instance import rewrap
    from clinphoto.instance.runtime import Instance

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
app.command("sync")(clinical.sync)
app.command("outbox")(clinical.outbox)
app.command("inspection")(clinical.inspection)
app.command("scrub")(deid.scrub)
app.command("inspect")(deid.inspect)
app.command("redact")(deid.redact)
app.command("redact-media")(clinical.redact_media)
audit_cli = typer.Typer(help="The tamper-evident audit trail (AUD-1).")
app.add_typer(audit_cli, name="audit")
custodian_cli = typer.Typer(help="Jobs of the records custodian (run on the server).")
app.add_typer(custodian_cli, name="custodian")
app.add_typer(retention_cli, name="retention")
app.add_typer(backup_cli, name="backup")
app.add_typer(privacy_cli, name="privacy")
app.add_typer(breach_cli, name="breach")
app.add_typer(requests_cli, name="request")
clinical.consent_cli.command("form")(consent_form)

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
    # The server's settings are read by the commands that use them (_settings): the device
    # commands never do.
    ctx.obj = data_dir


def _settings(ctx: typer.Context) -> Settings:
    """The instance's settings (environment and --data-dir); a bad value stops with exit 2."""
    from pydantic import ValidationError

    from clinphoto.core.config import Settings

    if isinstance(ctx.obj, Settings):
        return ctx.obj
    overrides: dict[str, object] = {}
    if ctx.obj is not None:
        overrides["data_dir"] = ctx.obj
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        for problem in exc.errors(include_input=False, include_url=False):
            name = "CLINPHOTO_" + "_".join(str(p) for p in problem["loc"]).upper()
            err.print(f"[red]error:[/] {name}: {problem['msg']}")
        raise typer.Exit(2) from None
    ctx.obj = settings
    return settings


def _open(settings: Settings) -> Instance:
    from clinphoto.instance import keys as instance_keys
    from clinphoto.instance.runtime import open_instance

    try:
        return open_instance(settings)
    except instance_keys.KeyFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _kdf(settings: Settings) -> KdfParams:
    from clinphoto.crypto import FAST_TEST_KDF, RFC9106_KDF

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
    it); the use case audits both."""
    from clinphoto.accounts import service as accounts

    return accounts.register_user(
        db,
        actor=_console(),
        email=email,
        display_name=name,
        role=role,
        institution=institution,
        kdf=_kdf(settings),
    )


def _warn_keys_on_disk(settings: Settings) -> None:
    from clinphoto.instance import keys as instance_keys

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
    from clinphoto.instance import events
    from clinphoto.instance import keys as instance_keys
    from clinphoto.storage.files import private_dir

    settings = _settings(ctx)
    if instance_keys.exists(settings):
        err.print("[red]error:[/] instance keys already exist; refusing to overwrite them")
        raise typer.Exit(2)
    # The data directory is its owner's only: database, blobs and keys live in it.
    private_dir(settings.data_dir)
    if settings.data_dir.stat().st_mode & 0o077:
        err.print(
            f"[bold red]WARNING:[/] {settings.data_dir} can be read by other accounts; "
            f"`chmod 700 {settings.data_dir}` unless that is intended."
        )
    try:
        keys = instance_keys.create(settings)
    except instance_keys.KeyFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if keys.kek_on_disk:
        _warn_keys_on_disk(settings)
    inst = _open(settings)
    events.instance_created(inst)
    inst.close()
    out.print(f"Instance created in {settings.data_dir.resolve()}")
    out.print(f"Records key recipient: {keys.records.recipient}")


def _refuse_unsafe(settings: Settings) -> None:
    """Outside development, refuse what only a development machine may use (issue #7)."""
    if settings.development:
        err.print(
            "[bold yellow]DEVELOPMENT MODE[/] (CLINPHOTO_ENV=development): the key-encryption "
            "key may sit on disk and test password hashing is allowed. Never put patient data "
            "in this instance."
        )
        return
    problems = settings.unsafe_for_production()
    if problems:
        err.print("[bold red]Refusing to start the server:[/]")
        for problem in problems:
            err.print(f"  - {problem}")
        err.print(
            "On a development machine, set CLINPHOTO_ENV=development (`make run` does) to "
            "allow these."
        )
        raise typer.Exit(2)


def _check_storage(settings: Settings) -> None:
    """Refuse a blob store that does not declare where it keeps data and on what assurance
    (TRN-2, CLD-1); say what it declares."""
    from clinphoto.storage.jurisdiction import declaration_problems, in_canada

    problems = declaration_problems(settings.storage_jurisdiction, settings.storage_certification)
    if problems:
        err.print("[bold red]Refusing to start the server:[/]")
        for problem in problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2)
    where = "in Canada" if in_canada(settings.storage_jurisdiction) else "OUTSIDE Canada"
    err.print(
        f"Blob store: {settings.storage_jurisdiction} ({where}); assurance: "
        f"{settings.storage_certification}"
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default CLINPHOTO_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default CLINPHOTO_PORT, 8000)."),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            help="The institution's certificate, PEM with its chain, to serve HTTPS "
            "(default CLINPHOTO_TLS_CERT); needs --tls-key."
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            help="Its private key, PEM, not encrypted (default CLINPHOTO_TLS_KEY); needs "
            "--tls-cert."
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the phone app at /.

    The phone app is web/dist of the source checkout (`make web` builds it) or the build
    named by CLINPHOTO_WEB_DIR. Phones use their camera only over HTTPS: give the
    institution's certificate and key here, or serve behind a reverse proxy that ends TLS
    (docs/deployment.md).

    Outside development (CLINPHOTO_ENV=development) it refuses to start with the test
    password-hashing profile, a placeholder CLINPHOTO_KEK, or the key-encryption key on disk.
    It always refuses a blob store that does not declare its jurisdiction
    (CLINPHOTO_STORAGE_JURISDICTION, e.g. CA-ON) and certification
    (CLINPHOTO_STORAGE_CERTIFICATION); the embedded default is "CA", on the operator's
    statement.

    Example: CLINPHOTO_KEK=... clinphoto --data-dir /srv/clinphoto serve --host 0.0.0.0
    --port 8443 --tls-cert /etc/clinphoto/cert.pem --tls-key /etc/clinphoto/key.pem
    """
    import uvicorn

    from clinphoto.api.app import create_app
    from clinphoto.core.logging import configure as configure_logging

    settings = _settings(ctx)
    chosen = {
        name: v
        for name, v in (
            ("host", host),
            ("port", port),
            ("tls_cert", tls_cert),
            ("tls_key", tls_key),
        )
        if v is not None
    }
    settings = settings.model_copy(update=chosen)
    _check_tls(settings)
    _check_web_dir(settings)
    _refuse_unsafe(settings)
    _check_storage(settings)
    inst = _open(settings)
    if inst.keys.kek_on_disk:
        _warn_keys_on_disk(settings)
    configure_logging(settings.log_level)
    worker = None
    if settings.custodian_interval > 0:
        # A process of its own: inspections never share the server's memory or GIL.
        from clinphoto.instance.custodian import CustodianProcess

        worker = CustodianProcess(settings, settings.custodian_interval)
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
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
            # X-Forwarded-For and -Proto are believed from these proxies only.
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            # The signed manifest travels in a header: up to 16 KiB decoded (core/protocol),
            # about 22 KiB in base64, above h11's default 16 KiB limit for a request head.
            h11_max_incomplete_event_size=64 * 1024,
        )
    finally:
        if worker is not None:
            worker.stop()


def _check_tls(settings: Settings) -> None:
    """Both the certificate and its key, readable and matching, or neither."""
    import ssl

    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        err.print(
            f"[red]error:[/] {given} was given without {missing}: HTTPS needs both the "
            "certificate and its private key (or CLINPHOTO_TLS_CERT and CLINPHOTO_TLS_KEY)."
        )
        raise typer.Exit(2)
    for what, path in (("certificate", cert), ("private key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            err.print(f"[red]error:[/] cannot read the TLS {what} {path}: {exc.strerror}.")
            raise typer.Exit(2) from None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        err.print(
            f"[red]error:[/] the TLS certificate {cert} and key {key} cannot be used together "
            f"({exc}): give the PEM certificate (with its chain) and its own private key, "
            "not encrypted."
        )
        raise typer.Exit(2) from None


def _check_web_dir(settings: Settings) -> None:
    """A web directory that was named must hold a build; without one, say how to build."""
    web = settings.resolved_web_dir
    if web is not None and (web / "index.html").is_file():
        return
    if settings.web_dir is not None:
        err.print(
            f"[red]error:[/] CLINPHOTO_WEB_DIR={settings.web_dir} holds no index.html: name "
            "the phone app's build (web/dist after `make web`), or unset it."
        )
        raise typer.Exit(2)
    err.print(
        "[yellow]note:[/] the phone app is not built, so / says so; `make run` (or `make "
        "web`) builds it."
    )


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

    Opens each with the records key in memory, finds faces and burned-in text in a
    memory- and time-capped child process, records identifiable or not, and audits it.
    `clinphoto serve` does this continuously in a process of its own. A failed inspection
    counts as identifiable; once its cause is fixed, --retry-failed runs it again. A photo
    the records key cannot open is quarantined and never retried: its author captures it
    again.

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


@custodian_cli.command("run")
def custodian_run(
    ctx: typer.Context,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds to rest when idle (default CLINPHOTO_CUSTODIAN_INTERVAL)."),
    ] = None,
    parent: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when this process is gone.")
    ] = None,
) -> None:
    """Inspect new photos continuously, as the records custodian, until stopped (DEI-2).

    `clinphoto serve` starts this as its own process; run it yourself to inspect on another
    machine or under its own service manager. Several may run at once: each photo is leased
    to one of them. SIGTERM or Ctrl-C stops it.

    Example: clinphoto custodian run --interval 5
    """
    from clinphoto.core.logging import configure as configure_logging
    from clinphoto.instance.custodian import run

    settings = _settings(ctx)
    inst = _open(settings)
    configure_logging(settings.log_level)
    try:
        run(inst, settings.custodian_interval if interval is None else interval, parent=parent)
    finally:
        inst.close()


@custodian_cli.command("grant")
def custodian_grant(
    ctx: typer.Context,
    device: Annotated[str, typer.Option("--device", help="The new device's full id.")],
    reason: Annotated[
        str, typer.Option(help="Why, in a sentence: kept in the audit trail with your name.")
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="The custodian's name (default: your login name)."),
    ] = None,
) -> None:
    """Let a user's new device open their earlier photos and shares, with the records key.

    For a user who has no other device left to grant from (`clinphoto device grant`): a
    lost or replaced phone. Each object is granted, not decrypted: its key is re-wrapped
    for the new device. Audited per object with your name and the reason; the privacy
    officer reviews it. Check the device's fingerprint with its user first
    (`clinphoto admin devices --email E`).

    Example: clinphoto custodian grant --device 3f2a9c01... --reason "Phone lost on 3 May,
    replacement enrolled by the user; ticket 4411"
    """
    import getpass

    from clinphoto.instance.grants import grant_with_records_key

    settings = _settings(ctx)
    inst = _open(settings)
    try:
        report = grant_with_records_key(
            inst,
            device_id=device.strip().lower(),
            custodian=by or getpass.getuser(),
            reason=reason,
        )
    except DomainError as exc:
        message = "no such device" if exc.code == "not_found" else exc.message
        err.print(f"[red]error:[/] {message}; `clinphoto admin devices --email E` lists them")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(
        f"Device {report.device_id} ({report.device_name}) of {report.user_email}, "
        f"fingerprint {report.fingerprint}:"
    )
    out.print(
        f"{report.granted} grant(s) written, {report.existing} already there, "
        f"for {report.objects} object(s)"
    )
    if report.unopenable:
        err.print(f"[yellow]note:[/] the records key cannot open {len(report.unopenable)}:")
        for what in report.unopenable[:20]:
            err.print(f"  {what}")


@app.command()
def quickstart(ctx: typer.Context) -> None:
    """Create an embedded instance if there is none, then serve it (what `make run` does).

    It is the embedded development setup: `make run` runs it with CLINPHOTO_ENV=development.

    Example: CLINPHOTO_ENV=development clinphoto --data-dir ./var quickstart
    """
    from clinphoto.accounts import service as accounts
    from clinphoto.instance import keys as instance_keys
    from clinphoto.policy import Role

    settings = _settings(ctx)
    if not settings.development:
        _refuse_unsafe(settings)  # before anything is created
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
    scheme = "https" if settings.tls_cert is not None else "http"
    url = f"{scheme}://{settings.host}:{settings.port}"
    if first:
        out.print(
            f"First administrator: {FIRST_ADMIN_EMAIL}\n"
            f"One-time enrollment code (valid 24 hours): [bold]{code}[/]\n"
            f"Enroll your device: clinphoto device enroll --server {url} --code {code}"
        )
    out.print(f"The phone app: {url}/  (the API's documentation: {url}/docs)")
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
    from clinphoto.instance import keys as instance_keys
    from clinphoto.instance import service as instance_service

    inst = _open(_settings(ctx))
    try:
        # Audited before the key reaches the disk; see instance.service for crash safety.
        recipient = instance_service.export_records_key(inst, out_file)
    except instance_keys.KeyFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(f"Wrote the records key ({recipient}) to {out_file}. Keep it offline.")


def _rewrap(inst: Instance) -> rewrap.RewrapReport:
    """Re-encrypt every field under the primary key (audited), with a progress bar."""
    from clinphoto.instance import service as instance_service

    total = instance_service.fields_to_rewrap(inst)
    with progress(total) as bar:
        task = bar.add_task("re-encrypting fields", total=total)
        examined = 0

        def advance(n: int) -> None:
            nonlocal examined
            examined += n
            bar.update(task, completed=min(examined, total))

        return instance_service.rewrap_fields(inst, progress=advance)


@admin.command("rotate-keys")
def rotate_keys(ctx: typer.Context) -> None:
    """Add a new field-encryption key, make it primary, and re-encrypt every field under it.

    Safe while `clinphoto serve` runs: the server picks up the new key at once and keeps
    answering while fields are re-encrypted. Old keys stay in the keyring so nothing
    becomes unreadable. The rotation and its audit entry commit together: a crash leaves
    either no rotation or a rotation with its entry (completed at the next start).

    Example: clinphoto admin rotate-keys
    """
    from clinphoto.instance import service as instance_service

    inst = _open(_settings(ctx))
    try:
        new_id = instance_service.rotate_field_key(inst)
        out.print(f"New primary field key: {new_id}")
        report = _rewrap(inst)
    finally:
        inst.close()
    out.print(f"Re-encrypted {report.rewrapped} fields under {new_id}.")
    if report.left:
        out.print(f"{report.left} still under an older key; run `admin rewrap-fields` again.")


@admin.command("rewrap-fields")
def rewrap_fields(ctx: typer.Context) -> None:
    """Re-encrypt fields still under an older key (resumable; safe to run any time).

    Example: clinphoto admin rewrap-fields
    """
    inst = _open(_settings(ctx))
    try:
        report = _rewrap(inst)
    finally:
        inst.close()
    out.print(
        f"Re-encrypted {report.rewrapped} of {report.examined} fields; "
        f"{report.left} still under an older key."
    )
    if report.left:
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
    from clinphoto.audit import service as audit

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
    from clinphoto import policy
    from clinphoto.patients import service as patients

    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            lines = patients.audit_export(
                db, subject=policy.Subject.system("cli"), patient_id=patient
            )
    except DomainError as exc:
        err.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    text = "".join(line + "\n" for line in lines)
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text)
        err.print(f"wrote {len(lines)} entries to {out_file}")


class RoleName(enum.StrEnum):
    """The roles ``admin create-user`` offers: those of :class:`clinphoto.policy.Role`, named
    here so that the policy is not imported at start (tests/unit/test_cli_startup.py)."""

    CLINICIAN = "clinician"
    PRIVACY_OFFICER = "privacy_officer"
    ADMINISTRATOR = "administrator"


@admin.command("create-user")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Work e-mail address; the sign-in name.")],
    name: Annotated[str, typer.Option(help="Name shown to colleagues before they share.")],
    role: Annotated[RoleName, typer.Option(help="clinician, privacy_officer or administrator.")],
    institution: Annotated[str, typer.Option(help="Institution shown before sharing.")] = "",
) -> None:
    """Create a user and print a one-time enrollment code for their first device.

    The user chooses their password when they enroll with the code.

    Example: clinphoto admin create-user --email a.tremblay@chu.example --name "Dr A. Tremblay"
    --role clinician --institution "CHU Example"
    """
    from clinphoto.policy import Role

    settings = _settings(ctx)
    inst = _open(settings)
    try:
        with inst.unit_of_work() as db:
            user, code = _create_user_with_code(
                db, inst, settings, email, name, Role(role.value), institution
            )
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
    from clinphoto.accounts import service as accounts

    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            user, code = accounts.issue_code_by_email(
                db, actor=_console(), email=email, lookup_key=inst.keys.blind_index_key
            )
    except DomainError:
        err.print(
            "[red]error:[/] no active user with that e-mail address; "
            "`clinphoto admin users` lists them"
        )
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(f"One-time enrollment code for {user.email} (valid 24 hours): [bold]{code}[/]")


def _console() -> policy.Subject:
    """Who acts when an operator runs an account command on the server: the instance."""
    from clinphoto import policy

    return policy.Subject.system("cli")


@admin.command("users")
def list_users(ctx: typer.Context) -> None:
    """List every user: e-mail, role, whether active, active devices, and id (audited).

    Example: clinphoto admin users
    """
    from clinphoto.accounts import service as accounts

    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            found = accounts.list_users(db, actor=_console())
    finally:
        inst.close()
    # Plain lines, never cut to the terminal's width: ids are copied from here.
    typer.echo(f"{'id':32}  {'role':15}  {'active':6}  {'devices':7}  email")
    for s in found:
        u = s.user
        active = "yes" if u.active else "no"
        typer.echo(f"{u.id:32}  {u.role.value:15}  {active:6}  {s.active_devices:7}  {u.email}")
    err.print(f"{len(found)} user(s)")


@admin.command("devices")
def list_user_devices(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="The user whose devices to list.")],
) -> None:
    """List one user's devices with their full ids, status and fingerprints (audited).

    Revoke one with `clinphoto admin revoke-device ID` (the first 8 characters are enough
    when no other device id starts with them).

    Example: clinphoto admin devices --email a.tremblay@chu.example
    """
    from clinphoto.accounts import service as accounts

    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            user, devices = accounts.devices_by_email(
                db, actor=_console(), email=email, lookup_key=inst.keys.blind_index_key
            )
    except DomainError:
        err.print(
            "[red]error:[/] no user with that e-mail address; `clinphoto admin users` lists them"
        )
        raise typer.Exit(2) from None
    finally:
        inst.close()
    typer.echo(f"{'id':32}  {'status':7}  {'enrolled':16}  name")
    for d in devices:
        enrolled = d.enrolled_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{d.id:32}  {d.status.value:7}  {enrolled:16}  {d.name}")
        typer.echo(f"{'':32}  fingerprint {d.fingerprint}")
    err.print(f"{len(devices)} device(s) of {user.email}")


@admin.command("revoke-device")
def revoke_device(
    ctx: typer.Context,
    device_id: Annotated[
        str, typer.Argument(help="The device id, or its first 8 or more characters.")
    ],
) -> None:
    """Revoke any user's device (a lost phone): its sessions end at once (audited).

    The user enrolls a replacement with a new code: `clinphoto admin enrollment-code`.

    Example: clinphoto admin revoke-device 3f2a9c01
    """
    from clinphoto.accounts import service as accounts

    inst = _open(_settings(ctx))
    try:
        with inst.unit_of_work() as db:
            device = accounts.revoke_device(db, actor=_console(), ref=device_id.strip().lower())
            email = accounts.email_of(db, device.user_id)
    except DomainError as exc:
        message = "no such device" if exc.code == "not_found" else exc.message
        err.print(f"[red]error:[/] {message}; `clinphoto admin devices --email E` lists them")
        raise typer.Exit(2) from None
    finally:
        inst.close()
    out.print(f"Device {device.id} ({device.name}) of {email} is revoked.")


# Every command registered above: help that reads well at any width, annotations read once.
prepare(app)
