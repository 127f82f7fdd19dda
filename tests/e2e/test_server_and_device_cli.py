"""End to end: the real server on loopback, driven by `clinphoto` commands as a new user would.

Covers what exists so far of issue 2's end-to-end path: instance creation, an administrator
creating a clinician, two devices enrolled with the CLI device client, device listing and
revocation, and the audit trail verified (and broken) afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.live import free_port

pytestmark = pytest.mark.slow

PASSWORD = "a long clinical passphrase"
PASSCODE = "864213"


def _cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "clinphoto", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"clinphoto {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    data = tmp_path / "var"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(data),
        "CLINPHOTO_PORT": str(port),
        "CLINPHOTO_ENV": "development",  # the test KDF and the KEK on disk
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
    }
    _cli(env, "init")
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinphoto", "serve"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError((tmp_path / "server.log").read_text())
        yield url, env, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _code(output: str) -> str:
    return output.split("code (valid 24 hours):")[1].split()[0]


def test_two_devices_enroll_list_revoke_and_audit_verifies(
    server: tuple[str, dict[str, str], Path],
) -> None:
    url, env, tmp = server
    created = _cli(
        env,
        "admin",
        "create-user",
        "--email",
        "a.tremblay@chu.example",
        "--name",
        "Dr A. Tremblay",
        "--role",
        "clinician",
        "--institution",
        "CHU Example",
    )
    code = _code(created.stdout)

    phone = ["--profile", str(tmp / "phone")]
    enrolled = _cli(
        env, "device", "enroll", "--server", url, "--code", code, "--name", "phone", *phone
    )
    assert "Enrolled device" in enrolled.stdout
    who = _cli(env, "device", "whoami", *phone)
    assert "a.tremblay@chu.example" in who.stdout

    # A second device, approved from the first.
    approved = _cli(env, "device", "approve", *phone).stdout
    second_code = approved.split("hours): ")[1].split()[0]
    laptop = ["--profile", str(tmp / "laptop")]
    _cli(
        env,
        "device",
        "enroll",
        "--server",
        url,
        "--code",
        second_code,
        "--name",
        "laptop",
        *laptop,
    )
    listed = _cli(env, "device", "list", *phone)
    assert "phone" in listed.stdout
    assert "laptop" in listed.stdout

    # The code was single-use.
    reused = _cli(
        env,
        "device",
        "enroll",
        "--server",
        url,
        "--code",
        second_code,
        "--profile",
        str(tmp / "third"),
        check=False,
    )
    assert reused.returncode == 2
    assert "not valid" in reused.stderr

    # Revoke the laptop from the phone: the laptop's session ends at once.
    laptop_id = _device_id(tmp / "laptop")
    _cli(env, "device", "revoke", laptop_id, *phone)
    after = _cli(env, "device", "whoami", *laptop, check=False)
    assert after.returncode == 2
    assert "this device was revoked" in " ".join(after.stderr.split())

    # A wrong passcode is a clear error that loses nothing.
    wrong = _cli({**env, "CLINPHOTO_PASSCODE": "000000"}, "device", "whoami", *phone, check=False)
    assert wrong.returncode == 2
    assert "wrong passcode" in wrong.stderr
    assert _cli(env, "device", "whoami", *phone).returncode == 0

    # The server's log is JSON and carries none of the secrets used.
    log_text = (tmp / "server.log").read_text()
    assert PASSWORD not in log_text
    assert PASSCODE not in log_text
    assert code not in log_text

    verified = _cli(env, "audit", "verify")
    assert "intact" in verified.stdout
    db = sqlite3.connect(tmp / "var" / "clinphoto.sqlite3")
    db.execute("UPDATE audit_entries SET actor = 'someone' WHERE seq = 2")
    db.commit()
    db.close()
    broken = _cli(env, "audit", "verify", check=False)
    assert broken.returncode == 1
    assert "entry 2" in broken.stderr


def _unlock(profile: Path) -> object:
    from clinphoto.client.profile import Profile

    return Profile(profile).unlock(PASSCODE)


def _token(profile: Path) -> str:
    return str(_unlock(profile).token)  # type: ignore[attr-defined]


def _device_id(profile: Path) -> str:
    return str(_unlock(profile).device_id)  # type: ignore[attr-defined]


def _jpeg_with_gps_and_description() -> bytes:
    import io

    exif = Image.Exif()
    exif[0x010E] = "Emilie Cote-Tremblay MRN 7654321 left forearm"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (45.0, 30.0, 12.0)
    gps[3], gps[4] = "W", (73.0, 34.0, 5.0)
    buf = io.BytesIO()
    img = Image.new("RGB", (320, 240))
    img.putdata(
        [((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(240) for x in range(320)]
    )
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def test_capture_open_and_recover_with_the_age_cli(
    server: tuple[str, dict[str, str], Path],
) -> None:
    import shutil

    from clinphoto.imaging.jpeg import scrub_jpeg

    url, env, tmp = server
    code = _code(
        _cli(
            env,
            "admin",
            "create-user",
            "--email",
            "e.roy@chu.example",
            "--name",
            "Dr E. Roy",
            "--role",
            "clinician",
        ).stdout
    )
    phone = ["--profile", str(tmp / "phone")]
    _cli(env, "device", "enroll", "--server", url, "--code", code, "--name", "phone", *phone)

    pid = _cli(
        env,
        "patient",
        "add",
        "--name",
        "Émilie Côté-Tremblay",
        "--dob",
        "1980-02-03",
        "--mrn",
        "7654321",
        "--hcn",
        "TREM80020312",
        "--province",
        "QC",
        *phone,
    ).stdout.strip()
    found = _cli(env, "patient", "find", "--name", "tremblay", *phone).stdout
    assert pid in found

    # No consent yet for this encounter: capture is refused with a clear error (CON-1).
    original = tmp / "IMG_0001.jpg"
    original.write_bytes(_jpeg_with_gps_and_description())
    refused = _cli(
        env,
        "capture",
        str(original),
        "--patient",
        pid,
        "--encounter",
        "0" * 32,
        *phone,
        check=False,
    )
    assert refused.returncode == 2
    # An encounter that does not exist (or is not this clinician's team's) is not found.
    assert "not found" in refused.stderr
    assert list((tmp / "phone" / "queue").iterdir()) == []  # a refusal leaves nothing queued

    recorded = _cli(
        env,
        "consent",
        "record",
        "--patient",
        pid,
        "--purpose",
        "clinical_care",
        "--method",
        "verbal",
        "--witness",
        "N. Roy, RN",
        "--informed-of-rights",
        "--text-version",
        "2026-11-fr",
        *phone,
    ).stdout
    encounter = recorded.split("encounter ")[1].split()[0]
    captured = _cli(
        env, "capture", str(original), "--patient", pid, "--encounter", encounter, *phone
    )
    media_id = captured.stdout.split("captured as ")[1].split()[0]
    assert list((tmp / "phone" / "queue").iterdir()) == []  # STO-1: nothing left queued

    opened = tmp / "opened.jpg"
    _cli(env, "open", media_id, "--out", str(opened), *phone)
    expected = scrub_jpeg(original.read_bytes())
    assert opened.read_bytes() == expected  # the scrubbed original, bit for bit
    assert b"Tremblay" not in opened.read_bytes()
    if shutil.which("exiftool"):
        tags = subprocess.run(
            ["exiftool", "-j", "-a", "-u", "-G1", str(opened)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "GPS" not in tags
        assert "Tremblay" not in tags

    # No plaintext image bytes and no identifiers anywhere under the data directory or in
    # the server's log.
    needles = [
        expected[-4096:-2048],
        b"Tremblay",
        "Côté".encode(),
        b"7654321",
        b"TREM80020312",
        b"1980-02-03",
    ]
    haystack = b"".join(p.read_bytes() for p in (tmp / "var").rglob("*") if p.is_file())
    haystack += (tmp / "server.log").read_bytes()
    for needle in needles:
        assert needle not in haystack, needle

    # Disaster recovery: the exported records key opens the stored blob with stock age.
    if shutil.which("age"):
        key = tmp / "records-key.txt"
        _cli(env, "admin", "records-key", "export", "--out", str(key))
        blobs = [p for p in (tmp / "var" / "blobs" / "objects").rglob("*") if p.is_file()]
        assert len(blobs) == 1
        recovered = subprocess.run(
            ["age", "-d", "-i", str(key), str(blobs[0])], capture_output=True, check=True
        ).stdout
        assert recovered == expected

    # Share with a second clinician, who receives, opens and acknowledges it (TRN-4).
    code2 = _code(
        _cli(
            env,
            "admin",
            "create-user",
            "--email",
            "b.gagnon@chu.example",
            "--name",
            "Dr B. Gagnon",
            "--role",
            "clinician",
            "--institution",
            "CHU Example",
        ).stdout
    )
    tablet = ["--profile", str(tmp / "tablet")]
    _cli(env, "device", "enroll", "--server", url, "--code", code2, "--name", "tablet", *tablet)
    # The server's custodian inspects each new photo (DEI-2); a wound photo with no face
    # or text is cleared for sharing.
    verdict = _cli(env, "inspection", media_id, "--wait", "60", *phone).stdout
    assert verdict.startswith("done: not identifiable"), verdict
    shown = _cli(env, "share", media_id, "--to", "b.gagnon@chu.example", "--yes", *phone).stdout
    assert "Dr B. Gagnon (clinician), CHU Example" in shown
    assert "device 'tablet':" in shown
    share_id = shown.split("shared as ")[1].split()[0]
    assert "to Dr B. Gagnon, CHU Example  sent" in _cli(env, "shares", media_id, *phone).stdout
    listed = _cli(env, "inbox", *tablet).stdout
    assert share_id in listed
    assert "from Dr E. Roy" in listed
    # Which patient, opened from the share's sealed details (never in clear on the server).
    about = "about: Émilie Côté-Tremblay, born 1980-02-03, MRN 7654321, health card TREM80020312"
    assert about in " ".join(listed.split())
    received = tmp / "received.jpg"
    _cli(env, "open", "--share", share_id, "--out", str(received), *tablet)
    assert received.read_bytes() == expected
    assert "delivered" in _cli(env, "shares", media_id, *phone).stdout
    assert "acknowledged" in _cli(env, "ack", share_id, *tablet).stdout
    assert "acknowledged" in _cli(env, "shares", media_id, *phone).stdout

    # A batch with a file that cannot be made safe: that one is refused with its reason, the
    # others are captured, and the exit status says not everything went (DEI-1).
    fake = tmp / "scan.jpg"
    fake.write_bytes(b"BM" + bytes(200))  # a BMP named .jpg: decided by content, refused
    png = tmp / "IMG_0002.png"
    Image.new("RGB", (320, 240), (190, 90, 70)).save(png)
    batch = _cli(
        env,
        "capture",
        str(fake),
        str(png),
        "--patient",
        pid,
        "--encounter",
        encounter,
        *phone,
        check=False,
    )
    assert batch.returncode == 2, batch.stdout + batch.stderr
    assert "scan.jpg" in batch.stderr
    assert "unsupported-format" in batch.stderr
    assert "IMG_0002.png: captured as" in batch.stdout
    assert list((tmp / "phone" / "queue").iterdir()) == []

    assert "intact" in _cli(env, "audit", "verify").stdout
