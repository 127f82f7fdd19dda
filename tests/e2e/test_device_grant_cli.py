"""End to end (decision 011, issue 9): a new device of a clinician's opens a photo captured
before it existed, once an older device grants it (`device approve`, enroll, `device
grant`, `open`), and the served bytes open with the stock age CLI; when no device is left,
`custodian grant` does the same with the records key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_and_device_cli import (
    _cli,
    _code,
    _device_id,
    _jpeg_with_gps_and_description,
    _token,
    _unlock,
    server,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.slow


def _enroll_approved(
    env: dict[str, str], url: str, approver: list[str], new: list[str], name: str
) -> str:
    approved = _cli(env, "device", "approve", *approver).stdout
    code = approved.split("hours): ")[1].split()[0]
    out = _cli(env, "device", "enroll", "--server", url, "--code", code, "--name", name, *new)
    return out.stdout.split("Fingerprint: ")[1].strip()


def test_device_grant_then_open_on_the_new_device_and_with_stock_age(
    server: tuple[str, dict[str, str], Path],  # noqa: F811
) -> None:
    url, env, tmp = server
    code = _code(
        _cli(
            env, "admin", "create-user", "--email", "m.cote@chu.example", "--name", "Dr M. Cote",
            "--role", "clinician",
        ).stdout
    )  # fmt: skip
    phone = ["--profile", str(tmp / "phone")]
    _cli(env, "device", "enroll", "--server", url, "--code", code, "--name", "phone", *phone)
    pid = _cli(
        env, "patient", "add", "--name", "Marie Roy", "--dob", "1975-04-05", "--mrn", "5550123",
        "--province", "QC", *phone,
    ).stdout.strip()  # fmt: skip
    recorded = _cli(
        env, "consent", "record", "--patient", pid, "--purpose", "clinical_care", "--method",
        "verbal", "--witness", "N. Roy, RN", "--informed-of-rights", "--text-version",
        "2026-11-fr", *phone,
    ).stdout  # fmt: skip
    encounter = recorded.split("encounter ")[1].split()[0]
    original = tmp / "IMG_0002.jpg"
    original.write_bytes(_jpeg_with_gps_and_description())
    captured = _cli(
        env, "capture", str(original), "--patient", pid, "--encounter", encounter, *phone
    )
    media_id = captured.stdout.split("captured as ")[1].split()[0]
    from_phone = tmp / "from-phone.jpg"
    _cli(env, "open", media_id, "--out", str(from_phone), *phone)

    # A laptop enrolled afterwards cannot open the earlier photo...
    laptop = ["--profile", str(tmp / "laptop")]
    fingerprint = _enroll_approved(env, url, phone, laptop, "laptop")
    refused = _cli(env, "open", media_id, "--out", str(tmp / "no.jpg"), *laptop, check=False)
    assert refused.returncode == 2
    assert "cannot open" in refused.stderr
    assert not (tmp / "no.jpg").exists()

    # ...until the phone grants it: the laptop's name and fingerprint are shown first.
    laptop_id = _device_id(tmp / "laptop")
    granted = _cli(env, "device", "grant", laptop_id[:8], "--yes", *phone).stdout
    assert "'laptop'" in granted
    assert fingerprint in granted
    assert "1 grant(s) written, 0 already there, for 1 object(s)" in granted
    again = _cli(env, "device", "grant", laptop_id, "--yes", *phone).stdout
    assert "0 grant(s) written" in again

    from_laptop = tmp / "from-laptop.jpg"
    _cli(env, "open", media_id, "--out", str(from_laptop), *laptop)
    assert from_laptop.read_bytes() == from_phone.read_bytes()

    # What the server answers the laptop is an ordinary age file: stock age opens it.
    served = httpx.get(
        f"{url}/v1/media/{media_id}/content",
        params={"purpose": "clinical_care"},
        headers={"Authorization": f"Bearer {_token(tmp / 'laptop')}"},
    )
    assert served.status_code == 200
    if shutil.which("age"):
        key = tmp / "laptop-key.txt"
        key.write_text(_unlock(tmp / "laptop").age.identity_file())  # type: ignore[attr-defined]
        blob = tmp / "served.age"
        blob.write_bytes(served.content)
        opened = subprocess.run(
            ["age", "-d", "-i", str(key), str(blob)], capture_output=True, check=True
        )
        assert opened.stdout == from_phone.read_bytes()

    # Both devices lost: the user enrolls a tablet with an administrator's code, and the
    # custodian grants it with the records key, named and with a reason.
    _cli(env, "admin", "revoke-device", _device_id(tmp / "phone"))
    _cli(env, "admin", "revoke-device", laptop_id)
    tablet = ["--profile", str(tmp / "tablet")]
    issued = _cli(env, "admin", "enrollment-code", "--email", "m.cote@chu.example").stdout
    code = issued.split("(valid 24 hours):")[1].split()[0]
    _cli(env, "device", "enroll", "--server", url, "--code", code, "--name", "tablet", *tablet)
    tablet_id = _device_id(tmp / "tablet")
    custodian = _cli(
        env, "custodian", "grant", "--device", tablet_id, "--by", "R. Custodian", "--reason",
        "Both devices lost; tablet enrolled with an administrator's code, ticket 4412",
    ).stdout  # fmt: skip
    assert "1 grant(s) written" in custodian
    assert "m.cote@chu.example" in custodian
    from_tablet = tmp / "from-tablet.jpg"
    _cli(env, "open", media_id, "--out", str(from_tablet), *tablet)
    assert from_tablet.read_bytes() == from_phone.read_bytes()
