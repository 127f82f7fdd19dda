"""``clinphoto device ...``: the device client. It talks to the server only through the HTTP
API (``clinphoto.client``), and keeps its keys in a passcode-sealed profile.

The HTTP client and the cryptography are imported in the commands' bodies, after the
command line is read: ``clinphoto --help`` and a passcode prompt come up at once
(see clinphoto.cli.main).
"""

from __future__ import annotations

import base64
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from clinphoto.cli import early

if TYPE_CHECKING:
    from clinphoto.client.api import ApiClient
    from clinphoto.client.profile import DeviceSecrets, Profile, ProfileError

device = typer.Typer(help="The device client: enroll this machine and manage your devices.")
err = Console(stderr=True)
out = Console()

ProfileOpt = Annotated[
    Path,
    typer.Option(
        "--profile",
        envvar="CLINPHOTO_PROFILE",
        help="Profile directory holding this device's sealed keys.",
    ),
]
DEFAULT_PROFILE = Path.home() / ".config" / "clinphoto"
DEVICE_NAME_MAX = 100


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    result: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return result


def _hint(message: str) -> str | None:
    """What to type next, for the server's session errors (they say what to do in words)."""
    if message.startswith("this device was revoked"):
        return (
            "This profile no longer works. With a new code, enroll again into a new profile: "
            "clinphoto device enroll --server URL --code CODE --profile NEW_DIR"
        )
    if "sign in again" in message or "sign in first" in message:
        return "Start a new session: clinphoto device login"
    return None


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    hint = _hint(message)
    if hint is not None:
        err.print(hint)
    return typer.Exit(2)


def _unlock(profile: Path) -> DeviceSecrets:
    """This device's keys, unsealed with its passcode.

    The passcode is asked for first and the cryptography imported after it, so the prompt
    comes up at once; commands import the HTTP client after this call for the same reason.
    """
    try:
        given = early.take()  # asked before Typer was loaded (clinphoto.cli.early)
    except early.Aborted:
        raise typer.Abort() from None
    passcode = given or _secret("CLINPHOTO_PASSCODE", "Device passcode")
    from clinphoto.client.profile import Profile, ProfileError

    try:
        return Profile(profile).unlock(passcode)
    except ProfileError as exc:
        _send_pending_confirmation(profile)
        raise _fail(str(exc)) from None


def _send_pending_confirmation(profile: Path) -> None:
    """A wiped profile's signed wipe confirmation that could not be sent then (BRE-4)."""
    from clinphoto.client import status

    sent = status.send_pending_confirmation(profile)
    if sent:
        err.print("The signed confirmation of this device's remote wipe was sent (BRE-4).")
    elif sent is False:
        err.print("The confirmation of this device's remote wipe still waits to be sent.")


def _finish(api: ApiClient, profile: Path, secrets_: DeviceSecrets) -> None:
    """After a command's main request: this device's signed status report (decision 014),
    and what the answer orders: a remote wipe (BRE-4), recalled shares (BRE-2). Never fatal;
    closes ``api``. Nothing is done when the profile is gone or the server was not reached."""
    from clinphoto.client import status
    from clinphoto.client.profile import Profile

    try:
        outcome = status.report(api, secrets_.server, Profile(profile), secrets_.device_id)
    finally:
        api.close()
    if outcome.wiped is not None:
        held = outcome.wiped["outbox_items"]
        sent = (
            "The signed confirmation was sent to the server."
            if outcome.wipe_confirmed
            else "The signed confirmation could not be sent yet: the next clinphoto command "
            "run with this profile sends it."
        )
        err.print(
            "[red]This device was reported lost or stolen and was wiped on the server's "
            f"order (BRE-4):[/] its keys, its status key, its outbox ({held} unsent "
            f"item(s)) and its cached recipients were erased from {profile}. {sent}"
        )
    if outcome.problem is not None:
        err.print(f"[dim]note: this device's status report was not sent: {outcome.problem}[/]")
    for share_id in outcome.recalled_shares:
        err.print(
            f"[yellow]recalled:[/] share {share_id} was recalled by its sender. clinphoto "
            "keeps no copy of a share on this device, and said so to the server. If you "
            f"saved it with `clinphoto open --share {share_id} --out FILE`, delete that file "
            "yourself: clinphoto cannot reach it (BRE-2)."
        )


def _local_problem(store: Profile, password: str, passcode: str, name: str) -> str | None:
    """What this device can tell is wrong before it spends the one-time code, or None.

    The password's length only: the server checks the rest (common passwords, your name)
    for a new account without spending the code, and an existing account's password is
    whatever it was set to.
    """
    from clinphoto.accounts import passwords
    from clinphoto.client.profile import ProfileError, check_passcode
    from clinphoto.core import text

    try:
        check_passcode(passcode)
        store.check_writable()
    except ProfileError as exc:
        return str(exc)
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        return (
            f"the account password must be {passwords.MIN_LENGTH} to "
            f"{passwords.MAX_LENGTH} characters"
        )
    kind = text.problem(name, max_len=DEVICE_NAME_MAX)
    if kind is not None:
        return f"--name: expected {text.expected(kind, max_len=DEVICE_NAME_MAX)}"
    return None


def _undo_enrollment(server: str, result: dict[str, Any], problem: ProfileError) -> str:
    """The server enrolled the device but this machine could not keep its keys: revoke it
    with its own new session, and say what happened and what to do."""
    from clinphoto.client.api import ApiClient, ApiError

    device_id = result["device"]["id"]
    what = (
        f"this machine could not save the new device's keys ({problem}). The server had "
        f"enrolled it as device {device_id}"
    )
    again = (
        "The one-time code is used up: ask your administrator for a new one (or approve "
        "this machine from another of your devices with `clinphoto device approve`), fix "
        "the problem above, and run `clinphoto device enroll` again."
    )
    api = ApiClient(server, result["token"])
    try:
        api.revoke_device(device_id)
    except ApiError as exc:
        return (
            f"{what}, and revoking it failed too ({exc.message}): ask an administrator to "
            f"revoke device {device_id} (`clinphoto admin revoke-device {device_id}`). {again}"
        )
    finally:
        api.close()
    return f"{what}; it has been revoked again, so nothing is left behind. {again}"


@device.command("enroll")
def enroll(
    server: Annotated[
        str, typer.Option(help="The clinphoto server, e.g. https://photo.chu.example")
    ],
    code: Annotated[str, typer.Option(help="One-time enrollment code from your administrator.")],
    name: Annotated[str, typer.Option(help="A name for this device.")] = platform.node(),
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Enroll this machine as one of your devices.

    Generates this device's keys, registers their public halves with the server, and seals
    the private keys in the profile under a passcode you choose (6 characters or more). A
    new account sets its password here (12 characters or more). Passwords and passcodes
    come from prompts, or from CLINPHOTO_PASSWORD and CLINPHOTO_PASSCODE for automation.

    Everything this machine can check (passcode, password length, device name, a writable
    profile) is checked before the one-time code is sent, so a mistake does not use it up.

    Example: clinphoto device enroll --server http://127.0.0.1:8000 --code ABCDE-FGHJK-MNPQR-STVWX
    """
    from clinphoto import crypto
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.profile import DeviceSecrets, Profile, ProfileError

    store = Profile(profile)
    if store.exists():
        raise _fail(f"{profile} already holds an enrolled device; use another --profile")
    password = _secret("CLINPHOTO_PASSWORD", "Account password", confirm=True)
    passcode = _secret("CLINPHOTO_PASSCODE", "New device passcode", confirm=True)
    problem = _local_problem(store, password, passcode, name)
    if problem is not None:
        raise _fail(f"{problem} (nothing was sent: the enrollment code is still valid)")
    age, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
    api = ApiClient(server)
    try:
        result = api.enroll(
            code=code,
            password=password,
            device_name=name,
            age=age.recipient,
            signing_public=signing.public,
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    secrets_ = DeviceSecrets(
        server=server,
        user_id=result["user"]["id"],
        email=result["user"]["email"],
        device_id=result["device"]["id"],
        age_secret=age.secret,
        signing_key=base64.b64encode(signing.raw).decode(),
        token=result["token"],
    )
    try:
        store.save(secrets_, passcode)
    except ProfileError as exc:
        raise _fail(_undo_enrollment(server, result, exc)) from None
    out.print(f"Enrolled device {secrets_.device_id} for {secrets_.email}")
    out.print(f"Fingerprint: {result['device']['fingerprint']}")
    # Its status key, registered now: a lost device can be wiped from its next report.
    _finish(ApiClient(server, secrets_.token), profile, secrets_)


@device.command("login")
def login(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Start a new session (sessions last 12 hours).

    Example: clinphoto device login
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.profile import Profile

    password = _secret("CLINPHOTO_PASSWORD", "Account password")
    api = ApiClient(secrets_.server)
    try:
        result = api.login(
            email=secrets_.email,
            password=password,
            device_id=secrets_.device_id,
            signing=secrets_.signing,
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    secrets_.token = result["token"]
    Profile(profile).update(secrets_, os.environ.get("CLINPHOTO_PASSCODE") or _passcode_again())
    out.print(f"Signed in as {secrets_.email}")
    _finish(ApiClient(secrets_.server, secrets_.token), profile, secrets_)


def _passcode_again() -> str:
    result: str = typer.prompt("Device passcode (to re-seal the session)", hide_input=True)
    return result


@device.command("whoami")
def whoami(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Show the signed-in user and this device.

    Example: clinphoto device whoami
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        me = api.me()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(f"{me['user']['display_name']} <{me['user']['email']}> ({me['user']['role']})")
    out.print(f"device {me['device']['id']} {me['device']['name']!r}")
    out.print(f"fingerprint {me['device']['fingerprint']}")


def _print_devices(devices: list[dict[str, Any]], this_device: str) -> None:
    # Plain lines, never cut to the terminal's width: `device revoke` takes these ids.
    typer.echo(f"{'id':32}  {'status':7}  {'enrolled':16}  name")
    for d in devices:
        enrolled = str(d["enrolled_at"])[:16].replace("T", " ")
        mark = "  (this device)" if d["id"] == this_device else ""
        typer.echo(f"{d['id']:32}  {d['status']:7}  {enrolled:16}  {d['name']}{mark}")
        typer.echo(f"{'':32}  fingerprint {d['fingerprint']}")


@device.command("list")
def list_devices(
    user_id: Annotated[
        str | None,
        typer.Option("--user-id", help="Administrators: another user's id (`device users`)."),
    ] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """List your devices (administrators: anyone's) with full ids, fingerprints and status.

    Example: clinphoto device list
    Example: clinphoto device list --user-id 6f1c0b2e9a8d4c3b2a1f0e9d8c7b6a59
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        devices = api.devices(user_id)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    _print_devices(devices, secrets_.device_id)


@device.command("users")
def list_users(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Administrators: every user with role, status, active devices and id (audited).

    Example: clinphoto device users
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        users = api.users()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    typer.echo(f"{'id':32}  {'role':15}  {'active':6}  {'devices':7}  email")
    for u in users:
        active = "yes" if u["active"] else "no"
        typer.echo(
            f"{u['id']:32}  {u['role']:15}  {active:6}  {u['active_devices']:7}  {u['email']}"
        )


def _confirm_own(devices: list[dict[str, Any]], ref: str, this_device: str) -> bool:
    """Ask before revoking this device or one's last active device; True to go ahead."""
    matches = [d for d in devices if d["id"].startswith(ref)]
    if len(matches) != 1 or matches[0]["status"] != "active":
        return True  # not one of yours, ambiguous, or revoked already: the server answers
    target = matches[0]
    active = [d for d in devices if d["status"] == "active"]
    if len(active) == 1:
        warning = (
            f"{target['id']} ({target['name']}) is your last active device: once it is "
            "revoked you cannot sign in anywhere until an administrator gives you a new "
            "enrollment code."
        )
    elif target["id"] == this_device:
        warning = f"{target['id']} ({target['name']}) is this device: its profile stops working."
    else:
        return True
    err.print(f"[yellow]warning:[/] {warning}")
    return typer.confirm("Revoke it?", default=False)


@device.command("revoke")
def revoke(
    device_id: Annotated[
        str,
        typer.Argument(help="The device's id, or its first 8 or more characters (`device list`)."),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before revoking your last active device.")
    ] = False,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Revoke a device (a lost phone, say): its sessions end at once.

    Yours, or (administrators) anyone's. Revoking this device or your last active one asks
    first, unless --yes.

    Example: clinphoto device revoke 3f2a9c01
    """
    ref = device_id.strip().lower()
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        if not yes and not _confirm_own(api.devices(), ref, secrets_.device_id):
            err.print("Nothing was revoked.")
            raise typer.Exit(1)
        result = api.revoke_device(ref)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(f"Device {result['id']} ({result['name']}) is {result['status']}")


@device.command("approve")
def approve(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Approve a new device of yours from this one: prints a one-time enrollment code.

    Type the code into the new device's `clinphoto device enroll`; it is valid once, for a
    limited time, and only for your own account. Issuing it is audited.

    Example: clinphoto device approve
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        result = api.enrollment_code()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(
        f"One-time enrollment code (valid {result['expires_in_hours']} hours): {result['code']}"
    )
    out.print(f"On the new device: clinphoto device enroll --server {secrets_.server} --code CODE")
    link = enrollment_link(secrets_.server, result["code"])
    out.print(f"On a phone: scan this code with the camera, or open {link}")
    out.print(qr_text(link), highlight=False, markup=False)


def enrollment_link(server: str, code: str) -> str:
    """The phone app's enrollment screen with the code filled in (the code never reaches the
    server in a URL: it sits after the #)."""
    return f"{server.rstrip('/')}/#/enroll/{code}"


def qr_text(data: str) -> str:
    """``data`` as a QR code drawn with block characters, for a phone's camera to read off the
    screen (dark modules on a light, quiet border)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    rows = [[not m for m in row] for row in qr.get_matrix()]  # True: light
    blocks = {(True, True): "\u2588", (True, False): "\u2580", (False, True): "\u2584"}
    lines = []
    for top, bottom in zip(rows[::2], [*rows[1::2], [True] * len(rows[0])], strict=False):
        lines.append("".join(blocks.get((t, b), " ") for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)


def _own_device(devices: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    """The one device of yours that ``ref`` (an id, or its first 8 or more characters) names."""
    matches = [d for d in devices if len(ref) >= 8 and d["id"].startswith(ref)]
    if len(matches) != 1:
        raise _fail(
            f"{ref}: not one of your devices, or the start of several ids; `clinphoto device "
            "list` shows them in full"
        )
    return matches[0]


@device.command("grant")
def grant(
    device_id: Annotated[
        str,
        typer.Argument(help="Your new device's id, or its first 8 or more characters."),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask (after checking the fingerprint).")
    ] = False,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Let a new device of yours open your earlier photos and the shares sent to you.

    Run it on a device that opens them, after `clinphoto device approve` and the new
    device's enrollment. Shows the new device's name and fingerprint: compare it with what
    the new device printed when it enrolled (`clinphoto device whoami` there), then confirm.
    For each object this device can open and the new one cannot, it re-wraps the object's
    key for the new device (a grant: a few hundred bytes; no photo is downloaded or sent
    again). Safe to run again: what is granted already is left as it is.

    Example: clinphoto device grant 3f2a9c01
    """
    ref = device_id.strip().lower()
    secrets_ = _unlock(profile)
    from clinphoto import crypto
    from clinphoto.client.api import ApiError
    from clinphoto.client.grants import GrantsApi, grant_device

    api = GrantsApi(secrets_.server, secrets_.token)
    try:
        target = _own_device(api.devices(), ref)
        if target["status"] != "active":
            raise _fail(f"device {target['id']} is revoked: grants go only to active devices")
        if target["id"] == secrets_.device_id:
            raise _fail("that is this device: run `clinphoto device grant` on another of yours")
        fingerprint = crypto.fingerprint(target["age_recipient"], target["signing_public"])
        if fingerprint != target["fingerprint"]:
            raise _fail("the server's fingerprint for that device does not match its keys")
        out.print(f"New device: {target['name']!r} ({target['id']})")
        out.print(f"Fingerprint: {fingerprint}")
        if not yes and not typer.confirm(
            "Is this the fingerprint your new device shows? Grant it your photos and shares?",
            default=False,
        ):
            err.print("Nothing was granted.")
            raise typer.Exit(1)
        report = grant_device(
            api, device_id=target["id"], recipient=target["age_recipient"], identity=secrets_.age
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(
        f"{report.granted} grant(s) written, {report.existing} already there, "
        f"for {report.objects} object(s)"
    )
    if report.unopenable:
        err.print(
            f"[yellow]note:[/] {len(report.unopenable)} object(s) this device cannot open "
            "either (sealed before it was enrolled): grant from an older device of yours, "
            "or ask the records custodian (`clinphoto custodian grant`)"
        )
        for what in report.unopenable[:20]:
            err.print(f"  {what}")
