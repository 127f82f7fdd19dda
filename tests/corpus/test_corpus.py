"""DEI-1 on real files: every test image shipped in Pillow's and pillow-heif's sources.

About 1,100 files of every extension (JPEG with EXIF/GPS/XMP/IPTC/MPF, PNG text chunks,
WebP, GIF, TIFF, HEIC/AVIF with thumbnails and depth maps, BMP, PSD...) including named fuzz
crashers and decompression bombs. For each file the scrubber must either accept it, and then
exiftool finds no tag outside the allow-list of :mod:`tests.corpus.oracle` and lossless
rewrites decode to the input's exact pixels, or refuse it with a reason code. No file may
crash the scrubber or hang it: every file runs in a worker process that is killed after
``HANG_SECONDS``. The counts are printed and written to ``report.json`` in the corpus cache.

The corpus is downloaded by ``python -m tools.corpus``; without it this test is skipped.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tools.corpus import corpus_dirs, default_cache

from clinphoto.imaging.errors import REASONS
from tests.corpus.oracle import EXIFTOOL, exiftool_json, leaks

ROOT = Path(__file__).resolve().parents[2]
HANG_SECONDS = 120.0  # far above Limits.max_decode_seconds: only a real hang gets here
SLOW_SECONDS = 2.0
WORKERS = max(1, min(4, os.cpu_count() or 1))

pytestmark = pytest.mark.corpus


def _corpus_files() -> tuple[list[Path], list[Path]]:
    roots = corpus_dirs()
    if not roots:
        pytest.skip(
            f"image corpus not in {default_cache()}: run `python -m tools.corpus` (make corpus)"
        )
    return roots, sorted(path for root in roots for path in root.rglob("*") if path.is_file())


class _Pool:
    """Workers fed one file at a time; a worker silent for HANG_SECONDS is killed and replaced."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.results: dict[int, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.corpus.worker", str(self.out_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def _run(self, todo: queue.Queue[tuple[int, Path]]) -> None:
        worker = self._start()
        assert worker.stdin is not None
        assert worker.stdout is not None
        try:
            while True:
                try:
                    index, path = todo.get_nowait()
                except queue.Empty:
                    return
                started = time.monotonic()
                worker.stdin.write(f"{index}\t{path}\n")
                worker.stdin.flush()
                ready, _, _ = select.select([worker.stdout], [], [], HANG_SECONDS)
                line = worker.stdout.readline() if ready else ""
                if line:
                    answer = json.loads(line)
                else:  # hung or died: record it, start afresh for the rest
                    worker.kill()
                    worker.wait()
                    status = "died" if ready else "hung"
                    answer = {"status": status, "s": time.monotonic() - started}
                    worker = self._start()
                    assert worker.stdin is not None
                    assert worker.stdout is not None
                with self.lock:
                    self.results[index] = {"file": str(path), **answer}
        finally:
            worker.kill()
            worker.wait()

    def run(self, files: list[Path]) -> dict[int, dict[str, Any]]:
        todo: queue.Queue[tuple[int, Path]] = queue.Queue()
        for item in enumerate(files):
            todo.put(item)
        threads = [threading.Thread(target=self._run, args=(todo,)) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.results


def _report(
    results: dict[int, dict[str, Any]], seconds: float, roots: list[Path]
) -> dict[str, Any]:
    accepted = collections.Counter(
        f"{r['source_kind']}->{r['kind']}" for r in results.values() if r["status"] == "accepted"
    )
    rejected = collections.Counter(
        r["reason"] for r in results.values() if r["status"] == "rejected"
    )
    rejected_kinds = collections.Counter(
        f"{r['source_kind']}:{r['reason']}" for r in results.values() if r["status"] == "rejected"
    )
    pixels = collections.Counter(
        r["pixels"].split(" ")[0] for r in results.values() if r["status"] == "accepted"
    )
    return {
        "corpus": [str(root) for root in roots],
        "files": len(results),
        "seconds": round(seconds, 1),
        "accepted": sum(accepted.values()),
        "accepted_by_format": dict(sorted(accepted.items())),
        "rejected": sum(rejected.values()),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "rejected_by_format": dict(sorted(rejected_kinds.items())),
        "pixel_checks": dict(sorted(pixels.items())),
        "slow": sorted(
            (Path(r["file"]).name, round(r["s"], 2))
            for r in results.values()
            if r["s"] > SLOW_SECONDS
        ),
    }


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
def test_dei1_corpus_scrubbed_or_refused_never_leaks_crashes_or_hangs(tmp_path: Path) -> None:
    roots, files = _corpus_files()
    started = time.monotonic()
    results = _Pool(tmp_path).run(files)
    outputs = {r["output"]: r for r in results.values() if r["status"] == "accepted"}
    tags = exiftool_json([Path(p) for p in outputs])
    report = _report(results, time.monotonic() - started, roots)
    leaked = {
        Path(outputs[path]["file"]).name: found
        for path, record in tags.items()
        if (found := leaks(record))
    }
    report["leaks"] = leaked
    print("\n" + json.dumps(report, indent=2, ensure_ascii=False))
    (default_cache() / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))

    assert len(results) == len(files)
    broken = {Path(r["file"]).name: r for r in results.values() if r["status"] not in
              ("accepted", "rejected")}  # fmt: skip
    assert not broken, f"crashed, hung or died: {broken}"
    assert set(tags) == set(outputs), "exiftool did not read every output"
    assert not leaked, f"identifying metadata left: {leaked}"
    assert all(r["reason"] in REASONS for r in results.values() if r["status"] == "rejected")
    bad_pixels = {
        Path(r["file"]).name: r["pixels"]
        for r in outputs.values()
        if r["pixels"].split(" ")[0]
        not in ("identical", "decodes", "both-undecodable", "input-undecodable")
    }
    assert not bad_pixels, f"pixels changed or unreadable: {bad_pixels}"
    bombs = {
        Path(r["file"]).name: r.get("reason")
        for r in results.values()
        if "decompression_bomb" in Path(r["file"]).name
    }
    assert bombs
    assert set(bombs.values()) <= {"too-many-pixels", "decompression-bomb", "unsupported-format"}
