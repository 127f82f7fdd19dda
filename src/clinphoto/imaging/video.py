"""Video metadata scrubbing by remux, and frame sampling for inspection (DEI-1, TRN-3, STO-4).

:func:`scrub_video` rewrites an MP4, QuickTime MOV or WebM/Matroska file into a new container
of the same family without decoding or re-encoding anything. What survives:

* one video stream (the first that is not a cover picture) and every audio stream, with their
  codec parameters (extradata, colour description, the display matrix that says how to rotate
  the picture) and their packets' payloads, byte for byte;
* packet timing (pts, dts, duration), key-frame flags, and the audio trimming hint
  ``skip_samples``.

What does not: every other stream (QuickTime ``tmcd`` timecode tracks, GoPro/DJI telemetry
``gpmd``/``djmd`` data tracks that carry GPS, subtitles, chapters, cover pictures, Matroska
attachments), all container and stream metadata (title, comment, artist, creation and
modification times, ``location``/``©xyz``/``loci`` GPS, encoder, handler names, languages,
vendor tags, Apple ``mdta`` keys, XMP ``uuid`` boxes, Matroska tags), every other per-packet
side data, and everything the demuxer does not understand (unknown boxes, ``free`` space,
trailing bytes). The muxer runs in bit-exact mode, so it writes neither ``Lavf<version>`` as
the encoder nor a wall-clock time, and MP4/MOV handler names are written empty. Creation
times in ``mvhd``/``tkhd``/``mdhd`` are zero.

What is *not* touched, because it is inside the codec bitstream and the packets are copied
byte for byte: H.264/HEVC SEI messages (e.g. an encoder's settings string) and MPEG-4
part 2 user data. Motion-JPEG, whose frames can carry a full EXIF block each, is refused.

Rotation: the display matrix travels as codec side data of the video stream, so MP4/MOV keep
it in the ``tkhd`` matrix and Matroska in its ``Projection`` element; players show the video
the same way up as before. :func:`sample_frames` applies it, so its images are upright.

The container family is judged by magic bytes and verified before FFmpeg sees the file:
ISO base media files are walked box by box (top level only), Matroska files by their EBML
header and segment size (or, for a live recording whose sizes are unknown, element by
element), so truncated files and garbage are refused early, and only the ``mov`` or
``matroska`` demuxer ever parses the data. HEIF/AVIF images, which share the ISO box
format, are refused. While copying, a packet the demuxer marks corrupt, or fewer samples
than an MP4/MOV sample table lists, also means a truncated or damaged file.

Output goes to a temporary file next to ``dst`` (created exclusively, mode 0600), is flushed
to disk, then renamed over ``dst``; on any failure the temporary file is removed and
:class:`VideoScrubError` is raised with a short ``reason`` code.
"""

from __future__ import annotations

import io
import os
import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

import av
import av.error
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition, Stream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

__all__ = [
    "VideoInfo",
    "VideoLimits",
    "VideoScrubError",
    "sample_frames",
    "scrub_video",
]

ContainerKind = Literal["mp4", "mov", "webm", "mkv"]

# Codecs whose packets we copy. Motion-JPEG (and any other still-image codec) is left out on
# purpose: each of its frames is a JPEG that may carry its own EXIF block.
_VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "prores"})
_AUDIO_CODECS = frozenset(
    {"aac", "opus", "vorbis", "mp3", "alac", "flac", "ac3", "eac3"}
    | {
        f"pcm_{kind}{order}"
        for kind in ("s16", "s24", "s32", "f32", "f64")
        for order in ("le", "be")
    }
)
# What WebM allows; a Matroska input with anything else is written as Matroska.
_WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})

# ISO base media brands of still images (HEIF, AVIF): the mov demuxer would open them too.
_IMAGE_BRANDS = frozenset(
    {b"mif1", b"msf1", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"avif", b"avis"}
)
# A QuickTime file may start without an ftyp box; these are the boxes it can start with.
_QT_FIRST_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_MAX_TOP_LEVEL_BOXES = 200_000

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = 0x4282
_MKV_SEGMENT = 0x18538067
_MKV_CLUSTER = 0x1F43B675
_MAX_EBML_HEADER = 4096
_MAX_LIVE_ELEMENTS = 4_000_000

# Side data a packet may keep: how many decoded audio samples to drop at either end.
_KEPT_SIDE_DATA: tuple[Literal["skip_samples"], ...] = ("skip_samples",)

_OPEN_TIMEOUT_S = 30.0
_READ_TIMEOUT_S = 30.0
_SCRUB_BUDGET_S = 600.0
_SAMPLE_BUDGET_S = 120.0
# Frames decoded per sample at most: a long GOP after a seek is walked this far, no further.
_MAX_DECODE_PER_SAMPLE = 600
_MAX_SAMPLE_COUNT = 100
# Ceiling for decoding when the caller gives no limits: about an 8K frame.
_MAX_DECODE_PIXELS = 8192 * 8192


class VideoScrubError(ValueError):
    """A video we cannot scrub or sample safely. ``reason`` is a short code, e.g.
    ``"unsupported-format"``, ``"unsupported-codec"``, ``"too-large"``,
    ``"too-many-pixels"``, ``"truncated"``, ``"malformed"``, ``"no-video"``,
    ``"io-error"``, ``"timeout"`` (the codes of ``clinphoto.imaging.errors.Reason``); the
    message says more and never quotes file contents."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class VideoLimits(Protocol):
    """The limits :func:`scrub_video` enforces (read-only attributes suffice)."""

    @property
    def max_video_bytes(self) -> int: ...

    @property
    def max_width(self) -> int: ...

    @property
    def max_height(self) -> int: ...


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the scrubbed file holds. ``container`` is the family written: ``"mkv"`` only for
    a Matroska input whose codecs WebM does not allow (e.g. H.264 from a browser recorder)."""

    container: ContainerKind
    duration_s: float
    width: int
    height: int
    video_codec: str
    audio_codecs: tuple[str, ...]
    video_frames: int


@dataclass(frozen=True, slots=True)
class _Sniffed:
    family: Literal["iso", "matroska"]
    kind: ContainerKind  # provisional for Matroska: "webm" or "mkv" is decided by the codecs
    demuxer: str


# --- container sniffing -------------------------------------------------------------------


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    return data if isinstance(data, bytes) else b""


def _sniff_iso(f: BinaryIO, size: int) -> _Sniffed:
    """Walk the top-level boxes: every size must be sane and inside the file."""
    pos = 0
    brand: bytes | None = None
    has_moov = False
    for index in range(_MAX_TOP_LEVEL_BOXES):
        if pos == size:
            break
        f.seek(pos)
        header = _read_exact(f, 16)
        if len(header) < 8:
            raise VideoScrubError("truncated", f"truncated video: box header at offset {pos}")
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if not all(0x20 <= c <= 0x7E or c == 0xA9 for c in box_type):
            raise VideoScrubError("malformed", f"malformed video: invalid box type at {pos}")
        if box_size == 1:
            if len(header) < 16:
                raise VideoScrubError("truncated", f"truncated video: box header at {pos}")
            (box_size,) = struct.unpack(">Q", header[8:16])
            if box_size < 16:
                raise VideoScrubError("malformed", f"malformed video: box size at {pos}")
        elif box_size == 0:
            box_size = size - pos
        elif box_size < 8:
            raise VideoScrubError("malformed", f"malformed video: box size at {pos}")
        if pos + box_size > size:
            raise VideoScrubError(
                "truncated",
                f"truncated video: the {box_type.decode('latin-1')!r} box at offset {pos}"
                f" needs {box_size} bytes, the file ends {size - pos} bytes later",
            )
        if index == 0 and box_type != b"ftyp" and box_type not in _QT_FIRST_BOXES:
            raise VideoScrubError("unsupported-format", "not an MP4 or MOV video")
        if box_type == b"ftyp" and brand is None:
            if box_size < 12:
                raise VideoScrubError("malformed", "malformed video: short ftyp box")
            brand = header[8:12]
        has_moov = has_moov or box_type == b"moov"
        pos += box_size
    else:
        raise VideoScrubError("malformed", "malformed video: too many top-level boxes")
    if brand in _IMAGE_BRANDS:
        raise VideoScrubError("unsupported-format", "this is a HEIF/AVIF image, not a video")
    if not has_moov:
        raise VideoScrubError("malformed", "malformed video: no movie header (moov box)")
    kind: ContainerKind = "mov" if brand is None or brand == b"qt  " else "mp4"
    return _Sniffed("iso", kind, "mov")


def _ebml_vint(data: bytes, pos: int, *, is_id: bool) -> tuple[int, int, bool]:
    """Decode an EBML variable-length integer; return (value, next offset, all-ones)."""
    if pos >= len(data):
        raise VideoScrubError("truncated", "truncated video: EBML header is cut off")
    first = data[pos]
    if first == 0:
        raise VideoScrubError("malformed", f"malformed video: invalid EBML number at {pos}")
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        raise VideoScrubError("truncated", "truncated video: EBML header is cut off")
    raw = int.from_bytes(data[pos : pos + length], "big")
    value = raw if is_id else raw & ((1 << (7 * length)) - 1)
    all_ones = not is_id and value == (1 << (7 * length)) - 1
    return value, pos + length, all_ones


def _sniff_matroska(f: BinaryIO, size: int) -> _Sniffed:
    data = _read_exact(f, _MAX_EBML_HEADER + 16)
    _, pos, _ = _ebml_vint(data, 0, is_id=True)
    header_size, pos, unknown = _ebml_vint(data, pos, is_id=False)
    end = pos + header_size
    if unknown or end > _MAX_EBML_HEADER:
        raise VideoScrubError("malformed", "malformed video: EBML header too large")
    if end > len(data):
        raise VideoScrubError("truncated", "truncated video: EBML header is cut off")
    doctype = b""
    while pos < end:
        element, pos, _ = _ebml_vint(data, pos, is_id=True)
        length, pos, unknown = _ebml_vint(data, pos, is_id=False)
        if unknown or pos + length > end:
            raise VideoScrubError("malformed", "malformed video: bad EBML header element")
        if element == _EBML_DOCTYPE:
            doctype = data[pos : pos + length].rstrip(b"\x00")
        pos += length
    if doctype not in (b"webm", b"matroska"):
        raise VideoScrubError("unsupported-format", "not a WebM or Matroska video")
    segment, pos, _ = _ebml_vint(data, end, is_id=True)
    if segment != _MKV_SEGMENT:
        raise VideoScrubError("malformed", "malformed video: no Matroska segment")
    segment_size, pos, unknown = _ebml_vint(data, pos, is_id=False)
    if unknown:
        _walk_live_segment(f, pos, size)
    elif pos + segment_size > size:
        raise VideoScrubError(
            "truncated",
            f"truncated video: the segment needs {segment_size} bytes,"
            f" the file ends {size - pos} bytes later",
        )
    return _Sniffed("matroska", "webm", "matroska")


def _walk_live_segment(f: BinaryIO, pos: int, size: int) -> None:
    """Check a segment of unknown size (a live recording, e.g. a browser's MediaRecorder).

    Nothing says how long such a file should be, so walk its elements: clusters of unknown
    size are entered, everything else is skipped by its size, and each must end inside the
    file. A recording cut exactly between two blocks still looks complete.
    """
    for _ in range(_MAX_LIVE_ELEMENTS):
        if pos >= size:
            return
        f.seek(pos)
        head = _read_exact(f, 12)
        element, body, _ = _ebml_vint(head, 0, is_id=True)
        length, body, unknown = _ebml_vint(head, body, is_id=False)
        if unknown:
            if element != _MKV_CLUSTER:
                raise VideoScrubError(
                    "malformed", f"malformed video: element of unknown size at {pos}"
                )
            pos += body
            continue
        if pos + body + length > size:
            raise VideoScrubError(
                "truncated",
                f"truncated video: the element at offset {pos} needs {body + length} bytes,"
                f" the file ends {size - pos} bytes later",
            )
        pos += body + length
    raise VideoScrubError("malformed", "malformed video: too many elements")


def _sniff(src: Path | bytes, max_bytes: int | None) -> _Sniffed:
    try:
        size = len(src) if isinstance(src, bytes) else src.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise VideoScrubError(
                "too-large", f"video is {size} bytes, over the {max_bytes}-byte limit"
            )
        with io.BytesIO(src) if isinstance(src, bytes) else src.open("rb") as f:
            head = _read_exact(f, 8)
            f.seek(0)
            if head.startswith(_EBML_MAGIC):
                return _sniff_matroska(f, size)
            if len(head) == 8 and (head[4:8] == b"ftyp" or head[4:8] in _QT_FIRST_BOXES):
                return _sniff_iso(f, size)
    except OSError as exc:
        raise VideoScrubError("io-error", f"cannot read the video: {_describe(exc)}") from exc
    raise VideoScrubError("unsupported-format", "not an MP4, MOV or WebM/Matroska video")


# --- shared helpers ---------------------------------------------------------------------


def _open_input(src: Path | bytes, sniffed: _Sniffed) -> InputContainer:
    container = av.open(
        io.BytesIO(src) if isinstance(src, bytes) else str(src),
        "r",
        format=sniffed.demuxer,
        options={"protocol_whitelist": "file"},
        metadata_errors="ignore",  # metadata is never copied; badly encoded tags are no error
        timeout=(_OPEN_TIMEOUT_S, _READ_TIMEOUT_S),
    )
    if container.format.name.split(",")[0] != sniffed.demuxer:  # pragma: no cover - forced
        container.close()
        raise VideoScrubError("unsupported-format", f"unexpected format {container.format.name}")
    return container


def _codec_name(stream: Stream) -> str:
    ctx = stream.codec_context
    if ctx is None:
        return ""
    return ctx.codec.canonical_name


def _main_video(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    raise VideoScrubError("no-video", "the file has no video stream")


def _check_video(stream: VideoStream, max_width: int, max_height: int) -> tuple[int, int]:
    codec = _codec_name(stream)
    if codec not in _VIDEO_CODECS:
        raise VideoScrubError("unsupported-codec", f"video codec {codec or 'unknown'!r}")
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise VideoScrubError("malformed", "malformed video: no frame size in the stream header")
    if width > max_width or height > max_height:
        raise VideoScrubError(
            "too-many-pixels",
            f"video is {width}x{height}, over the {max_width}x{max_height} limit",
        )
    return width, height


def _describe(exc: BaseException) -> str:
    """What went wrong, without file names or anything read from the file."""
    strerror = getattr(exc, "strerror", None)
    return f"{type(exc).__name__}: {strerror}" if strerror else type(exc).__name__


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


# --- scrubbing ----------------------------------------------------------------------------


def _clean_packet(packet: Packet[Stream]) -> Packet[Stream]:
    """The same payload and timing in a fresh packet: side data is left behind."""
    clean = Packet(bytes(packet))
    clean.pts = packet.pts
    clean.dts = packet.dts
    clean.duration = packet.duration
    clean.time_base = packet.time_base
    clean.is_keyframe = packet.is_keyframe
    for kind in _KEPT_SIDE_DATA:
        if packet.has_sidedata(kind):
            clean.set_sidedata(packet.get_sidedata(kind))
    return clean


def _muxer(kind: ContainerKind) -> tuple[str, dict[str, str]]:
    options = {"fflags": "+bitexact"}
    if kind in ("mp4", "mov"):
        options["empty_hdlr_name"] = "1"
    return {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}[kind], options


def _packets(
    container: InputContainer, streams: list[Stream], limit: int
) -> Iterator[Packet[Stream]]:
    deadline = time.monotonic() + _SCRUB_BUDGET_S
    count = 0
    for packet in container.demux(*streams):
        if packet.size == 0 and packet.pts is None and packet.dts is None:
            continue  # the end-of-stream marker PyAV adds for decoders
        count += 1
        if count > limit:
            raise VideoScrubError("malformed", "malformed video: more packets than bytes")
        if time.monotonic() > deadline:
            raise VideoScrubError("timeout", "scrubbing took longer than the time budget")
        yield packet


def _remux(src: Path, out_file: BinaryIO, sniffed: _Sniffed, limits: VideoLimits) -> VideoInfo:
    with _open_input(src, sniffed) as inp:
        video = _main_video(inp)
        width, height = _check_video(video, limits.max_width, limits.max_height)
        audio = list(inp.streams.audio)
        for track in audio:
            codec = _codec_name(track)
            if codec not in _AUDIO_CODECS:
                raise VideoScrubError("unsupported-codec", f"audio codec {codec or 'unknown'!r}")
        kept: list[Stream] = [video, *audio]
        kind = sniffed.kind
        if sniffed.family == "matroska" and not all(_codec_name(s) in _WEBM_CODECS for s in kept):
            kind = "mkv"
        muxer, options = _muxer(kind)
        size = src.stat().st_size
        first_pts: int | None = None
        end_pts: int | None = None
        frames = 0
        with av.open(out_file, "w", format=muxer, container_options=options) as out:
            mapping: dict[int, Stream] = {}
            for position, stream in enumerate(kept):
                try:
                    copy = out.add_stream_from_template(stream, opaque=True)
                except ValueError as exc:
                    raise VideoScrubError(
                        "unsupported-codec", f"{muxer} cannot hold {_codec_name(stream)}"
                    ) from exc
                copy.metadata.clear()
                first_audio = position == 1
                copy.disposition = (
                    Disposition.default if position == 0 or first_audio else Disposition(0)
                )
                mapping[stream.index] = copy
            counts = dict.fromkeys(mapping, 0)
            for packet in _packets(inp, kept, limit=size + 1024):
                if packet.is_corrupt:
                    cut = packet.pos is not None and packet.pos + packet.size >= size
                    raise VideoScrubError(
                        "truncated" if cut else "malformed",
                        f"{'truncated' if cut else 'malformed'} video: a damaged packet"
                        f" at offset {packet.pos}",
                    )
                counts[packet.stream.index] += 1
                target = mapping[packet.stream.index]
                is_video = packet.stream.index == video.index
                clean = _clean_packet(packet)
                clean.stream = target
                if is_video:
                    frames += 1
                    if packet.pts is not None:
                        first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
                        end = packet.pts + (packet.duration or 0)
                        end_pts = end if end_pts is None else max(end_pts, end)
                out.mux(clean)
            if frames == 0:
                raise VideoScrubError("malformed", "malformed video: no video frames")
            if sniffed.family == "iso":  # the sample tables say how many packets to expect
                for stream in kept:
                    if counts[stream.index] < stream.frames:
                        raise VideoScrubError(
                            "truncated",
                            f"truncated video: {counts[stream.index]} of {stream.frames}"
                            f" samples of stream {stream.index} are in the file",
                        )
        duration = None
        if first_pts is not None and end_pts is not None:
            duration = _seconds(end_pts - first_pts, video.time_base)
        if duration is None and inp.duration is not None:
            duration = inp.duration / av.time_base
        return VideoInfo(
            container=kind,
            duration_s=duration or 0.0,
            width=width,
            height=height,
            video_codec=_codec_name(video),
            audio_codecs=tuple(_codec_name(s) for s in audio),
            video_frames=frames,
        )


def scrub_video(src: Path, dst: Path, limits: VideoLimits) -> VideoInfo:
    """Copy the video at ``src`` to ``dst`` without identifying metadata, without re-encoding.

    See the module docstring for what is kept. ``dst`` appears only when the whole file was
    written; it is replaced if it exists. Raises :class:`VideoScrubError` for input that is not
    an MP4/MOV/WebM/Matroska video, is truncated or malformed, uses a codec we do not copy, or
    is over ``limits`` (file size, frame width or height).
    """
    sniffed = _sniff(src, limits.max_video_bytes)
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(8)}.part")
    done = False
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "w+b") as out_file:
            info = _remux(src, out_file, sniffed, limits)
            out_file.flush()
            os.fsync(out_file.fileno())
        os.replace(tmp, dst)
        done = True
        return info
    except VideoScrubError:
        raise
    except av.error.FFmpegError as exc:
        raise VideoScrubError("malformed", f"malformed video: {_describe(exc)}") from exc
    except OSError as exc:
        raise VideoScrubError(
            "io-error", f"cannot read or write the video: {_describe(exc)}"
        ) from exc
    except Exception as exc:  # fail closed: anything else FFmpeg or PyAV throws is bad input
        raise VideoScrubError("malformed", f"malformed video: {_describe(exc)}") from exc
    finally:
        if not done:
            tmp.unlink(missing_ok=True)


# --- sampling -----------------------------------------------------------------------------


def _duration_s(container: InputContainer, stream: VideoStream) -> tuple[float, float]:
    """(start, duration) of the stream in seconds; scans packets when headers do not say."""
    start = _seconds(stream.start_time, stream.time_base) or 0.0
    duration = _seconds(stream.duration, stream.time_base)
    if duration is None and container.duration is not None:
        duration = container.duration / av.time_base
    if duration is not None and duration > 0:
        return start, duration
    first: int | None = None
    last: int | None = None
    for packet in _packets(container, [stream], limit=_MAX_LIVE_ELEMENTS):
        if packet.pts is None:
            continue
        first = packet.pts if first is None else min(first, packet.pts)
        end = packet.pts + (packet.duration or 0)
        last = end if last is None else max(last, end)
    if first is None or last is None or stream.time_base is None:
        raise VideoScrubError("malformed", "malformed video: no timestamps")
    container.seek(0)
    return float(first * stream.time_base), float((last - first) * stream.time_base)


def _frame_near(
    container: InputContainer, stream: VideoStream, target: float, deadline: float
) -> VideoFrame | None:
    """The frame on screen at ``target`` seconds, decoding a bounded number of frames."""
    time_base = stream.time_base
    assert time_base is not None
    container.seek(int(target / time_base), stream=stream, backward=True, any_frame=False)
    shown: VideoFrame | None = None
    decoded = 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            if frame.time is None:
                return frame
            if frame.time > target + 1e-6:
                return shown or frame
            shown = frame
            decoded += 1
            if decoded >= _MAX_DECODE_PER_SAMPLE:
                return frame
            if time.monotonic() > deadline:
                raise VideoScrubError("timeout", "sampling took longer than the time budget")
    return shown


def _to_image(frame: VideoFrame, max_side: int) -> Image.Image:
    scale = min(1.0, max_side / max(frame.width, frame.height))
    width = max(1, round(frame.width * scale))
    height = max(1, round(frame.height * scale))
    pixels = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    image = Image.fromarray(pixels)
    rotation = round(frame.rotation / 90) % 4  # counter-clockwise quarter turns
    turns = {
        1: Image.Transpose.ROTATE_90,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_270,
    }
    if rotation:
        image = image.transpose(turns[rotation])
    return image


def sample_frames(
    src: Path | bytes,
    count: int = 5,
    max_side: int = 1600,
    *,
    limits: VideoLimits | None = None,
) -> list[Image.Image]:
    """Decode up to ``count`` frames spread evenly over the video, for face and text checks.

    ``src`` is a file, or the video itself in memory (the custodian opens sealed videos
    without writing their plaintext anywhere). Frames are RGB, turned upright by the display
    matrix, and scaled so the longer side is at
    most ``max_side``; a very short video gives fewer (distinct) frames. Work is bounded: each
    sample seeks to the key frame before it and decodes at most a few hundred frames. Raises
    :class:`VideoScrubError` as :func:`scrub_video` does.
    """
    if not 1 <= count <= _MAX_SAMPLE_COUNT:
        raise ValueError(f"count must be between 1 and {_MAX_SAMPLE_COUNT}, not {count}")
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    sniffed = _sniff(src, limits.max_video_bytes if limits is not None else None)
    deadline = time.monotonic() + _SAMPLE_BUDGET_S
    try:
        with _open_input(src, sniffed) as container:
            stream = _main_video(container)
            if limits is not None:
                _check_video(stream, limits.max_width, limits.max_height)
            else:
                width, height = _check_video(stream, _MAX_DECODE_PIXELS, _MAX_DECODE_PIXELS)
                if width * height > _MAX_DECODE_PIXELS:
                    raise VideoScrubError("too-many-pixels", f"video is {width}x{height}")
            stream.thread_type = "AUTO"
            start, duration = _duration_s(container, stream)
            images: list[Image.Image] = []
            seen: set[int | None] = set()
            for index in range(count):
                target = start + duration * (index + 0.5) / count
                frame = _frame_near(container, stream, target, deadline)
                if frame is None or frame.pts in seen:
                    continue
                seen.add(frame.pts)
                images.append(_to_image(frame, max_side))
            if not images:
                raise VideoScrubError("malformed", "malformed video: no frame could be decoded")
            return images
    except VideoScrubError:
        raise
    except av.error.FFmpegError as exc:
        raise VideoScrubError("malformed", f"malformed video: {_describe(exc)}") from exc
    except Exception as exc:  # fail closed, as in scrub_video
        raise VideoScrubError("malformed", f"malformed video: {_describe(exc)}") from exc
