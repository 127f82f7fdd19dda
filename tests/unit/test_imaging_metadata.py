"""The metadata report: what a file carries, masked, and what identifies (DEI-1, DEI-2).

Files are made here with real metadata: Pillow writes EXIF (with a GPS IFD), PNG text and
WebP/HEIF EXIF and XMP; exiftool writes XMP, IPTC, comments and thumbnails into them; a few
segments and chunks are spliced in by hand where no tool writes them (an unknown APP
segment, a comment between two scans, a PNG tIME). Every test checks that the values
themselves never appear in the report.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import av
import pillow_heif
import pytest
from PIL import Image, PngImagePlugin

from clinphoto.imaging.inspect import Inspection, with_metadata
from clinphoto.imaging.metadata import (
    MAX_BLOCKS,
    MAX_TEXT_BYTES,
    MetadataFinding,
    describe,
    identifying_metadata,
    metadata_of_file,
)
from clinphoto.imaging.metadata_blocks import MAX_FINDINGS
from clinphoto.imaging.scrub import scrub_bytes, scrub_file

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")

NAME = "Marguerite Tremblay"
SERIAL = "CAM-0042-7781"
LENS_SERIAL = "LNS-99120"
TAKEN = "2019:07:14 09:30:05"
PLACE = (45.0, 30.0, 12.0)


def _picture(size: tuple[int, int] = (160, 120)) -> Image.Image:
    image = Image.new("RGB", size, (196, 152, 128))
    image.paste((120, 40, 40), (40, 30, 120, 90))
    return image


def _exif(*, orientation: int = 1, identifying: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS 5D Mark IV", "Firmware 1.2.3"
    if orientation != 1:
        exif[0x0112] = orientation
    if identifying:
        exif[0x013B] = NAME  # Artist
        exif[0x010E] = "left forearm, MRN 4417302"  # ImageDescription
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = TAKEN  # DateTimeOriginal
        sub[0xA431] = SERIAL  # BodySerialNumber
        sub[0xA435] = LENS_SERIAL  # LensSerialNumber
        sub[0xA430] = "Dr Anne Gagnon"  # CameraOwnerName
        sub[0x829A] = 0.008  # ExposureTime: technical
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", PLACE, "W", (73.0, 34.0, 5.0)
        gps[29] = "2019:07:14"
    return exif


def _jpeg(exif: Image.Exif | None = None, **save: object) -> bytes:
    out = io.BytesIO()
    _picture().save(out, "JPEG", quality=90, exif=exif.tobytes() if exif else b"", **save)
    return out.getvalue()


def _with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment right after SOI."""
    segment = bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _with_chunk(png: bytes, kind: bytes, payload: bytes) -> bytes:
    """``png`` with one more chunk before IEND."""
    return png[:-12] + _png_chunk(kind, payload) + png[-12:]


def _exiftool(path: Path, *args: str) -> None:
    assert EXIFTOOL is not None
    subprocess.run(
        [EXIFTOOL, "-q", "-q", "-overwrite_original", *args, str(path)], check=True, timeout=60
    )


def _report(findings: list[MetadataFinding]) -> str:
    return json.dumps([f.to_json() for f in findings], ensure_ascii=False) + describe(findings)


def _find(findings: list[MetadataFinding], where: str, tag: str) -> MetadataFinding:
    matches = [f for f in findings if f.where == where and f.tag == tag]
    assert matches, f"no {where} {tag} in {[f.label for f in findings]}"
    return matches[0]


# --- EXIF --------------------------------------------------------------------------------------


def test_dei2_exif_gps_names_serials_and_dates_are_reported_masked() -> None:
    found = identifying_metadata(_jpeg(_exif()))

    assert _find(found, "EXIF GPS", "position").preview == "present"
    assert _find(found, "EXIF GPS", "position").category == "location"
    artist = _find(found, "EXIF", "Artist")
    assert (artist.category, artist.preview, artist.identifying) == (
        "person",
        f"M… ({len(NAME)} characters)",
        True,
    )
    assert _find(found, "EXIF", "CameraOwnerName").category == "person"
    for tag in ("BodySerialNumber", "LensSerialNumber"):
        serial = _find(found, "EXIF", tag)
        assert (serial.category, serial.identifying) == ("device", True)
    taken = _find(found, "EXIF", "DateTimeOriginal")
    assert (taken.category, taken.preview) == ("date-time", "2019 (year only)")
    assert _find(found, "EXIF GPS", "GPSDateStamp").category == "date-time"
    assert _find(found, "EXIF", "ImageDescription").category == "free-text"

    text = _report(found)
    for secret in (NAME, "Tremblay", SERIAL, LENS_SERIAL, "07:14", "Gagnon", "4417302", "45.0"):
        assert secret not in text


def test_dei2_make_model_and_software_are_reported_but_do_not_identify() -> None:
    found = identifying_metadata(_jpeg(_exif(identifying=False)))
    assert {f.tag for f in found} == {"Make", "Model", "Software"}
    assert all(f.category == "device" and not f.identifying for f in found)
    assert "EOS 5D" not in _report(found)


def test_dei2_blank_values_are_not_findings() -> None:
    exif = Image.Exif()
    exif[0x013B] = "   "
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b" " * 20  # UserComment
    assert identifying_metadata(_jpeg(exif)) == []


@needs_exiftool
def test_dei2_exif_thumbnail_and_maker_note_are_reported(tmp_path: Path) -> None:
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(_jpeg())
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_jpeg(_exif(identifying=False)))
    _exiftool(photo, f"-ThumbnailImage<={thumb}")
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif.get_ifd(0x8769)[0x927C] = b"\x00\x05OwnerName=" + NAME.encode()  # MakerNote
    found = identifying_metadata(photo.read_bytes()) + identifying_metadata(_jpeg(exif))

    thumbnail = _find(found, "EXIF", "embedded thumbnail")
    assert (thumbnail.category, thumbnail.identifying) == ("embedded-image", True)
    maker = _find(found, "EXIF", "MakerNote")
    assert (maker.category, maker.identifying) == ("device", True)
    assert maker.preview.endswith("bytes")
    assert "Tremblay" not in _report(found)


def test_dei2_malformed_exif_is_reported_not_raised() -> None:
    broken = [
        b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\x01\x3b\x00\x02\x00\x00\x00\x40",
        b"Exif\x00\x00II\x2a\x00\xff\xff\xff\x7f",  # IFD0 past the end
        b"Exif\x00\x00garbage that is no TIFF header",
    ]
    for payload in broken:
        found = identifying_metadata(_with_segment(_jpeg(), 0xE1, payload))
        unreadable = [f for f in found if "unreadable" in f.tag]
        assert unreadable, found
        assert all(f.category == "other" and f.identifying for f in unreadable)
        assert unreadable[0].preview == f"{len(payload)} bytes that could not be read"


def test_dei2_an_ifd_chain_that_loops_costs_nothing() -> None:
    """IFD0's next-IFD pointer points at IFD0 itself: read twice at most, never followed."""
    tiff = (
        b"MM\x00\x2a\x00\x00\x00\x08"
        + struct.pack(">H", 1)
        + struct.pack(">HHI4s", 0x013B, 2, 4, b"Ann\x00")
        + struct.pack(">I", 8)  # next IFD: itself
    )
    started = time.perf_counter()
    found = identifying_metadata(_with_segment(_jpeg(), 0xE1, b"Exif\x00\x00" + tiff))
    assert time.perf_counter() - started < 5  # generous: a loop would never return
    assert _find(found, "EXIF", "Artist").category == "person"


# --- JPEG segments ----------------------------------------------------------------------------


@needs_exiftool
def test_dei2_xmp_iptc_and_comments_written_by_exiftool_are_reported(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_jpeg())
    _exiftool(
        photo,
        f"-XMP-dc:Creator={NAME}",
        "-XMP-dc:Description=Pressure ulcer, bed 12",
        "-XMP-photoshop:City=Rimouski",
        "-XMP-exif:GPSLatitude=45.5",
        "-XMP-exif:GPSLatitudeRef=N",
        "-XMP-xmp:CreateDate=2019:07:14 09:30:05",
        "-XMP-aux:SerialNumber=" + SERIAL,
        f"-IPTC:By-line={NAME}",
        "-IPTC:Keywords=wound care",
        "-IPTC:City=Rimouski",
        "-IPTC:DateCreated=2019:07:14",
        "-Comment=seen by Dr Gagnon",
    )
    found = identifying_metadata(photo.read_bytes())

    assert _find(found, "XMP", "dc:creator").category == "person"
    assert _find(found, "XMP", "dc:description").category == "free-text"
    assert _find(found, "XMP", "photoshop:City").category == "location"
    assert _find(found, "XMP", "exif:GPSLatitude").category == "location"
    assert _find(found, "XMP", "xmp:CreateDate").preview == "2019 (year only)"
    assert _find(found, "XMP", "aux:SerialNumber").identifying
    assert _find(found, "IPTC", "By-line").category == "person"
    assert _find(found, "IPTC", "Keywords").category == "free-text"
    assert _find(found, "IPTC", "City").category == "location"
    assert _find(found, "IPTC", "DateCreated").category == "date-time"
    assert _find(found, "JPEG COM", "comment").category == "free-text"
    text = _report(found)
    for secret in (NAME, "Tremblay", "Rimouski", "bed 12", SERIAL, "Gagnon", "wound care"):
        assert secret not in text


def test_dei2_unknown_segments_are_reported_with_their_size_fail_closed() -> None:
    payload = b"CLINIC\x00" + NAME.encode()
    found = identifying_metadata(_with_segment(_jpeg(), 0xE5, payload))
    segment = _find(found, "JPEG APP5", "segment")
    assert (segment.category, segment.identifying) == ("other", True)
    assert segment.preview == f"{len(payload)} bytes"
    assert "CLINIC" not in _report(found)
    assert "Tremblay" not in _report(found)


def test_dei2_a_comment_between_two_scans_is_found() -> None:
    """Pillow reads the segments before the first scan only; the walk to EOI finds this."""
    progressive = _jpeg(progressive=True)
    second_scan = progressive.index(b"\xff\xda", progressive.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe" + struct.pack(">H", len(NAME) + 2) + NAME.encode()
    found = identifying_metadata(progressive[:second_scan] + comment + progressive[second_scan:])
    assert _find(found, "JPEG COM", "comment").preview == f"M… ({len(NAME)} characters)"


def test_dei2_second_pictures_and_data_after_the_picture_are_reported() -> None:
    mpo = io.BytesIO()
    _picture().save(mpo, "MPO", save_all=True, append_images=[_picture((80, 60))])
    found = identifying_metadata(mpo.getvalue())
    assert _find(found, "MPF", "picture 2").category == "embedded-image"
    assert not [f for f in found if f.where == "JPEG trailer"]  # the MPF accounts for it

    movie = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08mdat" * 50
    found = identifying_metadata(_jpeg() + movie)
    assert _find(found, "JPEG trailer", "video after the end of the image").preview == (
        f"{len(movie)} bytes"
    )
    found = identifying_metadata(_jpeg() + b"patient Tremblay")
    assert _find(found, "JPEG trailer", "data after the end of the image").identifying
    assert identifying_metadata(_jpeg() + b"\x00" * 64) == []  # padding is not data


# --- PNG, WebP, GIF, TIFF, HEIF ---------------------------------------------------------------


def test_dei2_png_text_time_exif_and_unknown_chunks_are_reported() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    info.add_text("Description", "sacral wound, MRN 4417302", zip=True)
    info.add_itxt("Comment", "seen by Dr Gagnon", zip=True)
    info.add_text("Patient", "Tremblay")  # a keyword of its own
    out = io.BytesIO()
    _picture().save(out, "PNG", pnginfo=info, exif=_exif().tobytes())
    png = _with_chunk(out.getvalue(), b"tIME", struct.pack(">HBBBBB", 2019, 7, 14, 9, 30, 5))
    png = _with_chunk(png, b"prVt", b"clinic data " * 10)
    found = identifying_metadata(png)

    assert _find(found, "PNG tEXt", "Author").category == "person"
    assert _find(found, "PNG zTXt", "Description").category == "free-text"
    assert _find(found, "PNG iTXt", "Comment").category == "free-text"
    assert _find(found, "PNG tEXt", "keyword P… (7 characters)").category == "free-text"
    assert _find(found, "PNG tIME", "modification time").preview == "2019 (year only)"
    assert _find(found, "EXIF GPS", "position").category == "location"
    assert _find(found, "PNG", "prVt chunk").preview == "120 bytes"
    text = _report(found)
    for secret in (NAME, "Tremblay", "4417302", "Gagnon", "Patient", "clinic data"):
        assert secret not in text


def test_dei2_compressed_text_is_inflated_only_up_to_the_cap() -> None:
    bomb = zlib.compress(b"A" * (64 * MAX_TEXT_BYTES), 9)  # 64 MiB of text in about 64 KB
    out = io.BytesIO()
    _picture().save(out, "PNG")
    png = _with_chunk(out.getvalue(), b"zTXt", b"Comment\x00\x00" + bomb)
    found = identifying_metadata(png)
    assert _find(found, "PNG zTXt", "Comment").preview == f"A… ({MAX_TEXT_BYTES} characters)"
    assert _find(found, "PNG zTXt", "compressed text not fully read (over the size cap)")


def test_dei2_webp_exif_and_xmp_chunks_are_reported() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
        b' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreateDate="2019-07-14T09:30:05">'
        b"<dc:creator><rdf:Seq><rdf:li>" + NAME.encode() + b"</rdf:li><rdf:li>Dr Anne Gagnon"
        b"</rdf:li></rdf:Seq></dc:creator>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    _picture().save(out, "WEBP", exif=_exif().tobytes(), xmp=xmp)
    found = identifying_metadata(out.getvalue())
    assert _find(found, "EXIF", "Artist").category == "person"
    assert _find(found, "XMP", "dc:creator").preview == f"M… ({len(NAME)} characters); 2 values"
    assert _find(found, "XMP", "xmp:CreateDate").preview == "2019 (year only)"
    assert NAME not in _report(found)
    assert "Gagnon" not in _report(found)


def test_dei2_gif_comments_and_application_extensions_are_reported() -> None:
    out = io.BytesIO()
    _picture().convert("P").save(out, "GIF", comment=NAME.encode())
    gif = out.getvalue()
    vendor = b"\x21\xff\x0bCLINICDATA1" + b"\x08Tremblay" + b"\x00"
    found = identifying_metadata(gif[:-1] + vendor + gif[-1:])
    assert _find(found, "GIF", "comment").category == "free-text"
    assert _find(found, "GIF", "application extension").preview == "19 bytes"  # id + data
    assert "Tremblay" not in _report(found)


def test_dei2_tiff_tags_and_a_second_page_are_reported(tmp_path: Path) -> None:
    out = io.BytesIO()
    _picture().save(out, "TIFF", exif=_exif(), save_all=True, append_images=[_picture()])
    found = identifying_metadata(out.getvalue())
    assert _find(found, "TIFF", "Artist").category == "person"
    assert _find(found, "TIFF", "second picture (IFD1)").category == "embedded-image"
    technical = _find(found, "TIFF", "camera and format settings")
    assert not technical.identifying  # strips, sizes, compression: listed, not identifying
    if EXIFTOOL is not None:  # the EXIF and GPS IFDs of a TIFF, which Pillow does not write
        tiff = tmp_path / "scan.tif"
        tiff.write_bytes(out.getvalue())
        _exiftool(tiff, f"-ExifIFD:SerialNumber={SERIAL}", "-GPSLatitude=45.5")
        found = identifying_metadata(tiff.read_bytes())
        assert _find(found, "EXIF", "BodySerialNumber").identifying
        assert _find(found, "EXIF GPS", "position").category == "location"
        assert SERIAL not in _report(found)


def test_dei2_heif_exif_xmp_and_further_pictures_are_reported() -> None:
    heif = pillow_heif.from_pillow(_picture())
    heif.add_from_pillow(_picture((64, 48)))
    out = io.BytesIO()
    xmp = b'<x:xmpmeta><rdf:Description photoshop:City="Rimouski"/></x:xmpmeta>'
    heif.save(out, exif=_exif().tobytes(), xmp=xmp)
    found = identifying_metadata(out.getvalue())
    assert _find(found, "EXIF", "Artist").category == "person"
    assert _find(found, "XMP", "photoshop:City").category == "location"
    assert _find(found, "HEIF", "further pictures").preview == "1"
    assert "Rimouski" not in _report(found)


@pytest.mark.parametrize(("name", "codec"), [("consult.mp4", "mpeg4"), ("consult.webm", "libvpx")])
def test_dei2_video_container_tags_are_reported(tmp_path: Path, name: str, codec: str) -> None:
    video = tmp_path / name
    with av.open(str(video), "w") as container:
        container.metadata.update(
            {"title": "Tremblay wound", "artist": NAME, "location": "+45.5017-073.5673/"}
        )
        stream = container.add_stream(codec, rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (40 * i, 0, 0)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    found = metadata_of_file(video)
    tags = {f.tag.lower(): f for f in found if f.where == "video container"}  # MKV: upper case
    assert tags["title"].category == "free-text"
    assert tags["artist"].category == "person"
    assert tags["location"].preview == "present"
    assert "Tremblay" not in _report(found)
    assert "45.50" not in _report(found)
    assert {f.label for f in identifying_metadata(video.read_bytes())} == {f.label for f in found}

    scrub_file(video, tmp_path / "clean")
    assert metadata_of_file(tmp_path / "clean") == []


# --- what the scrubber leaves, and bounds -------------------------------------------------------


def test_dei1_scrubbed_files_report_nothing_and_keep_their_orientation() -> None:
    exif = _exif(orientation=6)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    originals: dict[str, bytes] = {"jpeg": _jpeg(exif, comment=NAME.encode())}
    for name, options in (
        ("png", {"pnginfo": info, "exif": exif.tobytes()}),
        ("webp", {"exif": exif.tobytes(), "lossless": True}),
        ("gif", {"comment": NAME.encode()}),
        ("tiff", {"exif": exif}),
    ):
        out = io.BytesIO()
        picture = _picture().convert("P") if name == "gif" else _picture()
        picture.save(out, name.upper(), **options)
        originals[name] = out.getvalue()
    for name, original in originals.items():
        assert any(f.identifying for f in identifying_metadata(original)), name
        clean = scrub_bytes(original).data
        assert identifying_metadata(clean) == [], name
        if name in ("jpeg", "png", "webp"):
            with Image.open(io.BytesIO(clean)) as image:
                assert image.getexif().get(0x0112) == 6, name  # kept, and not reported


def test_dei2_xmp_is_read_linearly_and_deep_nesting_is_bounded() -> None:
    deep = b"<x:xmpmeta>" + b"<a:b>" * 200_000 + b"text" + b"</a:b>" * 200_000 + b"</x:xmpmeta>"
    started = time.perf_counter()
    found = identifying_metadata(
        _with_segment(_jpeg(), 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + deep[:65000])
    )
    assert time.perf_counter() - started < 10  # generous: a backtracking parser takes minutes
    assert any(f.where == "XMP" for f in found)


def test_dei2_a_flood_of_blocks_gives_a_short_report_quickly() -> None:
    out = io.BytesIO()
    _picture().save(out, "PNG")
    png = out.getvalue()
    flood = png[:-12] + _png_chunk(b"zzZz", b"x") * 250_000 + png[-12:]
    found = identifying_metadata(flood)
    assert [(f.label, f.preview) for f in found] == [
        ("PNG zzZz chunk", f"1 byte, and {MAX_BLOCKS - 3} more"),  # IHDR, IDAT counted too
        ("PNG chunks not read (too many)", f"{len(flood)} bytes"),
    ]
    properties = b"".join(b"<v:p%d>value</v:p%d>" % (i, i) for i in range(2 * MAX_FINDINGS))
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + properties + b"</x:xmpmeta>"
    found = identifying_metadata(_with_segment(_jpeg(), 0xE1, xmp))
    assert len(found) == MAX_FINDINGS + 1
    assert (found[-1].label, found[-1].preview) == ("file further findings", f"{MAX_FINDINGS} more")
    assert found[-1].identifying


def test_dei2_unrecognised_data_is_itself_a_finding() -> None:
    [finding] = identifying_metadata(b"%PDF-1.7 not a picture")
    assert (finding.category, finding.identifying) == ("other", True)
    assert finding.tag == "not read (unsupported-format)"


# --- the verdict -----------------------------------------------------------------------------


def _clean_inspection() -> Inspection:
    return Inspection(faces=[], text=[], caption_findings=[], identifiable=False, reasons=[])


def test_dei2_identifying_metadata_makes_a_photo_identifiable_with_a_reason() -> None:
    found = identifying_metadata(_jpeg(_exif()))
    result = with_metadata(_clean_inspection(), found)
    assert result.identifiable
    [reason] = result.reasons
    assert reason.startswith("identifying metadata: EXIF GPS position, EXIF Artist, ")
    assert reason.endswith("(the scrubber removes it: run clinphoto scrub)")
    assert "EXIF BodySerialNumber" in describe(found, limit=100)
    assert "note: metadata that does not identify on its own: EXIF Make" in " ".join(
        result.to_json("x.jpg")["reasons"]
    )
    assert result.to_json("x.jpg")["metadata"] == [f.to_json() for f in found]
    assert NAME not in json.dumps(result.to_json("x.jpg"))


def test_dei2_make_and_model_alone_leave_a_photo_not_identifiable_except_for_the_custodian() -> (
    None
):
    found = identifying_metadata(_jpeg(_exif(identifying=False)))
    relaxed = with_metadata(_clean_inspection(), found)
    assert not relaxed.identifiable
    assert relaxed.reasons == []
    assert relaxed.notes
    strict = with_metadata(_clean_inspection(), found, strict=True, advice="device did not scrub")
    assert strict.identifiable
    [reason] = strict.reasons
    assert reason.startswith("metadata a scrubbed photo never carries: EXIF ")
    assert reason.endswith(" (device did not scrub)")
    named = reason.split(": ", 1)[1].rsplit(" (", 1)[0].split(", ")
    assert sorted(named) == ["EXIF Make", "EXIF Model", "EXIF Software"]
