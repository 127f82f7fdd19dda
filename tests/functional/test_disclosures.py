"""Disclosures under withdrawn purposes (CON-7): after a patient withdraws a purpose, the
privacy officer sees what had already been shared for it, with each recipient, institution
and status; shares for purposes still consented are not listed; the withdrawal is in the
officer's follow-up queue; clinicians get "not found"; on SQLite and PostgreSQL."""

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


def _share(
    client: TestClient,
    instance: Instance,
    sender: EnrolledDevice,
    mid: str,
    plain: bytes,
    to: EnrolledDevice,
    purpose: str,
) -> object:
    recipients = [to.age.recipient, instance.keys.records.recipient]
    return _reseal(client, sender, mid, plain, to.user_id, recipients, purpose=purpose)


def test_con7_shares_before_a_withdrawal_are_listed_with_their_recipients(
    client: TestClient, instance: Instance
) -> None:
    alice = _person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = _person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    carol = _person(client, instance, "Dr Carol Nguyen", Role.CLINICIAN)
    dave = _person(client, instance, "Dr Dave Singh", Role.CLINICIAN)
    officer = _person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    pid, eid, cid = _patient_and_encounter(client, alice, ("clinical_care", "education"))
    sealed = _seal(instance, alice, pid, eid)
    assert _upload(client, alice, sealed).status_code == 201  # type: ignore[attr-defined]
    [verdict] = inspect_pending(instance)
    assert verdict.status == "done"
    plain = crypto.open_sealed(sealed.ciphertext, alice.age)
    mid = sealed.object_id

    to_bob = _share(client, instance, alice, mid, plain, bob, "education")
    assert to_bob.status_code == 201, to_bob.text  # type: ignore[attr-defined]
    bob_sid = to_bob.json()["id"]  # type: ignore[attr-defined]
    to_carol = _share(client, instance, alice, mid, plain, carol, "clinical_care")
    assert to_carol.status_code == 201  # type: ignore[attr-defined]
    # Bob opened and acknowledged his copy before the withdrawal.
    assert client.get(f"/v1/shares/{bob_sid}/content", headers=bob.auth).status_code == 200
    sig = crypto.sign(bob.signing, protocol.ack_message(bob_sid, sealed.plaintext_sha256))
    acked = client.post(f"/v1/shares/{bob_sid}/ack", json={"signature": sig}, headers=bob.auth)
    assert acked.status_code == 200, acked.text

    # Nothing withdrawn yet: nothing to follow up.
    before = client.get(f"/v1/consents/{cid}/disclosures", headers=officer.auth)
    assert before.status_code == 200
    assert before.json()["disclosures"] == []
    assert client.get("/v1/review/withdrawn-disclosures", headers=officer.auth).json() == []

    withdrawn = client.post(
        f"/v1/consents/{cid}/withdrawals", json={"purposes": ["education"]}, headers=alice.auth
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # After the withdrawal the policy refuses a share for it: never a disclosure.
    late = _share(client, instance, alice, mid, plain, dave, "education")
    assert late.status_code == 404  # type: ignore[attr-defined]

    report = client.get(f"/v1/consents/{cid}/disclosures", headers=officer.auth)
    assert report.status_code == 200, report.text
    body = report.json()
    assert [w["purpose"] for w in body["withdrawals"]] == ["education"]
    assert body["kinds"] == ["share"]
    [shown] = body["disclosures"]
    assert shown["share_id"] == bob_sid
    assert shown["photo_id"] == mid
    assert shown["purpose"] == "education"
    assert (shown["recipient_name"], shown["recipient_institution"]) == (
        "Dr Bob Tremblay",
        "Test Hospital",
    )
    assert shown["recipient_email"] == bob.email
    assert shown["sender_name"] == "Dr Alice Roy"
    assert shown["status"] == "acknowledged"
    assert shown["acknowledged_at"] is not None
    assert shown["sent_at"] <= shown["withdrawn_at"]
    assert shown["covered_now"] is False
    # Carol's share, for clinical care, still consented, is not listed.
    assert carol.user_id not in report.text

    queue = client.get("/v1/review/withdrawn-disclosures", headers=officer.auth)
    assert queue.status_code == 200
    assert [(q["consent_id"], q["patient_id"], q["disclosures"]) for q in queue.json()] == [
        (cid, pid, 1)
    ]

    # Clinicians, the consent's own author included, get "not found"; the queue says why.
    unknown = client.get(f"/v1/consents/{'0' * 32}/disclosures", headers=officer.auth)
    assert unknown.status_code == 404
    for who in (alice, carol):
        asked = client.get(f"/v1/consents/{cid}/disclosures", headers=who.auth)
        assert asked.status_code == 404
        assert asked.json()["error"]["message"] == unknown.json()["error"]["message"]
        assert client.get("/v1/review/withdrawn-disclosures", headers=who.auth).status_code == 403

    with instance.unit_of_work() as db:
        rows = [json.loads(x) for x in audit.export_patient(db, pid)]
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    reads = [
        (r["actor"], r["outcome"], r["object_id"])
        for r in rows
        if r["action"] == "consent.disclosures"
    ]
    assert reads == [
        (officer.user_id, "success", cid),
        (officer.user_id, "success", cid),
        (alice.user_id, "denied", cid),
        (carol.user_id, "denied", cid),
    ]
    listed = [r for r in rows if r["action"] == "review.withdrawn_disclosures"]
    assert [(r["actor"], r["object_id"]) for r in listed] == [(officer.user_id, cid)]

    data_dir = str(instance.settings.data_dir)
    env = {
        "CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False),
        "COLUMNS": "300",
    }
    printed = runner.invoke(
        app, ["--data-dir", data_dir, "privacy", "disclosures", cid, "--as", officer.email], env=env
    )
    assert printed.exit_code == 0, printed.output
    assert "Dr Bob Tremblay" in printed.output
    assert "acknowledged" in printed.output
    assert "Dr Carol Nguyen" not in printed.output
    as_json = runner.invoke(
        app, ["--data-dir", data_dir, "privacy", "disclosures", cid, "--json"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    assert [json.loads(line)["share_id"] for line in as_json.output.splitlines()] == [bob_sid]


def test_con7_withdrawing_all_purposes_lists_every_earlier_share(
    client: TestClient, instance: Instance
) -> None:
    alice = _person(client, instance, "Dr Alice Roy", Role.CLINICIAN)
    bob = _person(client, instance, "Dr Bob Tremblay", Role.CLINICIAN)
    officer = _person(client, instance, "Pat Privacy", Role.PRIVACY_OFFICER)
    pid, eid, cid = _patient_and_encounter(client, alice, ("clinical_care", "education"))
    sealed = _seal(instance, alice, pid, eid)
    assert _upload(client, alice, sealed).status_code == 201  # type: ignore[attr-defined]
    inspect_pending(instance)
    plain = crypto.open_sealed(sealed.ciphertext, alice.age)
    sids = []
    for purpose in ("clinical_care", "education"):
        sent = _share(client, instance, alice, sealed.object_id, plain, bob, purpose)
        assert sent.status_code == 201, sent.text  # type: ignore[attr-defined]
        sids.append(sent.json()["id"])  # type: ignore[attr-defined]
    everything = client.post(f"/v1/consents/{cid}/withdrawals", json={}, headers=alice.auth)
    assert everything.status_code == 200, everything.text
    body = client.get(f"/v1/consents/{cid}/disclosures", headers=officer.auth).json()
    assert [w["purpose"] for w in body["withdrawals"]] == ["all"]
    got = [(d["share_id"], d["purpose"], d["status"]) for d in body["disclosures"]]
    assert got == [(sids[0], "clinical_care", "sent"), (sids[1], "education", "sent")]
