"""Captions and messages travel sealed, with identifier warnings resolved and audited (TRN-3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto.audit.models import AuditEntry
from clinphoto.client.capture import seal_capture
from clinphoto.client.text import (
    UnresolvedWarnings,
    open_text,
    patient_identifiers,
    seal_text,
)
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _jpeg, _patient_and_encounter, _upload

NewDevice = Callable[..., EnrolledDevice]


def _capture_with(
    client: TestClient, instance: Instance, dev: EnrolledDevice, text: dict[str, object]
) -> object:
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = seal_capture(
        _jpeg(),
        patient_id=pid,
        encounter_id=eid,
        device_id=dev.device_id,
        signing=dev.signing,
        recipients=[instance.keys.records.recipient, dev.age.recipient],
        text=text,
    )
    return _upload(client, dev, sealed)


def test_trn3_caption_naming_the_patient_needs_a_confirmation_and_is_audited(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    dev = new_device()
    pid, _, _ = _patient_and_encounter(client, dev)
    patient = patient_identifiers(client.get(f"/v1/patients/{pid}", headers=dev.auth).json())
    recipients = [instance.keys.records.recipient, dev.age.recipient]
    caption = "Jane Doe, left shin, day 3"

    with pytest.raises(UnresolvedWarnings) as warned:
        seal_text("caption_sealed", caption, recipients=recipients, patient=patient, confirmed=None)
    kinds = {f.kind for f in warned.value.findings}
    assert any(k.startswith("patient-") for k in kinds), kinds
    for finding in warned.value.findings:
        assert "Jane" not in finding.reason
        assert "Doe" not in finding.reason

    # An edited caption with nothing identifying passes without a confirmation.
    clean = seal_text(
        "caption_sealed", "left shin, day 3", recipients=recipients, patient=patient, confirmed=None
    )
    assert "text_warnings" not in clean.fields
    assert open_text(str(clean.fields["caption_sealed"]), dev.age) == "left shin, day 3"

    confirmed = seal_text(
        "caption_sealed",
        caption,
        recipients=recipients,
        patient=patient,
        confirmed="patient-requested",
    )
    r = _capture_with(client, instance, dev, confirmed.fields)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    manifest = json.loads(r.json()["manifest"])  # type: ignore[attr-defined]
    assert open_text(manifest["caption_sealed"], dev.age) == caption

    with instance.unit_of_work() as db:
        details = [
            json.loads(d)
            for d in db.execute(
                select(AuditEntry.details).where(AuditEntry.action == "media.upload")
            ).scalars()
        ]
    audited = [d for d in details if d.get("text_warnings")]
    assert audited
    assert audited[0]["text_warnings_confirmed"] == "patient-requested"
    assert audited[0]["caption"] is True
    # The caption itself is nowhere in the clear: not in the database, not in the blobs.
    stored = [p for root in (instance.settings.data_dir, tmp_path) for p in root.rglob("*")]
    for path in stored:
        if path.is_file():
            assert b"Jane Doe, left shin" not in path.read_bytes(), path


def test_trn3_server_refuses_plain_unsealed_or_unconfirmed_text(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    recipients = [instance.keys.records.recipient, dev.age.recipient]
    sealed = seal_text(
        "caption_sealed", "wound", recipients=recipients, patient=None, confirmed=None
    ).fields["caption_sealed"]
    cases: list[tuple[dict[str, object], str]] = [
        ({"caption": "Jane Doe"}, "sealed"),
        ({"caption_sealed": "bm90IGFnZQ=="}, "age ciphertext"),
        ({"caption_sealed": sealed, "text_warnings": ["patient-name"]}, "confirm"),
        (
            {
                "caption_sealed": sealed,
                "text_warnings": ["patient-name"],
                "text_warnings_confirmed": "because",
            },
            "confirm",
        ),
        ({"caption_sealed": sealed, "text_warnings": ["Jane Doe"]}, "malformed"),
    ]
    for text, expected in cases:
        r = _capture_with(client, instance, dev, text)
        assert r.status_code == 422, (text, r.text)  # type: ignore[attr-defined]
        assert expected in r.json()["error"]["message"]  # type: ignore[attr-defined]
