"""The records custodian's inspection job (step 6 of "How a photo flows"; DEI-2, CON-4).

The custodian holds the records key. For each stored photo without a verdict it takes the
photo's lease (so no other custodian inspects it at the same time), opens the sealed object
in memory, checks it against its signed plaintext hash, and hands the plaintext to a
sandboxed child interpreter (:func:`clinphoto.imaging.sandbox.run_isolated` with
:data:`~clinphoto.imaging.limits.CUSTODIAN_LIMITS`: an address-space cap and a deadline)
that decodes it reduced (a 100-megapixel JPEG costs a 6-megapixel bitmap), finds faces and
burned-in text (and, in that text, the patient's own identifiers and identifier patterns),
and answers boxes and reasons. The verdict and its audit entry are recorded by
:func:`clinphoto.inspection.service.record_verdict`. Plaintext exists only in memory, here
and in the child, for the length of one inspection; nothing of it is written anywhere.

Outcomes: ``done`` (a verdict), ``failed`` (the photo could not be judged: treated as
identifiable; ``--retry-failed`` tries again), ``quarantined`` (the records key cannot open
it, or it does not match its signed hash: never shareable), ``retry`` (this attempt timed out
or its child crashed; the photo goes back to the queue for later, at most
:data:`~clinphoto.inspection.service.MAX_ATTEMPTS` times, and the next photo goes on).

``clinphoto serve`` runs the custodian as a separate process (``clinphoto custodian run``,
see :func:`run`), never inside the server: a slow or huge photo costs the custodian's
child, not the requests of the people using the server. ``clinphoto custodian inspect``
runs one pass on demand.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from clinphoto import crypto
from clinphoto.core.config import Settings
from clinphoto.imaging import inspect as imaging_inspect
from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.identifiers import PatientIdentifiers
from clinphoto.imaging.limits import CUSTODIAN_LIMITS, Limits
from clinphoto.imaging.sandbox import run_isolated
from clinphoto.inspection import service as inspection
from clinphoto.instance.runtime import Instance
from clinphoto.media.models import Media
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient
from clinphoto.storage.blobs import BlobError

INSPECTOR = "clinphoto-inspect/2 (blazeface+rapidocr, sandboxed)"
RETRY = "retry"
# Failures worth another attempt later: the child ran out of time or memory, or died.
_RETRYABLE = frozenset({"timeout", "decoder-crashed"})
log = logging.getLogger(__name__)

Analyse = Callable[[bytes, PatientIdentifiers | None], imaging_inspect.ContentVerdict]


@dataclass(frozen=True)
class Outcome:
    media_id: str
    status: str  # done | failed | quarantined | retry
    identifiable: bool
    reasons: list[str]
    decoded_pixels: int = 0  # the largest bitmap the child decoded
    peak_memory: int = 0  # the child's peak resident size, bytes


class _Quarantine(Exception):
    """The records key cannot open the photo, or it does not match its signed hash."""


def sandboxed(limits: Limits = CUSTODIAN_LIMITS) -> Analyse:
    """Decode and detect in a child interpreter under ``limits`` (the default analysis)."""

    def analyse(plain: bytes, patient: PatientIdentifiers | None) -> imaging_inspect.ContentVerdict:
        return run_isolated(imaging_inspect.inspect_content, plain, patient, limits, limits=limits)

    return analyse


def new_holder() -> str:
    """A lease holder name: which machine and process, and a random part for each worker."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _patient_identifiers(inst: Instance, patient_id: str) -> PatientIdentifiers | None:
    with inst.unit_of_work() as db:
        patient = db.get(Patient, patient_id)
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


def _open(inst: Instance, media: Media) -> bytes:
    ciphertext = b"".join(inst.blobs.open(media.blob_sha256))
    try:
        plain = crypto.open_sealed(ciphertext, inst.keys.records)
    except crypto.CryptoError:
        raise _Quarantine("the records key cannot open it") from None
    if hashlib.sha256(plain).hexdigest() != media.plaintext_sha256:
        raise _Quarantine("its content does not match the hash its author signed") from None
    return plain


def open_media(inst: Instance, media: Media) -> bytes | None:
    """A stored object's plaintext, opened in memory with the records key and checked
    against the hash its author signed; None when it cannot be (quarantined, or its blob is
    gone). For a patient's copy of their record and consent forms (RET-4, CON-3): the
    caller has asked the policy and audits what it put in, by id and hash."""
    try:
        return _open(inst, media)
    except (_Quarantine, BlobError, OSError):
        return None


class Custodian:
    """One custodian worker: its lease holder name, how it analyses, and its limits.

    ``analyse`` is the decode-and-detect step, by default :func:`sandboxed`; ``limits`` set
    the lease time (twice the child's deadline, so a live holder's lease never lapses).
    """

    def __init__(
        self,
        inst: Instance,
        *,
        analyse: Analyse | None = None,
        limits: Limits = CUSTODIAN_LIMITS,
        holder: str | None = None,
        max_attempts: int = inspection.MAX_ATTEMPTS,
    ) -> None:
        self.inst = inst
        self.analyse = analyse or sandboxed(limits)
        self.holder = holder or new_holder()
        self.lease_seconds = 2 * limits.max_decode_seconds + 30
        self.retry_seconds = limits.max_decode_seconds
        self.max_attempts = max_attempts
        self.analysing = False  # a child is inspecting: a stop request interrupts it

    def inspect_pending(self, limit: int = 20) -> list[Outcome]:
        """Inspect up to ``limit`` photos that have no verdict and no other holder."""
        with self.inst.unit_of_work() as db:
            todo = [m.id for m in inspection.pending(db, limit)]
        done: list[Outcome] = []
        for media_id in todo:
            outcome = self.inspect_one(media_id)
            if outcome is not None:
                done.append(outcome)
        return done

    def inspect_one(self, media_id: str) -> Outcome | None:
        """Lease, open, inspect, record and audit one photo; None when it is not ours."""
        with self.inst.unit_of_work() as db:
            attempt = inspection.take_lease(
                db, media_id, holder=self.holder, seconds=self.lease_seconds
            )
            media = db.get(Media, media_id) if attempt is not None else None
            if media is not None:
                db.expunge(media)
        if attempt is None or media is None:
            return None
        if attempt > self.max_attempts:  # earlier holders died on it
            return self._record(
                media_id,
                inspection.FAILED,
                [
                    f"inspection did not finish in {self.max_attempts} attempts; "
                    "treated as identifiable"
                ],
            )
        try:
            plain = _open(self.inst, media)
        except _Quarantine as exc:
            log.warning("photo %s quarantined: %s", media_id, exc)
            return self._record(
                media_id, inspection.QUARANTINED, [f"{exc}: {inspection.QUARANTINE_ADVICE}"]
            )
        except (BlobError, OSError) as exc:
            return self._retry(
                media_id, attempt, f"its stored object could not be read ({type(exc).__name__})"
            )
        try:
            patient = _patient_identifiers(self.inst, media.patient_id)
            self.analysing = True
            try:
                found = self.analyse(plain, patient)
            finally:
                self.analysing = False
        except Stopped:
            with self.inst.unit_of_work() as db:  # give the photo back to the queue at once
                inspection.retry_later(db, media_id, holder=self.holder, seconds=0)
            raise
        except ScrubError as exc:
            if exc.reason in _RETRYABLE:
                return self._retry(media_id, attempt, f"{exc.reason}: {exc.message}")
            return self._record(
                media_id,
                inspection.FAILED,
                [f"inspection failed ({exc.message}); treated as identifiable"],
            )
        except Exception as exc:  # noqa: BLE001 - any failure leaves the photo identifiable
            log.warning("inspection of %s failed: %s", media_id, type(exc).__name__)
            return self._record(
                media_id,
                inspection.FAILED,
                [f"inspection failed ({type(exc).__name__}); treated as identifiable"],
            )
        finally:
            del plain
        regions = [{"kind": k, "box": box, "score": score} for k, box, score in found.regions]
        log.info(
            "inspected %s: %d px decoded, child peak %d MiB",
            media_id,
            found.decoded_pixels,
            found.peak_memory >> 20,
        )
        return self._record(
            media_id,
            inspection.DONE,
            found.reasons,
            identifiable=found.identifiable,
            regions=regions,
            cost=(found.decoded_pixels, found.peak_memory),
        )

    def _retry(self, media_id: str, attempt: int, why: str) -> Outcome | None:
        log.warning("inspection attempt %d of %s failed: %s", attempt, media_id, why)
        if attempt >= self.max_attempts:
            return self._record(
                media_id,
                inspection.FAILED,
                [f"inspection failed {attempt} times ({why}); treated as identifiable"],
            )
        with self.inst.unit_of_work() as db:
            ours = inspection.retry_later(
                db, media_id, holder=self.holder, seconds=self.retry_seconds
            )
        return Outcome(media_id, RETRY, True, [why]) if ours else None

    def _record(
        self,
        media_id: str,
        status: str,
        reasons: list[str],
        *,
        identifiable: bool = True,
        regions: list[dict[str, Any]] | None = None,
        cost: tuple[int, int] = (0, 0),
    ) -> Outcome | None:
        with self.inst.unit_of_work() as db:
            ours = inspection.record_verdict(
                db,
                media_id,
                holder=self.holder,
                status=status,
                identifiable=identifiable,
                reasons=reasons,
                regions=regions or [],
                inspector=INSPECTOR,
            )
        if not ours:
            return None
        return Outcome(media_id, status, identifiable or status != inspection.DONE, reasons, *cost)


def inspect_pending(
    inst: Instance, limit: int = 20, *, analyse: Analyse | None = None
) -> list[Outcome]:
    """One pass: inspect up to ``limit`` photos that have no verdict yet."""
    return Custodian(inst, analyse=analyse).inspect_pending(limit)


def reopen_failed(inst: Instance, limit: int = 100) -> list[str]:
    """Make failed inspections pending again, each audited; returns the photos' ids."""
    with inst.unit_of_work() as db:
        return inspection.reopen_failed(db, limit)


class Stopped(BaseException):
    """The custodian process was asked to stop while a child was inspecting."""


def run(
    inst: Instance,
    interval: float,
    *,
    parent: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """The custodian process's loop: a pass, then ``interval`` seconds' rest when idle.

    SIGTERM and SIGINT stop it: at once while a child inspects (the child is killed and the
    photo goes back to the queue), else when the database work in hand is done. With
    ``parent`` it also stops when that process is gone (the server it serves died without
    stopping it).
    """
    custodian = Custodian(inst)
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        if custodian.analysing:
            raise Stopped  # subprocess.run kills the child on its way out

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
    log.info("custodian %s started", custodian.holder)
    while not stop.is_set():
        if parent is not None and os.getppid() != parent:
            log.warning("the server that started the custodian is gone; stopping")
            break
        try:
            done = custodian.inspect_pending()
        except Stopped:
            break
        except Exception:
            log.exception("custodian pass failed")
            done = []
        if not done:
            stop.wait(interval)
    log.info("custodian %s stopped", custodian.holder)


class CustodianProcess:
    """The custodian as a child process of ``clinphoto serve``: ``clinphoto custodian run``
    in a fresh interpreter, in a session of its own (a Ctrl-C reaches the server, which stops
    it), watching its parent so it also ends if the server dies without stopping it."""

    def __init__(self, settings: Settings, interval: float) -> None:
        self._command = [
            sys.executable,
            "-m",
            "clinphoto",
            "--data-dir",
            str(settings.data_dir.resolve()),
            "custodian",
            "run",
            "--interval",
            str(interval),
            "--parent",
            str(os.getpid()),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            self._command, start_new_session=True
        )
        log.info("custodian process %d started", self.process.pid)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, then after ``grace`` seconds SIGKILL to its whole process group."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
