"""The account commands as people type them (issue #7): the device client checks what it can
before it spends a one-time code and undoes an enrollment it cannot keep, session errors say
what to type next, `device list` shows ids in full and `device revoke` takes a prefix and
asks before revoking one's last device, and administrators list users and devices on the
server. The real CLI runs in-process against the real server on a loopback port, on SQLite
and PostgreSQL."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select, update
from typer.testing import CliRunner

from clinphoto.accounts.models import Device, DeviceStatus, EnrollmentCode, Role, Session, User
from clinphoto.api.app import create_app
from clinphoto.audit.models import AuditEntry
from clinphoto.cli import main as cli_main
from clinphoto.cli.main import app
from clinphoto.client.profile import Profile
from clinphoto.core.clock import utcnow
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance
from tests.conftest import make_user
from tests.live import serving

PASSWORD = "a long clinical passphrase"
PASSCODE = "864213"


@dataclass
class Live:
    url: str
    env: dict[str, str]
    instance: Instance
    tmp: Path

    def cli(self, *args: str, input: str | None = None, **env: str) -> Result:
        return CliRunner().invoke(app, list(args), env={**self.env, **env}, input=input)

    def enroll(self, code: str, name: str, **env: str) -> Result:
        profile = str(self.tmp / name)
        return self.cli(
            "device", "enroll", "--server", self.url, "--code", code, "--name", name,
            "--profile", profile, **env,
        )  # fmt: skip

    def profile(self, name: str) -> list[str]:
        return ["--profile", str(self.tmp / name)]

    def device_id(self, name: str) -> str:
        return Profile(self.tmp / name).unlock(PASSCODE).device_id


@pytest.fixture
def live(settings: Settings, instance: Instance, tmp_path: Path) -> Iterator[Live]:
    """The real API on a loopback port, and the environment the CLI needs to reach the same
    instance (for the administrator's commands, which run on the server)."""
    env = {
        "CLINPHOTO_DATA_DIR": str(settings.data_dir),
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
        "COLUMNS": "40",  # a narrow terminal: ids must still print in full
    }
    with serving(create_app(settings, instance)) as url:
        yield Live(url, env, instance, tmp_path)


def _said(result: Result) -> str:
    """What a command wrote to stderr, with line breaks (Rich wraps to the width) undone."""
    return " ".join(result.stderr.split())


def _devices(instance: Instance, email: str) -> list[Device]:
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        return list(db.execute(select(Device).where(Device.user_id == user.id)).scalars())


def _code_used(instance: Instance, email: str) -> bool:
    with instance.unit_of_work() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        row = db.execute(select(EnrollmentCode).where(EnrollmentCode.user_id == user.id)).scalar()
        return row is not None and row.used_at is not None


def test_enroll_checks_the_passcode_before_it_spends_the_code(live: Live) -> None:
    code = make_user(live.instance, Role.CLINICIAN, "a.tremblay@chu.example")
    short = live.enroll(code, "phone", CLINPHOTO_PASSCODE="12345")
    assert short.exit_code == 2
    assert "at least 6 characters" in _said(short)
    assert "still valid" in _said(short)
    assert not _code_used(live.instance, "a.tremblay@chu.example")
    assert _devices(live.instance, "a.tremblay@chu.example") == []
    done = live.enroll(code, "phone")
    assert done.exit_code == 0, done.stderr
    assert "Enrolled device" in done.stdout


def test_enroll_that_cannot_save_its_profile_revokes_the_new_device_and_says_what_to_do(
    live: Live,
) -> None:
    code = make_user(live.instance, Role.CLINICIAN, "b.gagnon@chu.example")
    # The profile directory is writable, but the vault cannot be written where it goes:
    # found only after the server has accepted the enrollment.
    (live.tmp / "phone" / "vault.tmp").mkdir(parents=True)
    failed = live.enroll(code, "phone")
    assert failed.exit_code == 2
    assert "could not save" in _said(failed)
    assert "has been revoked again" in _said(failed)
    assert "ask your administrator for a new one" in _said(failed)
    devices = _devices(live.instance, "b.gagnon@chu.example")
    assert len(devices) == 1
    assert devices[0].status is DeviceStatus.REVOKED
    assert devices[0].id in _said(failed)


def test_session_errors_say_what_to_type_next(live: Live) -> None:
    code = make_user(live.instance, Role.CLINICIAN, "c.roy@chu.example")
    assert live.enroll(code, "phone").exit_code == 0
    with live.instance.unit_of_work() as db:
        db.execute(update(Session).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = live.cli("device", "whoami", *live.profile("phone"))
    assert expired.exit_code == 2
    assert "your session expired" in _said(expired)
    assert "clinphoto device login" in _said(expired)
    assert live.cli("device", "login", *live.profile("phone")).exit_code == 0
    assert live.cli("device", "whoami", *live.profile("phone")).exit_code == 0
    revoked = live.cli("admin", "revoke-device", live.device_id("phone"))
    assert revoked.exit_code == 0, revoked.output
    after = live.cli("device", "whoami", *live.profile("phone"))
    assert after.exit_code == 2
    assert "this device was revoked" in _said(after)
    assert "new enrollment code" in _said(after)
    assert "clinphoto device enroll" in _said(after)


def test_device_list_shows_full_ids_and_revoke_takes_a_prefix_and_asks_first(
    live: Live,
) -> None:
    code = make_user(live.instance, Role.CLINICIAN, "d.ouellet@chu.example")
    assert live.enroll(code, "phone").exit_code == 0
    approved = live.cli("device", "approve", *live.profile("phone"))
    second = approved.stdout.split("hours): ")[1].split()[0]
    assert live.enroll(second, "laptop").exit_code == 0
    phone, laptop = live.device_id("phone"), live.device_id("laptop")
    listed = live.cli("device", "list", *live.profile("phone"))
    assert phone in listed.stdout
    assert laptop in listed.stdout
    # This device (not the last): asked first; "no" revokes nothing.
    kept = live.cli("device", "revoke", phone[:8], *live.profile("phone"), input="n\n")
    assert kept.exit_code == 1
    assert "this device" in _said(kept)
    # Another device of one's own, by prefix: no question.
    gone = live.cli("device", "revoke", laptop[:8], *live.profile("phone"))
    assert gone.exit_code == 0, gone.output
    assert laptop in gone.stdout
    # Now the phone is the last active device: asked, and --yes skips the question.
    last = live.cli("device", "revoke", phone[:8], *live.profile("phone"), input="n\n")
    assert last.exit_code == 1
    assert "last active device" in _said(last)
    states = {d.id: d.status for d in _devices(live.instance, "d.ouellet@chu.example")}
    assert states == {phone: DeviceStatus.ACTIVE, laptop: DeviceStatus.REVOKED}
    done = live.cli("device", "revoke", phone[:8], "--yes", *live.profile("phone"))
    assert done.exit_code == 0, done.output
    assert all(
        d.status is DeviceStatus.REVOKED for d in _devices(live.instance, "d.ouellet@chu.example")
    )


def test_administrators_list_users_and_devices_and_revoke_by_prefix(live: Live) -> None:
    code = make_user(live.instance, Role.CLINICIAN, "e.lavoie@chu.example")
    assert live.enroll(code, "phone").exit_code == 0
    phone = live.device_id("phone")
    users = live.cli("admin", "users")
    assert users.exit_code == 0, users.output
    assert "e.lavoie@chu.example" in users.stdout
    devices = live.cli("admin", "devices", "--email", "e.lavoie@chu.example")
    assert phone in devices.stdout
    admin_code = make_user(live.instance, Role.ADMINISTRATOR, "admin@chu.example")
    assert live.enroll(admin_code, "admin-laptop").exit_code == 0
    from_device = live.cli("device", "users", *live.profile("admin-laptop"))
    assert "e.lavoie@chu.example" in from_device.stdout
    user_id = _devices(live.instance, "e.lavoie@chu.example")[0].user_id
    theirs = live.cli("device", "list", "--user-id", user_id, *live.profile("admin-laptop"))
    assert phone in theirs.stdout
    revoked = live.cli("admin", "revoke-device", phone[:8])
    assert revoked.exit_code == 0, revoked.output
    assert _devices(live.instance, "e.lavoie@chu.example")[0].status is DeviceStatus.REVOKED


def test_lookups_by_email_on_the_server_are_audited_without_the_email(live: Live) -> None:
    typed = "someone.unknown@chu.example"
    assert live.cli("admin", "devices", "--email", typed).exit_code == 2
    assert live.cli("admin", "enrollment-code", "--email", typed).exit_code == 2
    with live.instance.unit_of_work() as db:
        entries = list(db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
    denied = [(e.action, e.actor) for e in entries if e.outcome == "denied"]
    assert denied == [
        ("account.device_list", "cli"),
        ("account.enrollment_code_issue", "cli"),
    ]
    assert all(typed not in f"{e.object_id} {e.details}" for e in entries)
    assert all("email_ref" in e.details for e in entries if e.outcome == "denied")


def test_account_commands_do_not_write_the_audit_trail() -> None:
    for command in (
        cli_main._create_user_with_code,
        cli_main.create_user,
        cli_main.enrollment_code,
        cli_main.list_users,
        cli_main.list_user_devices,
        cli_main.revoke_device,
    ):
        assert "audit." not in inspect.getsource(command), command.__name__
