"""Patients through HTTP: encrypted identifiers, blind-index search, no access for
administrators (PRV, AUD-2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from clinphoto.accounts.models import Role
from clinphoto.audit import service as audit
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]

PATIENT = {
    "name": "Émilie Côté-Tremblay",
    "dob": "1984-03-17",
    "mrn": "MRN-4471-XQ",
    "hcn": "TREM 8403 1712",
    "province": "QC",
}


def _create(client: TestClient, dev: EnrolledDevice, **over: object) -> dict[str, object]:
    r = client.post("/v1/patients", json={**PATIENT, **over}, headers=dev.auth)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_prv_create_and_read_back_a_patient(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    created = _create(client, clin)
    assert created["name"] == PATIENT["name"]
    assert created["mrn"] == "MRN4471XQ"  # normalised: no dashes or spaces, uppercase
    assert created["hcn"] == "TREM84031712"
    read = client.get(f"/v1/patients/{created['id']}", headers=clin.auth)
    assert read.status_code == 200
    assert read.json() == created


def test_prv_find_by_mrn_hcn_and_any_name_token(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    created = _create(client, clin)
    other = _create(client, clin, name="Jean Dupont", mrn="X-1", hcn=None)
    for query in (
        "mrn=mrn 4471 xq",
        "hcn=trem-8403-1712",
        "name=Tremblay",
        "name=emilie",
        "name=COTE",
        "name=tremblay émilie",
    ):
        r = client.get(f"/v1/patients?{query}", headers=clin.auth)
        assert r.status_code == 200, (query, r.text)
        assert [p["id"] for p in r.json()] == [created["id"]], query
    assert [p["id"] for p in client.get("/v1/patients?name=dupont", headers=clin.auth).json()] == [
        other["id"]
    ]
    assert client.get("/v1/patients?name=Smith", headers=clin.auth).json() == []
    assert client.get("/v1/patients?mrn=NOPE", headers=clin.auth).json() == []


def test_prv_search_needs_exactly_one_key(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    assert client.get("/v1/patients", headers=clin.auth).status_code == 422
    both = client.get("/v1/patients?mrn=1&name=x", headers=clin.auth)
    assert both.status_code == 422
    assert "exactly one" in both.json()["error"]["message"]


def test_prv_province_must_be_canadian(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    r = client.post("/v1/patients", json={**PATIENT, "province": "NY"}, headers=clin.auth)
    assert r.status_code == 422
    assert "province" in r.json()["error"]["message"]
    for n, code in enumerate(("ON", "bc", "NU", "YT")):
        _create(client, clin, province=code, mrn=f"P-{n}")


def test_prv_identifiers_are_not_stored_in_the_clear(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    _create(client, clin)
    needles = [
        PATIENT["name"],
        "Tremblay",
        "tremblay",
        "Emilie",
        "Émilie",
        "MRN-4471-XQ",
        "MRN4471XQ",
        "TREM84031712",
        "1984-03-17",
    ]
    # Every stored row, read raw, on whichever database this test runs on.
    with instance.engine.connect() as conn:
        for table in ("patients", "patient_name_index", "audit_entries"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                raw = b"".join(
                    v if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
                )
                for needle in needles:
                    assert needle.encode() not in raw, (table, needle)
    # On SQLite, the database file itself (and its write-ahead log) byte for byte.
    if instance.engine.url.get_backend_name() == "sqlite":
        database = instance.engine.url.database
        assert database
        blob = b"".join(
            Path(p).read_bytes() for p in (database, f"{database}-wal") if Path(p).exists()
        )
        assert blob
        for needle in needles:
            assert needle.encode() not in blob, needle


def test_aud2_administrator_cannot_create_find_or_read_patients(
    client: TestClient, new_device: NewDevice
) -> None:
    clin, admin = new_device(Role.CLINICIAN), new_device(Role.ADMINISTRATOR)
    created = _create(client, clin)
    assert client.post("/v1/patients", json=PATIENT, headers=admin.auth).status_code == 403
    assert client.get("/v1/patients?name=Tremblay", headers=admin.auth).status_code == 403
    # About a named patient, "not yours" answers exactly like "not found".
    assert client.get(f"/v1/patients/{created['id']}", headers=admin.auth).status_code == 404
    # A privacy officer may.
    officer = new_device(Role.PRIVACY_OFFICER)
    assert client.get(f"/v1/patients/{created['id']}", headers=officer.auth).status_code == 200


def test_aud1_patient_access_is_audited_without_identifiers(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    created = _create(client, clin)
    client.get("/v1/patients?mrn=MRN-4471-XQ", headers=clin.auth)
    client.get(f"/v1/patients/{created['id']}", headers=clin.auth)
    with instance.unit_of_work() as db:
        lines = list(audit.export_patient(db, str(created["id"])))
        assert audit.verify(db, instance.audit_keys.public_by_id) is None
    actions = [line.split('"action": "')[1].split('"')[0] for line in lines]
    assert actions == ["patient.create", "patient.find", "patient.read"]
    assert all(clin.user_id in line for line in lines)
    assert not any("4471-XQ" in line or "4471XQ" in line or "Tremblay" in line for line in lines)


def test_unknown_patient_is_not_found(client: TestClient, new_device: NewDevice) -> None:
    clin = new_device(Role.CLINICIAN)
    assert client.get(f"/v1/patients/{'f' * 32}", headers=clin.auth).status_code == 404
