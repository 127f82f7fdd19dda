"""Retention end to end (issue 10 §1 and §5; RET-1, RET-3, RET-5, STO-5, AUD-1), with a moved
clock, on SQLite and PostgreSQL.

Photos are taken through the real API today; the retention clock is then moved years ahead.
The expected dates are worked out here from the rules file, by hand, not by the code under
test. Destruction is checked with the stock `age` CLI and the exported records key: before
the sweep it opens every blob of the photo's family, after it there is nothing to open.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app as cli_app
from clinphoto.consent.models import Consent
from clinphoto.core.config import Settings
from clinphoto.instance import service as instance_service
from clinphoto.instance.grants import grant_with_records_key
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from clinphoto.records import sweep as sweeper
from clinphoto.records.clock import FixedClock
from clinphoto.records.models import RetentionItem
from clinphoto.sharing.models import DeviceGrant, Share
from tests.conftest import EnrolledDevice
from tests.functional.test_device_grants import _second_device
from tests.functional.test_inspection_gate import _capture
from tests.functional.test_media_api import _jpeg, _seal, _upload
from tests.functional.test_sharing_api import _captured, _reseal

NewDevice = Callable[..., EnrolledDevice]
RULES = {
    r["jurisdiction"]: r
    for r in json.loads(
        resources.files("clinphoto.records").joinpath("retention_rules.json").read_text("utf-8")
    )["rules"]
}
AGE = shutil.which("age")


def _plus(day: date, years: int) -> date:
    """The test's own year arithmetic: a 29 February that lands in a common year is kept
    until 1 March (never early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _years_ago(years: int, days: int = 0) -> date:
    today = datetime.now(UTC).date()
    return _plus(today, -years) - timedelta(days=days)


def _sweep(instance: Instance, day: date, **kw: Any) -> sweeper.SweepReport:
    return sweeper.sweep(
        instance.unit_of_work,
        keys=instance.keys.fields,
        blobs=instance.blobs,
        clock=FixedClock.on(day),
        **kw,
    )


def _consented(
    client: TestClient, dev: EnrolledDevice, province: str, dob: date, **options: Any
) -> tuple[str, str]:
    """A patient of ``province`` born on ``dob``, with a consent (and ``options`` of it)
    obtained today; returns the patient's and the encounter's ids."""
    patient = client.post(
        "/v1/patients",
        json={"name": "Jean Roy", "dob": dob.isoformat(), "mrn": uuid.uuid4().hex[:12],
              "province": province},
        headers=dev.auth,
    )  # fmt: skip
    assert patient.status_code == 200, patient.text
    pid = patient.json()["id"]
    consent = client.post(
        "/v1/consents",
        json={"patient_id": pid, "purposes": ["clinical_care"], "method": "written",
              "informed_of_rights": True, "text_version": "2026-11-en", **options},
        headers=dev.auth,
    )  # fmt: skip
    assert consent.status_code == 200, consent.text
    return pid, str(consent.json()["encounter_id"])


def _photo_of(
    client: TestClient, instance: Instance, dev: EnrolledDevice, province: str, dob: date
) -> tuple[str, str]:
    """A patient of ``province`` born on ``dob``, consented and photographed today."""
    pid, eid = _consented(client, dev, province, dob)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    return pid, sealed.object_id


def _cli_env(instance: Instance) -> dict[str, str]:
    """The environment in which `clinphoto` commands run against ``instance``."""
    return {
        "CLINPHOTO_DATA_DIR": str(instance.settings.data_dir),
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_ENV": "development",
        "COLUMNS": "200",
    }


def _item(client: TestClient, dev: EnrolledDevice, item_id: str) -> dict[str, Any]:
    got = client.get(f"/v1/retention/items/{item_id}", headers=dev.auth)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


@pytest.mark.parametrize("code", sorted(c for c in RULES if c != "CA"))
def test_ret1_each_province_dates_a_minor_and_an_adult_photographed_today(
    client: TestClient, instance: Instance, new_device: NewDevice, code: str
) -> None:
    rule = RULES[code]
    alice = new_device()
    today = datetime.now(UTC).date()
    adult_dob, minor_dob = _years_ago(40), _years_ago(5, days=30)
    _, adult_photo = _photo_of(client, instance, alice, code, adult_dob)
    _, minor_photo = _photo_of(client, instance, alice, code, minor_dob)

    adult = _item(client, alice, adult_photo)
    minor = _item(client, alice, minor_photo)
    expected_adult = _plus(today, rule["years_after_last_entry"])
    came_of_age = _plus(minor_dob, rule["age_of_majority"])
    expected_minor = max(
        _plus(today, rule["years_after_last_entry"]),
        _plus(came_of_age, rule["years_after_majority"]),
    )
    assert date.fromisoformat(adult["destroy_not_before"]) == expected_adult
    assert date.fromisoformat(minor["destroy_not_before"]) == expected_minor
    for shown in (adult, minor):
        assert shown["jurisdiction"] == code
        assert shown["rule"]["source_url"] == rule["source_url"]
        assert shown["cmpa_default"] is (rule["basis"] == "cmpa-default")
        assert shown["status"] == "scheduled"


def test_ret1_federal_setting_dates_by_the_federal_rule(
    client: TestClient, settings: Settings, instance: Instance, new_device: NewDevice
) -> None:
    instance.settings = settings.model_copy(update={"retention_federal": True})
    alice = new_device()
    _, photo = _photo_of(client, instance, alice, "ON", _years_ago(40))
    shown = _item(client, alice, photo)
    rule = RULES["CA"]
    assert shown["jurisdiction"] == "CA"
    assert shown["cmpa_default"] is True
    assert date.fromisoformat(shown["destroy_not_before"]) == _plus(
        datetime.now(UTC).date(), rule["years_after_last_entry"]
    )


def test_ret1_a_rule_change_recomputes_every_date_it_governs_and_is_audited(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    _, photo = _photo_of(client, instance, alice, "NS", _years_ago(40))
    before = _item(client, alice, photo)
    assert before["cmpa_default"] is True
    changed = {**RULES["NS"], "years_after_last_entry": 12, "basis": "college",
               "minor_basis": "college", "confidence": "verified",
               "minor_confidence": "verified", "confirmed": True,
               "source": "CPSNS (test)", "source_url": "https://cpsns.ns.ca/x",
               "reason": "CPSNS rule confirmed"}  # fmt: skip
    # A clinician may not change a rule: refused with the reason, and audited.
    refused = client.put("/v1/retention/rules/NS", json=changed, headers=alice.auth)
    assert refused.status_code == 403
    done = client.put("/v1/retention/rules/NS", json=changed, headers=officer.auth)
    assert done.status_code == 200, done.text
    assert done.json()["patients_recomputed"] == 1
    after = _item(client, alice, photo)
    assert date.fromisoformat(after["destroy_not_before"]) == _plus(datetime.now(UTC).date(), 12)
    assert after["cmpa_default"] is False
    rules = client.get("/v1/retention/rules", headers=alice.auth).json()
    ns = next(r for r in rules if r["rule"]["jurisdiction"] == "NS")
    assert ns["overridden"] is True
    with instance.unit_of_work() as db:
        entries = db.execute(
            select(AuditEntry.outcome, AuditEntry.actor).where(
                AuditEntry.action == "retention.rule_set"
            )
        ).all()
    assert sorted(entries) == sorted([("denied", alice.user_id), ("success", officer.user_id)])
    reset = client.delete("/v1/retention/rules/NS", headers=officer.auth)
    assert reset.status_code == 200
    assert date.fromisoformat(_item(client, alice, photo)["destroy_not_before"]) == _plus(
        datetime.now(UTC).date(), 10
    )


def _blob_path(settings: Settings, sha: str) -> Path:
    return settings.blob_dir / "objects" / sha[:2] / sha[2:4] / sha


def _age_opens(key: Path, blob: Path) -> bool:
    assert AGE is not None
    run = subprocess.run([AGE, "-d", "-i", str(key), str(blob)], capture_output=True, check=False)
    return run.returncode == 0 and len(run.stdout) > 0


@pytest.mark.skipif(AGE is None, reason="the age CLI is not installed")
def test_ret5_expired_photo_is_destroyed_with_its_copies_versions_and_grants(
    client: TestClient,
    instance: Instance,
    settings: Settings,
    new_device: NewDevice,
    tmp_path: Path,
) -> None:
    alice, bob = new_device(), new_device()
    media_id, plain, pid = _captured(client, instance, alice)  # QC, born 1980: an adult
    records = instance.keys.records.recipient
    sent = _reseal(client, alice, media_id, plain, bob.user_id, [bob.age.recipient, records])
    share_id = sent.json()["id"]  # type: ignore[attr-defined]
    with instance.unit_of_work() as db:
        photo = db.get(Media, media_id)
        assert photo is not None
        eid = photo.encounter_id
    version = _capture(client, instance, alice, _jpeg(), pid, eid, derived_from=media_id)
    alice2 = _second_device(client, alice)
    grant_with_records_key(
        instance,
        device_id=alice2.device_id,
        custodian="Test Custodian",
        reason="The phone was replaced by a new one",
    )
    key = tmp_path / "records-key.txt"
    instance_service.export_records_key(instance, key)

    with instance.unit_of_work() as db:
        family = list(db.execute(select(Media).where(Media.patient_id == pid)).scalars())
        assert {m.kind for m in family} == {"photo", "share"}
        assert len(family) == 3  # the photo, its derived version, bob's copy
        blobs = [_blob_path(settings, m.blob_sha256) for m in family]
        assert db.execute(select(func.count()).select_from(DeviceGrant)).scalar_one() > 0
    assert all(_age_opens(key, b) for b in blobs)  # the check below can fail

    due = _plus(datetime.now(UTC).date(), RULES["QC"]["years_after_last_entry"])
    early = _sweep(instance, due - timedelta(days=1))
    assert early.destroyed == []
    preview = _sweep(instance, due, dry_run=True)
    assert {p.kind for p in preview.destroyed} == {"media", "consent"}
    [planned] = [p for p in preview.destroyed if p.kind == "media"]
    expected = {("media", media_id), ("media", version.object_id), ("share", share_id)}
    assert set(planned.items) == expected | {("media", m.id) for m in family}
    assert all(b.exists() for b in blobs)
    assert all(_age_opens(key, b) for b in blobs)

    done = _sweep(instance, due)
    assert len(done.destroyed) == 2  # the photo's family, the encounter's consents
    assert len(done.certificates) == 1  # one certificate for the patient's records
    assert not any(b.exists() for b in blobs)
    assert not any(_age_opens(key, b) for b in blobs)
    with instance.unit_of_work() as db:
        assert db.execute(select(Media).where(Media.patient_id == pid)).first() is None
        assert db.execute(select(Share)).first() is None
        assert db.execute(select(DeviceGrant)).first() is None
        assert db.execute(select(Consent).where(Consent.patient_id == pid)).first() is None
        tombstones = list(
            db.execute(select(RetentionItem).where(RetentionItem.patient_id == pid)).scalars()
        )
        assert {t.status for t in tombstones} == {"destroyed"}
        assert {t.item_id for t in tombstones} >= {media_id, version.object_id, share_id}
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
        [cert] = db.execute(
            select(AuditEntry).where(AuditEntry.action == "retention.destroy")
        ).scalars()
        assert {t.certificate_seq for t in tombstones} == {cert.seq}
    # One certificate for the patient: the photo's family and the encounter's consents.
    details = json.loads(cert.details)
    assert cert.patient_ref == pid
    assert details["job"] == done.job
    assert details["rule"]["jurisdiction"] == "QC"
    assert details["rule"]["source_url"] == RULES["QC"]["source_url"]
    [photo_family] = [f for f in details["families"] if f["kind"] == "media"]
    assert {m["id"] for m in photo_family["media"]} == {m.id for m in family}
    assert photo_family["shares"] == [share_id]
    assert photo_family["device_grants_destroyed"] > 0
    assert photo_family["blobs_destroyed"] == 3
    # No date of birth in the trail: not the date, not its year as a word (a random hex id
    # holds "1980" about once in a hundred runs).
    assert "1980-02-03" not in cert.details
    assert re.search(r"\b1980\b", cert.details) is None

    # Nothing of it answers any more: the author, the recipient, the recipient's inbox.
    view = client.get(f"/v1/media/{media_id}?purpose=clinical_care", headers=alice.auth)
    assert view.status_code == 404
    assert client.get(f"/v1/shares/{share_id}/content", headers=bob.auth).status_code == 404
    assert client.get("/v1/inbox", headers=bob.auth).json() == []
    # A second sweep finds nothing to do.
    assert _sweep(instance, due).destroyed == []


def test_ret3_held_item_survives_the_sweep_until_released(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    _, photo = _photo_of(client, instance, alice, "SK", _years_ago(50))
    _, other = _photo_of(client, instance, alice, "SK", _years_ago(50))
    due = _plus(datetime.now(UTC).date(), RULES["SK"]["years_after_last_entry"])
    reason = "Litigation notice 2026-114"
    # Only a privacy officer holds: for a clinician the named photo is "not found" (the
    # policy's answer to "not yours"), and the refusal is audited.
    body = {"scope": "item", "target_id": photo, "reason": reason}
    assert client.post("/v1/retention/holds", json=body, headers=alice.auth).status_code == 404
    placed = client.post("/v1/retention/holds", json=body, headers=officer.auth)
    assert placed.status_code == 200, placed.text
    hold_id = placed.json()["id"]
    shown = _item(client, alice, photo)
    assert shown["destroy_not_before"] == due.isoformat()  # held, and dated all the same
    assert shown["held"] is True
    assert shown["holds"][0]["reason"] == ""
    assert _item(client, officer, photo)["holds"][0]["reason"] == reason

    first = _sweep(instance, due)
    destroyed = {i for p in first.destroyed for _, i in p.items}
    assert other in destroyed
    assert photo not in destroyed
    assert first.held >= 1
    with instance.unit_of_work() as db:
        assert db.get(Media, photo) is not None

    released = client.post(
        f"/v1/retention/holds/{hold_id}/release", json={"reason": "Claim settled"},
        headers=officer.auth,
    )  # fmt: skip
    assert released.status_code == 200
    assert released.json()["active"] is False
    second = _sweep(instance, due)
    assert photo in {i for p in second.destroyed for _, i in p.items}
    with instance.unit_of_work() as db:
        assert db.get(Media, photo) is None
        actions = [
            e.action
            for e in db.execute(
                select(AuditEntry).where(AuditEntry.action.like("retention.hold%"))
            ).scalars()
        ]
        # The hold's reasons are encrypted at rest and never in the trail.
        assert not db.execute(
            select(AuditEntry).where(AuditEntry.details.contains("Litigation"))
        ).first()
    assert actions.count("retention.hold_release") == 1
    assert actions.count("retention.hold_place") == 2  # the clinician's refusal, the hold


def test_ret3_patient_hold_and_clinical_decision_mark_block_destruction(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    held_pid, held_photo = _photo_of(client, instance, alice, "QC", _years_ago(30))
    _, marked = _photo_of(client, instance, alice, "QC", _years_ago(30))
    for body in (
        {"scope": "patient", "target_id": held_pid, "reason": "Complaint to the college"},
        {"scope": "item", "target_id": marked, "reason": "Basis of the surgical plan",
         "kind": "clinical_decision"},
    ):  # fmt: skip
        r = client.post("/v1/retention/holds", json=body, headers=officer.auth)
        assert r.status_code == 200, r.text
    due = _plus(datetime.now(UTC).date(), 5)
    report = _sweep(instance, due)
    gone = {i for p in report.destroyed for _, i in p.items}
    assert held_photo not in gone
    assert marked not in gone
    listed = client.get("/v1/retention/holds", headers=officer.auth).json()
    assert {h["kind"] for h in listed} == {"legal_hold", "clinical_decision"}
    assert client.get("/v1/retention/holds", headers=alice.auth).status_code == 403
    # Holding something that does not exist, or is not an id, answers "not found".
    missing = {"scope": "item", "target_id": uuid.uuid4().hex, "reason": "x"}
    assert client.post("/v1/retention/holds", json=missing, headers=officer.auth).status_code == 404


def test_ret5_dry_run_destroys_nothing_and_says_what_it_would(
    client: TestClient, instance: Instance, settings: Settings, new_device: NewDevice
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    _, photo = _photo_of(client, instance, alice, "ON", _years_ago(45))
    due = _plus(datetime.now(UTC).date(), 10)
    # Destroying ahead of time is refused; previewing it is not.
    early = client.post(
        "/v1/retention/sweep", json={"dry_run": False, "as_of": due.isoformat()},
        headers=officer.auth,
    )  # fmt: skip
    assert early.status_code == 422
    preview = client.post(
        "/v1/retention/sweep", json={"dry_run": True, "as_of": due.isoformat()},
        headers=officer.auth,
    )  # fmt: skip
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["dry_run"] is True
    assert body["certificates"] == []
    assert photo in {i["id"] for p in body["planned"] for i in p["items"]}
    assert client.post("/v1/retention/sweep", json={}, headers=alice.auth).status_code == 403
    with instance.unit_of_work() as db:
        media = db.get(Media, photo)
        assert media is not None
        assert _blob_path(settings, media.blob_sha256).exists()
        assert (
            db.execute(
                select(RetentionItem.status).where(RetentionItem.item_id == photo)
            ).scalar_one()
            == "scheduled"
        )


def test_ret5_cli_sweeps_and_prints_the_certificate(
    client: TestClient, instance: Instance, settings: Settings, new_device: NewDevice
) -> None:
    alice = new_device()
    _, photo = _photo_of(client, instance, alice, "QC", _years_ago(45))
    env = _cli_env(instance)
    cli = CliRunner()
    table = cli.invoke(cli_app, ["retention", "rules"], env=env)
    assert table.exit_code == 0, table.output
    assert "cmpa-acpm.ca" in table.output
    assert "NOT confirmed" in table.output
    due = _plus(datetime.now(UTC).date(), 5)
    ahead = cli.invoke(cli_app, ["retention", "sweep", "--as-of", due.isoformat()], env=env)
    assert ahead.exit_code == 2
    dry = cli.invoke(
        cli_app, ["retention", "sweep", "--dry-run", "--as-of", due.isoformat()], env=env
    )
    assert dry.exit_code == 0, dry.output
    assert "would destroy" in dry.output
    assert photo in dry.output
    # The sweep itself, on the day, as the scheduled job would run it.
    done = _sweep(instance, due)
    assert photo in {i for p in done.destroyed for _, i in p.items}
    printed = cli.invoke(cli_app, ["retention", "certificate", photo], env=env)
    assert printed.exit_code == 0, printed.output
    assert "CERTIFICATE OF DESTRUCTION" in printed.output
    assert photo in printed.output
    assert RULES["QC"]["source_url"] in printed.output
    assert done.job in printed.output
    verify = cli.invoke(cli_app, ["audit", "verify", "--workers", "1"], env=env)
    assert verify.exit_code == 0, verify.output


def test_ret5_server_sweeps_on_its_schedule_with_the_clock_it_is_given(
    settings: Settings, instance: Instance
) -> None:
    """The scheduled sweep is off unless its interval is set: here a tiny one, and a clock
    moved past the photo's date."""
    from clinphoto.api.app import create_app
    from tests.conftest import enroll, make_user

    quiet = create_app(settings.model_copy(update={"retention_sweep_interval": 0}), instance)
    with TestClient(quiet) as client:
        alice = enroll(client, make_user(instance, Role.CLINICIAN, "sched@h.example"))
        _, photo = _photo_of(client, instance, alice, "QC", _years_ago(45))
    due = _plus(datetime.now(UTC).date(), 5)
    app = create_app(settings.model_copy(update={"retention_sweep_interval": 0.05}), instance)
    app.state.retention_clock = FixedClock.on(due)
    with TestClient(app):
        for _ in range(600):  # the sweep runs in a worker thread: wait for its certificate
            with instance.unit_of_work() as db:
                status = db.execute(
                    select(RetentionItem.status).where(RetentionItem.item_id == photo)
                ).scalar()
            if status == "destroyed":
                break
            time.sleep(0.05)
    assert status == "destroyed"
    with instance.unit_of_work() as db:
        assert db.get(Media, photo) is None
