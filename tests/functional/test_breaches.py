"""The breach register through HTTP (BRE-1 to BRE-6; decision 014), on SQLite and PostgreSQL.

A lost phone: reporting it from another device revokes it at once and queues a wipe; the
register names the patients whose media could have been on it (a capture its outbox held, a
share it downloaded) and not the others; the phone is told to wipe at its next report and its
signed confirmation shows. A locked phone that held nothing is proposed "not a breach". The
workflow goes in order, privacy officers only, audited; the notification checklist follows the
patients' province with sources and "not confirmed"; letters are PDFs in English and French.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role, User
from clinphoto.audit.models import AuditEntry
from clinphoto.core import protocol
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance
from clinphoto.records.clock import FixedClock
from tests.conftest import EnrolledDevice, enroll, make_user
from tests.functional.test_device_status import register, report, status_body, wire_time
from tests.functional.test_sharing_api import _reseal
from tests.functional.test_who_saw import _photo

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed"
)


def person(client: TestClient, instance: Instance, name: str, role: Role) -> EnrolledDevice:
    email = f"{uuid.uuid4().hex[:8]}@hospital.example"
    return enroll(client, make_user(instance, role, email, name))


def another_device(client: TestClient, instance: Instance, dev: EnrolledDevice) -> EnrolledDevice:
    with instance.unit_of_work() as db:
        user = db.get(User, dev.user_id)
        assert user is not None
        code = accounts.issue_enrollment_code(db, user=user, issued_by="test")
    return enroll(client, code, password=dev.password)


def recipients_of(client: TestClient, who: EnrolledDevice, instance: Instance) -> list[str]:
    found = client.get("/v1/directory", params={"email": who.email}, headers=who.auth)
    assert found.status_code == 200, found.text
    return [d["age_recipient"] for d in found.json()["devices"]] + [instance.keys.records.recipient]


def breach(client: TestClient, who: EnrolledDevice, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/breaches", json=body, headers=who.auth)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_bre2_bre5_lost_phone_is_revoked_wiped_and_its_patients_named(
    client: TestClient, instance: Instance
) -> None:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    desk = another_device(client, instance, alice)  # alice's second device reports the loss
    key = register(client, alice)
    # Uploaded from the phone and never opened there: not on it any more.
    uploaded_pid, _, _ = _photo(client, instance, alice)
    # Captured offline and still in the phone's outbox: the phone says so, then locks.
    held_pid, held_mid = uuid.uuid4().hex, uuid.uuid4().hex
    held = [{"patient_id": held_pid, "encounter_id": uuid.uuid4().hex, "media_id": held_mid}]
    assert (
        report(client, status_body(alice.device_id, key, locked=False, holding=held)).status_code
        == 200
    )
    # Shared by Bob to Alice and downloaded on the phone.
    shared_pid, shared_mid, plain = _photo(client, instance, bob)
    sent = _reseal(
        client, bob, shared_mid, plain, alice.user_id, recipients_of(client, alice, instance)
    )
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    sid = sent.json()["id"]  # type: ignore[attr-defined]
    assert client.get(f"/v1/shares/{sid}/content", headers=alice.auth).status_code == 200
    # A patient of Bob's that never reached Alice.
    other_pid, _, _ = _photo(client, instance, bob)

    found = breach(
        client,
        desk,
        kind="lost_device",
        device_id=alice.device_id,
        description="Lost on the bus, line 2",
    )
    assert found["status"] == "reported"
    assert found["description"] == "Lost on the bus, line 2"
    assert client.get("/v1/me", headers=alice.auth).status_code == 401  # revoked at once
    assert found["device"]["revoked_at"] is not None
    wipe = found["device"]["wipe"]
    assert wipe["confirmed_at"] is None

    as_officer = client.get(f"/v1/breaches/{found['id']}", headers=officer.auth)
    assert as_officer.status_code == 200, as_officer.text
    body = as_officer.json()
    patients = {p["patient_id"]: p for p in body["exposure"]["patients"]}
    assert set(patients) == {held_pid, shared_pid}
    assert uploaded_pid not in patients
    assert other_pid not in patients
    assert patients[held_pid]["reasons"] == ["captured_not_uploaded"]
    assert patients[held_pid]["media_ids"] == [held_mid]
    assert set(patients[shared_pid]["reasons"]) == {"shared_to_device", "opened_on_device"}
    assert patients[shared_pid]["media_ids"] == [shared_mid]
    assert patients[shared_pid]["display_name"] == "Jane Doe"  # privacy officers see names
    assert patients[held_pid]["display_name"] is None  # not on the server: a capture never sent
    assert {m["media_id"] for m in body["assessment"]["media"]} == {held_mid, shared_mid}
    verdicts = {m["media_id"]: m["verdict"] for m in body["assessment"]["media"]}
    assert verdicts[held_mid] == "unknown"
    proposed = body["proposed_classification"]
    # Unlocked at its last report, with patients' media on it: a breach, as the reasons say.
    assert proposed["classification"] == "breach_real_risk"
    assert any("unlocked" in r for r in proposed["reasons"])
    # The reporter's own view names no patient.
    mine = client.get(f"/v1/breaches/{found['id']}", headers=desk.auth).json()
    assert all(p["display_name"] is None for p in mine["exposure"]["patients"])
    # Each patient named has the read in their audit trail.
    with instance.unit_of_work() as db:
        reads = set(
            db.execute(
                select(AuditEntry.patient_ref).where(
                    AuditEntry.action == "breach.read", AuditEntry.object_id == found["id"]
                )
            ).scalars()
        )
    assert {held_pid, shared_pid} <= reads

    # The phone's next contact: told to wipe; it signs, erases, confirms.
    told = report(client, status_body(alice.device_id, key))
    assert told.json()["wipe"]["wipe_id"] == wipe["wipe_id"]
    erased = {"vault": True, "outbox_items": 1, "databases": 1, "caches": 1}
    wiped_at = wire_time(datetime.now(UTC))
    message = protocol.wipe_confirmation_message(alice.device_id, wipe["wipe_id"], wiped_at, erased)
    confirmed = client.post(
        "/v1/device-status/wipe-confirmation",
        json={
            "device_id": alice.device_id,
            "wipe_id": wipe["wipe_id"],
            "wiped_at": wiped_at,
            "erased": erased,
            "signature": crypto.sign(key, message),
        },
    )
    assert confirmed.status_code == 204
    after = client.get(f"/v1/breaches/{found['id']}", headers=officer.auth).json()
    assert after["device"]["wipe"]["confirmed_at"] is not None
    assert after["device"]["wipe"]["signature_valid"] is True
    assert after["device"]["wipe"]["erased"] == erased


def test_bre5_locked_phone_that_held_nothing_is_proposed_not_a_breach(
    client: TestClient, instance: Instance
) -> None:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    desk = another_device(client, instance, alice)
    key = register(client, alice)
    assert (
        report(client, status_body(alice.device_id, key, locked=False, holding=[])).status_code
        == 200
    )
    # Locked afterwards: a locked report says holding null; 30 s later it is stored.
    clock = FixedClock(datetime.now(UTC))
    client.app.state.retention_clock = clock  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=31))
    locked = status_body(alice.device_id, key, at=clock.now(), locked=True)
    assert report(client, locked).status_code == 200
    clock.advance(timedelta(seconds=5))
    found = breach(client, desk, kind="stolen_device", device_id=alice.device_id)
    proposed = found["proposed_classification"]
    assert proposed["classification"] == "not_a_breach", proposed
    assert found["exposure"]["patients"] == []
    assert found["device"]["locked"] is True


def test_bre2_a_clinician_cannot_report_anothers_device(
    client: TestClient, instance: Instance
) -> None:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    mallory = person(client, instance, "Dr Mallory", Role.CLINICIAN)
    r = client.post(
        "/v1/breaches",
        json={"kind": "lost_device", "device_id": alice.device_id},
        headers=mallory.auth,
    )
    assert r.status_code == 422
    assert client.get("/v1/me", headers=alice.auth).status_code == 200  # not revoked


def test_bre1_workflow_in_order_by_privacy_officers_only_and_audited(
    client: TestClient, instance: Instance
) -> None:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    found = breach(client, alice, kind="shown_by_accident", description="Screen seen in the lift")
    bid = found["id"]

    def step(who: EnrolledDevice, **body: Any) -> Any:
        return client.post(f"/v1/breaches/{bid}/steps", json=body, headers=who.auth)

    refused = step(alice, step="contained", reason="I closed the app")
    assert refused.status_code == 404  # not a clinician's to handle
    early = step(officer, step="assessed", reason="skipping", classification="not_a_breach")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "breach_step_order"
    assert step(officer, step="contained", reason="Spoke to the clinician").status_code == 200
    missing = step(officer, step="assessed", reason="no classification")
    assert missing.status_code == 422
    assessed = step(
        officer, step="assessed", reason="Face visible", classification="breach_real_risk"
    )
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["classification"] == "breach_real_risk"
    assert step(officer, step="notified", reason="Patient called").status_code == 200
    closed = step(officer, step="closed", reason="Done")
    assert closed.status_code == 200
    steps = closed.json()["steps"]
    assert [s["step"] for s in steps] == ["reported", "contained", "assessed", "notified", "closed"]
    assert [s["by_name"] for s in steps] == ["Dr Alice Roy"] + ["Pat Privacy"] * 4
    assert steps[2]["reason"] == "Face visible"
    assert step(officer, step="closed", reason="again").status_code == 409

    # A clinician sees their own reports only; another's answers "not found".
    listed = client.get("/v1/breaches", headers=alice.auth).json()["breaches"]
    assert [b["id"] for b in listed] == [bid]
    assert client.get("/v1/breaches", headers=bob.auth).json()["breaches"] == []
    assert client.get(f"/v1/breaches/{bid}", headers=bob.auth).status_code == 404
    assert [
        b["id"] for b in client.get("/v1/breaches", headers=officer.auth).json()["breaches"]
    ] == [bid]
    with instance.unit_of_work() as db:
        entries = db.execute(
            select(AuditEntry.action, AuditEntry.outcome, AuditEntry.actor).where(
                AuditEntry.object_id == bid
            )
        ).all()
    outcomes = {(a, o, who) for a, o, who in entries}
    assert ("breach.step", "denied", alice.user_id) in outcomes
    assert ("breach.step", "denied", officer.user_id) in outcomes  # out of order
    assert ("breach.step", "success", officer.user_id) in outcomes
    assert ("breach.report", "success", alice.user_id) in outcomes
    assert ("breach.read", "denied", bob.user_id) in outcomes


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@needs_pdftotext
def test_bre6_checklist_follows_the_patients_province_and_letters_are_pdf_en_fr(
    client: TestClient, instance: Instance, tmp_path: Path
) -> None:
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    pid, mid, plain = _photo(client, instance, alice)  # a patient in QC
    sent = _reseal(client, alice, mid, plain, bob.user_id, recipients_of(client, bob, instance))
    sid = sent.json()["id"]  # type: ignore[attr-defined]
    found = breach(client, alice, kind="misdirected_share", share_id=sid)
    bid = found["id"]
    assert client.get(f"/v1/breaches/{bid}/notifications", headers=alice.auth).status_code == 404
    checklist = client.get(f"/v1/breaches/{bid}/notifications", headers=officer.auth)
    assert checklist.status_code == 200, checklist.text
    doc = checklist.json()
    assert doc["jurisdiction"] == "QC"
    items = {i["party"]: i for i in doc["items"]}
    assert set(items) == {"patients", "cmpa", "organization", "college", "commissioner"}
    assert "Commission d'accès à l'information" in items["commissioner"]["who"]
    assert items["commissioner"]["confirmed"] is False  # secondary sources only (standards B2)
    assert items["commissioner"]["required"] == "if_real_risk"
    assert "legisquebec" in items["patients"]["source"]
    assert all(i["sent"] is None for i in doc["items"])
    recorded = client.post(
        f"/v1/breaches/{bid}/notifications/cmpa",
        json={"sent_at": datetime.now(UTC).isoformat(), "method": "telephone", "note": "File 123"},
        headers=officer.auth,
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["sent"]["method"] == "telephone"
    assert recorded.json()["sent"]["by_name"] == "Pat Privacy"
    again = client.get(f"/v1/breaches/{bid}/notifications", headers=officer.auth).json()
    assert {i["party"]: i["sent"] is not None for i in again["items"]}["cmpa"] is True

    fr = client.get(
        f"/v1/breaches/{bid}/letters/patients.pdf",
        params={"lang": "fr", "patient_id": pid},
        headers=officer.auth,
    )
    assert fr.status_code == 200, fr.text
    assert fr.headers["content-type"] == "application/pdf"
    words = _pdf_text(fr.content, tmp_path, "fr.pdf")
    assert "Avis d'atteinte à la vie privée" in words
    assert "Jane Doe" in words
    assert "rappelée" in words
    en = client.get(f"/v1/breaches/{bid}/letters/commissioner.pdf", headers=officer.auth)
    assert en.status_code == 200
    words = _pdf_text(en.content, tmp_path, "en.pdf")
    assert "Notice of a privacy breach" in words
    assert "Jane Doe" not in words  # a letter to the commissioner names no patient
    assert "was not confirmed" in words
    with instance.unit_of_work() as db:
        letters = set(
            db.execute(
                select(AuditEntry.patient_ref).where(
                    AuditEntry.action == "breach.letter", AuditEntry.object_id == bid
                )
            ).scalars()
        )
    assert pid in letters


@needs_pdftotext
def test_bre1_bre6_cli_reports_shows_steps_notifies_and_prints_letters(
    client: TestClient, instance: Instance, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from clinphoto.cli.main import app

    runner = CliRunner()
    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    env = {
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "COLUMNS": "300",
    }
    base = ["--data-dir", str(instance.settings.data_dir), "breach"]

    def run(*args: str) -> Any:
        return runner.invoke(app, [*base, *args], env=env)

    reported = run("report", "lost_device", "--device", alice.device_id, "--as", alice.email)
    assert reported.exit_code == 0, reported.output
    assert "the device is revoked" in reported.output
    assert client.get("/v1/me", headers=alice.auth).status_code == 401
    bid = reported.output.split("breach ")[1].split()[0]
    listed = run("list", "--as", officer.email, "--json")
    assert listed.exit_code == 0, listed.output
    assert [b["id"] for b in json.loads(listed.output)] == [bid]
    # The server's operator handles no breach: --as is required, and a clinician is refused.
    assert run("list").exit_code != 0
    refused = run("step", bid, "contained", "--reason", "x", "--as", alice.email)
    assert refused.exit_code == 2
    assert "not found" in refused.output
    stepped = run("step", bid, "contained", "--reason", "revoked", "--as", officer.email)
    assert stepped.exit_code == 0, stepped.output
    shown = run("show", bid, "--as", officer.email, "--json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["status"] == "contained"
    assert doc["device"]["wipe"] is not None
    assert doc["proposed_classification"]["classification"] == "breach_low_risk"  # never reported
    notified = run(
        "notify",
        bid,
        "--party",
        "organization",
        "--method",
        "e-mail",
        "--as",
        officer.email,
        "--json",
    )
    assert notified.exit_code == 0, notified.output
    checklist = json.loads(notified.output)
    assert checklist["jurisdiction"] == "CA"  # no patient involved: the federal rule
    sent = {i["party"]: i["method"] for i in checklist["items"]}
    assert sent["organization"] == "e-mail"
    pdf = tmp_path / "letter.pdf"
    printed = run(
        "letter", bid, "organization", "--lang", "fr", "--out", str(pdf), "--as", officer.email
    )
    assert printed.exit_code == 0, printed.output
    assert "Avis d'atteinte à la vie privée" in _pdf_text(pdf.read_bytes(), tmp_path, "copy.pdf")
    help_text = runner.invoke(app, ["breach", "letter", "--help"], env=env)
    assert "Example: clinphoto breach letter" in help_text.output


def test_bre5_old_status_reports_are_pruned_keeping_what_the_register_reads(
    client: TestClient, instance: Instance
) -> None:
    """The history is pruned after the period kept (a moved clock, then the console's
    command at today's date), but each device's latest report, its latest that knew the
    outbox, and the same two before a breach's time of loss stay: the register's answer for
    the breach is the same after pruning as before."""
    from typer.testing import CliRunner

    from clinphoto.breaches import devices
    from clinphoto.breaches.models import DeviceStatusReport
    from clinphoto.cli.main import app

    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    desk = another_device(client, instance, alice)
    keys = {alice.device_id: register(client, alice), bob.device_id: register(client, bob)}
    start = datetime.now(UTC) - timedelta(days=130)
    clock = FixedClock(start)
    client.app.state.retention_clock = clock  # type: ignore[attr-defined]
    held = [{"patient_id": uuid.uuid4().hex, "encounter_id": uuid.uuid4().hex,
             "media_id": uuid.uuid4().hex}]  # fmt: skip

    def at_day(day: float, dev: EnrolledDevice, **kw: Any) -> None:
        clock.at = start + timedelta(days=day)
        body = status_body(dev.device_id, keys[dev.device_id], at=clock.now(), **kw)
        assert report(client, body).status_code == 200

    at_day(0, alice, locked=False, holding=held)  # the outbox known: a capture held
    at_day(1, alice)  # locked: holding not known
    at_day(10, alice, locked=False, holding=[])
    at_day(20, alice)
    clock.at = start + timedelta(days=20, hours=1)
    lost = breach(
        client, desk, kind="lost_device", device_id=alice.device_id,
        occurred_at=wire_time(start + timedelta(days=1, hours=1)),
    )  # fmt: skip
    at_day(30, alice)
    at_day(100, alice)  # revoked devices still report: the latest
    at_day(0, bob, locked=False, holding=[])
    at_day(5, bob, locked=False, holding=[])
    at_day(50, bob)

    def stored(dev: EnrolledDevice) -> list[int]:
        with instance.unit_of_work() as db:
            rows = db.execute(
                select(DeviceStatusReport.reported_at).where(
                    DeviceStatusReport.device_id == dev.device_id
                )
            ).scalars()
            return sorted(round((r - start).total_seconds() / 86400) for r in rows)

    def exposure() -> Any:
        got = client.get(f"/v1/breaches/{lost['id']}", headers=desk.auth).json()
        return got["exposure"]["patients"], got["proposed_classification"]

    before = exposure()
    assert [p["patient_id"] for p in before[0]] == [held[0]["patient_id"]]
    assert stored(alice) == [0, 1, 10, 20, 30, 100]
    # Within the period: nothing goes.
    clock.at = start + timedelta(days=35)
    assert devices.prune_history(instance.unit_of_work, clock=clock, keep_days=90) == 0

    clock.at = start + timedelta(days=130)
    assert devices.prune_history(instance.unit_of_work, clock=clock, keep_days=90) == 3
    # Alice: the last before the loss (1) and the last that knew the outbox then (0), the
    # latest that knew the outbox (10), the latest (100); 20 and 30 are gone. Bob: 5, 50.
    assert stored(alice) == [0, 1, 10, 100]
    assert stored(bob) == [5, 50]
    assert exposure() == before

    # The console's command, at today's date (where the clock above ended): a shorter period
    # goes further, and still keeps what the register reads.
    at_day(110, bob)
    at_day(120, bob)
    env = {"CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False)}
    pruned = CliRunner().invoke(
        app,
        ["--data-dir", str(instance.settings.data_dir), "breach", "prune-status", "--days", "15"],
        env=env,
    )
    assert pruned.exit_code == 0, pruned.output
    assert "deleted 2 status report(s) older than 15 days" in pruned.output
    assert stored(alice) == [0, 1, 10, 100]
    assert stored(bob) == [5, 120]
    assert exposure() == before


def test_bre5_the_servers_periodic_job_prunes_the_status_history(
    settings: Settings, instance: Instance
) -> None:
    """The server prunes on the retention sweep's schedule, with the history's own period
    (CLINPHOTO_STATUS_HISTORY_DAYS)."""
    import time

    from clinphoto.api.app import create_app
    from clinphoto.breaches.models import DeviceStatusReport

    start = datetime.now(UTC) - timedelta(days=20)
    clock = FixedClock(start)
    quiet = create_app(settings.model_copy(update={"retention_sweep_interval": 0}), instance)
    quiet.state.retention_clock = clock
    with TestClient(quiet) as client:
        alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
        key = register(client, alice)
        for day in (0, 1, 2):
            clock.at = start + timedelta(days=day)
            body = status_body(alice.device_id, key, at=clock.now(), locked=False, holding=[])
            assert report(client, body).status_code == 200

    def count() -> int:
        with instance.unit_of_work() as db:
            rows = db.execute(
                select(DeviceStatusReport.id).where(DeviceStatusReport.device_id == alice.device_id)
            )
            return len(rows.all())

    assert count() == 3
    update = {"retention_sweep_interval": 0.05, "status_history_days": 10}
    app = create_app(settings.model_copy(update=update), instance)
    app.state.retention_clock = FixedClock(start + timedelta(days=20))
    with TestClient(app):
        for _ in range(600):  # the job runs in a worker thread: wait for it
            if count() == 1:
                break
            time.sleep(0.05)
    assert count() == 1  # the latest stays


def test_bre2_who_saw_my_photos_tells_the_recall_the_deletion_and_the_register_in_words(
    client: TestClient, instance: Instance
) -> None:
    """The patient's "who saw my photos" (BEY-6) reads the recall, the recipient device's
    signed deletion and the privacy office's reading of the register as sentences, in
    English and in French (RET-4)."""
    from clinphoto.cli.records import _officer
    from clinphoto.disclosures import service as disclosures
    from tests.functional.test_who_saw import _report

    alice = person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = person(client, instance, "Dr Bob Wrong", Role.CLINICIAN)
    officer = person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    pid, mid, plain = _photo(client, instance, alice)
    sent = _reseal(client, alice, mid, plain, bob.user_id, recipients_of(client, bob, instance))
    sid = sent.json()["id"]  # type: ignore[attr-defined]
    assert client.get(f"/v1/shares/{sid}/content", headers=bob.auth).status_code == 200
    key = register(client, bob)
    found = breach(client, alice, kind="misdirected_share", share_id=sid)
    deleted_at = wire_time(datetime.now(UTC))
    message = protocol.share_deleted_message(bob.device_id, sid, deleted_at)
    confirmed = client.post(
        "/v1/device-status/delete-confirmation",
        json={"device_id": bob.device_id, "share_id": sid, "deleted_at": deleted_at,
              "signature": crypto.sign(key, message)},
    )  # fmt: skip
    assert confirmed.status_code == 204
    assert client.get(f"/v1/breaches/{found['id']}", headers=officer.auth).status_code == 200

    events = _report(client, officer, pid, limit=1000)["events"]
    assert isinstance(events, list)
    said = {(e["who"], e["what"], e["outcome"]) for e in events}
    assert (
        "Dr Alice Roy",
        "recalled the shared copy: its recipient can no longer open it",
        "allowed",
    ) in said
    assert (
        "Dr Bob Wrong",
        "confirmed from their device that the recalled copy was deleted from it",
        "allowed",
    ) in said
    assert (
        "Pat Privacy",
        "read the breach register's entry that names the patient",
        "allowed",
    ) in said
    assert not [e for e in events if "." in str(e["what"])]  # no action code left as words

    with instance.unit_of_work() as db:
        french = list(
            disclosures.whole_access_report(
                db, subject=_officer(db, officer.email), patient_id=pid, language="fr"
            )
        )
    dit = {(e.who, e.what) for e in french}
    assert (
        "Dr Alice Roy",
        "a rappelé la copie partagée : son destinataire ne peut plus l'ouvrir",
    ) in dit
    assert (
        "Dr Bob Wrong",
        "a confirmé depuis son appareil que la copie rappelée en a été supprimée",
    ) in dit
    assert (
        "Pat Privacy",
        "a consulté l'entrée du registre des atteintes qui nomme le patient",
    ) in dit
