"""The CLI device's status key and reports, end to end against the real server on a loopback
port (BRE-2, BRE-4, BRE-5; decision 014): it registers its status key at enrollment (an older
profile at its next command), reports what its outbox holds after the commands that reach the
server, is wiped on the server's order with a signed confirmation once reported lost, and
confirms recalled shares it keeps no copy of. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Device, Role, User
from clinphoto.api.app import create_app
from clinphoto.breaches.models import ShareDeletion
from clinphoto.cli.main import app
from clinphoto.client.profile import Profile
from clinphoto.core.config import Settings
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from clinphoto.records.clock import FixedClock
from tests.conftest import EnrolledDevice, enroll, make_user
from tests.functional.test_accounts_cli import PASSCODE, PASSWORD
from tests.live import free_port, serving

SPACING = timedelta(seconds=31)  # the server keeps one report per device per 30 s


class Site:
    """The server, its clock, and clinicians' CLI devices, each in its own profile."""

    def __init__(self, url: str, env: dict[str, str], api: FastAPI, tmp: Path) -> None:
        self.url, self.env, self.tmp = url, env, tmp
        self.instance: Instance = api.state.instance
        self.client = TestClient(api)  # the same server in-process: the user's other device
        self.clock = FixedClock(datetime.now(UTC))
        api.state.retention_clock = self.clock
        self.desk: EnrolledDevice | None = None

    def cli(self, who: str, *args: str) -> Result:
        full = [*args, "--profile", str(self.tmp / who)]
        return CliRunner().invoke(app, full, env=self.env)

    def ok(self, who: str, *args: str) -> str:
        result = self.cli(who, *args)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    def enroll(self, who: str, email: str) -> str:
        code = make_user(self.instance, Role.CLINICIAN, email, name=f"Dr {who.title()}")
        self.ok(who, "device", "enroll", "--server", self.url, "--code", code, "--name", who)
        return Profile(self.tmp / who).unlock(PASSCODE).device_id

    def report_lost(self, email: str, device_id: str, kind: str, why: str) -> dict[str, Any]:
        """The user reports the device lost or stolen from another device of theirs."""
        with self.instance.unit_of_work() as db:
            user = db.execute(select(User).where(User.email == email)).scalar_one()
            code = accounts.issue_enrollment_code(db, user=user, issued_by="test")
        self.desk = enroll(self.client, code, PASSWORD)
        reported = self.client.post(
            "/v1/breaches",
            json={"kind": kind, "device_id": device_id, "description": why},
            headers=self.desk.auth,
        )
        assert reported.status_code == 201, reported.text
        body: dict[str, Any] = reported.json()
        return body

    def breach(self, breach_id: str) -> dict[str, Any]:
        assert self.desk is not None, "report_lost first"
        got = self.client.get(f"/v1/breaches/{breach_id}", headers=self.desk.auth)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    def move_server(self, who: str, url: str) -> None:
        """Point the device at another address (a server it cannot reach: offline)."""
        store = Profile(self.tmp / who)
        secrets_ = store.unlock(PASSCODE)
        secrets_.server = url
        store.update(secrets_, PASSCODE)

    def patient_encounter(self, who: str) -> tuple[str, str]:
        patient = self.ok(
            who, "patient", "add", "--name", "Rose Leblanc", "--dob", "1990-01-02",
            "--mrn", "5550123", "--province", "ON",
        ).strip().splitlines()[-1]  # fmt: skip
        recorded = self.ok(
            who, "consent", "record", "--patient", patient, "--purpose", "clinical_care",
            "--method", "written", "--informed-of-rights", "--text-version", "2026-11-en",
        )  # fmt: skip
        return patient, recorded.split("encounter ")[1].split()[0]


@pytest.fixture
def site(settings: Settings, instance: Instance, tmp_path: Path) -> Iterator[Site]:
    env = {
        "CLINPHOTO_DATA_DIR": str(settings.data_dir),
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
        "COLUMNS": "200",
    }
    api = create_app(settings, instance)
    with serving(api) as url:
        yield Site(url, env, api, tmp_path)


def _photo(path: Path, seed: int) -> Path:
    img = Image.new("RGB", (160, 120))
    img.putdata([((x * seed) % 256, (y * 3) % 256, 90) for y in range(120) for x in range(160)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


def _said(result: Result) -> str:
    return " ".join(result.stderr.split())


def _status_public(instance: Instance, device_id: str) -> str | None:
    with instance.unit_of_work() as db:
        device = db.get(Device, device_id)
        assert device is not None
        return device.status_public


def test_bre4_the_cli_registers_its_status_key_at_enrollment_kept_outside_the_vault(
    site: Site,
) -> None:
    device_id = site.enroll("laptop", "k.key@chu.example")
    store = Profile(site.tmp / "laptop")
    key = store.status_key()
    assert key is not None
    assert key.registered
    assert key.device_id == device_id
    assert _status_public(site.instance, device_id) == key.public
    # Outside the vault: readable without the passcode, and not the device's signing key.
    assert (site.tmp / "laptop" / "status_key").stat().st_mode & 0o777 == 0o600
    assert key.public != store.unlock(PASSCODE).signing.public


def test_bre4_a_profile_enrolled_before_status_keys_gets_one_at_its_next_command(
    site: Site,
) -> None:
    device_id = site.enroll("laptop", "o.old@chu.example")
    (site.tmp / "laptop" / "status_key").unlink()
    with site.instance.unit_of_work() as db:
        db.execute(update(Device).where(Device.id == device_id).values(status_public=None))
    site.ok("laptop", "device", "whoami")
    key = Profile(site.tmp / "laptop").status_key()
    assert key is not None
    assert key.registered
    assert _status_public(site.instance, device_id) == key.public


def test_bre4_bre5_a_cli_device_reported_lost_is_listed_with_its_outbox_then_wiped(
    site: Site,
) -> None:
    """Issue 10 §5 for the CLI: an offline capture held in the outbox is reported by id, the
    user reports the laptop lost from another device, the register lists the patient as
    captured_not_uploaded, and the laptop's next command wipes it with a signed confirmation."""
    email = "l.lost@chu.example"
    device_id = site.enroll("laptop", email)
    patient, encounter = site.patient_encounter("laptop")
    online = site.cli(
        "laptop", "capture", str(_photo(site.tmp / "a.jpg", 2)),
        "--patient", patient, "--encounter", encounter,
    )  # fmt: skip
    assert online.exit_code == 0, online.stderr
    assert "captured as" in online.stdout

    # Offline: the capture is sealed into the outbox and waits there.
    site.move_server("laptop", f"http://127.0.0.1:{free_port()}")
    offline = site.cli(
        "laptop", "capture", str(_photo(site.tmp / "b.jpg", 3)),
        "--patient", patient, "--encounter", encounter,
    )  # fmt: skip
    assert "wait in the outbox" in _said(offline)
    assert "status report" not in _said(offline)  # not tried: the server was not reached
    held = site.ok("laptop", "outbox")
    assert "photo b.jpg" in held

    # Back online: the next command that reaches the server reports what the outbox holds.
    site.move_server("laptop", site.url)
    site.clock.advance(SPACING)
    site.ok("laptop", "inbox")

    site.clock.advance(SPACING)
    breach = site.report_lost(email, device_id, "lost_device", "laptop left on the train")
    exposed = {p["patient_id"]: p for p in breach["exposure"]["patients"]}
    assert exposed[patient]["reasons"] == ["captured_not_uploaded"]
    assert len(exposed[patient]["media_ids"]) == 1
    assert breach["device"]["wipe"]["confirmed_at"] is None

    # The laptop's next command: revoked, told to wipe, signs, erases, confirms.
    wiped = site.cli("laptop", "sync")
    assert "was wiped on the server's order" in _said(wiped), wiped.stderr
    assert "signed confirmation was sent" in _said(wiped)
    assert not (site.tmp / "laptop" / "vault.json").exists()
    assert not (site.tmp / "laptop" / "status_key").exists()
    assert not (site.tmp / "laptop" / "queue").exists()
    assert not (site.tmp / "laptop" / "wipe-confirmation.json").exists()
    after = site.cli("laptop", "inbox")
    assert after.exit_code == 2
    assert "no device profile" in _said(after)

    wipe = site.breach(breach["id"])["device"]["wipe"]
    assert wipe["confirmed_at"] is not None
    assert wipe["signature_valid"] is True
    assert wipe["erased"] == {"vault": True, "outbox_items": 1, "databases": 0, "caches": 1}


def test_bre4_a_wipe_confirmation_that_could_not_be_sent_goes_with_the_next_command(
    site: Site,
) -> None:
    email = "w.wait@chu.example"
    device_id = site.enroll("laptop", email)
    site.clock.advance(SPACING)
    breach = site.report_lost(email, device_id, "stolen_device", "bag stolen")
    # The confirmation is refused once (the address is blocked for a moment, say).
    original = httpx.Client.request

    def refuse_confirmation(self: httpx.Client, method: str, url: Any, **kw: Any) -> Any:
        if str(url).endswith("/wipe-confirmation") and not refused:
            refused.append(url)
            return httpx.Response(503, json={"error": {"code": "x", "message": "busy"}})
        return original(self, method, url, **kw)

    refused: list[Any] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.Client, "request", refuse_confirmation)
        wiped = site.cli("laptop", "device", "whoami")
    assert refused
    assert "could not be sent yet" in _said(wiped)
    assert (site.tmp / "laptop" / "wipe-confirmation.json").exists()
    assert site.breach(breach["id"])["device"]["wipe"]["confirmed_at"] is None

    later = site.cli("laptop", "device", "whoami")
    assert later.exit_code == 2
    assert "confirmation of this device's remote wipe was sent" in _said(later)
    assert not (site.tmp / "laptop" / "wipe-confirmation.json").exists()
    assert site.breach(breach["id"])["device"]["wipe"]["signature_valid"] is True


def test_bre2_a_recalled_share_is_confirmed_deleted_by_the_cli_which_says_what_it_cannot_reach(
    site: Site,
) -> None:
    site.enroll("sender", "s.send@chu.example")
    recipient_device = site.enroll("recipient", "r.recv@chu.example")
    patient, encounter = site.patient_encounter("sender")
    captured = site.ok(
        "sender", "capture", str(_photo(site.tmp / "c.jpg", 5)),
        "--patient", patient, "--encounter", encounter,
    )  # fmt: skip
    media_id = captured.split("captured as ")[1].split()[0]
    inspect_pending(site.instance)  # the custodian clears it for sharing (DEI-2)
    shared = site.ok("sender", "share", media_id, "--to", "r.recv@chu.example", "--yes")
    share_id = shared.split("shared as ")[1].split()[0]
    site.ok("recipient", "inbox")

    token = Profile(site.tmp / "sender").unlock(PASSCODE).token
    recalled = site.client.post(
        f"/v1/shares/{share_id}/recall",
        json={"reason": "sent to the wrong colleague"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert recalled.status_code == 200, recalled.text
    site.clock.advance(SPACING)
    told = site.cli("recipient", "inbox")
    assert told.exit_code == 0, told.stderr
    assert share_id not in told.stdout
    assert f"share {share_id} was recalled" in _said(told)
    assert "clinphoto cannot reach it" in _said(told)
    with site.instance.unit_of_work() as db:
        done = db.execute(select(ShareDeletion).where(ShareDeletion.share_id == share_id))
        assert [d.device_id for d in done.scalars()] == [recipient_device]
    site.clock.advance(SPACING)
    again = site.cli("recipient", "inbox")
    assert "recalled" not in _said(again)  # confirmed once: no longer asked
