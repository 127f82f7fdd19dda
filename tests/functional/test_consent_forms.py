"""Consent forms as PDF from the stored consent (CON-2, CON-3), read back with pdftotext
and pdfimages: the patient's rights, who obtained it and when, the purposes, the consent
text's version and its words, and the signature image; EN and FR; care team and privacy
officers only."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto.audit.models import AuditEntry
from clinphoto.consent import texts
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_copy_requests import PATIENT, build, images_in

NewDevice = Callable[..., EnrolledDevice]


def _text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "form.pdf").write_bytes(pdf)
    said = subprocess.run(["pdftotext", str(tmp_path / "form.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    return " ".join(said.split())


@pytest.mark.parametrize(
    ("lang", "title", "rights", "method"),
    [
        ("fr", "Consentement à la photographie clinique", "Vous pouvez demander en tout temps",
         "signature électronique"),
        ("en", "Consent to clinical photography", "You may ask at any time for a copy",
         "electronic signature"),
    ],
)  # fmt: skip
def test_con2_con3_consent_form_prints_the_stored_consent_words_and_signature(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path,
    lang: str, title: str, rights: str, method: str,
) -> None:  # fmt: skip
    w = build(client, instance, new_device, photos=0)
    for who in (w.clinician, w.officer):
        r = client.get(f"/v1/consents/{w.consent_id}/form.pdf?lang={lang}", headers=who.auth)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
    said = _text(r.content, tmp_path)
    for words in (title, rights, PATIENT, method, "Dr Test", "2026-11-fr"):
        assert words in said, words
    # The words the patient was shown, from the stored version (French here), word for word.
    shown = " ".join(texts.shipped()["2026-11-fr"].body.split())
    accepted = shown.split(" Comment mes photos")[0].split("clinique ", 1)[1]
    # A sentence of it (a page break may fall anywhere after it, with its footer).
    assert accepted[:70] in said
    assert shown[-60:] in said
    [signature] = images_in(r.content, tmp_path)
    assert (int(signature[3]), int(signature[4])) == (320, 120)
    with instance.unit_of_work() as db:
        entries = (
            db.execute(select(AuditEntry).where(AuditEntry.action == "consent.form"))
            .scalars()
            .all()
        )
        assert {e.actor for e in entries} == {w.clinician.user_id, w.officer.user_id}


def test_con3_consent_form_is_not_found_for_someone_outside_the_care_team(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    w = build(client, instance, new_device, photos=0)
    stranger = new_device()
    r = client.get(f"/v1/consents/{w.consent_id}/form.pdf", headers=stranger.auth)
    assert r.status_code == 404
    r = client.get(f"/v1/consents/{'a' * 32}/form.pdf", headers=w.officer.auth)
    assert r.status_code == 404
