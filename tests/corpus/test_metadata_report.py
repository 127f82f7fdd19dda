"""The metadata report against exiftool on the real-image corpus (DEI-1, DEI-2, issue 8).

For every still picture of the corpus (:mod:`tools.corpus`) that the scrubber accepts the
format of, :func:`clinphoto.imaging.metadata.identifying_metadata` must answer without
raising, and wherever exiftool lists a GPS position, a person's name, a serial number or a
capture date, our report must have that category: what exiftool sees, a person checking
the file is told. Tags that exiftool finds inside a maker note (groups named for a camera
maker) are covered by the report's maker-note finding. And the scrubber's output of every
file it accepts reports nothing at all: the custodian flags any metadata it finds, so a
finding on a scrubbed photo would flag every photo.

The report runs in a child interpreter, so a crash in a C parser on a fuzzed file fails the
test instead of ending the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tools.corpus import corpus_dirs, default_cache

from tests.corpus.oracle import EXIFTOOL, exiftool_json

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[2]
# exiftool family-1 groups that are the picture's own metadata; any other group that names a
# tag (Canon, Nikon, Apple...) is a maker note's.
_STANDARD = (
    "IFD", "ExifIFD", "GPS", "InteropIFD", "IPTC", "XMP-", "PNG", "Photoshop", "QuickTime", "Track",
)  # fmt: skip
_IGNORED = ("File", "System", "ExifTool", "Composite")
_PERSON = frozenset(
    ("Artist", "Copyright", "OwnerName", "CameraOwnerName", "Creator", "By-line", "Author")
)
_DATES = frozenset(
    (
        "DateTimeOriginal", "CreateDate", "ModifyDate", "GPSDateStamp", "DateCreated",
        "DigitalCreationDate", "MetadataDate",
    )
)  # fmt: skip

_CHILD = """
import json, sys
from pathlib import Path
from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.metadata import identifying_metadata
from clinphoto.imaging.sniff import HEAD_BYTES, sniff
from clinphoto.imaging.scrub import scrub_bytes
out, scrubbed = {}, {}
for name in sys.stdin.read().splitlines():
    data = Path(name).read_bytes()
    try:
        if sniff(data[:HEAD_BYTES]).is_video:
            continue
    except ScrubError:
        continue
    out[name] = [f.to_json() for f in identifying_metadata(data)]
    try:
        clean = scrub_bytes(data).data
    except ScrubError:
        continue
    scrubbed[name] = [f.label for f in identifying_metadata(clean)]
print(json.dumps({"reports": out, "scrubbed": scrubbed}))
"""


def _blank(value: Any) -> bool:
    text = str(value).strip(" \x00")
    return not text.strip(":-. 0")


def _expected(key: str, value: Any) -> set[str]:
    """The categories our report must have for one exiftool ``GROUP:Tag``."""
    group, _, tag = key.partition(":")
    if group.startswith(_IGNORED) or _blank(value):
        return set()
    found = set()
    if tag.startswith("GPS") and tag not in ("GPSVersionID", "GPSMapDatum"):
        found.add("date-time" if "Date" in tag or "Time" in tag else "location")
    if tag in _PERSON:
        found.add("person")
    if "SerialNumber" in tag:
        found.add("serial")
    if tag in _DATES:
        found.add("date-time")
    if found and not group.startswith(_STANDARD):
        return {"maker note"}
    return found


def _ours(report: list[dict[str, Any]]) -> set[str]:
    have = {finding["category"] for finding in report}
    if any(f["category"] == "device" and f["identifying"] for f in report):
        have.add("serial")
    if any(f["tag"] == "MakerNote" for f in report):
        have.add("maker note")
    return have


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
def test_dei2_the_report_covers_what_exiftool_finds_in_the_corpus() -> None:
    roots = corpus_dirs()
    if not roots:
        pytest.skip(f"image corpus not in {default_cache()}: run `python -m tools.corpus`")
    files = sorted(str(p) for root in roots for p in root.rglob("*") if p.is_file())
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input="\n".join(files),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    answer = json.loads(child.stdout)
    reports: dict[str, list[dict[str, Any]]] = answer["reports"]
    assert len(reports) > 500  # the corpus's still pictures, most of them
    assert len(answer["scrubbed"]) > 500
    left = {Path(name).name: labels for name, labels in answer["scrubbed"].items() if labels}
    assert not left, left

    tags = exiftool_json([Path(name) for name in reports])
    checked, missing = 0, []
    for name, report in reports.items():
        wanted: set[str] = set()
        for key, value in tags.get(name, {}).items():
            wanted |= _expected(key, value)
        if not wanted:
            continue
        checked += 1
        if wanted - _ours(report):
            missing.append(f"{Path(name).name}: {sorted(wanted - _ours(report))}")
    print(f"{checked} files with GPS, names, serials or dates per exiftool; {len(missing)} missed")
    assert checked > 50
    assert not missing, missing
