"""The HTTP contract between clients and server (issue 9 §1): manifests checked against their
typed models, upload headers and bodies in the OpenAPI document, error codes enumerated."""

from __future__ import annotations

import json
import typing

from fastapi.testclient import TestClient

from clinphoto import crypto
from clinphoto.api.errors import STATUS, ErrorCode
from clinphoto.client.capture import SealedCapture
from clinphoto.core import errors as domain_errors
from clinphoto.core import protocol
from clinphoto.instance.runtime import Instance
from tests.functional.test_media_api import NewDevice, _patient_and_encounter, _seal, _upload


def test_a_manifest_with_a_field_the_server_does_not_know_is_refused(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    pid, eid, _ = _patient_and_encounter(client, dev)
    sealed = _seal(instance, dev, pid, eid)
    manifest = json.loads(sealed.manifest_bytes)
    manifest["location"] = "room 4"  # anything could ride along in a field nobody checks
    extra = protocol.encode_manifest(manifest)
    forged = SealedCapture(
        sealed.object_id, extra, crypto.sign(dev.signing, extra), sealed.ciphertext, ""
    )
    refused = _upload(client, dev, forged)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    error = refused.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid_request"
    assert "'location'" in error["message"]
    assert "room 4" not in error["message"]
    assert _upload(client, dev, sealed).status_code == 201  # type: ignore[attr-defined]


def test_openapi_documents_sealed_uploads_and_every_error_code(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, kind in (
        ("/v1/media", "photo"),
        ("/v1/consents/{consent_id}/signature", "consent-signature"),
        ("/v1/media/{media_id}/shares", "share"),
    ):
        op = spec["paths"][path]["post"]
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        manifest = headers[protocol.MANIFEST_HEADER]
        assert manifest["required"]
        assert headers[protocol.SIGNATURE_HEADER]["required"]
        decoded = manifest["schema"]["contentSchema"]
        assert "#/$defs/" not in json.dumps(decoded)  # stands alone inside the document
        assert decoded["properties"]["kind"]["const"] == kind
        assert decoded["additionalProperties"] is False
        assert "application/octet-stream" in op["requestBody"]["content"]
    codes = spec["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]
    assert set(codes) == set(typing.get_args(ErrorCode))


def test_every_code_the_server_can_answer_is_in_the_enumeration() -> None:
    listed = set(typing.get_args(ErrorCode))
    assert set(STATUS) <= listed
    domain = {
        cls.code
        for cls in vars(domain_errors).values()
        if isinstance(cls, type) and issubclass(cls, domain_errors.DomainError)
    } - {"error"}  # the abstract base
    assert domain <= listed
