"""The records custodian off the request path (issue #7, section 3; DEI-2).

It runs as its own process next to `serve`; each inspection decodes reduced inside a
memory- and time-capped child; a slow photo is retried later while the queue goes on, a
bounded number of times; several custodians share the queue through leases and never
inspect a photo twice; verdicts are audited by the inspection service.
"""

from __future__ import annotations

import ast
import hashlib
import inspect as pyinspect
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from clinphoto.accounts.models import Role
from clinphoto.api.app import create_app
from clinphoto.audit.models import AuditEntry
from clinphoto.core.config import Settings
from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.identifiers import PatientIdentifiers
from clinphoto.imaging.inspect import (
    INSPECT_MAX_SIDE,
    ContentVerdict,
    inspect_content,
    inspect_image,
    open_for_inspection,
    open_picture,
)
from clinphoto.imaging.limits import Limits
from clinphoto.imaging.sandbox import run_isolated
from clinphoto.inspection import service as inspection
from clinphoto.inspection.models import MediaInspection
from clinphoto.instance import custodian, keys
from clinphoto.instance.custodian import Custodian, Outcome, sandboxed
from clinphoto.instance.runtime import Instance, open_instance
from clinphoto.media.models import Media
from tests.conftest import EnrolledDevice, enroll, make_user
from tests.functional.test_inspection_gate import _capture, _patient, _photo
from tests.live import free_port

NewDevice = Callable[..., EnrolledDevice]


def _photos(client: TestClient, instance: Instance, dev: EnrolledDevice, count: int) -> list[str]:
    pid, eid = _patient(client, dev, identifiable_allowed=False)
    out = []
    for i in range(count):
        image = Image.new("RGB", (640, 480), (120 + 30 * i, 140, 120))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        out.append(_capture(client, instance, dev, buf.getvalue(), pid, eid).object_id)
    return out


def _verdicts(instance: Instance) -> int:
    with instance.unit_of_work() as db:
        return int(db.execute(select(func.count()).select_from(MediaInspection)).scalar_one())


def _inspect_entries(instance: Instance) -> list[tuple[str, str]]:
    with instance.unit_of_work() as db:
        return [
            (str(a), str(o))
            for a, o in db.execute(
                select(AuditEntry.actor, AuditEntry.object_id).where(
                    AuditEntry.action == "media.inspect"
                )
            )
        ]


def test_two_custodians_never_inspect_the_same_photo_twice(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    media = _photos(client, instance, alice, 4)
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def one_custodian() -> None:
        worker = Custodian(instance)
        try:
            start.wait()
            outcomes.extend(worker.inspect_pending(limit=10))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_custodian) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(o.media_id for o in outcomes) == sorted(media)  # each exactly once
    assert _verdicts(instance) == 4
    entries = _inspect_entries(instance)
    assert sorted(object_id for _, object_id in entries) == sorted(media)
    assert {actor for actor, _ in entries} == {"custodian"}


def test_a_live_lease_is_respected_and_a_crashed_holders_lease_is_taken_over(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    [held, crashed, poison] = _photos(client, instance, alice, 3)
    with instance.unit_of_work() as db:
        assert inspection.take_lease(db, held, holder="other-server", seconds=3600) == 1
        # A holder that died: its lease ran out.
        assert inspection.take_lease(db, crashed, holder="dead-server", seconds=-1) == 1
        # A photo that killed three custodians in turn.
        for attempt in (1, 2, 3):
            assert inspection.take_lease(db, poison, holder="dead", seconds=-1) == attempt
    with instance.unit_of_work() as db:
        assert inspection.take_lease(db, held, holder="me", seconds=60) is None

    done = {o.media_id: o for o in Custodian(instance).inspect_pending()}
    assert held not in done  # another custodian is on it
    assert done[crashed].status == "done"
    assert done[poison].status == "failed"
    assert "did not finish in 3 attempts" in done[poison].reasons[0]
    assert sorted(o for _, o in _inspect_entries(instance)) == sorted([crashed, poison])


def test_a_photo_that_times_out_does_not_stall_the_queue_and_is_retried_a_bounded_number_of_times(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice = new_device()
    slow, *others = _photos(client, instance, alice, 3)
    with instance.unit_of_work() as db:
        row = db.get(Media, slow)
        assert row is not None
        slow_hash = row.plaintext_sha256
    real = sandboxed()

    def analyse(plain: bytes, patient: PatientIdentifiers | None) -> ContentVerdict:
        if hashlib.sha256(plain).hexdigest() == slow_hash:  # a decoder that hangs on it
            run_isolated(time.sleep, 600, limits=Limits(max_decode_seconds=1.0))
        return real(plain, patient)

    # Retry after a hundredth of a second, so the test need not wait for the backoff.
    worker = Custodian(instance, analyse=analyse, limits=Limits(max_decode_seconds=0.01))
    first = {o.media_id: o for o in worker.inspect_pending()}
    assert first[slow].status == "retry"
    assert "timeout" in first[slow].reasons[0]
    assert all(first[m].status == "done" for m in others)  # the queue went on

    statuses = []
    for _ in range(5):
        time.sleep(0.05)
        statuses += [o.status for o in worker.inspect_pending() if o.media_id == slow]
        if statuses and statuses[-1] != "retry":
            break
    assert statuses == ["retry", "failed"]  # attempts 2 and 3, then a verdict
    with instance.unit_of_work() as db:
        media = db.get(Media, slow)
        assert media is not None
        verdict = inspection.verdict(db, media)
    assert (verdict.status, verdict.identifiable) == ("failed", True)
    assert "3 times" in verdict.reasons[0]


def test_a_100_megapixel_jpeg_is_inspected_reduced_within_the_child_memory_budget(
    client: TestClient, instance: Instance, new_device: NewDevice, tmp_path: Path
) -> None:
    """10000 x 10000 pixels, 1.5 MB on disk: the full bitmap would be 300 MB before the
    detectors' copies (1.7 GB peak measured); decoded at 1/4 scale it is 19 MB."""
    alice = new_device()
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    huge = io.BytesIO()
    Image.new("RGB", (10_000, 10_000), (196, 152, 128)).save(huge, "JPEG", quality=50)
    sealed = _capture(client, instance, alice, huge.getvalue(), pid, eid)
    del huge

    [outcome] = custodian.inspect_pending(instance)
    assert outcome.media_id == sealed.object_id
    assert (outcome.status, outcome.identifiable) == ("done", False), outcome.reasons
    assert 0 < outcome.decoded_pixels <= (2 * INSPECT_MAX_SIDE) ** 2  # not 100,000,000
    assert 0 < outcome.peak_memory < 1536 * 1024 * 1024


def test_pictures_that_cannot_be_decoded_reduced_are_refused_beyond_the_pixel_cap() -> None:
    cap = Limits(max_decoded_pixels=1_000_000)
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (2000, 2000), (190, 150, 130)).save(png, "PNG")
    Image.new("RGB", (2000, 2000), (190, 150, 130)).save(jpeg, "JPEG")
    with pytest.raises(ScrubError) as refused:
        open_for_inspection(png.getvalue(), cap, max_side=500)
    assert refused.value.reason == "too-many-pixels"
    picture, full = open_for_inspection(jpeg.getvalue(), cap, max_side=500)
    assert (picture.size, full) == ((500, 500), (2000, 2000))  # DCT-scaled at 1/4


def test_regions_found_on_a_reduced_decode_are_given_in_the_full_pictures_pixels() -> None:
    """A redaction suggestion must land on the face in the photo the author holds."""
    photo = _photo(face=True)  # 1600 x 1200, a head at the top left
    [small] = inspect_image(open_picture(photo)).faces
    big = io.BytesIO()
    Image.open(io.BytesIO(photo)).resize((6400, 4800)).save(big, "JPEG", quality=90)
    found = inspect_content(big.getvalue(), None)
    assert found.decoded_pixels < 6400 * 4800  # decoded at half size
    [(kind, (x, y, w, h), _)] = found.regions
    assert kind == "face"
    # Four times the small photo's box, not twice (the decoded bitmap's pixels).
    assert abs(x + w / 2 - 4 * (small.box.x + small.box.w / 2)) <= 100
    assert abs(y + h / 2 - 4 * (small.box.y + small.box.h / 2)) <= 100
    assert abs(w - 4 * small.box.w) <= 100


def test_the_inspecting_child_sees_no_secret_of_the_custodians_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLINPHOTO_KEK", "a key-encryption key")
    monkeypatch.setenv("CLINPHOTO_DATABASE_URL", "postgresql://custodian:password@db/clinphoto")
    for name in ("CLINPHOTO_KEK", "CLINPHOTO_DATABASE_URL"):
        assert run_isolated(os.getenv, name, limits=Limits()) is None
    assert run_isolated(os.getenv, "PATH", limits=Limits()) == os.environ["PATH"]


def test_verdicts_and_reopenings_are_audited_by_the_inspection_service() -> None:
    """The custodian job calls use cases; it never writes to the audit trail itself."""
    tree = ast.parse(pyinspect.getsource(custodian))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not any(name.startswith("clinphoto.audit") for name in imported)
    service = pyinspect.getsource(inspection.record_verdict)
    assert "audit.log(" in service


# --- the custodian as a process of its own, next to `serve` ------------------------------


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_serve_runs_the_custodian_as_its_own_process_and_stops_it(
    settings: Settings, tmp_path: Path
) -> None:
    # An instance with one stored photo, made through the real app (SQLite).
    keys.create(settings)
    inst = open_instance(settings)
    with TestClient(create_app(settings, inst)) as c:
        alice = enroll(c, make_user(inst, Role.CLINICIAN, "alice@h.example"))
        pid, eid = _patient(c, alice, identifiable_allowed=False)
        sealed = _capture(c, inst, alice, _photo(), pid, eid)

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(settings.data_dir),
        "CLINPHOTO_PORT": str(port),
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_CUSTODIAN_INTERVAL": "0.5",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "clinphoto", "serve"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        helpers: list[int] = []
        while time.monotonic() < deadline and not helpers:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            helpers = [
                child
                for child in _children(server.pid)
                if b"custodian\x00run" in Path(f"/proc/{child}/cmdline").read_bytes()
            ]
            time.sleep(0.1)
        assert helpers, (tmp_path / "server.log").read_text()
        [helper] = helpers
        assert helper != server.pid

        # The helper, not the server, inspects the photo; the server answers meanwhile.
        while time.monotonic() < deadline:
            with inst.unit_of_work() as db:
                if db.get(MediaInspection, sealed.object_id) is not None:
                    break
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            time.sleep(0.2)
        assert _inspect_entries(inst) == [("custodian", sealed.object_id)]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
        inst.close()
    assert not _alive(helper)  # it stopped with the server
