"""Device grants on the device side (decision 011): re-wrap, for a new device of the same
user, the file key of every object this device can open and the new one cannot.

The server lists what the new device is missing, with each object's original age header;
this device unwraps the file key from its own stanza and writes a grant, a new header for
the new device. No photo is downloaded, decrypted or uploaded again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clinphoto import crypto
from clinphoto.client.api import ApiClient

PAGE = 100
# A batch stays well inside the API's JSON body limit (64 KiB by default): a one-stanza
# grant is about 170 bytes, 230 in base64.
BATCH = 100


class GrantsApi(ApiClient):
    """The grant routes, beside the rest of the API."""

    def missing_grants(
        self, device_id: str, after: str | None = None, limit: int = PAGE
    ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        result: dict[str, Any] = self._call(
            "GET", f"/v1/devices/{device_id}/missing-grants", params=params
        )
        return result

    def post_grants(self, device_id: str, grants: list[dict[str, str]]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/v1/devices/{device_id}/grants", json={"grants": grants}
        )
        return result


@dataclass
class GrantReport:
    granted: int = 0
    existing: int = 0
    unopenable: list[str] = field(default_factory=list)  # objects this device cannot open
    objects: int = 0  # objects examined that needed something


def grants_for(
    item: dict[str, Any], identity: crypto.AgeIdentity, recipient: str
) -> tuple[list[dict[str, str]], bool]:
    """The grants for one listed object, and whether every field could be unwrapped."""
    grants = []
    complete = True
    for name, header_b64 in item["headers"].items():
        try:
            key = crypto.file_key(base64.b64decode(header_b64), identity)
        except crypto.CryptoError:
            complete = False  # sealed before this device existed too, or not to it
            continue
        header = crypto.grant_header(key, [recipient])
        grants.append(
            {
                "object_id": item["object_id"],
                "kind": item["kind"],
                "field": name,
                "header": base64.b64encode(header).decode("ascii"),
            }
        )
    return grants, complete


def _batches(grants: list[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    for i in range(0, len(grants), BATCH):
        yield grants[i : i + BATCH]


def grant_device(
    api: GrantsApi,
    *,
    device_id: str,
    recipient: str,
    identity: crypto.AgeIdentity,
    progress: Callable[[GrantReport], None] | None = None,
) -> GrantReport:
    """Page through what ``device_id`` is missing and grant all this device can open."""
    report = GrantReport()
    after: str | None = None
    while True:
        page = api.missing_grants(device_id, after)
        pending: list[dict[str, str]] = []
        for item in page["items"]:
            report.objects += 1
            grants, complete = grants_for(item, identity, recipient)
            if not complete:
                report.unopenable.append(f"{item['kind']} {item['object_id']}")
            pending += grants
        for batch in _batches(pending):
            done = api.post_grants(device_id, batch)
            report.granted += int(done["granted"])
            report.existing += int(done["existing"])
        if progress is not None:
            progress(report)
        after = page["next_after"]
        if after is None:
            return report


def open_text(sealed: str, identity: crypto.AgeIdentity, grant: str | None = None) -> str:
    """A caption or message sealed in a manifest (base64 of an age file); with ``grant``
    (the media JSON's ``sealed_text_grants`` entry for it), the grant's header opens it."""
    data = base64.b64decode(sealed)
    if grant is not None:
        _, payload = crypto.split_age(data)
        data = base64.b64decode(grant) + payload
    return crypto.open_sealed(data, identity).decode("utf-8")
