"""The authorization matrix through the device CLI (AUD-2, issue #7 section 4): the rows of
``MATRIX`` (tests/functional/test_authorization_matrix.py) that a ``clinphoto`` command
makes, run as every caller with the real CLI in-process against the real server on a
loopback port, on SQLite and PostgreSQL, and held to the same expected answers:

- allowed: exit status 0 and what the command prints for it (for searches, the patient is
  listed or "no patient found");
- not found: exit status 2 and exactly what the command says for an id that does not exist,
  so "not yours" cannot be told from "not found" through the CLI either; no file written;
- refused with a reason (403), or a business rule (422): exit status 2 with the server's
  message;
- revoked device, expired session (401): exit status 2, the server's session message, and
  what to type next.

Each caller enrolls its own device profile with the CLI (one-time codes as an administrator
issues them); the author builds the world with the CLI (patient, consent, capture, share,
care team). Withdrawing a purpose has no device command yet, so it goes through HTTP with
the author's session; the device is revoked and the session expired in the database, as in
the HTTP test.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import structlog
from click.testing import Result
from PIL import Image
from sqlalchemy import update
from typer.testing import CliRunner

from clinphoto.accounts.models import Device, DeviceStatus, Role, Session
from clinphoto.api.app import create_app
from clinphoto.cli.main import app
from clinphoto.client.profile import DeviceSecrets, Profile
from clinphoto.core.clock import utcnow
from clinphoto.core.config import Settings
from clinphoto.crypto import FAST_TEST_KDF
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import make_user
from tests.functional.test_authorization_matrix import (
    ADMIN,
    AUTHOR,
    CALLERS,
    CARE_TEAM,
    EXPIRED,
    FOUND,
    MATRIX,
    NONE,
    OFFICER,
    RECIPIENT,
    REVOKED,
    Row,
    _fill,
)
from tests.live import serving

PASSWORD = "a long clinical passphrase"
PASSCODE = "864213"
ROLES = {OFFICER: Role.PRIVACY_OFFICER, ADMIN: Role.ADMINISTRATOR}
# What the CLI adds after the server's session messages (cli/device.py): what to type next.
NEXT_STEP = {REVOKED: "clinphoto device enroll", EXPIRED: "clinphoto device login"}
ID = re.compile(r"[0-9a-f]{32}")


def _said(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


@dataclass
class Live:
    url: str
    env: dict[str, str]
    instance: Instance
    tmp: Path
    unlocked: dict[str, DeviceSecrets] = field(default_factory=dict)

    def cli(self, caller: str, *args: str) -> Result:
        argv = [*args, "--profile", str(self.tmp / caller)]
        if caller != REVOKED or not (self.tmp / caller / "vault.json").exists():
            return CliRunner().invoke(app, argv, env=self.env)
        # A revoked device wipes its profile at its first refusal (BRE-4, tested in
        # tests/e2e/test_cli_outbox.py); the walk asks the server for every row, so the
        # vault is put back after each command.
        vault = self.tmp / caller / "vault.json"
        kept = vault.read_bytes()
        try:
            return CliRunner().invoke(app, argv, env=self.env)
        finally:
            vault.write_bytes(kept)

    def reseal_fast(self, caller: str) -> None:
        """Re-seal an enrolled profile's vault with the tests' fast KDF. Unlocking reads the
        parameters from the vault; the walk unlocks profiles some 120 times, 0.2 s each
        with the device's own setting, which is not what this test is about."""
        secrets_ = self.secrets(caller)
        Profile(self.tmp / caller, kdf=FAST_TEST_KDF).save(secrets_, PASSCODE)

    def secrets(self, caller: str) -> DeviceSecrets:
        """The caller's profile, unlocked once (the vault's KDF is deliberately slow)."""
        if caller not in self.unlocked:
            self.unlocked[caller] = Profile(self.tmp / caller).unlock(PASSCODE)
        return self.unlocked[caller]


@pytest.fixture
def live(settings: Settings, instance: Instance, tmp_path: Path) -> Iterator[Live]:
    """The real API on a loopback port. Its request log goes to a stream of its own: by
    default it goes to whatever ``sys.stdout`` is when a request ends, which is then the
    output of the command being run."""
    saved = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(io.StringIO()))
    env = {
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
        "COLUMNS": "200",
    }
    try:
        with serving(create_app(settings, instance)) as url:
            yield Live(url, env, instance, tmp_path)
    finally:
        structlog.configure(**saved)


def _ok(result: Result, what: str, printed: str) -> str:
    """The id the command printed after ``printed``."""
    assert result.exit_code == 0, (what, result.stdout, result.stderr)
    found = re.search(f"{printed}({ID.pattern})", result.stdout, re.MULTILINE)
    assert found is not None, (what, result.stdout)
    return found.group(1)


def _photo(path: Path) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (190, 90, 70)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def _build(live: Live) -> dict[str, str]:
    """The HTTP test's world, made with the device CLI; returns the ids rows are filled from."""
    emails = {c: f"{c.replace('_', '-')}-{uuid.uuid4().hex[:6]}@chu.example" for c in CALLERS}
    for caller in CALLERS:
        code = make_user(live.instance, ROLES.get(caller, Role.CLINICIAN), emails[caller])
        enrolled = live.cli(
            caller, "device", "enroll", "--server", live.url, "--code", code, "--name", caller
        )
        _ok(enrolled, f"enroll {caller}", "Enrolled device ")
        live.reseal_fast(caller)
    mrn = uuid.uuid4().hex[:10].upper()
    added = live.cli(
        AUTHOR, "patient", "add", "--name", "Gisèle Lavoie", "--dob", "1944-12-01",
        "--mrn", mrn, "--province", "NB",
    )  # fmt: skip
    pid = _ok(added, "patient add", "^")
    consent = live.cli(
        AUTHOR, "consent", "record", "--patient", pid, "--purpose", "clinical_care",
        "--purpose", "education", "--method", "verbal", "--witness", "M. Cormier, RN",
        "--informed-of-rights", "--text-version", "2026-11-fr",
    )  # fmt: skip
    cid = _ok(consent, "consent record", "consent ")
    eid = _ok(consent, "consent record", "encounter ")
    photo = _photo(live.tmp / "wound.jpg")
    captured = live.cli(AUTHOR, "capture", str(photo), "--patient", pid, "--encounter", eid)
    mid = _ok(captured, "capture", "captured as ")
    [verdict] = inspect_pending(live.instance)
    assert verdict.status == "done"
    shared = live.cli(AUTHOR, "share", mid, "--to", emails[RECIPIENT], "--yes")
    sid = _ok(shared, "share", "shared as ")
    team = live.cli(AUTHOR, "patient", "team", pid, "--add", emails[CARE_TEAM])
    assert team.exit_code == 0, (team.stdout, team.stderr)
    # No device command withdraws a purpose yet: the author's session, through HTTP.
    author = live.secrets(AUTHOR)
    withdrawn = httpx.post(
        f"{live.url}/v1/consents/{cid}/withdrawals",
        json={"purposes": ["education"]},
        headers={"Authorization": f"Bearer {author.token}"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    revoked, expired = live.secrets(REVOKED).device_id, live.secrets(EXPIRED).device_id
    with live.instance.unit_of_work() as db:
        db.execute(update(Device).where(Device.id == revoked).values(status=DeviceStatus.REVOKED))
        db.execute(
            update(Session)
            .where(Session.device_id == expired)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    return {
        "pid": pid,
        "cid": cid,
        "eid": eid,
        "mid": mid,
        "sid": sid,
        "mrn": mrn,
        "author": author.user_id,
        "admin": live.secrets(ADMIN).user_id,
    }


def _server_says(live: Live, row: Row, ids: dict[str, str], caller: str) -> str:
    """The server's own message for the row's request by this caller (what the CLI shows)."""
    response = httpx.request(
        row.method,
        live.url + _fill(row.path, ids),
        json=_fill(row.body, ids),
        headers={"Authorization": f"Bearer {live.secrets(caller).token}"},
    )
    message: str = response.json()["error"]["message"]
    return message


def _check(
    live: Live, row: Row, ids: dict[str, str], caller: str, out: Path, not_found: str
) -> str | None:
    """Run the row's command as the caller; what differs from the table, or None."""
    assert row.cli is not None
    result = live.cli(caller, *_fill(list(row.cli.args), {**ids, "out": str(out)}))
    expected = row.expect[caller]
    stdout, stderr = _said(result.stdout), _said(result.stderr)
    if expected == 422 and row.cli.valid_request:
        expected = 200
    if expected in (200, FOUND, NONE):
        if result.exit_code != 0:
            return f"exit {result.exit_code}: {stderr}"
        shows = row.cli.shows.format(**ids)
        if expected == NONE:
            ok = "no patient found" in stdout and shows not in stdout
        else:
            ok = shows in stdout
        return None if ok else f"printed {stdout!r}"
    if result.exit_code != 2:
        return f"exit {result.exit_code}: {stdout} {stderr}"
    if out.exists():
        return "refused, but wrote the photo"
    if expected == 404:
        # Exactly what the command says for an id that does not exist.
        return None if stderr == not_found else f"said {stderr!r}"
    message = _said(_server_says(live, row, ids, caller))
    if message not in stderr:
        return f"said {stderr!r}, the server said {message!r}"
    if caller in NEXT_STEP and NEXT_STEP[caller] not in stderr:
        return f"said {stderr!r}, without the next step"
    return None


def test_aud2_authorization_matrix_through_the_device_cli(live: Live) -> None:
    ids = _build(live)
    rows = [row for row in MATRIX if row.cli is not None]
    mismatches = []
    # `clinphoto open` makes a view row's and a download row's requests in one go: an
    # identical command with the same expected answer is run once.
    seen: dict[tuple[tuple[str, ...], str, int | str], str | None] = {}
    unknown = {k: (uuid.uuid4().hex if ID.fullmatch(v) else v) for k, v in ids.items()}
    not_found: dict[tuple[str, ...], str] = {}
    for n, row in enumerate(rows):
        assert row.cli is not None
        if 404 in row.expect.values() and row.cli.args not in not_found:
            # What this command says, to a caller allowed to ask, for ids that do not exist:
            # the server's "not found", or (commands that look in the inbox first) the CLI's.
            args = _fill(list(row.cli.args), {**unknown, "out": str(live.tmp / "unknown.jpg")})
            probe = live.cli(AUTHOR, *args)
            said = _said(probe.stderr)
            assert probe.exit_code == 2, (row.name, probe.stdout)
            assert said in ("error: not found", "error: no such share in your inbox"), said
            not_found[row.cli.args] = said
        for caller in CALLERS:
            out = live.tmp / "opened" / f"{n}-{caller}.jpg"
            out.parent.mkdir(exist_ok=True)
            key = (row.cli.args, caller, row.expect[caller])
            if key not in seen:
                seen[key] = _check(live, row, ids, caller, out, not_found.get(row.cli.args, ""))
            problem = seen[key]
            if problem is not None:
                mismatches.append((row.name, caller, row.expect[caller], problem))
    assert mismatches == [], "\n".join(map(str, mismatches))
    # The walk really walked: most rows that a device command makes are covered.
    assert len(rows) * len(CALLERS) >= 100


def test_aud2_a_privacy_officer_adds_a_colleague_to_a_care_team_with_the_cli(
    live: Live,
) -> None:
    for caller, role in ((AUTHOR, Role.CLINICIAN), (OFFICER, Role.PRIVACY_OFFICER)):
        code = make_user(live.instance, role, f"{caller.replace('_', '-')}@chu.example")
        enrolled = live.cli(
            caller, "device", "enroll", "--server", live.url, "--code", code, "--name", caller
        )
        _ok(enrolled, f"enroll {caller}", "Enrolled device ")
    added = live.cli(
        AUTHOR, "patient", "add", "--name", "Gisèle Lavoie", "--dob", "1944-12-01",
        "--mrn", "A1234567", "--province", "NB",
    )  # fmt: skip
    pid = _ok(added, "patient add", "^")
    make_user(live.instance, Role.CLINICIAN, "b.gagnon@chu.example")
    # Through HTTP the officer may: MATRIX's "add to care team" row answers them 422 (the
    # member is no clinician), like the care team, not 404 like the unrelated clinician.
    team = live.cli(OFFICER, "patient", "team", pid, "--add", "b.gagnon@chu.example")
    assert team.exit_code == 0, _said(team.stderr)
    assert "added" in team.stdout
