"""Device grant routes (decision 011): what a new device of yours cannot open yet, and the
grants another device of yours writes for it. Routes parse, call the sharing area's grant
use cases (which decide and audit) and render."""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from clinphoto.api.deps import OBJECT_ID_PATTERN, Auth, Db, Inst, ObjectId
from clinphoto.sharing import grants as grant_service

router = APIRouter(prefix="/v1", tags=["devices"])

GrantField = Literal["content", "caption_sealed", "message_sealed", "patient_sealed"]
ObjectKindName = Literal["media", "share"]


class MissingGrantOut(BaseModel):
    """An object the device cannot open, with what a granting device needs to re-wrap it."""

    kind: ObjectKindName = Field(
        description="media: your own photo, consent signature or redaction (GET "
        "/v1/media/{id}); share: a share to you (GET /v1/shares/{id}/content)"
    )
    object_id: str = Field(description="The media id or the share id")
    media_kind: str = Field(description="photo, consent-signature or share")
    fields: list[GrantField] = Field(
        description="What needs a grant: the stored object (content), and the caption, "
        "message or patient details sealed in its manifest"
    )
    headers: dict[GrantField, str] = Field(
        description="Each field's original age header, base64 (standard, padded): unwrap the "
        "file key from your device's stanza, then write a grant for the new device"
    )


class MissingGrantsOut(BaseModel):
    device_id: str
    items: list[MissingGrantOut]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null when every object was examined. "
        "A page may hold fewer items than `limit`, even none, and still have a next page."
    )


class GrantIn(BaseModel):
    object_id: str = Field(pattern=OBJECT_ID_PATTERN, description="As missing-grants lists it")
    kind: ObjectKindName
    field: GrantField
    header: str = Field(
        max_length=2 * grant_service.MAX_GRANT_HEADER,
        description="Base64 (standard) of an age v1 header with X25519 stanzas only, wrapping "
        "the object's file key for the device, with its MAC; at most "
        f"{grant_service.MAX_GRANT_HEADER} bytes and {grant_service.MAX_GRANT_STANZAS} stanzas",
    )


class GrantsIn(BaseModel):
    # The batch's upper bound is checked by the use case (422 naming `grants`), not declared
    # as maxItems: a list over it would mostly be refused as too large a body (413) first.
    grants: list[GrantIn] = Field(
        min_length=1,
        description=f"1 to {grant_service.MAX_BATCH} grants, stored all or none; the request "
        "body must also stay within the server's JSON body limit (64 KiB by default)",
    )


class GrantsOut(BaseModel):
    device_id: str
    granted: int = Field(description="Grants stored by this request")
    existing: int = Field(description="Grants that were already there, left as they were")


@router.get(
    "/devices/{device_id}/missing-grants",
    summary="Objects one of your devices cannot open yet, with their original age headers",
)
def missing_grants(
    device_id: ObjectId,
    principal: Auth,
    db: Db,
    inst: Inst,
    after: Annotated[
        str | None,
        Query(pattern=OBJECT_ID_PATTERN, description="`next_after` of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=grant_service.MAX_PAGE)] = 50,
) -> MissingGrantsOut:
    page = grant_service.missing_grants(
        db,
        granter=grant_service.Granter(principal.subject),
        device_id=device_id,
        blobs=inst.blobs,
        after=after,
        limit=limit,
    )
    return MissingGrantsOut(
        device_id=page.device.id,
        items=[
            MissingGrantOut.model_validate(
                {
                    "kind": item.kind,
                    "object_id": item.object_id,
                    "media_kind": item.media_kind,
                    "fields": item.fields,
                    "headers": {k: base64.b64encode(v).decode() for k, v in item.headers.items()},
                }
            )
            for item in page.items
        ],
        next_after=page.next_after,
    )


@router.post(
    "/devices/{device_id}/grants",
    summary="Store grants for one of your devices, written by another of yours (decision 011)",
)
def post_grants(device_id: ObjectId, body: GrantsIn, principal: Auth, db: Db) -> GrantsOut:
    result = grant_service.record_grants(
        db,
        granter=grant_service.Granter(principal.subject),
        device_id=device_id,
        grants=[grant_service.GrantIn(g.kind, g.object_id, g.field, g.header) for g in body.grants],
    )
    return GrantsOut(device_id=result.device.id, granted=result.granted, existing=result.existing)
