"""``clinphoto device ...``: the device client. It talks to the server only through the HTTP
API (``clinphoto.client``), and keeps its keys in a passcode-sealed profile."""

from __future__ import annotations

import base64
import os
import platform
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clinphoto import crypto
from clinphoto.client.api import ApiClient, ApiError
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


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    result: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return result


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(2)


def _unlock(profile: Path) -> DeviceSecrets:
    try:
        return Profile(profile).unlock(_secret("CLINPHOTO_PASSCODE", "Device passcode"))
    except ProfileError as exc:
        raise _fail(str(exc)) from None


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
    the private keys in the profile under a passcode you choose. A new account sets its
    password here. Passwords and passcodes come from prompts, or from CLINPHOTO_PASSWORD and
    CLINPHOTO_PASSCODE for automation.

    Example: clinphoto device enroll --server http://127.0.0.1:8000 --code ABCDE-FGHJK-MNPQR-STVWX
    """
    store = Profile(profile)
    if store.exists():
        raise _fail(f"{profile} already holds an enrolled device; use another --profile")
    password = _secret("CLINPHOTO_PASSWORD", "Account password", confirm=True)
    passcode = _secret("CLINPHOTO_PASSCODE", "New device passcode", confirm=True)
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
        raise _fail(str(exc)) from None
    out.print(f"Enrolled device {secrets_.device_id} for {secrets_.email}")
    out.print(f"Fingerprint: {result['device']['fingerprint']}")


@device.command("login")
def login(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Start a new session (sessions last 12 hours).

    Example: clinphoto device login
    """
    secrets_ = _unlock(profile)
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


def _passcode_again() -> str:
    result: str = typer.prompt("Device passcode (to re-seal the session)", hide_input=True)
    return result


@device.command("whoami")
def whoami(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Show the signed-in user and this device.

    Example: clinphoto device whoami
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        me = api.me()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(f"{me['user']['display_name']} <{me['user']['email']}> ({me['user']['role']})")
    out.print(f"device {me['device']['id']} {me['device']['name']!r}")
    out.print(f"fingerprint {me['device']['fingerprint']}")


@device.command("list")
def list_devices(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """List your devices with their fingerprints and status.

    Example: clinphoto device list
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        devices = api.devices()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    table = Table("id", "name", "fingerprint", "status", "enrolled")
    for d in devices:
        table.add_row(d["id"], d["name"], d["fingerprint"], d["status"], d["enrolled_at"])
    out.print(table)


@device.command("revoke")
def revoke(
    device_id: Annotated[str, typer.Argument(help="The device to revoke.")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Revoke one of your devices (a lost phone, say): its sessions end at once.

    Example: clinphoto device revoke 3f2a9c...
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        result = api.revoke_device(device_id)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(f"Device {result['id']} is {result['status']}")


@device.command("approve")
def approve(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Approve a new device of yours from this one: prints a one-time enrollment code.

    Type the code into the new device's `clinphoto device enroll`; it is valid once, for a
    limited time, and only for your own account. Issuing it is audited.

    Example: clinphoto device approve
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        result = api.enrollment_code()
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(
        f"One-time enrollment code (valid {result['expires_in_hours']} hours): {result['code']}"
    )
    out.print(f"On the new device: clinphoto device enroll --server {secrets_.server} --code CODE")
