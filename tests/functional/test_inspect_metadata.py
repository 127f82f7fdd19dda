"""Identifying metadata in `clinphoto inspect` and in the custodian's verdicts (DEI-1, DEI-2).

A person checking a file is not told "not identifiable" about a photo whose EXIF holds a
name or a GPS position, and the report that says so never repeats the value. The custodian
flags a photo that reaches it with metadata still in it: photos are scrubbed on the device
that takes them, so that device did not scrub.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from clinphoto.audit.models import AuditEntry
from clinphoto.client import capture
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_inspection_gate import _capture, _patient, _verdict

CLINPHOTO = str(Path(sys.executable).with_name("clinphoto"))
NAME = "Marguerite Tremblay"
SERIAL = "CAM-0042-7781"
SECRETS = (NAME, "Tremblay", SERIAL, "07:14", "45.5")
NewDevice = Callable[..., EnrolledDevice]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLINPHOTO, *args], capture_output=True, text=True, timeout=300, check=False
    )


def _photo(*, identifying: bool = True) -> bytes:
    """A face-free wound photo from a camera that wrote its make and model, and when
    ``identifying`` the photographer's name, its serial number, a time and a place."""
    image = Image.new("RGB", (800, 600), (196, 152, 128))
    image.paste((120, 40, 40), (300, 200, 500, 400))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D Mark IV"
    if identifying:
        exif[0x013B] = NAME  # Artist
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = "2019:07:14 09:30:05"  # DateTimeOriginal
        sub[0xA431] = SERIAL  # BodySerialNumber
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", (45.5, 0.0, 0.0), "W", (73.5, 0.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


needs_cli = pytest.mark.skipif(not Path(CLINPHOTO).exists(), reason="clinphoto not installed")


@needs_cli
def test_dei2_inspect_reports_identifying_metadata_masked_and_exits_1(tmp_path: Path) -> None:
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(_photo())

    flagged = _run("inspect", str(photo), "--json")
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    [result] = json.loads(flagged.stdout)
    assert result["identifiable"] is True
    assert not result["faces"]  # the metadata alone decides
    categories = {m["category"] for m in result["metadata"] if m["identifying"]}
    assert {"location", "person", "device", "date-time"} <= categories
    reason = next(r for r in result["reasons"] if r.startswith("identifying metadata: "))
    assert reason.startswith("identifying metadata: EXIF GPS position, EXIF Artist, ")
    assert reason.endswith("(the scrubber removes it: run clinphoto scrub)")
    text = _run("inspect", str(photo))
    assert text.returncode == 1
    assert "metadata: EXIF GPS position: present (location)" in text.stdout
    assert "metadata: EXIF Artist: M… (19 characters) (person)" in text.stdout
    for secret in SECRETS:
        assert secret not in flagged.stdout
        assert secret not in text.stdout


@needs_cli
def test_dei1_a_scrubbed_photo_has_no_metadata_left_to_report(tmp_path: Path) -> None:
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(_photo())
    clean = tmp_path / "clean"
    assert _run("scrub", str(photo), "--out", str(clean)).returncode == 0
    [scrubbed] = list(clean.iterdir())

    checked = _run("inspect", str(scrubbed), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [result] = json.loads(checked.stdout)
    assert result["metadata"] == []
    assert result["identifiable"] is False


@needs_cli
def test_dei2_make_and_model_alone_are_a_note_not_a_verdict(tmp_path: Path) -> None:
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(_photo(identifying=False))
    checked = _run("inspect", str(photo), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [result] = json.loads(checked.stdout)
    assert result["identifiable"] is False
    assert {m["tag"] for m in result["metadata"]} == {"Make", "Model"}
    assert any(r.startswith("note: metadata that does not identify") for r in result["reasons"])


# --- the custodian ----------------------------------------------------------------------------


def _inspection_details(instance: Instance, media_id: str) -> dict[str, object]:
    with instance.unit_of_work() as db:
        [details] = db.execute(
            select(AuditEntry.details).where(
                AuditEntry.action == "media.inspect", AuditEntry.object_id == media_id
            )
        ).scalars()
    found: dict[str, object] = json.loads(details)
    return found


def test_dei2_the_custodian_flags_a_photo_its_device_did_not_scrub(
    client: TestClient,
    instance: Instance,
    new_device: NewDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = new_device()
    pid, eid = _patient(client, alice, identifiable_allowed=False)
    scrubbed = _capture(client, instance, alice, _photo(), pid, eid)
    # A device whose scrubber is bypassed (an old or altered client) uploads the same photo.
    monkeypatch.setattr(capture, "_scrub", lambda data: (data, "image/jpeg"))
    raw = _capture(client, instance, alice, _photo(), pid, eid)

    outcomes = {o.media_id: o for o in inspect_pending(instance)}
    assert outcomes[scrubbed.object_id].identifiable is False, outcomes[scrubbed.object_id]
    flagged = outcomes[raw.object_id]
    assert (flagged.status, flagged.identifiable) == ("done", True)
    verdict = _verdict(client, alice, raw.object_id)
    assert verdict["identifiable"] is True
    reasons = verdict["reasons"]
    assert isinstance(reasons, list)
    assert reasons[0].startswith("identifying metadata: EXIF GPS position, EXIF Artist")
    assert "so that device did not scrub this one" in reasons[0]
    assert any(r.startswith("metadata a scrubbed photo never carries: EXIF") for r in reasons)
    for secret in SECRETS:
        assert secret not in json.dumps(verdict)
    assert verdict["findings"] == {"faces": 0, "text": 0, "metadata": True}
    assert _verdict(client, alice, scrubbed.object_id)["findings"]["metadata"] is False  # type: ignore[index]
    # The audit entry of each verdict says whether the photo still carried metadata.
    assert _inspection_details(instance, raw.object_id)["metadata"] is True
    assert _inspection_details(instance, scrubbed.object_id)["metadata"] is False
