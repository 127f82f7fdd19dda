"""What each metadata tag says about a person, a place, a device or a time (DEI-1, DEI-2).

The tables behind :mod:`clinphoto.imaging.metadata`: EXIF tags by number, IPTC datasets,
Photoshop resources and PNG text keywords, and :func:`classify_name` for the names that come
as free strings (XMP properties, video metadata keys, PNG keywords we do not know).

A classification is a category and whether the tag identifies on its own. ``technical``
tags (exposure, resolution, colour, file structure) never do; make, model and software
(``device``, not identifying) narrow a photo to a model of camera, not a person; serial
numbers, owner names, places, times, descriptions and embedded pictures do. What no table
or rule recognises is ``other`` and counts as identifying: we cannot say it is harmless.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CATEGORIES",
    "EXIF_POINTERS",
    "EXIF_SKIPPED",
    "EXIF_TAGS",
    "EXIF_TECHNICAL",
    "GPS_POSITION",
    "IDENTIFYING_METADATA",
    "IPTC_DATASETS",
    "METADATA_REASONS",
    "PHOTOSHOP_TECHNICAL",
    "PNG_KEPT",
    "PNG_KEYWORDS",
    "PNG_TECHNICAL",
    "UNSCRUBBED_METADATA",
    "Category",
    "Kind",
    "Rule",
    "classify_name",
]

Category = Literal[
    "location", "person", "device", "date-time", "free-text", "embedded-image", "technical",
    "other",
]  # fmt: skip
CATEGORIES: Final[tuple[Category, ...]] = (
    "location", "person", "device", "date-time", "free-text", "embedded-image", "technical",
    "other",
)  # fmt: skip

# How a verdict's reason about metadata starts (imaging.inspect.with_metadata). Here, with
# no import of Pillow, so that the inspection service can count them in its audit entries.
IDENTIFYING_METADATA: Final = "identifying metadata"
UNSCRUBBED_METADATA: Final = "metadata a scrubbed photo never carries"
METADATA_REASONS: Final = (IDENTIFYING_METADATA, UNSCRUBBED_METADATA)

# How a value is shown: text (first character and length), date (the year), presence only
# ("present": GPS coordinates, numbers), or a byte count.
Kind = Literal["text", "date", "presence", "bytes"]
Rule = tuple[Category, bool, Kind]  # category, identifying on its own, how to show it

_PERSON: Rule = ("person", True, "text")
_TEXT: Rule = ("free-text", True, "text")
_DATE: Rule = ("date-time", True, "date")
_MODEL: Rule = ("device", False, "text")
_SERIAL: Rule = ("device", True, "text")
_PLACE: Rule = ("location", True, "presence")
_PLACE_TEXT: Rule = ("location", True, "text")
_PICTURE: Rule = ("embedded-image", True, "bytes")
_OTHER: Rule = ("other", True, "bytes")
_TECH: Rule = ("technical", False, "presence")

# --- EXIF and TIFF ---------------------------------------------------------------------------

EXIF_POINTERS: Final = frozenset((0x8769, 0x8825, 0xA005))  # Exif, GPS and Interop IFDs
EXIF_SKIPPED: Final = frozenset((0x0112,))  # Orientation: the scrubber keeps it
GPS_POSITION: Final = frozenset((1, 2, 3, 4))  # latitude and longitude with their refs

EXIF_TAGS: Final[dict[int, Rule]] = {
    0x000B: _MODEL,  # ProcessingSoftware
    0x010D: _TEXT,  # DocumentName
    0x010E: _TEXT,  # ImageDescription
    0x010F: _MODEL,  # Make
    0x0110: _MODEL,  # Model
    0x011D: _TEXT,  # PageName
    0x0131: _MODEL,  # Software
    0x0132: _DATE,  # DateTime
    0x013B: _PERSON,  # Artist
    0x013C: _SERIAL,  # HostComputer: often "<name>'s MacBook"
    0x014A: _PICTURE,  # SubIFDs: further pictures (previews, raw data)
    0x0151: _TEXT,  # TargetPrinter
    0x02BC: _OTHER,  # XMP (parsed on its own; this rule only if it is not bytes)
    0x83BB: _OTHER,  # IPTC-NAA
    0x8298: _PERSON,  # Copyright
    0x8649: _OTHER,  # Photoshop image resources
    0x882A: _DATE,  # TimeZoneOffset
    0x9003: _DATE,  # DateTimeOriginal
    0x9004: _DATE,  # DateTimeDigitized
    0x9010: _DATE,  # OffsetTime
    0x9011: _DATE,  # OffsetTimeOriginal
    0x9012: _DATE,  # OffsetTimeDigitized
    0x9213: _TEXT,  # ImageHistory
    0x9286: _TEXT,  # UserComment
    0x927C: ("device", True, "bytes"),  # MakerNote: vendor data with serials and owner names
    0x9290: _DATE,  # SubSecTime
    0x9291: _DATE,  # SubSecTimeOriginal
    0x9292: _DATE,  # SubSecTimeDigitized
    0x9C9B: _TEXT,  # XPTitle
    0x9C9C: _TEXT,  # XPComment
    0x9C9D: _PERSON,  # XPAuthor
    0x9C9E: _TEXT,  # XPKeywords
    0x9C9F: _TEXT,  # XPSubject
    0xA004: _TEXT,  # RelatedSoundFile: a file name
    0xA420: _SERIAL,  # ImageUniqueID
    0xA430: _PERSON,  # CameraOwnerName
    0xA431: _SERIAL,  # BodySerialNumber
    0xA433: _MODEL,  # LensMake
    0xA434: _MODEL,  # LensModel
    0xA435: _SERIAL,  # LensSerialNumber
    0xA436: _TEXT,  # ImageTitle
    0xA437: _PERSON,  # Photographer
    0xA438: _PERSON,  # ImageEditor
    0xA439: _MODEL,  # CameraFirmware
    0xA43A: _MODEL,  # RAWDevelopingSoftware
    0xA43B: _MODEL,  # ImageEditingSoftware
    0xA43C: _MODEL,  # MetadataEditingSoftware
    0xC614: _MODEL,  # UniqueCameraModel
    0xC62F: _SERIAL,  # CameraSerialNumber
    0xC71B: _DATE,  # PreviewDateTime
}

# Tags that describe the picture or the exposure and nothing about a person, a place, a
# device or a time (TIFF baseline and extensions, EXIF 2.32/3.0, Interop).
EXIF_TECHNICAL: Final = frozenset(
    {
        0x0001, 0x0002, 0x00FE, 0x00FF, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0107,
        0x0108, 0x0109, 0x010A, 0x0111, 0x0115, 0x0116, 0x0117, 0x0118, 0x0119, 0x011A,
        0x011B, 0x011C, 0x011E, 0x011F, 0x0120, 0x0121, 0x0122, 0x0123, 0x0124, 0x0125,
        0x0128, 0x0129, 0x012D, 0x013D, 0x013E, 0x013F, 0x0140, 0x0141, 0x0142, 0x0143,
        0x0144, 0x0145, 0x014C, 0x014D, 0x014E, 0x0150, 0x0152, 0x0153, 0x0154, 0x0155,
        0x0156, 0x015B, 0x0200, 0x0201, 0x0202, 0x0211, 0x0212, 0x0213, 0x0214, 0x1000,
        0x1001, 0x1002, 0x4746, 0x4749, 0x828D, 0x828E, 0x829A, 0x829D, 0x8773, 0x8822,
        0x8824, 0x8827, 0x8828, 0x882B, 0x8830, 0x8831, 0x8832, 0x8833, 0x8834, 0x8835,
        0x9000, 0x9101, 0x9102, 0x9201, 0x9202, 0x9203, 0x9204, 0x9205, 0x9206, 0x9207,
        0x9208, 0x9209, 0x920A, 0x920B, 0x920C, 0x920D, 0x920E, 0x920F, 0x9210, 0x9211,
        0x9212, 0x9214, 0x9215, 0x9216, 0x9217, 0x9400, 0x9401, 0x9402, 0x9403, 0x9404,
        0x9405, 0xA000, 0xA001, 0xA002, 0xA003, 0xA20B, 0xA20C, 0xA20E, 0xA20F, 0xA210,
        0xA214, 0xA215, 0xA217, 0xA300, 0xA301, 0xA302, 0xA401, 0xA402, 0xA403, 0xA404,
        0xA405, 0xA406, 0xA407, 0xA408, 0xA409, 0xA40A, 0xA40B, 0xA40C, 0xA432, 0xA460,
        0xA461, 0xA462, 0xA500, 0xC4A5, 0xEA1C, 0xEA1D,
    }
)  # fmt: skip

# --- IPTC IIM (record, dataset) --------------------------------------------------------------

IPTC_DATASETS: Final[dict[tuple[int, int], tuple[str, Rule]]] = {
    (1, 0): ("EnvelopeRecordVersion", _TECH),
    (1, 20): ("FileFormat", _TECH),
    (1, 22): ("FileVersion", _TECH),
    (1, 70): ("DateSent", _DATE),
    (1, 80): ("TimeSent", _DATE),
    (1, 90): ("CodedCharacterSet", _TECH),
    (2, 0): ("ApplicationRecordVersion", _TECH),
    (2, 5): ("ObjectName", _TEXT),
    (2, 7): ("EditStatus", _TEXT),
    (2, 10): ("Urgency", _TECH),
    (2, 12): ("SubjectReference", _TEXT),
    (2, 15): ("Category", _TEXT),
    (2, 20): ("SupplementalCategories", _TEXT),
    (2, 22): ("FixtureIdentifier", _TEXT),
    (2, 25): ("Keywords", _TEXT),
    (2, 26): ("ContentLocationCode", _PLACE_TEXT),
    (2, 27): ("ContentLocationName", _PLACE_TEXT),
    (2, 30): ("ReleaseDate", _DATE),
    (2, 35): ("ReleaseTime", _DATE),
    (2, 37): ("ExpirationDate", _DATE),
    (2, 38): ("ExpirationTime", _DATE),
    (2, 40): ("SpecialInstructions", _TEXT),
    (2, 42): ("ActionAdvised", _TECH),
    (2, 47): ("ReferenceDate", _DATE),
    (2, 55): ("DateCreated", _DATE),
    (2, 60): ("TimeCreated", _DATE),
    (2, 62): ("DigitalCreationDate", _DATE),
    (2, 63): ("DigitalCreationTime", _DATE),
    (2, 65): ("OriginatingProgram", _MODEL),
    (2, 70): ("ProgramVersion", _MODEL),
    (2, 75): ("ObjectCycle", _TECH),
    (2, 80): ("By-line", _PERSON),
    (2, 85): ("By-lineTitle", _PERSON),
    (2, 90): ("City", _PLACE_TEXT),
    (2, 92): ("Sub-location", _PLACE_TEXT),
    (2, 95): ("Province-State", _PLACE_TEXT),
    (2, 100): ("Country-PrimaryLocationCode", _PLACE_TEXT),
    (2, 101): ("Country-PrimaryLocationName", _PLACE_TEXT),
    (2, 103): ("OriginalTransmissionReference", _TEXT),
    (2, 105): ("Headline", _TEXT),
    (2, 110): ("Credit", _PERSON),
    (2, 115): ("Source", _PERSON),
    (2, 116): ("CopyrightNotice", _PERSON),
    (2, 118): ("Contact", _PERSON),
    (2, 120): ("Caption-Abstract", _TEXT),
    (2, 121): ("LocalCaption", _TEXT),
    (2, 122): ("Writer-Editor", _PERSON),
    (2, 130): ("ImageType", _TECH),
    (2, 131): ("ImageOrientation", _TECH),
    (2, 135): ("LanguageIdentifier", _TECH),
    (2, 200): ("ObjectPreviewFileFormat", _TECH),
    (2, 201): ("ObjectPreviewFileVersion", _TECH),
    (2, 202): ("ObjectPreviewData", _PICTURE),
}

# --- Photoshop image resources ---------------------------------------------------------------

# Resolution, print settings, guides, quality, digests, version strings: nothing personal.
PHOTOSHOP_TECHNICAL: Final = frozenset(
    {
        0x03E9, 0x03ED, 0x03EE, 0x03EF, 0x03F0, 0x03F1, 0x03F2, 0x03F3, 0x03F4, 0x03F5,
        0x03F7, 0x03F8, 0x03F9, 0x03FA, 0x03FB, 0x03FC, 0x03FD, 0x03FE, 0x0400, 0x0401,
        0x0402, 0x0405, 0x0406, 0x0408, 0x040A, 0x040D, 0x040E, 0x040F, 0x0410, 0x0411,
        0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, 0x0418, 0x0419, 0x041B, 0x041C,
        0x041D, 0x0420, 0x0421, 0x0425, 0x0426, 0x0428, 0x0429, 0x042A, 0x042B, 0x042D,
        0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437, 0x0438, 0x0439,
        0x043A, 0x043B, 0x043C, 0x2710,
    }
)  # fmt: skip

# --- PNG -------------------------------------------------------------------------------------

# Chunks the PNG scrubber keeps (imaging/png.py): not reported.
PNG_KEPT: Final = frozenset(
    (
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"sBIT", b"sRGB",
        b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"iCCP",
    )
)  # fmt: skip
PNG_TECHNICAL: Final = frozenset((b"hIST", b"oFFs", b"sCAL", b"vpAg", b"iDOT", b"caNv", b"sTER"))
# Registered and common text keywords; any other keyword is free text, its name masked.
PNG_KEYWORDS: Final[dict[str, Rule]] = {
    "Title": _TEXT,
    "Author": _PERSON,
    "Description": _TEXT,
    "Copyright": _PERSON,
    "Creation Time": _DATE,
    "Software": _MODEL,
    "Disclaimer": _TEXT,
    "Warning": _TEXT,
    "Source": _MODEL,
    "Comment": _TEXT,
    "date:create": _DATE,
    "date:modify": _DATE,
    "date:timestamp": _DATE,
    "parameters": _TEXT,
    "Raw profile type icc": _TECH,
    "Raw profile type icm": _TECH,
    "Raw profile type iptc": _OTHER,
    "Raw profile type 8bim": _OTHER,
}

# --- names given as strings: XMP properties, video keys ------------------------------------

# Ordered: the first rule whose words occur in the lower-cased name wins.
_NAME_RULES: tuple[tuple[tuple[str, ...], Rule], ...] = (
    (("thumbnail", "microvideo", "motionphoto", "embeddedimage", "coverart"), _PICTURE),
    (("creatortool", "softwareagent", "originatingprogram"), _MODEL),
    (("serial", "uniqueid", "hostcomputer"), _SERIAL),
    (("documentid", "instanceid", "identifier", "ancestor", "uuid"), _OTHER),
    (
        (
            "owner",
            "artist",
            "author",
            "creator",
            "byline",
            "copyright",
            "rights",
            "credit",
            "contact",
            "person",
            "photographer",
            "editor",
            "writer",
            "publisher",
            "contributor",
            "email",
            "phone",
            "webstatement",
            "ciadr",
            "citel",
            "ciurl",
            "performer",
            "composer",
            "director",
            "producer",
            "nickname",
        ),
        _PERSON,
    ),
    (("date", "when", "timestamp", "timecode", "timezone", "subsec", "offsettime"), _DATE),
    (
        (
            "gps",
            "latitude",
            "longitude",
            "altitude",
            "location",
            "iso6709",
            "geotag",
            "city",
            "country",
            "province",
            "sublocation",
            "worldregion",
        ),
        _PLACE,
    ),
    (
        (
            "description",
            "title",
            "caption",
            "comment",
            "keyword",
            "subject",
            "headline",
            "instruction",
            "note",
            "filename",
            "documentname",
            "event",
            "synopsis",
            "lyrics",
            "album",
            "genre",
            "category",
            "usageterms",
            "transmission",
            "history",
            "text",
        ),
        _TEXT,
    ),
    (("make", "model", "software", "firmware", "lens", "encoder", "vendor"), _MODEL),
)
# Names too short or too common to look for inside longer ones.
_EXACT: dict[str, Rule] = {"state": _PLACE_TEXT, "source": _TEXT, "name": _PERSON}
_TIME_WORDS = ("time", "created")  # "...time" is a date unless it is an exposure or duration
_NOT_TIME = ("exposure", "shutter", "duration", "timescale", "integration", "fps", "rate")


def classify_name(name: str) -> Rule | None:
    """The rule for a property or key named ``name`` (any case, any namespace prefix), or
    None when no rule recognises it."""
    local = name.rsplit(":", 1)[-1].lower().replace("-", "").replace("_", "").replace(" ", "")
    if local in _EXACT:
        return _EXACT[local]
    for words, rule in _NAME_RULES:
        if any(word in local for word in words):
            return rule
    if any(w in local for w in _TIME_WORDS) and not any(w in local for w in _NOT_TIME):
        return _DATE
    return None
