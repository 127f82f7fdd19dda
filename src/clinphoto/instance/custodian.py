"""The records custodian's inspection job (step 6 of "How a photo flows"; DEI-2, CON-4).

The custodian holds the records key. For each stored photo without a verdict it opens the
sealed object in memory, checks it against its signed plaintext hash, finds faces and
burned-in text (and, in that text, the patient's own identifiers and identifier patterns),
records the verdict and appends an audit entry. Plaintext exists only in this process's
memory for the length of one inspection; nothing of it is written anywhere.

It runs inside ``clinphoto serve`` as a background thread (``CLINPHOTO_CUSTODIAN_INTERVAL``
seconds between passes; 0 switches it off) and on demand with ``clinphoto custodian
inspect``. Each photo is inspected in its own transaction, so a crash loses at most the
photo in hand, which the next pass picks up again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from clinphoto import crypto
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.imaging import inspect as imaging_inspect
from clinphoto.imaging.identifiers import PatientIdentifiers
from clinphoto.imaging.regions import Region
from clinphoto.inspection import service as inspection
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient

INSPECTOR = "clinphoto-inspect/1 (haar+rapidocr)"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    media_id: str
    status: str
    identifiable: bool
    reasons: list[str]


def _patient_identifiers(inst: Instance, media: Media) -> PatientIdentifiers | None:
    with inst.unit_of_work() as db:
        patient = db.get(Patient, media.patient_id)
        if patient is None:
            return None
        view = patients.view(patient, inst.keys.fields)
    tokens = view.name.split()
    return PatientIdentifiers(
        given_names=tokens[:-1],
        family_names=tokens[-1:],
        mrn=view.mrn,
        health_card=view.hcn,
        date_of_birth=view.dob,
    )


def _regions(found: list[Region]) -> list[dict[str, Any]]:
    # Boxes, kinds and scores only: the text read from the image may be an identifier.
    return [{"kind": r.kind, "box": r.box.as_list(), "score": round(r.score, 3)} for r in found]


def _inspect_plaintext(
    plain: bytes, patient: PatientIdentifiers | None
) -> tuple[bool, list[str], list[dict[str, Any]]]:
    # In memory throughout: a video's frames are sampled without writing it anywhere, and a
    # picture's declared size is checked before it is decoded.
    result = imaging_inspect.inspect_frames(
        imaging_inspect.frames_to_inspect(plain), patient=patient
    )
    return result.identifiable, list(result.reasons), _regions(result.faces + result.text)


def inspect_one(inst: Instance, media: Media) -> Outcome:
    """Open, inspect, record and audit one photo."""
    status, identifiable = inspection.DONE, True
    reasons: list[str] = []
    regions: list[dict[str, Any]] = []
    try:
        ciphertext = b"".join(inst.blobs.open(media.blob_sha256))
        plain = crypto.open_sealed(ciphertext, inst.keys.records)
        if hashlib.sha256(plain).hexdigest() != media.plaintext_sha256:
            raise ValueError("the plaintext does not match its signed hash")
        identifiable, reasons, regions = _inspect_plaintext(
            plain, _patient_identifiers(inst, media)
        )
        del plain
    except Exception as exc:  # noqa: BLE001 - any failure leaves the photo identifiable
        log.warning("inspection of %s failed: %s", media.id, type(exc).__name__)
        status, identifiable = inspection.FAILED, True
        reasons = [f"inspection failed ({type(exc).__name__}); treated as identifiable"]
    with inst.unit_of_work() as db:
        row = db.get(Media, media.id)
        if row is None:
            raise LookupError(media.id)
        inspection.record(
            db,
            row,
            status=status,
            identifiable=identifiable,
            reasons=reasons,
            regions=regions,
            inspector=INSPECTOR,
        )
        audit.append(
            db,
            inst.audit_keys,
            action=Action.MEDIA_INSPECT,
            actor="custodian",
            patient_ref=row.patient_id,
            object_type="media",
            object_id=row.id,
            purpose="clinical_care",
            outcome=audit.Outcome.SUCCESS if status == inspection.DONE else audit.Outcome.FAILED,
            details={
                "identifiable": identifiable,
                "faces": sum(1 for r in regions if r["kind"] == "face"),
                "text": sum(1 for r in regions if r["kind"] == "text"),
            },
        )
    return Outcome(media.id, status, identifiable, reasons)


def reopen_failed(inst: Instance, limit: int = 100) -> list[str]:
    """Make failed inspections pending again, each audited; returns the photos' ids."""
    with inst.unit_of_work() as db:
        reopened = inspection.reopen_failed(db, limit)
        for media_id in reopened:
            row = db.get(Media, media_id)
            audit.append(
                db,
                inst.audit_keys,
                action=Action.MEDIA_INSPECT,
                actor="custodian",
                patient_ref=row.patient_id if row is not None else "",
                object_type="media",
                object_id=media_id,
                purpose="clinical_care",
                outcome=audit.Outcome.SUCCESS,
                details={"reopened": "failed verdict cleared for a new inspection"},
            )
    return reopened


def inspect_pending(inst: Instance, limit: int = 20) -> list[Outcome]:
    """Inspect up to ``limit`` photos that have no verdict yet."""
    with inst.unit_of_work() as db:
        todo = inspection.pending(db, limit)
        db.expunge_all()
    return [inspect_one(inst, m) for m in todo]


class CustodianWorker:
    """Runs :func:`inspect_pending` every ``interval`` seconds on a daemon thread."""

    def __init__(self, inst: Instance, interval: float) -> None:
        self._inst = inst
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="custodian", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = inspect_pending(self._inst)
            except Exception:
                log.exception("custodian pass failed")
                done = []
            if not done:
                self._stop.wait(self._interval)
