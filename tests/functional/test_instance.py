"""Instance keys and the records key: `init`, export, rotation (TRN-1, disaster recovery)."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from clinphoto import crypto
from clinphoto.audit import service as audit
from clinphoto.cli.main import app, new_kek
from clinphoto.core.config import Settings
from clinphoto.instance import keys
from clinphoto.instance.runtime import open_instance
from tests.live import free_port

runner = CliRunner()


def test_init_seals_keys_and_warns_when_the_kek_is_on_disk(settings: Settings) -> None:
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "init"])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.output
    sealed = (settings.key_dir / keys.KEYS_FILE).read_text()
    loaded = keys.load(settings)
    assert loaded.records.secret not in sealed
    assert (settings.key_dir / keys.KEYS_FILE).stat().st_mode & 0o077 == 0
    again = runner.invoke(app, ["--data-dir", str(settings.data_dir), "init"])
    assert again.exit_code == 2
    assert keys.load(settings).records.secret == loaded.records.secret


def test_kek_from_environment_leaves_no_key_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    kek = base64.b64encode(bytes(range(32))).decode()
    env_settings = Settings(data_dir=settings.data_dir, kek=kek)  # type: ignore[arg-type]
    created = keys.create(env_settings)
    assert not created.kek_on_disk
    assert not (settings.key_dir / keys.KEK_FILE).exists()
    wrong = Settings(
        data_dir=settings.data_dir,
        kek=base64.b64encode(bytes(32)).decode(),  # type: ignore[arg-type]
    )
    with pytest.raises(keys.KeyFileError, match="does not open"):
        keys.load(wrong)


def test_kek_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        Settings(kek="c2hvcnQ=")  # type: ignore[arg-type]


def test_rotate_keys_adds_a_primary_and_keeps_old_fields_readable(settings: Settings) -> None:
    first = keys.create(settings)
    token = first.fields.encrypt("Jane Doe", "patients.name:1")
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "admin", "rotate-keys"])
    assert result.exit_code == 0, result.output
    rotated = keys.load(settings)
    assert rotated.fields.primary == "k2"
    assert rotated.fields.decrypt(token, "patients.name:1") == "Jane Doe"


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed")
def test_exported_records_key_opens_media_with_the_age_cli(
    settings: Settings, tmp_path: Path
) -> None:
    created = keys.create(settings)
    device = crypto.AgeIdentity.generate()
    blob = tmp_path / "blob"
    blob.write_bytes(
        crypto.seal(b"\xff\xd8scrubbed jpeg", [created.records.recipient, device.recipient])
    )
    out = tmp_path / "records-key.txt"
    result = runner.invoke(
        app,
        ["--data-dir", str(settings.data_dir), "admin", "records-key", "export", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o077 == 0
    opened = subprocess.run(
        ["age", "-d", "-i", str(out), str(blob)], check=True, capture_output=True
    )
    assert opened.stdout == b"\xff\xd8scrubbed jpeg"
    refused = runner.invoke(
        app,
        ["--data-dir", str(settings.data_dir), "admin", "records-key", "export", "--out", str(out)],
    )
    assert refused.exit_code == 2


def test_serve_without_an_instance_is_a_clear_error(settings: Settings) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(settings.data_dir), "serve"], env={"CLINPHOTO_ENV": "development"}
    )
    assert result.exit_code == 2
    assert "clinphoto init" in result.output
    assert "DEVELOPMENT MODE" in result.output


def _words(output: str) -> str:
    return " ".join(output.split())  # the console wraps long lines


def test_serve_refuses_outside_development_naming_each_setting_and_its_fix(
    settings: Settings,
) -> None:
    assert runner.invoke(app, ["--data-dir", str(settings.data_dir), "init"]).exit_code == 0
    result = runner.invoke(
        app,
        ["--data-dir", str(settings.data_dir), "serve"],
        env={"CLINPHOTO_KDF_PROFILE": "test", "CLINPHOTO_ENV": None},
    )
    assert result.exit_code == 2, result.output
    said = _words(result.output)
    assert "Refusing to start the server" in said
    assert "CLINPHOTO_KDF_PROFILE=test" in said
    assert "CLINPHOTO_KEK is not set" in said
    assert str(settings.key_dir / keys.KEK_FILE) in result.output.replace("\n", "")
    assert "set CLINPHOTO_ENV=development" in said


@pytest.mark.parametrize(
    "placeholder",
    [bytes(32), bytes(range(32)), b"changeme" * 4, b"0123456789abcdef" * 2, b"\x01\x02" * 16],
)
def test_placeholder_kek_is_refused_outside_development(
    settings: Settings, placeholder: bytes
) -> None:
    kek = base64.b64encode(placeholder).decode()
    assert keys.create(Settings(data_dir=settings.data_dir, kek=kek))  # type: ignore[arg-type]
    result = runner.invoke(
        app,
        ["--data-dir", str(settings.data_dir), "serve"],
        env={"CLINPHOTO_KEK": kek, "CLINPHOTO_ENV": None, "CLINPHOTO_KDF_PROFILE": None},
    )
    assert result.exit_code == 2, result.output
    assert "CLINPHOTO_KEK is a placeholder" in _words(result.output)


def test_a_random_kek_from_the_environment_may_serve() -> None:
    kek = new_kek()
    assert Settings(kek=kek).unsafe_for_production() == []  # type: ignore[arg-type]
    assert Settings(kek=kek, kdf_profile="test").unsafe_for_production()  # type: ignore[arg-type]


def test_quickstart_outside_development_refuses_before_creating_anything(
    settings: Settings,
) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(settings.data_dir), "quickstart"], env={"CLINPHOTO_ENV": None}
    )
    assert result.exit_code == 2, result.output
    assert "CLINPHOTO_KEK is not set" in _words(result.output)
    assert not settings.data_dir.exists()


def test_a_bad_setting_is_named_with_its_variable(settings: Settings) -> None:
    result = runner.invoke(
        app, ["--data-dir", str(settings.data_dir), "init"], env={"CLINPHOTO_ENV": "staging"}
    )
    assert result.exit_code == 2
    assert "CLINPHOTO_ENV" in result.output


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_blobs_and_keys_are_readable_by_their_owner_only(settings: Settings) -> None:
    assert not settings.data_dir.exists()
    assert runner.invoke(app, ["--data-dir", str(settings.data_dir), "init"]).exit_code == 0
    inst = open_instance(settings)
    try:
        with inst.unit_of_work() as db:
            audit.log(db, action=audit.Action.AUDIT_EXPORT, actor="test")
        blob = inst.blobs.put_stream([b"age-encryption.org/v1\n..."], max_bytes=1024)
        database = Path(inst.engine.url.database or "")
        assert database.parent == settings.data_dir.resolve()
        private = [
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
            inst.blobs._path(blob.sha256),
            settings.key_dir / keys.KEYS_FILE,
            settings.key_dir / keys.KEK_FILE,
        ]
        for path in private:
            assert _mode(path) == 0o600, path
        folders = [settings.data_dir, settings.key_dir, settings.blob_dir / "tmp"]
        folders += list(inst.blobs._path(blob.sha256).parents)[:3]  # cd/, ab/, objects/
        for folder in folders:
            assert _mode(folder) == 0o700, folder
    finally:
        inst.close()


def test_serve_listens_on_the_host_and_port_given_on_the_command_line(
    settings: Settings, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_DATA_DIR": str(settings.data_dir),
        "CLINPHOTO_PORT": str(free_port()),  # overridden by --port
        "CLINPHOTO_HOST": "0.0.0.0",  # overridden by --host
        "CLINPHOTO_CUSTODIAN_INTERVAL": "0",
    }
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clinphoto",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            for _ in range(300):
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    assert proc.poll() is None, (tmp_path / "server.log").read_text()
                    time.sleep(0.1)
            else:
                raise AssertionError((tmp_path / "server.log").read_text())
            assert health.status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert "DEVELOPMENT MODE" in (tmp_path / "server.log").read_text()
