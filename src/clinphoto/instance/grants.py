"""The custodian's device grants (decision 011): when a user has no other device left (a
lost or replaced phone), the records custodian re-wraps, with the records key, the file key
of every object of theirs for their new device. An audited action by a named custodian,
with a reason; the privacy officer sees each object granted in the audit trail.

The records key already opens every object (decision 001): this adds no power, only an
audited use of it. Nothing but age headers is written: no photo is decrypted.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from clinphoto import crypto
from clinphoto.accounts import service as accounts
from clinphoto.instance.runtime import Instance
from clinphoto.sharing import grants

PAGE = 100


@dataclass
class CustodianGrantReport:
    device_id: str = ""
    device_name: str = ""
    fingerprint: str = ""
    user_email: str = ""
    granted: int = 0
    existing: int = 0
    objects: int = 0
    unopenable: list[str] = field(default_factory=list)  # the records key cannot open these


def grant_with_records_key(
    inst: Instance,
    *,
    device_id: str,
    custodian: str,
    reason: str,
    progress: Callable[[CustodianGrantReport], None] | None = None,
) -> CustodianGrantReport:
    """Grant ``device_id`` every object of its user's that it cannot open, page by page
    (each page in a unit of work of its own, so a long run can be stopped and run again:
    what is granted stays, and is not listed again)."""
    granter = grants.Granter.custodian_named(custodian, reason)
    records = inst.keys.records
    report = CustodianGrantReport()
    after: str | None = None
    while True:
        with inst.unit_of_work() as db:
            page = grants.missing_grants(
                db, granter=granter, device_id=device_id, blobs=inst.blobs, after=after, limit=PAGE
            )
            recipient = page.device.age_recipient
            report.device_id, report.device_name = page.device.id, page.device.name
            report.fingerprint = page.device.fingerprint
            report.user_email = accounts.email_of(db, page.device.user_id)
        batch: list[grants.GrantIn] = []
        for item in page.items:
            report.objects += 1
            for name, header in item.headers.items():
                try:
                    key = crypto.file_key(header, records)
                except crypto.CryptoError:
                    report.unopenable.append(f"{item.kind} {item.object_id} ({name})")
                    continue
                granted = base64.b64encode(crypto.grant_header(key, [recipient])).decode()
                batch.append(grants.GrantIn(item.kind, item.object_id, name, granted))
        for i in range(0, len(batch), grants.MAX_BATCH):
            with inst.unit_of_work() as db:
                done = grants.record_grants(
                    db, granter=granter, device_id=device_id, grants=batch[i : i + grants.MAX_BATCH]
                )
                report.granted += done.granted
                report.existing += done.existing
        if progress is not None:
            progress(report)
        if page.next_after is None:
            return report
        after = page.next_after
