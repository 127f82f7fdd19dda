"""The CLI device keeps captures sealed in its outbox while the server cannot be reached, and
sends them later (issue 9, STO-1); a revoked device wipes what it holds (BRE-4)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from clinphoto.imaging.jpeg import scrub_jpeg
from tests.e2e.test_server_and_device_cli import PASSCODE, PASSWORD, _cli, _code
from tests.live import free_port

pytestmark = pytest.mark.slow


@contextmanager
def _serving(env: dict[str, str], log: Path) -> Iterator[str]:
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clinphoto", "serve"], env=env, stdout=out, stderr=out
        )
        url = f"http://127.0.0.1:{env['CLINPHOTO_PORT']}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            else:
                raise AssertionError(log.read_text())
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _new_instance(tmp_path: Path) -> dict[str, str]:
    """A new embedded instance under ``tmp_path`` (test KDF); the environment that reaches it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(tmp_path / "var"),
        "CLINPHOTO_PORT": str(free_port()),
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
    }
    _cli(env, "init")
    return env


def _photo(seed: int) -> bytes:
    img = Image.new("RGB", (160, 120))
    img.putdata([((x * seed) % 256, (y * 3) % 256, 90) for y in range(120) for x in range(160)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_captures_wait_sealed_while_offline_and_are_sent_later(tmp_path: Path) -> None:
    env = _new_instance(tmp_path)
    log = tmp_path / "server.log"
    phone = ["--profile", str(tmp_path / "phone")]
    files = [tmp_path / f"IMG_{i}.jpg" for i in range(3)]
    for i, f in enumerate(files):
        f.write_bytes(_photo(i + 2))
    with _serving(env, log) as url:
        code = _code(
            _cli(
                env,
                "admin",
                "create-user",
                "--email",
                "o.ng@chu.example",
                "--name",
                "Dr O. Ng",
                "--role",
                "clinician",
            ).stdout
        )
        _cli(env, "device", "enroll", "--server", url, "--code", code, "--name", "phone", *phone)
        pid = _cli(
            env,
            "patient",
            "add",
            "--name",
            "Rose Leblanc",
            "--dob",
            "1990-01-02",
            "--mrn",
            "5550123",
            "--province",
            "ON",
            *phone,
        ).stdout.strip()
        recorded = _cli(
            env,
            "consent",
            "record",
            "--patient",
            pid,
            "--purpose",
            "clinical_care",
            "--method",
            "written",
            "--informed-of-rights",
            "--text-version",
            "2026-11-en",
            *phone,
        ).stdout
        encounter = recorded.split("encounter ")[1].split()[0]
        first = _cli(
            env, "capture", str(files[0]), "--patient", pid, "--encounter", encounter, *phone
        )
        assert "captured as" in first.stdout

    # The server is down: captures are sealed into the outbox, and say so.
    offline = _cli(
        env,
        "capture",
        str(files[1]),
        str(files[2]),
        "--patient",
        pid,
        "--encounter",
        encounter,
        *phone,
    )
    assert "wait in the outbox" in " ".join(offline.stderr.split())
    listed = _cli(env, "outbox", *phone).stdout
    assert "IMG_1.jpg" in listed
    assert "IMG_2.jpg" in listed
    queue = tmp_path / "phone" / "queue"
    held = b"".join(p.read_bytes() for p in queue.iterdir())
    for f in files[1:]:
        assert f.read_bytes()[-2048:-1024] not in held  # ciphertext only (STO-1)
    assert b"Leblanc" not in held
    assert b"5550123" not in held
    still = _cli(env, "sync", *phone, check=False)
    assert still.returncode == 3  # waiting, not lost

    with _serving(env, log):
        sent = _cli(env, "sync", *phone)
        assert sent.stdout.count("captured as") == 2
        assert not any(queue.iterdir())
        assert "empty" in _cli(env, "outbox", *phone).stdout
        ids = [
            line.split("captured as ")[1].split()[0]
            for line in sent.stdout.splitlines()
            if "captured as" in line
        ]
        opened = set()
        for media_id in ids:
            target = tmp_path / f"{media_id}.jpg"
            _cli(env, "open", media_id, "--out", str(target), *phone)
            opened.add(target.read_bytes())
    assert opened == {scrub_jpeg(f.read_bytes()) for f in files[1:]}


def test_a_revoked_device_wipes_its_keys_and_outbox_at_next_contact(tmp_path: Path) -> None:
    env = _new_instance(tmp_path)
    phone, laptop = tmp_path / "phone", tmp_path / "laptop"
    with _serving(env, tmp_path / "server.log") as url:
        code = _code(
            _cli(
                env,
                "admin",
                "create-user",
                "--email",
                "k.li@chu.example",
                "--name",
                "Dr K. Li",
                "--role",
                "clinician",
            ).stdout
        )
        _cli(
            env,
            "device",
            "enroll",
            "--server",
            url,
            "--code",
            code,
            "--name",
            "phone",
            "--profile",
            str(phone),
        )
        second = _cli(env, "device", "approve", "--profile", str(phone)).stdout
        _cli(
            env,
            "device",
            "enroll",
            "--server",
            url,
            "--code",
            second.split("hours): ")[1].split()[0],
            "--name",
            "laptop",
            "--profile",
            str(laptop),
        )
        (laptop / "queue").mkdir(exist_ok=True)
        (laptop / "queue" / "leftover.age").write_bytes(b"age-encryption.org/v1\n...")
        from clinphoto.client.profile import Profile

        laptop_id = Profile(laptop).unlock(PASSCODE).device_id
        _cli(env, "device", "revoke", laptop_id, "--profile", str(phone))
        told = _cli(env, "patient", "find", "--name", "x", "--profile", str(laptop), check=False)
        assert told.returncode == 2
        assert "this device was revoked" in told.stderr
        assert "wiped" in told.stderr
        assert not (laptop / "vault.json").exists()
        assert not (laptop / "queue").exists()
