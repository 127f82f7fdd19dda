""" "Who saw my photos" (BEY-6): a patient's photo taken, opened, shared, downloaded and
acknowledged, and an outsider's refused attempt, all appear newest first in plain words,
through HTTP and the CLI, on SQLite and PostgreSQL; another patient's never do; a clinician
asking is answered "not found" and the refusal is audited (decision 013)."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.cli.main import app
from clinphoto.core import protocol
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice, enroll, make_user
from tests.functional.test_media_api import _patient_and_encounter, _seal, _upload
from tests.functional.test_sharing_api import _reseal

runner = CliRunner()


def _person(client: TestClient, instance: Instance, name: str, role: Role) -> EnrolledDevice:
    email = f"{uuid.uuid4().hex[:8]}@hospital.example"
    return enroll(client, make_user(instance, role, email, name))


def _photo(client: TestClient, instance: Instance, dev: EnrolledDevice) -> tuple[str, str, bytes]:
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]
    [verdict] = inspect_pending(instance)
    assert verdict.status == "done"
    return pid, sealed.object_id, crypto.open_sealed(sealed.ciphertext, dev.age)


def _world(
    client: TestClient, instance: Instance
) -> tuple[dict[str, EnrolledDevice], dict[str, str]]:
    people = {
        "alice": _person(client, instance, "Dr Alice Roy", Role.CLINICIAN),
        "bob": _person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN),
        "mallory": _person(client, instance, "Dr Mallory Outsider", Role.CLINICIAN),
        "officer": _person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER),
    }
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    pid, mid, plain = _photo(client, instance, alice)
    opened = client.get(f"/v1/media/{mid}?purpose=clinical_care", headers=alice.auth)
    assert opened.status_code == 200
    recipients = [bob.age.recipient, instance.keys.records.recipient]
    sent = _reseal(client, alice, mid, plain, bob.user_id, recipients)
    assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
    sid = sent.json()["id"]  # type: ignore[attr-defined]
    assert client.get(f"/v1/shares/{sid}/content", headers=bob.auth).status_code == 200
    sig = crypto.sign(bob.signing, protocol.ack_message(sid, opened.json()["plaintext_sha256"]))
    acked = client.post(f"/v1/shares/{sid}/ack", json={"signature": sig}, headers=bob.auth)
    assert acked.status_code == 200, acked.text
    refused = client.get(f"/v1/media/{mid}?purpose=clinical_care", headers=mallory.auth)
    assert refused.status_code == 404
    # Another patient of the same clinician, photographed and opened the same way.
    other_pid, other_mid, _ = _photo(client, instance, alice)
    assert (
        client.get(f"/v1/media/{other_mid}?purpose=clinical_care", headers=alice.auth).status_code
        == 200
    )
    return people, {"pid": pid, "mid": mid, "sid": sid, "other_pid": other_pid, "other": other_mid}


def _report(client: TestClient, who: EnrolledDevice, pid: str, **query: int) -> dict[str, object]:
    got = client.get(f"/v1/patients/{pid}/access-report", params=query, headers=who.auth)
    assert got.status_code == 200, got.text
    body: dict[str, object] = got.json()
    return body


def test_bey6_who_saw_lists_accesses_and_refusals_in_plain_words(
    client: TestClient, instance: Instance
) -> None:
    people, ids = _world(client, instance)
    officer = people["officer"]
    body = _report(client, officer, ids["pid"], limit=1000)
    events = body["events"]
    assert isinstance(events, list)
    assert body["next_cursor"] is None
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs, reverse=True)  # newest first

    def line(e: dict[str, object]) -> tuple[object, ...]:
        return (e["who"], e["what"], e["photo_id"], e["purpose"], e["outcome"])

    lines = [line(e) for e in events]
    mid = ids["mid"]
    care, ok, no = "clinical_care", "allowed", "refused"
    expected = [  # oldest last, as shown
        ("Dr Mallory Outsider", "tried to open the photo (refused)", mid, care, no),
        ("Dr Bob Tremblay", "acknowledged receiving the shared copy", mid, care, ok),
        ("Dr Bob Tremblay", "downloaded the shared copy", mid, care, ok),
        ("Dr Alice Roy", "shared the photo", mid, care, ok),
        ("Dr Alice Roy", "opened the photo", mid, care, ok),
        ("records custodian", "inspected the photo for faces and text (records custodian)", mid),
        ("Dr Alice Roy", "took and stored the photo", mid),
    ]  # fmt: skip
    positions = []
    for want in expected:
        found = [i for i, got in enumerate(lines) if _matches(got, want)]
        assert found, (want, lines)
        positions.append(found[0])
    assert positions == sorted(positions), lines

    share = next(e for e in events if e["what"] == "shared the photo")
    assert share["to"] == "Dr Bob Tremblay (Test Hospital)"
    assert share["object_id"] == ids["sid"]
    assert (share["role"], share["institution"], share["device"]) == (
        "clinician",
        "Test Hospital",
        "test phone",
    )
    refusal = next(e for e in events if e["who"] == "Dr Mallory Outsider")
    assert refusal["allowed"] is False
    assert refusal["kind"] == "photo"

    # Another patient's entries never appear.
    shown = {e["photo_id"] for e in events} | {e["object_id"] for e in events}
    assert ids["other"] not in shown
    with instance.unit_of_work() as db:
        mine = {json.loads(x)["seq"] for x in audit.export_patient(db, ids["pid"])}
    assert set(seqs) <= mine

    # Paged: three at a time, no entry twice or missed, in the same order.
    paged: list[object] = []
    cursor = None
    while True:
        query = {"limit": 3} if cursor is None else {"limit": 3, "cursor": cursor}
        page = _report(client, officer, ids["pid"], **query)
        page_events = page["events"]
        assert isinstance(page_events, list)
        paged += [e["seq"] for e in page_events]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Each page's own request is audited too, newest of all: the first walk saw none of them.
    assert paged[-len(seqs) :] == seqs


def _matches(got: tuple[object, ...], want: tuple[object, ...]) -> bool:
    who, rest = want[0], want[1:]
    return isinstance(got[0], str) and str(who) in got[0] and got[1 : 1 + len(rest)] == rest


def test_bey6_only_privacy_officers_ask_and_refusals_are_audited(
    client: TestClient, instance: Instance
) -> None:
    people, ids = _world(client, instance)
    pid = ids["pid"]
    unknown = client.get(f"/v1/patients/{'0' * 32}/access-report", headers=people["officer"].auth)
    assert unknown.status_code == 404
    # The outsider and the patient's own care team alike: "not found", exactly.
    for name in ("mallory", "alice"):
        asked = client.get(f"/v1/patients/{pid}/access-report", headers=people[name].auth)
        assert asked.status_code == 404, name
        assert asked.json()["error"]["message"] == unknown.json()["error"]["message"]
    _report(client, people["officer"], pid)
    with instance.unit_of_work() as db:
        rows = [json.loads(x) for x in audit.export_patient(db, pid)]
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    asked = [r for r in rows if r["action"] == "audit.access_report"]
    assert [(r["actor"], r["outcome"]) for r in asked] == [
        (people["mallory"].user_id, "denied"),
        (people["alice"].user_id, "denied"),
        (people["officer"].user_id, "success"),
    ]
    # The refusal is itself in the next report, in plain words.
    events = _report(client, people["officer"], pid)["events"]
    assert isinstance(events, list)
    assert any(
        e["who"] == "Dr Mallory Outsider"
        and e["what"] == "tried to read who saw the patient's records (refused)"
        for e in events
    )
    malformed = client.get("/v1/patients/not-an-id/access-report", headers=people["officer"].auth)
    assert malformed.status_code == 422


def test_bey6_cli_who_saw_as_text_and_json(client: TestClient, instance: Instance) -> None:
    people, ids = _world(client, instance)
    data_dir = str(instance.settings.data_dir)
    env = {
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "COLUMNS": "300",  # the table's cells on one line each
    }
    as_json = runner.invoke(
        app, ["--data-dir", data_dir, "privacy", "who-saw", ids["pid"], "--json"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert rows[0]["who"] == "Dr Mallory Outsider"
    assert rows[0]["what"] == "tried to open the photo (refused)"
    assert ids["other"] not in as_json.output
    text = runner.invoke(
        app,
        ["--data-dir", data_dir, "privacy", "who-saw", ids["pid"], "--as", people["officer"].email],
        env=env,
    )
    assert text.exit_code == 0, text.output
    assert "Dr Bob Tremblay" in text.output
    assert "acknowledged receiving the shared copy" in text.output
    clinician = runner.invoke(
        app,
        ["--data-dir", data_dir, "privacy", "who-saw", ids["pid"], "--as", people["alice"].email],
        env=env,
    )
    assert clinician.exit_code == 2
    assert "not found" in clinician.output
