"""The signed upload manifest has a size and a nesting limit, checked before anything else
(issue #7); the JSON of request bodies is parsed only once its depth is known."""

from __future__ import annotations

import json

import pytest

from clinphoto.core import boundedjson, protocol


def _header(manifest: object) -> str:
    return protocol.manifest_header(json.dumps(manifest).encode())


def test_an_ordinary_manifest_is_read() -> None:
    manifest = {"object_id": "0" * 32, "recipients": ["age1" + "q" * 58] * 20}
    raw, parsed = protocol.read_manifest_header(_header(manifest))
    assert parsed == manifest
    assert raw == json.dumps(manifest).encode()


def test_manifest_larger_than_the_limit_is_malformed() -> None:
    big = {"caption_sealed": "A" * protocol.MAX_MANIFEST_BYTES}
    with pytest.raises(ValueError, match="too large"):
        protocol.read_manifest_header(_header(big))
    with pytest.raises(ValueError, match="too large"):
        protocol.read_manifest_header("A" * (10 * protocol.MAX_MANIFEST_BYTES))


def test_manifest_nested_deeper_than_the_limit_is_malformed() -> None:
    deep: object = "x"
    for _ in range(protocol.MAX_MANIFEST_DEPTH - 1):
        deep = [deep]
    assert protocol.read_manifest_header(_header({"a": deep}))[1] == {"a": deep}  # at the limit
    with pytest.raises(ValueError, match="nested deeper"):
        protocol.read_manifest_header(_header({"a": [deep]}))
    # Deep enough to exhaust the parser's stack, yet small: refused, not a RecursionError.
    header = protocol.manifest_header(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError):
        protocol.read_manifest_header(header[: protocol.MAX_MANIFEST_BYTES])


@pytest.mark.parametrize("value", ["not base64 ☃", "!!!!", ""])
def test_malformed_manifest_header_is_a_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        protocol.read_manifest_header(value)


def test_depth_ignores_brackets_inside_strings() -> None:
    assert boundedjson.depth(b'{"a": "[[[[{{{{", "b": ["\\"]]]"]}') == 2
    assert boundedjson.loads(b'{"a": "[[[["}', max_depth=1) == {"a": "[[[["}


def test_depth_is_checked_before_the_parser_recurses() -> None:
    with pytest.raises(boundedjson.TooDeep):
        boundedjson.loads(b"[" * 200_000 + b"]" * 200_000, max_depth=32)
    assert boundedjson.loads(b"[" * 32 + b"]" * 32, max_depth=32) is not None


def test_bre5_a_full_status_report_fits_the_json_body_limit() -> None:
    """A device holding the most captures a report may list still gets its report through:
    the list's bound and the server's body limit agree (a report over it would be 413)."""
    from clinphoto.core.config import Settings

    held = [{"patient_id": "f" * 32, "encounter_id": "e" * 32, "media_id": "d" * 32}]
    body = {
        "device_id": "a" * 32,
        "time": "2026-11-30T06:00:00.000000Z",
        "locked": True,
        "locked_since": "2026-11-30T05:00:00.000000Z",
        "holding": held * protocol.MAX_STATUS_HOLDING,
        "signature": "A" * 88,
    }
    size = len(json.dumps(body).encode())  # as httpx and the browser send it
    assert size < Settings.model_fields["max_json_body"].default
