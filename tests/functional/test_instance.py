"""Instance keys and the records key: `init`, export, rotation (TRN-1, disaster recovery)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinphoto import crypto
from clinphoto.cli.main import app
from clinphoto.core.config import Settings
from clinphoto.instance import keys

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
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "serve"])
    assert result.exit_code == 2
    assert "clinphoto init" in result.output
