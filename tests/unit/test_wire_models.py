"""The wire formats as typed models (issue 9 §1): what every client builds, the server checks,
and docs/wire/ publishes as JSON Schema."""

from __future__ import annotations

import io
import json
import typing
from pathlib import Path

import pytest
from PIL import Image
from tools import wire_schema

from clinphoto import crypto
from clinphoto.client.capture import reseal_for_share, seal_capture
from clinphoto.client.text import seal_text
from clinphoto.consent.models import Purpose
from clinphoto.core import protocol, wire
from clinphoto.media.service import MAX_MEDIA_BYTES

ID = "ab" * 16


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 120, 100)).save(out, "JPEG")
    return out.getvalue()


def _capture(**kw: object) -> dict[str, object]:
    key, me = crypto.SigningKey.generate(), crypto.AgeIdentity.generate()
    sealed = seal_capture(
        _jpeg(),
        patient_id=ID,
        encounter_id="cd" * 16,
        device_id="ef" * 16,
        signing=key,
        recipients=[me.recipient, crypto.AgeIdentity.generate().recipient],
        **kw,  # type: ignore[arg-type]
    )
    return typing.cast(dict[str, object], json.loads(sealed.manifest_bytes))


def test_the_cli_devices_manifests_match_the_models() -> None:
    me = crypto.AgeIdentity.generate()
    caption = seal_text(
        "caption_sealed", "left forearm", recipients=[me.recipient], patient=None, confirmed=None
    ).fields
    assert isinstance(wire.parse_manifest(_capture()), wire.PhotoManifest)
    forearm = {"system": "http://snomed.info/sct", "code": "14975008", "laterality": "7771000"}
    site = wire.parse_manifest(_capture(body_site=forearm))
    assert isinstance(site, wire.PhotoManifest)
    assert site.body_site is not None
    assert (site.body_site.code, site.body_site.laterality) == ("14975008", "7771000")
    assert wire.parse_manifest(_capture(derived_from="12" * 16, text=caption)).derived_from
    assert isinstance(
        wire.parse_manifest(_capture(consent_id="34" * 16)), wire.ConsentSignatureManifest
    )
    share = reseal_for_share(
        b"x",
        device_id="ef" * 16,
        signing=crypto.SigningKey.generate(),
        recipients=[me.recipient],
        recipient_user_id=ID,
        purpose="clinical_care",
    )
    assert isinstance(wire.parse_manifest(json.loads(share.manifest_bytes)), wire.ShareManifest)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caption": "in the clear"}, "caption"),  # unknown fields are refused
        ({"kind": "video"}, "kind"),
        ({"v": 2}, "v"),
        ({"object_id": "AB" * 16}, "object_id"),
        ({"size": True}, "size"),  # strict: a bool is not a size
        ({"size": MAX_MEDIA_BYTES + 1}, "size"),
        ({"size": "12"}, "size"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["age1notarecipient"]}, "recipients.0"),
        ({"captured_at": "yesterday"}, "captured_at"),
        ({"captured_at": "\uff12\uff10\uff12\uff16-01-01T00:00:00Z"}, "captured_at"),  # fullwidth
        ({"content_type": "image/svg+xml"}, "content_type"),
        ({"text_warnings_confirmed": "because"}, "text_warnings_confirmed"),
        ({"body_site": {"system": "http://snomed.info/sct", "code": "forearm"}}, "body_site.code"),
        (
            {
                "body_site": {
                    "system": "http://snomed.info/sct",
                    "code": "14975008",
                    "laterality": "L",
                }
            },
            "body_site.laterality",
        ),
    ],
)
def test_a_manifest_off_its_model_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    manifest = {**_capture(), **change}
    with pytest.raises(wire.ManifestError) as err:
        wire.parse_manifest(manifest)
    assert err.value.field == field
    assert "in the clear" not in str(err.value)  # never the value: it may be patient data


def test_the_models_agree_with_the_services_lists() -> None:
    assert set(typing.get_args(wire.Purpose)) == {p.value for p in Purpose}
    assert typing.get_args(wire.TextConfirmation) == protocol.TEXT_CONFIRMATIONS


def test_published_json_schemas_are_current() -> None:
    """docs/wire/ is generated: run `python -m tools.wire_schema` after changing a model."""
    for name, text in wire_schema.rendered().items():
        published = Path(wire_schema.OUT / name)
        assert published.read_text(encoding="utf-8") == text, f"docs/wire/{name} is stale"
