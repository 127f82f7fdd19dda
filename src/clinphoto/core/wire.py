"""The wire formats that clients sign and the server checks, as typed models.

Every client (the CLI device, the phone web app) builds these objects and the server
validates each one against the same model; ``python -m tools.wire_schema`` exports them as
JSON Schema into ``docs/wire/``, and ``tests/vectors/`` holds cases that the Python and the
TypeScript test suites both check. The canonical bytes that are signed are
:func:`clinphoto.core.protocol.encode_manifest` of the object.

A manifest is sent base64url in the ``X-Clinphoto-Manifest`` header with its Ed25519
signature, base64url, in ``X-Clinphoto-Signature``; the body is the age ciphertext.
Unknown fields are refused: a field a server does not know could carry anything, so a new
field means a new ``v``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
AgeRecipient = Annotated[str, StringConstraints(pattern=r"^age1[02-9ac-hj-np-z]{58}$")]
Timestamp = Annotated[
    str,
    StringConstraints(
        max_length=40,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
    ),
]
SealedText = Annotated[
    str,
    StringConstraints(max_length=12 * 1024, pattern=r"^[A-Za-z0-9+/]+={0,2}$"),
    Field(description="base64 of an age ciphertext to the object's own recipients (TRN-3)"),
]
WarningKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{1,40}$")]

MAX_MEDIA_BYTES = 256 * 1024 * 1024
MediaType = Literal[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
]


# Why a photo is taken, shared or looked at; a consent names the purposes it covers.
Purpose = Literal["clinical_care", "education", "research", "publication"]
# Why a sender kept text that the device warned about (TRN-3): protocol.TEXT_CONFIRMATIONS.
TextConfirmation = Literal["patient-requested", "clinically-necessary", "false-positive"]


# SNOMED CT laterality qualifiers: left, right, right and left.
Laterality = Literal["7771000", "24028007", "51440002"]


class BodySite(BaseModel):
    """Where on the body a photo was taken (BEY-2): a SNOMED CT body structure concept, with
    laterality where the structure is paired. Not an identifier, so it travels in the clear
    and the FHIR export can carry it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    system: Literal["http://snomed.info/sct"]
    code: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5,17}$")] = Field(
        description="SNOMED CT concept id of a body structure"
    )
    laterality: Laterality | None = None


class _Signed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    v: Literal[1] = Field(description="Format version")
    object_id: Hex32 = Field(description="Random id made by the device; names nothing")
    content_type: MediaType = Field(description="Of the plaintext, after scrubbing")
    device_id: Hex32 = Field(description="The signing device: the session's own device")
    plaintext_sha256: Hex64
    ciphertext_sha256: Hex64
    size: int = Field(ge=1, le=MAX_MEDIA_BYTES, description="Bytes of ciphertext")
    recipients: list[AgeRecipient] = Field(
        min_length=1, max_length=64, description="Every age recipient, sorted"
    )
    text_warnings: list[WarningKind] | None = Field(
        default=None, max_length=32, description="Kinds of identifier found in the text"
    )
    text_warnings_confirmed: TextConfirmation | None = None


class PhotoManifest(_Signed):
    """A photo or video captured in an encounter (POST /v1/media), or a redacted version
    of one (``derived_from``)."""

    kind: Literal["photo"]
    patient_id: Hex32
    encounter_id: Hex32
    captured_at: Timestamp
    derived_from: Hex32 | None = Field(default=None, description="The photo this redacts")
    body_site: BodySite | None = None
    caption_sealed: SealedText | None = None


class ConsentSignatureManifest(_Signed):
    """The patient's drawn signature on a consent (POST /v1/consents/{id}/signature, CON-3)."""

    kind: Literal["consent-signature"]
    patient_id: Hex32
    encounter_id: Hex32
    consent_id: Hex32
    captured_at: Timestamp


class ShareManifest(_Signed):
    """A photo re-sealed for one recipient's devices and the records key (TRN-4)."""

    kind: Literal["share"]
    recipient_user_id: Hex32
    purpose: Purpose
    sent_at: Timestamp
    message_sealed: SealedText | None = None
    patient_sealed: SealedText | None = Field(
        default=None,
        description="The patient's name, date of birth and record numbers as JSON, sealed to "
        "the recipients: the inbox says which patient without the server",
    )


Manifest = Annotated[
    PhotoManifest | ConsentSignatureManifest | ShareManifest, Field(discriminator="kind")
]
_MANIFEST: TypeAdapter[PhotoManifest | ConsentSignatureManifest | ShareManifest] = TypeAdapter(
    Manifest
)


class Ack(BaseModel):
    """A recipient device's signature over :func:`protocol.ack_message` (POST
    /v1/shares/{id}/ack)."""

    model_config = ConfigDict(extra="forbid")
    signature: str = Field(max_length=100, description="Ed25519, base64url")


class SignIn(BaseModel):
    """POST /v1/sessions: the password and the device's signature over
    :func:`protocol.login_message` (``clinphoto-login-v1``, device id, lower-cased email and
    this timestamp, joined by U+001F)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    device_id: str = Field(max_length=32)
    timestamp: str = Field(max_length=40, description="ISO-8601 UTC, within 2 minutes of now")
    signature: str = Field(max_length=100, description="Ed25519 signature, base64url")


class ManifestError(ValueError):
    """The manifest does not match its model; ``field`` names the first field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"manifest field {field!r}: {message}")
        self.field = field


def parse_manifest(
    manifest: dict[str, Any],
) -> PhotoManifest | ConsentSignatureManifest | ShareManifest:
    """The typed manifest, or :class:`ManifestError` naming the field at fault (never its
    value: it may be patient data)."""
    try:
        return _MANIFEST.validate_python(manifest)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"][1:] or first["loc"]) or "kind"
        message = "not allowed" if first["type"] == "extra_forbidden" else first["msg"]
        raise ManifestError(field, message) from None


def schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each wire format, by file name (docs/wire/)."""
    return {
        "manifest.schema.json": _MANIFEST.json_schema(),
        "ack.schema.json": Ack.model_json_schema(),
        "sign-in.schema.json": SignIn.model_json_schema(),
    }
