"""Blob store: ciphertext objects addressed by the SHA-256 of their bytes.

Writes are streamed into a temporary file in the store, fsynced and renamed into place, so a
crash mid-upload leaves no partial object under its final name. An existing object is never
overwritten: content addressing means the same name always holds the same bytes (AUD-4).
The store only ever receives age ciphertext; it never sees plaintext media (TRN-1). Its
directories are its owner's only (0700) and its objects are readable by their owner only
(0600): another account on the server reads not even the ciphertext.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from clinphoto.storage.files import private_dir

CHUNK = 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BlobError(Exception):
    """A blob could not be stored or read (size limit, digest mismatch, unknown object)."""


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int


class BlobStore(Protocol):
    jurisdiction: str

    def put_stream(
        self, chunks: Iterable[bytes], *, max_bytes: int, expect_sha256: str | None = None
    ) -> StoredBlob: ...

    def open(self, sha256: str) -> Iterator[bytes]: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> bool: ...


class FilesystemBlobStore:
    """Objects at ``<root>/objects/ab/cd/<sha256>``; temporary files in ``<root>/tmp``."""

    def __init__(self, root: Path, jurisdiction: str) -> None:
        self.root = root
        self.jurisdiction = jurisdiction
        private_dir(root / "objects")
        private_dir(root / "tmp")

    def _path(self, sha256: str) -> Path:
        if not _SHA256_HEX.fullmatch(sha256):
            raise BlobError("not a SHA-256 object name")
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def writer(self, *, max_bytes: int) -> BlobWriter:
        """An incremental writer: ``write`` chunks as they arrive, then ``finish`` or ``abort``."""
        return BlobWriter(self, max_bytes)

    def put_stream(
        self, chunks: Iterable[bytes], *, max_bytes: int, expect_sha256: str | None = None
    ) -> StoredBlob:
        w = self.writer(max_bytes=max_bytes)
        try:
            for chunk in chunks:
                w.write(chunk)
            return w.finish(expect_sha256)
        except BaseException:
            w.abort()
            raise

    def open(self, sha256: str) -> Iterator[bytes]:
        path = self._path(sha256)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise BlobError("no such object") from None
        return _read_chunks(fh)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        """Remove an object (retention sweep, RET-5). Returns whether it existed."""
        path = self._path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        return True


class BlobWriter:
    """Streams one object into a temporary file; only ``finish`` gives it its final name."""

    def __init__(self, store: FilesystemBlobStore, max_bytes: int) -> None:
        self._store = store
        self._max = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(dir=store.root / "tmp", prefix="upload-")
        self._tmp = Path(name)
        self._fh = os.fdopen(fd, "wb")
        self.head = b""

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max:
            raise BlobError(f"object larger than the limit of {self._max} bytes")
        if len(self.head) < 64:
            self.head += chunk[: 64 - len(self.head)]
        self._digest.update(chunk)
        self._fh.write(chunk)

    def finish(self, expect_sha256: str | None = None) -> StoredBlob:
        """fsync, check the digest, and link into place without overwriting anything."""
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            sha = self._digest.hexdigest()
            if expect_sha256 is not None and sha != expect_sha256:
                raise BlobError("object does not match its declared SHA-256")
            final = self._store._path(sha)
            private_dir(final.parent)
            try:
                os.link(self._tmp, final)  # never replaces an existing object
                _fsync_dir(final.parent)
            except FileExistsError:
                pass  # same name, same bytes: the stored original stays untouched
            return StoredBlob(sha, self.size)
        finally:
            self.abort()

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)


def _read_chunks(fh: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := fh.read(CHUNK):
            yield chunk
    finally:
        fh.close()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
