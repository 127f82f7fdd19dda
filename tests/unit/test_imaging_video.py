"""Video metadata scrubbing by remux and frame sampling (DEI-1, TRN-3, STO-4).

Every video here is made with PyAV at test time, tagged the way phones and cameras tag them:
container title/comment/artist, creation time, a GPS ``location``, stream handler names and
languages, a QuickTime timecode track, a GoPro-style telemetry data track, a Matroska
attachment. exiftool (when installed) and raw byte searches are the independent oracles.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from clinphoto.imaging.video import VideoInfo, VideoScrubError, sample_frames, scrub_video

needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool is not installed"
)

TITLE = "Dr. Smith examines Jane Doe"
COMMENT = "MRN 1234567 Jane Doe"
ARTIST = "Dr. Smith"
LOCATION = "+45.4215-075.6972/"
CREATED = "2021-03-04T05:06:07.000000Z"
TIMECODE = "01:02:03:04"
TELEMETRY = b"GPS5 +45.4215-075.6972 Dr. Smith telemetry"

# Strings that must not survive anywhere in a scrubbed file.
PLANTED = (
    b"Dr. Smith",
    b"Jane Doe",
    b"1234567",
    b"+45.4215",
    b"45.4215",
    b"2021-03-04",
    b"creation",
    b"GPS5",
    b"gpmd",
    b"tmcd",
    b"patient.txt",
    b"VideoHandler",
    b"SoundHandler",
    b"DataHandler",
)
# The muxer's own name with its version (an encoder tag); bare "Lavf" in Matroska's
# MuxingApp/WritingApp is what bit-exact mode writes and says nothing about the source.
LAVF_VERSION = re.compile(rb"Lavf\d")


@dataclass(frozen=True)
class Limits:
    max_video_bytes: int = 64 * 1024 * 1024
    max_width: int = 8192
    max_height: int = 8192


LIMITS = Limits()


def _needs(*codecs: str) -> None:
    missing = [c for c in codecs if c not in av.codecs_available]
    if missing:
        pytest.skip(f"this PyAV build has no {', '.join(missing)} encoder")


def _frame(i: int, width: int, height: int) -> av.VideoFrame:
    """Frame ``i``: green level 8*i, with a white square that moves, so frames differ."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 1] = (8 * i) % 256
    x, y = (3 * i) % max(1, width - 8), (2 * i) % max(1, height - 8)
    img[y : y + 8, x : x + 8] = 255
    return av.VideoFrame.from_ndarray(img, format="rgb24")


def _make(
    path: Path,
    fmt: str,
    vcodec: str = "mpeg4",
    acodec: str | None = None,
    *,
    frames: int = 10,
    size: tuple[int, int] = (64, 48),
    rotation: int | None = None,
    tagged: bool = True,
    timecode: bool = False,
    telemetry: bool = False,
    attachment: bool = False,
    subtitle: str | None = None,
    muxer_options: dict[str, str] | None = None,
    gop: int | None = None,
) -> Path:
    """Write a small tagged video; return its path."""
    _needs(vcodec, *([acodec] if acodec else []))
    width, height = size
    with av.open(str(path), "w", format=fmt, options=muxer_options or {}) as out:
        if tagged:
            out.metadata.update(
                {
                    "title": TITLE,
                    "comment": COMMENT,
                    "artist": ARTIST,
                    "creation_time": CREATED,
                    "location": LOCATION,
                    "encoder": "Dr. Smith's phone",
                }
            )
        video = out.add_stream(vcodec, rate=10)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if gop is not None:
            video.options = {"g": str(gop)}
        if rotation is not None:
            video.set_display_rotation(rotation)
        if tagged:
            video.metadata.update(
                {"handler_name": "Dr. Smith camera", "language": "fra", "title": "Jane Doe"}
            )
        if timecode:
            video.metadata["timecode"] = TIMECODE
        audio = out.add_stream(acodec, rate=48000) if acodec else None
        if audio is not None and tagged:
            audio.metadata.update({"handler_name": "Dr. Smith mic", "language": "eng"})
        data = out.add_data_stream("bin_data") if telemetry else None
        if data is not None:
            data.time_base = Fraction(1, 10)
            data.metadata["handler_name"] = "Dr. Smith GPS"
        caption = out.add_mux_stream(subtitle) if subtitle else None
        if caption is not None:
            caption.time_base = Fraction(1, 1000)
        if attachment:
            out.add_attachment("patient.txt", "text/plain", b"Jane Doe MRN 1234567")
            out.set_chapters(
                [
                    {
                        "id": 1,
                        "start": 0,
                        "end": frames,
                        "time_base": Fraction(1, 10),
                        "metadata": {"title": "Jane Doe wound, Dr. Smith"},
                    }
                ]
            )
        for i in range(frames):
            frame = _frame(i, width, height)
            frame.pts = i
            out.mux(video.encode(frame))
            if caption is not None and i == 0:
                text = b"Jane Doe, bed 12"
                if subtitle == "mov_text":
                    text = len(text).to_bytes(2, "big") + text
                cue = av.Packet(text)
                cue.stream = caption
                cue.pts = cue.dts = 0
                cue.duration = 1000
                cue.time_base = Fraction(1, 1000)
                out.mux(cue)
            if data is not None:
                packet = av.Packet(TELEMETRY + b" %d" % i)
                packet.stream = data
                packet.pts = packet.dts = i
                packet.time_base = Fraction(1, 10)
                out.mux(packet)
        out.mux(video.encode(None))
        if audio is not None:
            samples = audio.codec_context.frame_size or 1024
            pts = 0
            while pts < 48000 * frames // 10:
                chunk = av.AudioFrame.from_ndarray(
                    np.zeros((2, samples), np.float32), format="fltp", layout="stereo"
                )
                chunk.sample_rate, chunk.pts = 48000, pts
                pts += samples
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))
    return path


def _packets(path: Path) -> dict[str, list[tuple[bytes, float | None]]]:
    """Payload and pts (seconds) of every packet, per stream type, in file order."""
    found: dict[str, list[tuple[bytes, float | None]]] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size == 0 and packet.pts is None:
                continue
            pts = None if packet.pts is None else float(packet.pts * packet.time_base)
            found.setdefault(packet.stream.type, []).append((bytes(packet), pts))
    return found


def _stream_types(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [s.type for s in container.streams]


def _decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _rotation(path: Path) -> int:
    with av.open(str(path)) as container:
        return round(next(container.decode(video=0)).rotation)


def _exiftool(path: Path) -> list[tuple[str, Any]]:
    """All tags exiftool finds, duplicates kept, as (group:name, value) pairs."""
    run = subprocess.run(
        ["exiftool", "-j", "-a", "-u", "-G1", "-ee", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    pairs: list[tuple[str, Any]] = json.loads(run.stdout, object_pairs_hook=list)[0]
    return [(k, v) for k, v in pairs if not k.startswith(("System:", "ExifTool:", "SourceFile"))]


def _assert_nothing_planted(path: Path) -> None:
    data = path.read_bytes()
    for needle in PLANTED:
        assert needle not in data, needle
    assert not LAVF_VERSION.search(data)


def _scrub(src: Path, tmp_path: Path, name: str = "out") -> tuple[Path, VideoInfo]:
    dst = tmp_path / f"{name}{src.suffix}"
    return dst, scrub_video(src, dst, LIMITS)


def _leftovers(directory: Path, *expected: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p not in expected)


# --- the fixtures really carry what we mean to remove ---------------------------------


@needs_exiftool
def test_dei1_fixture_really_carries_the_metadata(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mov", "mov", telemetry=False, timecode=True)
    tags = dict(_exiftool(src))
    assert tags["ItemList:Title" if "ItemList:Title" in tags else "UserData:Title"] == TITLE
    assert any("GPS" in k for k in tags)
    assert any("Dr. Smith" in str(v) for v in tags.values())
    assert b"+45.4215" in src.read_bytes()
    assert "data" in _stream_types(src)  # the timecode track


# --- what is removed --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec", "acodec"),
    [
        ("mp4", ".mp4", "libx264", "aac"),
        ("mov", ".mov", "libx264", "aac"),
        ("mp4", ".mp4", "mpeg4", None),
        ("webm", ".webm", "libvpx-vp9", "libopus"),
        ("webm", ".webm", "libvpx", None),
    ],
)
def test_dei1_scrub_leaves_no_planted_bytes(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str, acodec: str | None
) -> None:
    src = _make(tmp_path / f"in{suffix}", fmt, vcodec, acodec)
    assert TITLE.encode() in src.read_bytes()
    dst, info = _scrub(src, tmp_path)
    _assert_nothing_planted(dst)
    assert info.container == fmt
    assert info.video_codec == {"libx264": "h264", "libvpx-vp9": "vp9", "libvpx": "vp8"}.get(
        vcodec, vcodec
    )
    assert info.audio_codecs == (
        () if acodec is None else ({"libopus": "opus"}.get(acodec, acodec),)
    )


@needs_exiftool
@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec", "acodec"),
    [
        ("mp4", ".mp4", "libx264", "aac"),
        ("mov", ".mov", "libx264", "aac"),
        ("webm", ".webm", "libvpx-vp9", "libopus"),
    ],
)
def test_dei1_exiftool_finds_nothing_identifying(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str, acodec: str
) -> None:
    src = _make(tmp_path / f"in{suffix}", fmt, vcodec, acodec)
    dst, _ = _scrub(src, tmp_path)
    tags = _exiftool(dst)
    groups = {k.split(":")[0] for k, _ in tags}
    assert groups <= {"File", "QuickTime", "Matroska", "Track1", "Track2", "Composite"}, groups
    banned = re.compile(
        r"GPS|Location|Title|Artist|Author|Comment|Encoder|Software|Make|Model|Copyright"
        r"|HandlerDescription|Keys|TimeCode|DateTimeOriginal|Name$"
    )
    for key, value in tags:
        assert not banned.search(key.split(":")[1]), (key, value)
        for needle in ("Dr. Smith", "Jane Doe", "1234567", "45.42", "2021"):
            assert needle not in str(value), (key, value)
        if key.endswith("Date"):  # mvhd/tkhd/mdhd times are written as zero
            assert value == "0000:00:00 00:00:00", (key, value)
        if key.endswith(("MuxingApp", "WritingApp")):
            assert value == "Lavf", (key, value)


@needs_exiftool
def test_dei1_mov_timecode_track_is_dropped(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mov", "mov", timecode=True)
    assert _stream_types(src) == ["video", "data"]
    dst, info = _scrub(src, tmp_path)
    assert _stream_types(dst) == ["video"]
    assert info.video_frames == 10
    _assert_nothing_planted(dst)
    assert not [k for k, _ in _exiftool(dst) if "TimeCode" in k or k.startswith("Track2")]


@needs_exiftool
def test_dei1_telemetry_data_track_is_dropped(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", "mp4", "mpeg4", "aac", telemetry=True)
    assert _stream_types(src) == ["video", "audio", "data"]
    assert TELEMETRY in src.read_bytes()
    dst, _ = _scrub(src, tmp_path)
    assert _stream_types(dst) == ["video", "audio"]
    _assert_nothing_planted(dst)
    assert not [k for k, _ in _exiftool(dst) if k.startswith("Track3") or "MetaFormat" in k]


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec", "subtitle"),
    [("mp4", ".mp4", "mpeg4", "mov_text"), ("matroska", ".mkv", "libvpx", "subrip")],
)
def test_dei1_subtitle_track_is_dropped(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str, subtitle: str
) -> None:
    src = _make(tmp_path / f"in{suffix}", fmt, vcodec, subtitle=subtitle)
    assert _stream_types(src) == ["video", "subtitle"]
    assert b"bed 12" in src.read_bytes()
    dst, _ = _scrub(src, tmp_path)
    assert _stream_types(dst) == ["video"]
    assert b"bed 12" not in dst.read_bytes()
    _assert_nothing_planted(dst)


def test_dei1_matroska_attachment_and_chapters_are_dropped_and_webm_written(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mkv", "matroska", "libvpx-vp9", "libopus", attachment=True)
    assert "attachment" in _stream_types(src)
    assert b"patient.txt" in src.read_bytes()
    with av.open(str(src)) as container:
        assert container.chapters()
    dst, info = _scrub(src, tmp_path)
    with av.open(str(dst)) as container:
        assert not container.chapters()
    assert info.container == "webm"
    assert _stream_types(dst) == ["video", "audio"]
    _assert_nothing_planted(dst)
    with av.open(str(dst)) as container:
        assert container.format.name == "matroska,webm"
    assert dst.read_bytes()[:64].find(b"webm") > 0  # DocType


def test_dei1_matroska_with_h264_stays_matroska(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mkv", "matroska", "libx264", "aac")
    dst, info = _scrub(src, tmp_path)
    assert info.container == "mkv"
    assert b"matroska" in dst.read_bytes()[:64]
    _assert_nothing_planted(dst)
    assert _packets(dst)["video"] == _packets(src)["video"]


# --- what is kept -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec", "acodec"),
    [
        ("mp4", ".mp4", "libx264", "aac"),
        ("mov", ".mov", "libx264", "aac"),
        ("mp4", ".mp4", "mpeg4", None),
        ("webm", ".webm", "libvpx-vp9", "libopus"),
    ],
)
def test_dei1_packets_are_byte_identical_and_timing_kept(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str, acodec: str | None
) -> None:
    src = _make(tmp_path / f"in{suffix}", fmt, vcodec, acodec, frames=30, gop=5)
    dst, info = _scrub(src, tmp_path)
    before, after = _packets(src), _packets(dst)
    assert set(after) == ({"video", "audio"} if acodec else {"video"})
    for kind in after:
        assert [p for p, _ in after[kind]] == [p for p, _ in before[kind]], kind
        for (_, t0), (_, t1) in zip(before[kind], after[kind], strict=True):
            assert t0 is not None
            assert t1 is not None
            assert abs(t0 - t1) < 1e-3
    assert _decoded_frames(dst) == _decoded_frames(src) == 30
    assert info.video_frames == 30
    assert info.duration_s == pytest.approx(3.0, abs=0.11)
    assert (info.width, info.height) == (64, 48)
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        assert a.duration is not None
        assert b.duration is not None
        assert abs(a.duration - b.duration) <= 110_000  # microseconds: one frame


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec"),
    [("mp4", ".mp4", "libx264"), ("mov", ".mov", "mpeg4"), ("webm", ".webm", "libvpx-vp9")],
)
def test_dei1_rotation_is_preserved(tmp_path: Path, fmt: str, suffix: str, vcodec: str) -> None:
    src = _make(tmp_path / f"in{suffix}", fmt, vcodec, rotation=90)
    assert _rotation(src) == 90
    dst, _ = _scrub(src, tmp_path)
    assert _rotation(dst) == 90


def test_dei1_scrub_is_idempotent_on_packets(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", "mp4", "libx264", "aac")
    once, _ = _scrub(src, tmp_path, "once")
    twice, _ = _scrub(once, tmp_path, "twice")
    assert _packets(once) == _packets(twice)


def test_dei1_live_webm_without_cues_or_duration(tmp_path: Path) -> None:
    """A browser recorder's WebM: unknown sizes, no duration, no cues."""
    src = _make(
        tmp_path / "in.webm", "webm", "libvpx", frames=30, muxer_options={"live": "1"}, gop=5
    )
    dst, info = _scrub(src, tmp_path)
    assert info.video_frames == 30
    assert info.duration_s == pytest.approx(3.0, abs=0.11)
    assert [p for p, _ in _packets(dst)["video"]] == [p for p, _ in _packets(src)["video"]]
    assert len(sample_frames(src, 3)) == 3


def test_dei1_badly_encoded_metadata_is_no_error_and_is_removed(tmp_path: Path) -> None:
    src = tmp_path / "in.mp4"
    with av.open(str(src), "w", format="mp4", metadata_encoding="latin-1") as out:
        out.metadata["title"] = "Jos\xe9 Doe"
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = _frame(i, 64, 48)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert b"Jos\xe9 Doe" in src.read_bytes()
    dst, info = _scrub(src, tmp_path)
    assert info.video_frames == 3
    assert b"Doe" not in dst.read_bytes()


def test_dei1_fragmented_mp4_from_a_browser_recorder(tmp_path: Path) -> None:
    """Safari's MediaRecorder writes fragmented MP4: an empty moov, then moof/mdat pairs."""
    src = _make(
        tmp_path / "in.mp4",
        "mp4",
        "libx264",
        "aac",
        frames=30,
        gop=5,
        muxer_options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    )
    assert b"moof" in src.read_bytes()
    dst, info = _scrub(src, tmp_path)
    assert info.video_frames == 30
    before, after = _packets(src), _packets(dst)
    for kind in ("video", "audio"):
        assert [p for p, _ in after[kind]] == [p for p, _ in before[kind]]
    _assert_nothing_planted(dst)
    src.write_bytes(src.read_bytes()[:-100])
    _assert_refused(src, tmp_path, "truncated")


def test_dei1_dst_is_replaced_and_private(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", "mp4")
    dst = tmp_path / "out.mp4"
    dst.write_bytes(b"old")
    scrub_video(src, dst, LIMITS)
    assert dst.read_bytes()[4:8] == b"ftyp"
    assert dst.stat().st_mode & 0o077 == 0
    assert _leftovers(tmp_path, src, dst) == []


# --- what is refused --------------------------------------------------------------------


def _assert_refused(src: Path, tmp_path: Path, *reasons: str) -> VideoScrubError:
    dst = tmp_path / "refused.out"
    started = time.monotonic()
    with pytest.raises(VideoScrubError) as caught:
        scrub_video(src, dst, LIMITS)
    assert time.monotonic() - started < 10
    if reasons:
        assert caught.value.reason in reasons, (caught.value.reason, str(caught.value))
    assert not dst.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert src.name not in str(caught.value)  # messages name the problem, not the file
    return caught.value


def test_trn3_rejects_random_bytes(tmp_path: Path) -> None:
    src = tmp_path / "noise.mp4"
    src.write_bytes(random.Random(1).randbytes(4096))
    _assert_refused(src, tmp_path, "unsupported-format")


def test_trn3_rejects_empty_file(tmp_path: Path) -> None:
    src = tmp_path / "empty.mp4"
    src.write_bytes(b"")
    _assert_refused(src, tmp_path, "unsupported-format")


def test_trn3_rejects_missing_file(tmp_path: Path) -> None:
    _assert_refused(tmp_path / "nothing.mp4", tmp_path, "io-error")


@pytest.mark.parametrize("seed", range(5))
def test_trn3_rejects_random_bytes_after_a_valid_mp4_header(tmp_path: Path, seed: int) -> None:
    src = tmp_path / "garbage.mp4"
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    src.write_bytes(ftyp + random.Random(seed).randbytes(8192))
    _assert_refused(src, tmp_path, "malformed", "truncated")


def test_trn3_rejects_a_valid_moov_followed_by_garbage_boxes(tmp_path: Path) -> None:
    good = _make(tmp_path / "in.mp4", "mp4").read_bytes()
    src = tmp_path / "garbage.mp4"
    src.write_bytes(good + random.Random(2).randbytes(5000))
    _assert_refused(src, tmp_path, "malformed", "truncated")


@pytest.mark.parametrize("seed", range(5))
def test_trn3_rejects_random_bytes_after_a_valid_ebml_header(tmp_path: Path, seed: int) -> None:
    good = _make(tmp_path / "in.webm", "webm", "libvpx").read_bytes()
    src = tmp_path / "garbage.webm"
    src.write_bytes(good[:40] + random.Random(seed).randbytes(8192))
    _assert_refused(src, tmp_path, "malformed", "truncated", "no-video")


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec", "options"),
    [
        ("mp4", ".mp4", "libx264", None),
        ("mp4", ".mp4", "libx264", {"movflags": "+faststart"}),
        ("mov", ".mov", "mpeg4", None),
        ("webm", ".webm", "libvpx-vp9", None),
    ],
)
def test_trn3_rejects_truncated_files(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str, options: dict[str, str] | None
) -> None:
    good = _make(
        tmp_path / f"in{suffix}",
        fmt,
        vcodec,
        "aac" if fmt != "webm" else "libopus",
        muxer_options=options,
    ).read_bytes()
    src = tmp_path / f"cut{suffix}"
    for cut in [*range(8, len(good), max(1, len(good) // 40)), len(good) - 1]:
        src.write_bytes(good[:cut])
        _assert_refused(src, tmp_path, "truncated", "malformed")


def test_trn3_truncated_live_webm_never_hangs_or_leaves_files(tmp_path: Path) -> None:
    """With unknown element sizes a cut at a block boundary looks complete: what is there is
    copied; any other cut is refused."""
    good = _make(
        tmp_path / "in.webm", "webm", "libvpx", frames=20, muxer_options={"live": "1"}
    ).read_bytes()
    src, dst = tmp_path / "cut.webm", tmp_path / "out.webm"
    src.write_bytes(good[:-3])  # inside the last block
    _assert_refused(src, tmp_path, "truncated")
    for cut in range(8, len(good), max(1, len(good) // 40)):
        src.write_bytes(good[:cut])
        try:
            info = scrub_video(src, dst, LIMITS)
        except VideoScrubError:
            assert not dst.exists()
        else:
            assert info.video_frames <= 20
            _assert_nothing_planted(dst)
            dst.unlink()
        assert _leftovers(tmp_path, src) == ["in.webm"]


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec"),
    [("mp4", ".mp4", "libx264"), ("mov", ".mov", "mpeg4"), ("webm", ".webm", "libvpx-vp9")],
)
def test_trn3_corrupted_files_fail_cleanly_or_scrub(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str
) -> None:
    good = _make(tmp_path / f"in{suffix}", fmt, vcodec, frames=20).read_bytes()
    rng = random.Random(fmt)
    src, dst = tmp_path / f"bad{suffix}", tmp_path / f"out{suffix}"
    for _ in range(40):
        damaged = bytearray(good)
        for _ in range(rng.randint(1, 16)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        src.write_bytes(bytes(damaged))
        started = time.monotonic()
        try:
            scrub_video(src, dst, LIMITS)
        except VideoScrubError:
            assert not dst.exists()
        else:
            assert _stream_types(dst) == ["video"]
            dst.unlink()
        with contextlib.suppress(VideoScrubError):
            sample_frames(src, 3)
        assert time.monotonic() - started < 10
        assert _leftovers(tmp_path, src) == [f"in{suffix}"]


def test_dei1_rejects_file_over_the_size_limit(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", "mp4")
    dst = tmp_path / "out.mp4"
    with pytest.raises(VideoScrubError) as caught:
        scrub_video(src, dst, Limits(max_video_bytes=src.stat().st_size - 1))
    assert caught.value.reason == "too-large"
    assert not dst.exists()


@pytest.mark.parametrize("limits", [Limits(max_width=63), Limits(max_height=47)])
def test_dei1_rejects_frames_over_the_dimension_limits(tmp_path: Path, limits: Limits) -> None:
    src = _make(tmp_path / "in.mp4", "mp4")
    dst = tmp_path / "out.mp4"
    with pytest.raises(VideoScrubError) as caught:
        scrub_video(src, dst, limits)
    assert caught.value.reason == "too-many-pixels"
    assert not dst.exists()
    with pytest.raises(VideoScrubError):
        sample_frames(src, limits=limits)


def test_dei1_rejects_motion_jpeg_whose_frames_carry_exif(tmp_path: Path) -> None:
    _needs("mjpeg")
    src = tmp_path / "in.mov"
    with av.open(str(src), "w", format="mov") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for i in range(3):
            frame = _frame(i, 64, 48).reformat(format="yuvj420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    _assert_refused(src, tmp_path, "unsupported-codec")


def test_dei1_rejects_audio_only_file(tmp_path: Path) -> None:
    _needs("aac")
    src = tmp_path / "in.mp4"
    with av.open(str(src), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48000)
        samples = stream.codec_context.frame_size or 1024
        for pts in range(0, 48000, samples):
            chunk = av.AudioFrame.from_ndarray(
                np.zeros((2, samples), np.float32), format="fltp", layout="stereo"
            )
            chunk.sample_rate, chunk.pts = 48000, pts
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    _assert_refused(src, tmp_path, "no-video")


def test_dei1_rejects_heif_image(tmp_path: Path) -> None:
    src = tmp_path / "in.heic"
    ftyp = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    src.write_bytes(ftyp + b"\x00\x00\x00\x08moov")
    _assert_refused(src, tmp_path, "unsupported-format")


def test_dei1_rejects_other_ebml_doctypes(tmp_path: Path) -> None:
    src = tmp_path / "in.webm"
    doctype = b"\x42\x82\x84abcd"
    src.write_bytes(b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype + bytes(64))
    _assert_refused(src, tmp_path, "unsupported-format")


def test_dei1_scrub_error_is_a_value_error_with_reason() -> None:
    error = VideoScrubError("malformed", "bad")
    assert isinstance(error, ValueError)
    assert error.reason == "malformed"
    assert str(error) == "bad"


# --- frame sampling ---------------------------------------------------------------------


def _frame_indices(src: Path, images: list[Any]) -> list[int]:
    """Which decoded frame of ``src`` each sampled image is: the closest one, pixel-wise."""
    with av.open(str(src)) as container:
        reference = [f.to_image() for f in container.decode(video=0)]
    found = []
    for image in images:
        sample = np.asarray(image, dtype=np.int16)
        errors = [
            np.abs(np.asarray(r.resize(image.size), dtype=np.int16) - sample).mean()
            for r in reference
        ]
        found.append(int(np.argmin(errors)))
    return found


def test_dei2_sample_frames_spread_over_the_video(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", "mp4", "libx264", frames=30, gop=10, size=(320, 240))
    images = sample_frames(src, count=5, max_side=100)
    assert len(images) == 5
    assert all(im.mode == "RGB" and im.size == (100, 75) for im in images)
    # Targets 0.3, 0.9, 1.5, 2.1 and 2.7 s are frames 3, 9, 15, 21 and 27.
    assert _frame_indices(src, images) == [3, 9, 15, 21, 27]


@pytest.mark.parametrize(
    ("fmt", "suffix", "vcodec"), [("mp4", "mp4", "libx264"), ("webm", "webm", "libvpx-vp9")]
)
def test_dei2_sample_frames_from_memory_match_the_file(
    tmp_path: Path, fmt: str, suffix: str, vcodec: str
) -> None:
    """The custodian passes the opened video as bytes, so no plaintext touches the disk."""
    src = _make(tmp_path / f"in.{suffix}", fmt, vcodec, frames=30, gop=10, size=(320, 240))
    from_file = sample_frames(src, count=3)
    from_memory = sample_frames(src.read_bytes(), count=3)
    assert [im.tobytes() for im in from_memory] == [im.tobytes() for im in from_file]
    with pytest.raises(VideoScrubError):
        sample_frames(b"\x00\x00\x00\x18ftypisom" + bytes(100))


def test_dei2_sample_frames_keeps_small_frames_and_turns_them_upright(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.webm", "webm", "libvpx-vp9", rotation=90)
    images = sample_frames(src, count=2)
    assert [im.size for im in images] == [(48, 64), (48, 64)]


def test_dei2_sample_frames_gives_distinct_frames_of_a_short_video(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mov", "mov", frames=3)
    images = sample_frames(src, count=10)
    assert _frame_indices(src, images) == [0, 1, 2]


def test_dei2_sample_frames_rejects_garbage_and_bad_arguments(tmp_path: Path) -> None:
    src = tmp_path / "noise.webm"
    src.write_bytes(random.Random(3).randbytes(2048))
    with pytest.raises(VideoScrubError):
        sample_frames(src)
    good = _make(tmp_path / "in.mp4", "mp4")
    with pytest.raises(ValueError):
        sample_frames(good, count=0)
    with pytest.raises(ValueError):
        sample_frames(good, max_side=0)
