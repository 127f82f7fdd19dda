"""Media routes: streamed upload of sealed objects, metadata, and download of ciphertext."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from clinphoto.accounts.service import Principal
from clinphoto.api.deps import Auth, Inst, ObjectId
from clinphoto.api.errors import CONFLICT
from clinphoto.core import protocol, wire
from clinphoto.core.errors import DomainError, Invalid
from clinphoto.imaging.metadata_tags import METADATA_REASONS
from clinphoto.inspection import service as inspection
from clinphoto.instance.runtime import Instance
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
from clinphoto.sharing import grants
from clinphoto.storage.blobs import BlobError, StoredBlob

router = APIRouter(prefix="/v1", tags=["media"])


class MediaOut(BaseModel):
    id: str
    kind: str
    patient_id: str
    encounter_id: str
    consent_id: str
    author_user_id: str
    author_device_id: str
    size: int
    plaintext_sha256: str
    ciphertext_sha256: str
    content_type: str
    manifest: str
    signature: str
    created_at: datetime
    sealed_text_grants: dict[str, str] = Field(
        default_factory=dict,
        description="For a caption, message or patient details sealed in the manifest that "
        "your device is not among the recipients of: the grant header (base64) that opens "
        "it on your device, by field (caption_sealed, message_sealed, patient_sealed); put "
        "it in front of the sealed text's payload (decision 011)",
    )

    @classmethod
    def of(cls, m: Media, text_grants: dict[str, str] | None = None) -> MediaOut:
        return cls(
            id=m.id,
            kind=m.kind,
            patient_id=m.patient_id,
            encounter_id=m.encounter_id,
            consent_id=m.consent_id,
            author_user_id=m.author_user_id,
            author_device_id=m.author_device_id,
            size=m.size,
            plaintext_sha256=m.plaintext_sha256,
            ciphertext_sha256=m.blob_sha256,
            content_type=m.content_type,
            manifest=m.manifest,
            signature=m.signature,
            created_at=m.created_at,
            sealed_text_grants=text_grants or {},
        )


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its local ``#/$defs/...`` references replaced by the definitions,
    so it stands alone inside an OpenAPI parameter (where ``#/`` means the whole document)."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def sealed_upload_openapi(model: type[BaseModel], what: str) -> dict[str, Any]:
    """OpenAPI for a sealed upload: the signed manifest and its signature travel in headers
    (its decoded JSON is ``model``; docs/wire/manifest.schema.json), the body is the age
    ciphertext, streamed."""
    return {
        "parameters": [
            {
                "name": protocol.MANIFEST_HEADER,
                "in": "header",
                "required": True,
                "description": f"The {what} manifest: base64url (with padding) of its "
                "canonical JSON (keys sorted, no spaces, non-ASCII as \\uXXXX escapes); "
                "at most 16 KiB decoded. Unknown fields are refused.",
                "schema": {
                    "type": "string",
                    "contentEncoding": "base64url",
                    "contentMediaType": "application/json",
                    "contentSchema": _inlined(model.model_json_schema()),
                },
            },
            {
                "name": protocol.SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "description": "Ed25519 signature of the manifest's decoded bytes by the "
                "session's device, base64url of the 64 bytes",
                "schema": {"type": "string", "maxLength": 100},
            },
        ],
        "requestBody": {
            "required": True,
            "description": "The age v1 ciphertext (starts with age-encryption.org/v1), exactly "
            "the manifest's size and ciphertext_sha256",
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "contentMediaType": "application/octet-stream"}
                }
            },
        },
    }


def read_signed_manifest(request: Request) -> tuple[bytes, dict[str, Any], str]:
    """The manifest's signed bytes, the parsed manifest, and the signature, from headers."""
    try:
        manifest_bytes, manifest = protocol.read_manifest_header(
            request.headers.get(protocol.MANIFEST_HEADER, "")
        )
    except ValueError:
        raise Invalid(f"missing or malformed {protocol.MANIFEST_HEADER} header") from None
    return manifest_bytes, manifest, request.headers.get(protocol.SIGNATURE_HEADER, "")


async def store_body(
    request: Request, inst: Instance, plan: media_service.UploadPlan
) -> StoredBlob:
    """Stream the request body into the blob store: age only, within the declared size and
    hash. No database transaction is open while the bytes arrive."""
    writer = inst.blobs.writer(max_bytes=plan.size)
    try:
        async for chunk in request.stream():
            writer.write(chunk)
        if not writer.head.startswith(protocol.AGE_MAGIC):
            raise Invalid("the upload is not an age-encrypted object")
        blob: StoredBlob = await run_in_threadpool(writer.finish, plan.ciphertext_sha256)
    except BlobError as exc:
        writer.abort()
        raise Invalid(str(exc)) from None
    except BaseException:
        writer.abort()
        raise
    return blob


async def _sealed_upload(
    request: Request,
    principal: Principal,
    inst: Instance,
    check: Callable[[Session, bytes, dict[str, Any], str], media_service.UploadPlan],
) -> Media:
    """The one path for every sealed object: check the signed manifest in a short
    transaction, stream the body with no transaction open, then record it. The media
    service decides and audits each step."""
    manifest_bytes, manifest, signature = read_signed_manifest(request)

    def checked() -> media_service.UploadPlan:
        with inst.unit_of_work() as db:
            return check(db, manifest_bytes, manifest, signature)

    plan = await run_in_threadpool(checked)
    try:
        blob = await store_body(request, inst, plan)
    except DomainError as exc:

        def failed(error: DomainError) -> None:
            with inst.unit_of_work() as db:
                media_service.upload_failed(db, principal=principal, plan=plan, error=error)

        await run_in_threadpool(failed, exc)
        raise

    def recorded() -> Media:
        with discarded_if_refused(inst, blob), inst.unit_of_work() as db:
            return media_service.record_capture(
                db, principal=principal, plan=plan, blob=blob, jurisdiction=inst.blobs.jurisdiction
            )

    return await run_in_threadpool(recorded)


@contextlib.contextmanager
def discarded_if_refused(inst: Instance, blob: StoredBlob) -> Iterator[None]:
    """A body stored, then refused (outside Canada without consent, TRN-2): deleted again."""
    try:
        yield
    except DomainError:
        with inst.unit_of_work() as db:
            media_service.discard_unrecorded(db, inst.blobs, blob.sha256)
        raise


@router.post(
    "/media",
    status_code=201,
    responses=CONFLICT,
    summary="Upload a sealed object: signed manifest in headers, age ciphertext as the body",
    openapi_extra=sealed_upload_openapi(wire.PhotoManifest, "photo"),
)
async def upload(request: Request, principal: Auth, inst: Inst) -> MediaOut:
    def check(
        db: Session, manifest_bytes: bytes, manifest: dict[str, Any], signature: str
    ) -> media_service.UploadPlan:
        return media_service.check_upload(
            db,
            principal=principal,
            records_recipient=inst.keys.records.recipient,
            manifest_bytes=manifest_bytes,
            manifest=manifest,
            signature=signature,
        )

    return MediaOut.of(await _sealed_upload(request, principal, inst, check))


@router.post(
    "/consents/{consent_id}/signature",
    status_code=201,
    responses=CONFLICT,
    tags=["consent"],
    summary="Attach the patient's signature image to a consent, sealed like a photo (CON-3)",
    openapi_extra=sealed_upload_openapi(wire.ConsentSignatureManifest, "consent signature"),
)
async def upload_signature(
    consent_id: ObjectId, request: Request, principal: Auth, inst: Inst
) -> MediaOut:
    def check(
        db: Session, manifest_bytes: bytes, manifest: dict[str, Any], signature: str
    ) -> media_service.UploadPlan:
        return media_service.check_signature_upload(
            db,
            principal=principal,
            records_recipient=inst.keys.records.recipient,
            consent_id=consent_id,
            manifest_bytes=manifest_bytes,
            manifest=manifest,
            signature=signature,
        )

    return MediaOut.of(await _sealed_upload(request, principal, inst, check))


def _readable(inst: Instance, principal: Principal, media_id: str, purpose: str) -> Media:
    with inst.unit_of_work() as db:
        return media_service.readable(db, principal=principal, media_id=media_id, purpose=purpose)


Purpose = Annotated[
    str,
    Query(
        max_length=32,
        description="Why you look: clinical_care, education, research or publication; the "
        "consent must cover it",
    ),
]


@router.get("/media/{media_id}", summary="A media object's signed manifest (states a purpose)")
def get_media(media_id: ObjectId, purpose: Purpose, principal: Auth, inst: Inst) -> MediaOut:
    with inst.unit_of_work() as db:
        m = media_service.readable(db, principal=principal, media_id=media_id, purpose=purpose)
        texts = grants.text_grants(db, principal.device, [m]).get(m.id)
        return MediaOut.of(m, texts)


@router.get(
    "/media/{media_id}/content",
    summary="Download the sealed object (states a purpose)",
    description="The stored age file; for a device enrolled after the object was sealed, "
    "its grant's header followed by the stored payload (decision 011). Check the plaintext "
    "against the manifest's plaintext_sha256.",
    response_class=StreamingResponse,
)
def get_content(
    media_id: ObjectId, purpose: Purpose, principal: Auth, inst: Inst
) -> StreamingResponse:
    with inst.unit_of_work() as db:
        m = media_service.readable(db, principal=principal, media_id=media_id, purpose=purpose)
        grant = grants.grant_for(db, principal.device, m, grants.CONTENT)
        sha = m.blob_sha256
    chunks: Iterator[bytes] = grants.with_grant(grant, inst.blobs.open(sha))
    return StreamingResponse(chunks, media_type="application/octet-stream")


class InspectionFindings(BaseModel):
    faces: int = Field(description="Regions found that are faces")
    text: int = Field(description="Regions found that hold text or identifiers")
    metadata: bool = Field(description="The file carried metadata the scrubber removes")


class InspectionOut(BaseModel):
    media_id: str
    status: str = Field(
        description="pending, done, failed or quarantined (failed and quarantined count as "
        "identifiable; a quarantined photo can never be shared: capture it again)"
    )
    identifiable: bool
    reasons: list[str]
    regions: list[dict[str, Any]] = Field(description="kind, box [x, y, w, h] and score")
    inspector: str
    inspected_at: datetime | None
    findings: InspectionFindings = Field(
        description="What the reasons say, counted, for an app to say it in the user's language"
    )


@router.get(
    "/media/{media_id}/inspection",
    summary="The custodian's verdict on a photo: identifiable or not, with regions (DEI-2)",
)
def get_inspection(
    media_id: ObjectId, purpose: Purpose, principal: Auth, inst: Inst
) -> InspectionOut:
    m = _readable(inst, principal, media_id, purpose)
    with inst.unit_of_work() as db:
        v = inspection.verdict(db, m)
    return InspectionOut(
        media_id=m.id,
        status=v.status,
        identifiable=v.identifiable,
        reasons=v.reasons,
        regions=v.regions,
        inspector=v.inspector,
        inspected_at=v.inspected_at,
        findings=InspectionFindings(
            faces=sum(1 for r in v.regions if r.get("kind") == "face"),
            text=sum(1 for r in v.regions if r.get("kind") == "text"),
            metadata=any(reason.startswith(METADATA_REASONS) for reason in v.reasons),
        ),
    )
