"""Storage jurisdiction (issue 10 §4; TRN-2, CLD-1), on SQLite and PostgreSQL.

The blob store of these tests declares itself in Virginia (US-VA): a patient's photo is
stored there only if that patient's consent allows storage outside Canada; otherwise the
upload (and a share copy) is refused and the refusal is in the audit trail. `serve` refuses
a store that does not declare its jurisdiction and certification; the embedded default
(CA, on the operator's statement) needs no configuration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app as cli_app
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from clinphoto.storage.jurisdiction import declaration_problems, in_canada
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _seal, _upload
from tests.functional.test_retention import _consented

NewDevice = Callable[..., EnrolledDevice]
FOREIGN = "US-VA"
DOB = date(1980, 5, 4)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("CLINPHOTO_KEK", "CLINPHOTO_DATABASE_URL", "CLINPHOTO_DATA_DIR", "CLINPHOTO_ENV"):
        monkeypatch.delenv(var, raising=False)
    return Settings(
        data_dir=tmp_path / "var",
        kdf_profile="test",
        env="development",
        storage_jurisdiction=FOREIGN,
        storage_certification="SOC 2 Type II report, 2026 (test)",
    )


def _stored_files(instance: Instance) -> list[str]:
    """Every file in the blob store (objects and temporary files alike)."""
    root = instance.settings.blob_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_trn2_cld1_media_stored_outside_canada_only_with_the_patients_consent(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    assert instance.blobs.jurisdiction == FOREIGN
    alice = new_device()
    refused_pid, eid = _consented(client, alice, "ON", DOB, foreign_storage_allowed=False)
    sealed = _seal(instance, alice, refused_pid, eid)
    refused = _upload(client, alice, sealed)
    assert refused.status_code == 403, refused.text  # type: ignore[attr-defined]
    assert "outside Canada" in refused.text  # type: ignore[attr-defined]
    # Its ciphertext was written before the refusal; it is not left in the foreign store.
    assert not instance.blobs.exists(hashlib.sha256(sealed.ciphertext).hexdigest())
    assert _stored_files(instance) == []

    allowed_pid, eid2 = _consented(client, alice, "ON", DOB, foreign_storage_allowed=True)
    ok = _seal(instance, alice, allowed_pid, eid2)
    stored = _upload(client, alice, ok)
    assert stored.status_code == 201, stored.text  # type: ignore[attr-defined]
    assert _stored_files(instance) == [hashlib.sha256(ok.ciphertext).hexdigest()]
    with instance.unit_of_work() as db:
        assert db.get(Media, sealed.object_id) is None
        row = db.get(Media, ok.object_id)
        assert row is not None
        assert row.jurisdiction == FOREIGN
        [denied] = db.execute(
            select(AuditEntry).where(
                AuditEntry.patient_ref == refused_pid,
                AuditEntry.action == "media.upload",
                AuditEntry.outcome != "success",
            )
        ).scalars()
        assert '"decision":"deny"' in denied.details
        assert not db.execute(
            select(AuditEntry).where(
                AuditEntry.patient_ref == allowed_pid,
                AuditEntry.action == "media.upload",
                AuditEntry.outcome != "success",
            )
        ).first()


def test_trn2_store_declarations_and_serve_refusing_an_undeclared_store(tmp_path: Path) -> None:
    assert in_canada("CA")
    assert in_canada("ca-on")
    assert not in_canada("US-VA")
    assert not in_canada("CANADA")  # not an ISO 3166 code: never taken for Canada
    # The embedded default: "CA", on the operator's statement; nothing to configure.
    default = Settings(data_dir=tmp_path / "d", env="development", kdf_profile="test")
    assert declaration_problems(default.storage_jurisdiction, default.storage_certification) == []
    assert default.storage_certification.startswith("operator's statement")
    cli = CliRunner()
    base = {
        "CLINPHOTO_DATA_DIR": str(tmp_path / "var"),
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_ENV": "development",
        "COLUMNS": "200",
    }
    for bad, setting in (
        ({"CLINPHOTO_STORAGE_JURISDICTION": ""}, "CLINPHOTO_STORAGE_JURISDICTION"),
        ({"CLINPHOTO_STORAGE_JURISDICTION": "Toronto"}, "CLINPHOTO_STORAGE_JURISDICTION"),
        ({"CLINPHOTO_STORAGE_CERTIFICATION": " "}, "CLINPHOTO_STORAGE_CERTIFICATION"),
    ):
        run = cli.invoke(cli_app, ["serve", "--port", "1"], env={**base, **bad})
        assert run.exit_code == 2, run.output
        assert "Refusing to start the server" in run.output
        assert setting in run.output
