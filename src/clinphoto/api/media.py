"""Media routes: streamed upload of sealed objects, metadata, and download of ciphertext."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from clinphoto.accounts.service import Principal
from clinphoto.api.deps import Auth, Inst
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action, Outcome
from clinphoto.core import protocol
from clinphoto.core.errors import DomainError, Invalid
from clinphoto.instance.runtime import Instance
from clinphoto.media import service as media_service
from clinphoto.media.models import Media
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

    @classmethod
    def of(cls, m: Media) -> MediaOut:
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
        )


def audit_denied(
    inst: Instance,
    principal: Principal,
    action: Action,
    object_id: str,
    exc: DomainError,
    purpose: str = "",
) -> None:
    with inst.unit_of_work() as db:
        audit.append(
            db,
            inst.audit_keys,
            action=action,
            outcome=Outcome.DENIED,
            actor=principal.user.id,
            device=principal.device.id,
            object_type="media",
            object_id=object_id[:64],
            purpose=purpose[:32],
            details={"reason": exc.code},
        )


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


@router.post(
    "/media",
    status_code=201,
    summary="Upload a sealed object: signed manifest in headers, age ciphertext as the body",
)
async def upload(request: Request, principal: Auth, inst: Inst) -> MediaOut:
    manifest_bytes, manifest, signature = read_signed_manifest(request)
    object_id = str(manifest.get("object_id", ""))

    def check() -> media_service.UploadPlan:
        with inst.unit_of_work() as db:
            return media_service.check_upload(
                db,
                principal=principal,
                records_recipient=inst.keys.records.recipient,
                manifest_bytes=manifest_bytes,
                manifest=manifest,
                signature=signature,
            )

    try:
        plan = await run_in_threadpool(check)
    except DomainError as exc:
        await run_in_threadpool(audit_denied, inst, principal, Action.MEDIA_UPLOAD, object_id, exc)
        raise

    blob = await store_body(request, inst, plan)

    def record() -> Media:
        with inst.unit_of_work() as db:
            stored = media_service.record_upload(db, plan, blob, inst.blobs.jurisdiction)
            audit.append(
                db,
                inst.audit_keys,
                action=Action.MEDIA_UPLOAD,
                actor=principal.user.id,
                device=principal.device.id,
                patient_ref=stored.patient_id,
                object_type="media",
                object_id=stored.id,
                purpose=media_service.CAPTURE_PURPOSE,
                details={"consent": stored.consent_id, "size": stored.size},
            )
            return stored

    return MediaOut.of(await run_in_threadpool(record))


def _readable(inst: Instance, principal: Principal, media_id: str, purpose: str) -> Media:
    try:
        with inst.unit_of_work() as db:
            m = media_service.readable(db, principal=principal, media_id=media_id, purpose=purpose)
            audit.append(
                db,
                inst.audit_keys,
                action=Action.MEDIA_VIEW,
                actor=principal.user.id,
                device=principal.device.id,
                patient_ref=m.patient_id,
                object_type="media",
                object_id=m.id,
                purpose=purpose,
            )
            return m
    except DomainError as exc:
        audit_denied(inst, principal, Action.MEDIA_VIEW, media_id, exc, purpose)
        raise


@router.get("/media/{media_id}", summary="A media object's signed manifest (states a purpose)")
def get_media(media_id: str, purpose: str, principal: Auth, inst: Inst) -> MediaOut:
    return MediaOut.of(_readable(inst, principal, media_id, purpose))


@router.get(
    "/media/{media_id}/content",
    summary="Download the sealed object (states a purpose)",
    response_class=StreamingResponse,
)
def get_content(media_id: str, purpose: str, principal: Auth, inst: Inst) -> StreamingResponse:
    m = _readable(inst, principal, media_id, purpose)
    chunks: Iterator[bytes] = inst.blobs.open(m.blob_sha256)
    return StreamingResponse(chunks, media_type="application/octet-stream")
