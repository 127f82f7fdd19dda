"""Scrub any accepted picture or video of identifying metadata (DEI-1, TRN-3, STO-4).

The format is decided by the magic bytes (:mod:`clinphoto.imaging.sniff`), never by a file
name or a declared type, and everything fails closed: what is not understood is refused with
a :class:`~clinphoto.imaging.errors.ScrubError` whose ``reason`` says why.

=========  ===================================================  =========  =============
input      what is done                                          output     pixels
=========  ===================================================  =========  =============
JPEG       segment rewrite (:mod:`~clinphoto.imaging.jpeg`)      JPEG       identical
PNG        chunk rewrite (:mod:`~clinphoto.imaging.png`)         PNG        identical
WebP       RIFF chunk rewrite (:mod:`~clinphoto.imaging.webp`)   WebP       identical
GIF        block rewrite (:mod:`~clinphoto.imaging.gif`)         GIF        identical
TIFF       decoded, written as PNG (:mod:`~.tiff`)               PNG        identical
HEIC/HEIF  primary picture decoded, re-encoded (:mod:`~.heif`)   JPEG/PNG   q95 4:4:4
AVIF       first picture decoded, re-encoded (:mod:`~.avif`)     JPEG/PNG   q95 4:4:4
MP4, MOV,  :func:`clinphoto.imaging.video.scrub_video`           same       see video
WebM, MKV
=========  ===================================================  =========  =============

Conversions run in an isolated child process (:mod:`clinphoto.imaging.sandbox`). Lossless
rewrites are checked structurally as they are rebuilt (every length, checksum and ordering
rule is verified on the way through); conversions are checked by passing their output
through the JPEG or PNG scrubber again.
"""

from __future__ import annotations

import errno
import os
import stat

from clinphoto.imaging.errors import REASONS, Reason, ScrubError
from clinphoto.imaging.jpeg import scrub_jpeg, scrub_jpeg_parts
from clinphoto.imaging.limits import DEFAULT_LIMITS, Limits
from clinphoto.imaging.sniff import HEAD_BYTES, Kind, sniff

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    StrPath = str | os.PathLike[str]

# The converters (TIFF, HEIF, AVIF: Pillow, pillow-heif), the sandbox that runs them and the
# video remuxer are imported when a file needs them. The lossless rewrites need only the
# standard library, and `clinphoto scrub` over a folder of JPEGs should not pay Pillow's
# import (about 60 ms) at every start; nor, for the same reason, the PNG, WebP and GIF
# rewrites, pathlib, typing or dataclasses (about 15 ms together; decision 009).

__all__ = ["ScrubError", "Scrubbed", "scrub_bytes", "scrub_file"]


class Scrubbed:
    """A scrubbed picture or video.

    ``kind``, ``media_type`` and ``extension`` describe the *output*, which differs from the
    input (``source_kind``) when ``converted`` (TIFF becomes PNG, HEIF and AVIF become JPEG or
    PNG). ``data`` is the output when it was made in memory (:func:`scrub_bytes`); it is empty
    when :func:`scrub_file` wrote the output straight to ``dst`` without assembling it: videos,
    and JPEGs, whose scan data goes from the input read into memory to the file unchanged.
    Immutable, compared by value.
    """

    __slots__ = ("converted", "data", "extension", "kind", "media_type", "note", "source_kind")

    data: bytes
    kind: str
    media_type: str
    extension: str
    converted: bool
    note: str
    source_kind: str

    def __init__(
        self,
        *,
        data: bytes,
        kind: str,
        media_type: str,
        extension: str,
        converted: bool,
        note: str,
        source_kind: str,
    ) -> None:
        values = (data, kind, media_type, extension, converted, note, source_kind)
        for name, value in zip(self._FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    _FIELDS = ("data", "kind", "media_type", "extension", "converted", "note", "source_kind")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Scrubbed is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scrubbed) and all(
            getattr(self, name) == getattr(other, name) for name in self._FIELDS
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self._FIELDS))

    def __repr__(self) -> str:
        shown = (
            f"{name}={len(self.data)} bytes"
            if name == "data"
            else f"{name}={getattr(self, name)!r}"
            for name in self._FIELDS
        )
        return f"Scrubbed({', '.join(shown)})"


def _result(data: bytes, kind: Kind, source: Kind, note: str) -> Scrubbed:
    return Scrubbed(
        data=data,
        kind=kind.value,
        media_type=kind.media_type,
        extension=kind.extension,
        converted=kind != source,
        note=note,
        source_kind=source.value,
    )


_JPEG_NOTE = "lossless JPEG segment rewrite"


def scrub_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Scrubbed:
    """Scrub a still picture held in memory; see the module docstring for each format."""
    if len(data) > limits.max_image_bytes:
        raise ScrubError(
            f"input is {len(data)} bytes, over the {limits.max_image_bytes}-byte limit for an"
            " image",
            reason="too-large",
        )
    kind = sniff(data[:HEAD_BYTES])
    if kind is Kind.JPEG:
        return _result(scrub_jpeg(data, limits), kind, kind, _JPEG_NOTE)
    if kind is Kind.PNG:
        from clinphoto.imaging.png import scrub_png

        return _result(scrub_png(data, limits), kind, kind, "lossless PNG chunk rewrite")
    if kind is Kind.WEBP:
        from clinphoto.imaging.webp import scrub_webp

        return _result(scrub_webp(data, limits), kind, kind, "lossless WebP chunk rewrite")
    if kind is Kind.GIF:
        from clinphoto.imaging.gif import scrub_gif

        return _result(scrub_gif(data, limits), kind, kind, "lossless GIF block rewrite")
    if kind is Kind.TIFF:
        from clinphoto.imaging.sandbox import run_isolated
        from clinphoto.imaging.tiff import convert_tiff

        png = run_isolated(convert_tiff, data, limits, limits=limits)
        return _result(png, Kind.PNG, kind, "TIFF converted to PNG, pixels kept exactly")
    if kind is Kind.HEIF or kind is Kind.AVIF:
        from clinphoto.imaging.sandbox import run_isolated

        if kind is Kind.HEIF:
            from clinphoto.imaging.heif import convert_heif as convert
        else:
            from clinphoto.imaging.avif import convert_avif as convert
        out, name = run_isolated(convert, data, limits, limits=limits)
        target = Kind(name)
        note = (
            f"{kind.name} primary picture converted to JPEG q95 4:4:4"
            if target is Kind.JPEG
            else f"{kind.name} primary picture with transparency converted to PNG"
        )
        return _result(out, target, kind, note)
    raise ScrubError(
        f"{kind.name} is a video: videos are scrubbed from files with scrub_file",
        reason="unsupported-format",
    )


def _open_regular(src: StrPath) -> tuple[int, int]:
    """An fd for ``src`` and its size, if it is a regular file (not a FIFO or a device that
    could block us)."""
    fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            name = os.path.basename(os.fspath(src))
            raise ScrubError(f"{name} is not a regular file", reason="unsupported-format")
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def _read_whole(fd: int, size: int) -> bytes:
    """The file's contents, read into memory once: exactly the ``size`` bytes fstat gave.

    The scrubber checks and writes this private copy, so a file changed on disk while it is
    scrubbed cannot slip unchecked bytes into the output; a file that turns out longer or
    shorter than ``size`` is refused. Asking for the size rather than the limit keeps the
    allocation to the file's size.
    """
    chunks = []
    got = 0
    while got <= size:  # one read normally, and one more that finds the end of the file
        chunk = os.pread(fd, size + 1 - got, got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    if got != size:
        raise ScrubError("the file changed while it was being read", reason="io-error")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# Reason codes of clinphoto.imaging.video that are not ours, mapped onto ours.
_VIDEO_REASONS: dict[str, Reason] = {"unreadable": "malformed", "too-slow": "timeout"}


def _scrub_video(src: StrPath, dst: StrPath, kind: Kind, limits: Limits) -> Scrubbed:
    from pathlib import Path

    from clinphoto.imaging import video

    try:
        info = video.scrub_video(Path(src), Path(dst), limits)
    except video.VideoScrubError as exc:
        code: str = _VIDEO_REASONS.get(exc.reason, exc.reason)
        reason: Reason = next((known for known in REASONS if known == code), "malformed")
        raise ScrubError(str(exc), reason=reason) from None
    return _result(b"", Kind(info.container), kind, "video remuxed without metadata")


def scrub_file(src: StrPath, dst: StrPath, limits: Limits = DEFAULT_LIMITS) -> Scrubbed:
    """Scrub the picture or video at ``src`` into ``dst``.

    ``dst`` is written only on success (mode 0600, through a temporary file renamed over it)
    and holds the output format, whatever its name says:
    use :attr:`Scrubbed.extension` to name it. Sizes are checked against ``limits`` before the
    file is read.
    """
    fd, size = _open_regular(src)
    try:
        kind = sniff(os.pread(fd, HEAD_BYTES, 0))
        if kind.is_video:
            if size > limits.max_video_bytes:
                raise ScrubError(
                    f"video is {size} bytes, over the {limits.max_video_bytes}-byte limit",
                    reason="too-large",
                )
        elif size > limits.max_image_bytes:
            raise ScrubError(
                f"image is {size} bytes, over the {limits.max_image_bytes}-byte limit",
                reason="too-large",
            )
        else:
            data = _read_whole(fd, size)
    finally:
        os.close(fd)
    if kind.is_video:
        return _scrub_video(src, dst, kind, limits)
    if sniff(data[:HEAD_BYTES]) is Kind.JPEG:  # judged again on the bytes that are scrubbed
        # Written from views into ``data``: no second copy of the picture in memory, which
        # costs more than the whole scrub when its pages are new to the process.
        _write_new(dst, scrub_jpeg_parts(data, limits))
        return _result(b"", Kind.JPEG, Kind.JPEG, _JPEG_NOTE)
    result = scrub_bytes(data, limits)
    _write_new(dst, [result.data])
    return result


# At most this many buffers go to one writev call (POSIX guarantees at least 16; Linux, macOS
# and the BSDs take 1024).
_IOV_MAX = 1024
# At most this many bytes go to one call. Writing a 5.5 MB photo in one call took the same
# time as in 1 MiB calls in most runs, but twice to three times as long in one run out of
# three or four on the benchmark machine; in 1 MiB calls it did not (decision 009).
_WRITE_BYTES = 1 << 20


def _write_all(fd: int, parts: Sequence[bytes | memoryview]) -> None:
    """Write ``parts`` one after the other to ``fd``, resuming after any short write."""
    views: list[memoryview] = []
    for part in parts:
        view = memoryview(part)
        views += (view[at : at + _WRITE_BYTES] for at in range(0, len(view), _WRITE_BYTES))
    first = 0
    while first < len(views):
        last, size = first, 0  # the views of this call: as many as fit, at least one
        while last < len(views) and last - first < _IOV_MAX:
            size += len(views[last])
            if size > _WRITE_BYTES and last > first:
                break
            last += 1
        if hasattr(os, "writev"):
            written = os.writev(fd, views[first:last])
        else:
            written = os.write(fd, views[first])
        if not written:  # never for a regular file; but no loop without progress either
            raise OSError(errno.EIO, "the file system took none of the data")
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]


def _write_new(dst: StrPath, parts: Sequence[bytes | memoryview]) -> None:
    """Write ``dst`` whole or not at all: a private temporary file renamed over it.

    Not fsynced, like ``cp`` and ``exiftool -o``: the file is as durable as any other file the
    user writes, and a crash can leave it empty or lose it, never leave a partial scrub under
    its name (see docs/decisions/009-scrub-speed.md).
    """
    folder, name = os.path.split(os.fspath(dst))
    tmp = os.path.join(folder, f".{name}.{os.urandom(8).hex()}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            _write_all(fd, parts)
        finally:
            os.close(fd)
        os.replace(tmp, dst)
    except BaseException:
        try:  # noqa: SIM105 - contextlib is one more import at every start
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
