"""Blob store: content addressed, atomic, never overwrites, streams (AUD-4, TRN-1)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from clinphoto.storage.blobs import BlobError, FilesystemBlobStore


def _chunks(total: int, size: int = 1 << 20) -> object:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield b"\xab" * n
        sent += n


def test_put_is_content_addressed_and_reads_back(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA-ON")
    blob = store.put_stream([b"age-encryption.org/v1\n", b"rest"], max_bytes=1000)
    assert blob.sha256 == hashlib.sha256(b"age-encryption.org/v1\nrest").hexdigest()
    assert blob.size == 26
    assert b"".join(store.open(blob.sha256)) == b"age-encryption.org/v1\nrest"
    assert store.exists(blob.sha256)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_aud4_existing_object_is_never_overwritten(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")
    blob = store.put_stream([b"original"], max_bytes=100)
    path = tmp_path / "objects" / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256
    before = path.stat().st_ino
    again = store.put_stream([b"original"], max_bytes=100)
    assert again == blob
    assert path.stat().st_ino == before


def test_declared_digest_mismatch_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")
    with pytest.raises(BlobError, match="SHA-256"):
        store.put_stream([b"data"], max_bytes=100, expect_sha256="0" * 64)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not any(p.is_file() for p in (tmp_path / "objects").rglob("*"))


def test_oversized_upload_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")
    with pytest.raises(BlobError, match="limit"):
        store.put_stream(_chunks(5 << 20), max_bytes=4 << 20)  # type: ignore[arg-type]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_crash_mid_upload_leaves_no_object(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")

    def dying() -> object:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(dying(), max_bytes=100)  # type: ignore[arg-type]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not any(p.is_file() for p in (tmp_path / "objects").rglob("*"))


def test_large_object_streams_in_chunks(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")
    blob = store.put_stream(_chunks(200 << 20), max_bytes=300 << 20)  # type: ignore[arg-type]
    sizes = [len(c) for c in store.open(blob.sha256)]
    assert sum(sizes) == 200 << 20
    assert max(sizes) <= 1 << 20


def test_unknown_and_malformed_names(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path, "CA")
    with pytest.raises(BlobError):
        store.open("f" * 64)
    with pytest.raises(BlobError):
        store.open("../../etc/passwd")
    blob = store.put_stream([b"x"], max_bytes=10)
    with pytest.raises(BlobError):  # matched exactly: no trailing newline slips through
        store.open(blob.sha256 + "\n")
    store.delete(blob.sha256)
    assert not store.delete("f" * 64)
    blob = store.put_stream([b"x"], max_bytes=10)
    assert store.delete(blob.sha256)
    assert not store.exists(blob.sha256)
