"""Key rotation re-encrypts every stored field under the new key (STO-1, section 2 of the
core issue): `admin rotate-keys` on real data, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app
from clinphoto.consent import service as consents
from clinphoto.consent.models import Consent
from clinphoto.core.config import Settings
from clinphoto.instance import keys, rewrap
from clinphoto.instance import service as instance_service
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]
runner = CliRunner()


def _records(client: TestClient, clin: EnrolledDevice) -> tuple[str, str]:
    patient = client.post(
        "/v1/patients",
        json={
            "name": "Élise Côté",
            "dob": "1964-08-30",
            "mrn": "MRN-77120",
            "hcn": "1234-567-890-AB",
            "province": "ON",
        },
        headers=clin.auth,
    ).json()
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": patient["id"],
            "purposes": ["clinical_care", "education"],
            "method": "verbal",
            "witness_name": "Nurse Aubin",
            "informed_of_rights": True,
            "text_version": "2026-11-fr",
        },
        headers=clin.auth,
    ).json()
    r = client.post(
        f"/v1/consents/{consent['id']}/withdrawals",
        json={"purposes": ["education"], "reason": "changed her mind"},
        headers=clin.auth,
    )
    assert r.status_code == 200, r.text
    return str(patient["id"]), str(consent["id"])


def _key_ids(instance: Instance) -> set[bytes]:
    found: set[bytes] = set()
    with instance.unit_of_work() as db:
        for model, column in rewrap.ENCRYPTED_COLUMNS:
            col = getattr(model, column)
            for (value,) in db.execute(select(col).where(col.is_not(None))):
                found.add(bytes(value).partition(b"$")[0])
    return found


def test_rotate_keys_reencrypts_every_field_and_lookups_still_work(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid, cid = _records(client, clin)
    assert _key_ids(instance) == {b"k1"}
    with instance.unit_of_work() as db:
        bidx_before = db.execute(select(Patient.mrn_bidx, Patient.hcn_bidx)).one()
    monkeypatch.setenv(
        "CLINPHOTO_DATABASE_URL", instance.engine.url.render_as_string(hide_password=False)
    )

    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "admin", "rotate-keys"])
    assert result.exit_code == 0, result.output
    # name, dob, mrn, hcn, the witness and the withdrawal reason: six fields.
    assert "Re-encrypted 6 fields under k2" in result.output
    assert _key_ids(instance) == {b"k2"}

    fresh = keys.load(settings).fields
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 0
        patient = db.get(Patient, pid)
        consent = db.get(Consent, cid)
        assert patient is not None
        assert consent is not None
        view = patients.view(patient, fresh)
        assert (view.name, view.mrn) == ("Élise Côté", "MRN77120")
        assert consents.view(db, fresh, consent).witness_name == "Nurse Aubin"
        # The blind indexes have their own key and are untouched, so lookups keep working.
        assert db.execute(select(Patient.mrn_bidx, Patient.hcn_bidx)).one() == bidx_before
        actions = db.execute(
            select(AuditEntry.action).where(AuditEntry.action.like("instance.keys_%"))
        ).scalars()
        assert sorted(actions) == ["instance.keys_rewrap", "instance.keys_rotate"]
        assert audit.verify(db, instance.audit_keys.public_by_id) is None

    # Running again finds nothing to do and says so.
    again = runner.invoke(app, ["--data-dir", str(settings.data_dir), "admin", "rewrap-fields"])
    assert again.exit_code == 0, again.output
    assert "Re-encrypted 0 of 6 fields; 0 still under an older key" in again.output


def test_rewrap_leaves_a_field_changed_meanwhile_for_the_next_run(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clin = new_device(Role.CLINICIAN)
    _records(client, clin)
    instance_service.rotate_field_key(instance)
    fresh = instance.keys.fields
    assert fresh.primary == "k2"
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 6

    real_batches = rewrap._batches
    edited: list[str] = []

    def racing(
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        model: Any,
        column: str,
        size: int,
    ) -> Iterator[tuple[Session, list[tuple[str, bytes]]]]:
        """Another writer changes the first row after the rewrap has read it."""
        for db, rows in real_batches(unit_of_work, model, column, size):
            if not edited:
                row_id = rows[0][0]
                aad = rewrap.field_aad(model.__tablename__, column, row_id)
                db.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values({column: fresh.encrypt("edited meanwhile", aad)})
                )
                edited.append(row_id)
            yield db, rows

    monkeypatch.setattr(rewrap, "_batches", racing)
    report = rewrap.rewrap_fields(instance.unit_of_work, fresh, batch=2)
    assert (report.rewrapped, report.skipped_changed) == (5, 1)
    with instance.unit_of_work() as db:
        assert rewrap.pending(db, fresh) == 0  # the other writer's value stands, new key
        patient = db.get(Patient, edited[0])
        assert patient is not None
        assert patients.view(patient, fresh).name == "edited meanwhile"


def _cli_env(instance: Instance, settings: Settings) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(settings.data_dir),
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "CLINPHOTO_ENV": "development",
    }


def _rotations(instance: Instance) -> list[str]:
    with instance.unit_of_work() as db:
        return [
            str(o)
            for o in db.execute(
                select(AuditEntry.object_id).where(AuditEntry.action == "instance.keys_rotate")
            ).scalars()
        ]


def test_a_running_server_keeps_reading_patients_while_keys_rotate(
    client: TestClient, instance: Instance, settings: Settings, new_device: NewDevice
) -> None:
    """`admin rotate-keys` in another process: the server never needs a restart."""
    clin = new_device(Role.CLINICIAN)
    pid, _ = _records(client, clin)
    for i in range(30):  # more fields, so the rewrap takes a while
        r = client.post(
            "/v1/patients",
            json={
                "name": f"Anne Roy {chr(65 + i)}",
                "dob": "1970-01-02",
                "mrn": f"M{i:06d}",
                "province": "QC",
            },
            headers=clin.auth,
        )
        assert r.status_code == 200, r.text
    reads: list[tuple[int, str]] = []
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            got = client.get(f"/v1/patients/{pid}", headers=clin.auth)
            reads.append((got.status_code, got.json().get("name", got.text)))

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "clinphoto", "admin", "rotate-keys"],
            env=_cli_env(instance, settings),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        stop.set()
        reader.join()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Re-encrypted" in done.stdout
    assert reads
    assert set(reads) == {(200, "Élise Côté")}
    assert _key_ids(instance) == {b"k2"}

    # Still answering afterwards, with the old fields re-sealed, and new fields go under k2.
    after = client.get(f"/v1/patients/{pid}", headers=clin.auth)
    assert (after.status_code, after.json()["name"]) == (200, "Élise Côté")
    created = client.post(
        "/v1/patients",
        json={"name": "Paul Gagnon", "dob": "1955-03-04", "mrn": "M999999", "province": "QC"},
        headers=clin.auth,
    )
    assert created.status_code == 200, created.text
    assert _key_ids(instance) == {b"k2"}
    assert len(_rotations(instance)) == 1


def test_a_crash_between_rotation_steps_leaves_no_rotation_or_one_with_its_entry(
    instance: Instance, settings: Settings
) -> None:
    token = instance.keys.fields.encrypt("Jane Doe", "patients.name_ct:1")

    # Crash after the new keyring was staged, before its audit entry committed.
    staged = keys.stage_field_key_rotation(settings)
    assert instance.keys.fields.primary == "k1"  # staged is not in use
    restarted = open_instance(settings, engine=instance.engine)
    assert restarted.keys.fields.primary == "k1"
    assert keys.staged_rotation(settings) is None  # discarded
    assert _rotations(instance) == []

    # Crash after the audit entry committed, before the keyring was promoted.
    staged = keys.stage_field_key_rotation(settings)
    instance_service.audit_rotation(instance, staged)
    restarted = open_instance(settings, engine=instance.engine)
    assert restarted.keys.fields.primary == staged.field_primary  # completed at start-up
    assert instance.keys.fields.primary == staged.field_primary  # and the running one sees it
    assert keys.staged_rotation(settings) is None
    assert _rotations(instance) == [staged.rotation_id]
    assert restarted.keys.fields.decrypt(token, "patients.name_ct:1") == "Jane Doe"

    # The whole use case: one more key, one more entry.
    third = instance_service.rotate_field_key(instance)
    assert instance.keys.fields.primary == third != staged.field_primary
    assert len(_rotations(instance)) == 2
    with instance.unit_of_work() as db:
        assert audit.verify(db, instance.audit_keys.public_by_id) is None


def _exports(instance: Instance) -> list[tuple[str, str]]:
    with instance.unit_of_work() as db:
        return [
            (str(outcome), json.loads(details)["file"])
            for outcome, details in db.execute(
                select(AuditEntry.outcome, AuditEntry.details)
                .where(AuditEntry.action == "instance.records_key_export")
                .order_by(AuditEntry.seq)
            )
        ]


def test_records_key_export_reaches_the_disk_only_after_its_audit_entry(
    instance: Instance, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = instance.keys.records.secret

    # Crash between the committed entry and the write: the entry stands, no key on disk.
    cut = tmp_path / "cut-short.txt"
    fd = instance_service.begin_records_key_export(instance, cut)
    assert _exports(instance) == [("success", "cut-short.txt")]
    os.close(fd)
    assert cut.read_bytes() == b""

    # A path that exists is refused before anything is audited or written.
    with pytest.raises(keys.KeyFileError, match="exists"):
        instance_service.export_records_key(instance, cut)
    assert len(_exports(instance)) == 1

    # A write that fails: the file is removed and a failed entry follows.
    failing = tmp_path / "failing.txt"
    os.close(instance_service.begin_records_key_export(instance, failing))
    read_only = os.open(failing, os.O_RDONLY)
    with pytest.raises(OSError):
        instance_service.finish_records_key_export(instance, failing, read_only)
    assert not failing.exists()
    assert _exports(instance)[1:] == [("success", "failing.txt"), ("failed", "failing.txt")]

    # The command: one entry, then the key, readable by its owner only.
    out = tmp_path / "records-key.txt"
    monkeypatch.setenv(
        "CLINPHOTO_DATABASE_URL", instance.engine.url.render_as_string(hide_password=False)
    )
    result = runner.invoke(
        app,
        ["--data-dir", str(settings.data_dir), "admin", "records-key", "export", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert secret in out.read_text()
    assert out.stat().st_mode & 0o077 == 0
    assert _exports(instance)[-1] == ("success", "records-key.txt")
    with instance.unit_of_work() as db:
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
