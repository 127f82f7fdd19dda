"""A patient's deletion request (RET-3), on SQLite and PostgreSQL: a held photo and one
marked integral to a clinical decision are kept on those grounds, the others destroyed as
the retention sweep destroys a family (certificate in the audit trail, the blob gone), or
kept under the retention rule when the privacy officer refuses; the letter says which."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto.audit.models import AuditEntry
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from tests.conftest import EnrolledDevice
from tests.functional.test_copy_requests import World, build

NewDevice = Callable[..., EnrolledDevice]


def _hold(client: TestClient, w: World, item: str, kind: str) -> None:
    r = client.post(
        "/v1/retention/holds",
        json={"scope": "item", "target_id": item, "reason": "claim pending", "kind": kind},
        headers=w.officer.auth,
    )
    assert r.status_code in (200, 201), r.text


def _request(client: TestClient, w: World, **body: object) -> dict:  # type: ignore[type-arg]
    r = client.post(
        f"/v1/patients/{w.patient_id}/deletion-requests",
        json={"reason": "je ne veux plus ces photos", "language": "fr", **body},
        headers=w.officer.auth,
    )
    assert r.status_code == 201, r.text
    out: dict = r.json()  # type: ignore[type-arg]
    return out


def _letter(client: TestClient, w: World, rid: str, tmp_path: Path) -> str:
    r = client.get(f"/v1/deletion-requests/{rid}/letter.pdf", headers=w.officer.auth)
    assert r.status_code == 200, r.text
    (tmp_path / "letter.pdf").write_bytes(r.content)
    said = subprocess.run(["pdftotext", str(tmp_path / "letter.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    return " ".join(said.split())


def test_ret3_granted_request_destroys_free_photos_and_keeps_held_and_clinical_ones(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    w = build(client, instance, new_device, photos=3)
    held, marked, free = list(w.photos)
    _hold(client, w, held, "legal_hold")
    _hold(client, w, marked, "clinical_decision")
    req = _request(client, w, scope="patient")
    assert req["status"] == "open"
    assert sorted(i["id"] for i in req["items"]) == sorted(w.photos)
    with instance.unit_of_work() as db:
        blob = db.get(Media, free)
        assert blob is not None
        sha = blob.blob_sha256
    assert instance.blobs.exists(sha)
    r = client.post(f"/v1/deletion-requests/{req['id']}/decision",
                    json={"decision": "granted", "reason": "demande fondée"},
                    headers=w.officer.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "partly_granted"
    outcome = {i["id"]: i for i in out["items"]}
    assert outcome[held]["outcome"] == "refused_hold"
    assert outcome[marked]["outcome"] == "refused_clinical_decision"
    assert outcome[free]["outcome"] == "destroyed"
    seq = outcome[free]["certificate_seq"]
    assert seq is not None
    # Destroyed as the sweep destroys: the row and the ciphertext gone, a certificate kept.
    assert not instance.blobs.exists(sha)
    with instance.unit_of_work() as db:
        assert db.get(Media, free) is None
        assert db.get(Media, held) is not None
        cert = db.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one()
        assert cert.action == "retention.destroy"
        details = json.loads(cert.details)
        assert "deletion request was granted" in details["why"]
        assert details["families"][0]["family"] == free
        assert "demande fondée" not in cert.details  # the reason is field-encrypted
    said = _letter(client, w, req["id"], tmp_path)
    for words in ("Votre demande de suppression de photos", "accordée en partie",
                  "Une conservation légale (par exemple", "décision sur vos soins",
                  "Une photo supprimée est détruite", f"No. {seq}", "je ne veux plus ces photos",
                  "demande fondée"):  # fmt: skip
        assert words in said, words
    # Decided once.
    again = client.post(f"/v1/deletion-requests/{req['id']}/decision",
                        json={"decision": "granted", "reason": "x"},
                        headers=w.officer.auth)  # fmt: skip
    assert again.status_code == 409


def test_ret3_refused_request_keeps_every_photo_under_the_retention_rule_and_says_so(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    w = build(client, instance, new_device, photos=2)
    one = next(iter(w.photos))
    req = _request(client, w, scope="items", media_ids=[one], language="en")
    r = client.post(f"/v1/deletion-requests/{req['id']}/decision",
                    json={"decision": "refused", "reason": "kept for ten years by law"},
                    headers=w.officer.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refused"
    assert [i["outcome"] for i in r.json()["items"]] == ["refused_retention"]
    with instance.unit_of_work() as db:
        assert db.get(Media, one) is not None
    said = _letter(client, w, req["id"], tmp_path)
    assert "requires us to keep for a set period" in said
    assert "refused" in said
    listed = client.get("/v1/deletion-requests", headers=w.officer.auth).json()["requests"]
    assert [x["id"] for x in listed] == [req["id"]]


def test_ret3_partly_granted_keeps_what_the_officer_retains_and_destroys_the_rest(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    w = build(client, instance, new_device, photos=2)
    keep, drop = list(w.photos)
    req = _request(client, w, scope="encounter", encounter_id=w.encounter_id)
    r = client.post(f"/v1/deletion-requests/{req['id']}/decision",
                    json={"decision": "partly_granted", "reason": "one was used for care",
                          "retain": [keep]}, headers=w.officer.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    outcome = {i["id"]: i["outcome"] for i in r.json()["items"]}
    assert outcome == {keep: "refused_retention", drop: "destroyed"}
    assert r.json()["status"] == "partly_granted"


def test_ret3_deletion_requests_are_a_privacy_officers(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    w = build(client, instance, new_device, photos=1)
    r = client.post(
        f"/v1/patients/{w.patient_id}/deletion-requests",
        json={"scope": "patient", "reason": "x", "language": "en"},
        headers=w.clinician.auth,
    )
    assert r.status_code == 404
    req = _request(client, w, scope="patient")
    r = client.post(f"/v1/deletion-requests/{req['id']}/decision",
                    json={"decision": "granted", "reason": "x"},
                    headers=w.clinician.auth)  # fmt: skip
    assert r.status_code == 404
    assert client.get(f"/v1/deletion-requests/{req['id']}/letter.pdf",
                      headers=w.clinician.auth).status_code == 404  # fmt: skip
    with instance.unit_of_work() as db:
        assert db.get(Media, next(iter(w.photos))) is not None
