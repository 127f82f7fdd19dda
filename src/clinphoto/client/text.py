"""Captions and share messages on the device (TRN-3).

Before text leaves with an image the device checks it for the patient's own identifiers and
for identifier patterns. Each warning must be resolved: the user edits the text, or confirms
it with a reason from :data:`protocol.TEXT_CONFIRMATIONS`. The text then travels sealed to the
object's recipients inside the signed manifest; the server sees only that it exists and the
kinds of warning that were confirmed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from clinphoto import crypto
from clinphoto.core import protocol
from clinphoto.imaging.identifiers import Finding, PatientIdentifiers, find_identifiers


class UnresolvedWarnings(ValueError):
    """The text carries identifier warnings and no confirmation was given."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("the text carries identifier warnings")
        self.findings = findings


@dataclass(frozen=True)
class SealedText:
    """What goes into a manifest: the sealed text, the warning kinds, the confirmation."""

    fields: dict[str, object]


def patient_identifiers(patient: dict[str, Any]) -> PatientIdentifiers:
    """From the API's patient record (GET /v1/patients/{id})."""
    tokens = str(patient.get("name", "")).split()
    dob = patient.get("dob")
    return PatientIdentifiers(
        given_names=tokens[:-1],
        family_names=tokens[-1:],
        mrn=patient.get("mrn"),
        health_card=patient.get("hcn"),
        date_of_birth=dt.date.fromisoformat(dob) if dob else None,
    )


def seal_text(
    field: str,
    text: str,
    *,
    recipients: list[str],
    patient: PatientIdentifiers | None,
    confirmed: str | None,
) -> SealedText:
    """Check ``text`` and seal it for the manifest field ``field`` (caption or message).

    Raises :class:`UnresolvedWarnings` when identifiers are found and ``confirmed`` is not
    one of the recognised reasons.
    """
    if field not in protocol.SEALED_TEXT_FIELDS:
        raise ValueError(f"unknown sealed text field {field!r}")
    findings = find_identifiers(text, patient)
    if findings and confirmed not in protocol.TEXT_CONFIRMATIONS:
        raise UnresolvedWarnings(findings)
    sealed = base64.b64encode(crypto.seal(text.encode("utf-8"), recipients)).decode("ascii")
    fields: dict[str, object] = {field: sealed}
    if findings:
        fields[protocol.TEXT_WARNINGS_FIELD] = sorted({f.kind for f in findings})
        fields[protocol.TEXT_CONFIRMED_FIELD] = confirmed
    return SealedText(fields)


PATIENT_DETAILS = ("name", "dob", "mrn", "hcn", "province")


def seal_patient(patient: dict[str, Any], recipients: list[str]) -> dict[str, object]:
    """The share manifest's sealed patient details, from the API's patient record."""
    details = {k: patient[k] for k in PATIENT_DETAILS if patient.get(k)}
    plain = json.dumps(details, sort_keys=True).encode("utf-8")
    sealed = base64.b64encode(crypto.seal(plain, recipients)).decode("ascii")
    return {protocol.SEALED_PATIENT_FIELD: sealed}


def open_patient(sealed: str, identity: crypto.AgeIdentity) -> dict[str, str]:
    details = json.loads(crypto.open_sealed(base64.b64decode(sealed), identity))
    return {k: str(v) for k, v in details.items() if k in PATIENT_DETAILS}


def open_text(sealed: str, identity: crypto.AgeIdentity) -> str:
    return crypto.open_sealed(base64.b64decode(sealed), identity).decode("utf-8")
