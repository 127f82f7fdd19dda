"""The consent texts (CON-1, CON-2): every consent names a text that clinphoto keeps word for
word, in English and French, so it can be printed as the patient read it; an institution adds
its own forms; a consent naming a text nobody kept is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources

import httpx
from fastapi.testclient import TestClient

from clinphoto.accounts.models import Role
from clinphoto.consent import texts
from clinphoto.core.config import Settings
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]

PATIENT = {
    "name": "Marie Tremblay",
    "dob": "1961-04-05",
    "mrn": "T-301",
    "hcn": "TREM 6104 0512",
    "province": "QC",
}


def _patient(client: TestClient, dev: EnrolledDevice) -> str:
    made = client.post("/v1/patients", json=PATIENT, headers=dev.auth)
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def _consent(client: TestClient, dev: EnrolledDevice, pid: str, version: str) -> httpx.Response:
    body = {
        "patient_id": pid,
        "purposes": ["clinical_care"],
        "method": "written",
        "informed_of_rights": True,
        "text_version": version,
    }
    r: httpx.Response = client.post("/v1/consents", json=body, headers=dev.auth)
    return r


def test_con2_shipped_texts_never_change_under_the_same_id() -> None:
    folder = resources.files("clinphoto.consent") / "texts"
    on_disk = {p.name.removesuffix(".txt") for p in folder.iterdir() if p.name.endswith(".txt")}
    assert on_disk == set(texts.SHIPPED)
    for text_id, pinned in texts.SHIPPED.items():
        raw = (folder / f"{text_id}.txt").read_bytes()
        assert hashlib.sha256(raw).hexdigest() == pinned, f"{text_id} changed: give it a new id"


def test_con2_current_text_in_english_and_french_states_the_rights(
    client: TestClient, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    r = client.get("/v1/consent-texts", headers=clin.auth)
    assert r.status_code == 200, r.text
    current = r.json()["current"]
    assert set(current) == {"en", "fr"}
    assert current["en"]["id"] == f"{texts.CURRENT}-en"
    assert "copy of my photos, or for their deletion" in current["en"]["body"]
    assert "copie de mes photos, ou leur suppression" in current["fr"]["body"]
    assert "withdraw this consent" in current["en"]["body"]
    assert "retirer ce consentement" in current["fr"]["body"]
    for t in current.values():
        assert hashlib.sha256(t["body"].encode()).hexdigest() == t["sha256"]
    one = client.get(f"/v1/consent-texts/{texts.CURRENT}-fr", headers=clin.auth).json()
    assert one == current["fr"]
    assert client.get("/v1/consent-texts/nope", headers=clin.auth).status_code == 404


def test_con1_a_consent_naming_no_kept_text_is_refused(
    client: TestClient, new_device: NewDevice
) -> None:
    clin = new_device(Role.CLINICIAN)
    pid = _patient(client, clin)
    refused = _consent(client, clin, pid, "form-7b")
    assert refused.status_code == 422
    assert "no consent text 'form-7b'" in refused.text
    accepted = _consent(client, clin, pid, f"{texts.CURRENT}-en")
    assert accepted.status_code == 200, accepted.text


def test_con1_an_institution_adds_its_own_form(
    client: TestClient, new_device: NewDevice, settings: Settings
) -> None:
    clin = new_device(Role.CLINICIAN)
    own = settings.data_dir / "consent-texts"
    own.mkdir(parents=True)
    (own / "chu-form-12-v4-fr.txt").write_text("Formulaire 12, version 4.\n", encoding="utf-8")
    # A file cannot replace a shipped text, and a file that is not UTF-8 is left out.
    (own / f"{texts.CURRENT}-en.txt").write_text("Something else.\n", encoding="utf-8")
    (own / "latin1-form.txt").write_bytes("Français".encode("latin-1"))
    listed = client.get("/v1/consent-texts", headers=clin.auth).json()["ids"]
    assert "chu-form-12-v4-fr" in listed
    assert "latin1-form" not in listed
    shipped = client.get(f"/v1/consent-texts/{texts.CURRENT}-en", headers=clin.auth).json()
    assert shipped["shipped"] is True
    assert shipped["body"] != "Something else.\n"
    form = client.get("/v1/consent-texts/chu-form-12-v4-fr", headers=clin.auth).json()
    assert (form["language"], form["shipped"]) == ("fr", False)
    assert _consent(client, clin, _patient(client, clin), "chu-form-12-v4-fr").status_code == 200
