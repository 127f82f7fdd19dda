"""Device status, remote wipe and recalled-share deletion (BRE-2, BRE-4, BRE-5; decision 014).

A device reports, signed with its *status key* (kept outside its vault, so it works while
the app is locked, and after the device was revoked): whether it is locked and since when,
and what captures its outbox still holds. The answer tells it to wipe, and which recalled
shares to delete; it confirms each, signed with the same key.

These routes have no session, so they are throttled like sign-in: a bad signature counts
against the client's address, and a blocked address is answered 429 before any work. An
unknown device, a device with no status key and a bad signature get one answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clinphoto import crypto
from clinphoto.accounts import throttle
from clinphoto.accounts.models import Device
from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.breaches.models import Breach, DeviceStatusReport, DeviceWipe, ShareDeletion
from clinphoto.core import protocol, text
from clinphoto.core.clock import new_id
from clinphoto.core.errors import Invalid, Unauthenticated
from clinphoto.media.models import Media
from clinphoto.records.clock import Clock
from clinphoto.sharing.models import Share

UnitOfWork = Callable[[], AbstractContextManager[Session]]

STATUS_WINDOW = timedelta(minutes=5)  # a report's signed time against the server's clock
STORE_EVERY = timedelta(seconds=30)  # at most one stored report per device this often
MAX_HOLDING = protocol.MAX_STATUS_HOLDING
MAX_DELETE_SHARES = 1000
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")

BAD_STATUS_SIGNATURE = (
    "status refused: the device is not known, has no status key, or the signature does not "
    "verify. A device that was wiped or enrolled again must register its new status key"
)


class BadStatusSignature(Unauthenticated):
    """Unknown device, no status key, or a bad signature: one answer for all three."""

    code = "bad_status_signature"

    def __init__(self) -> None:
        super().__init__(BAD_STATUS_SIGNATURE)


class StaleStatus(Invalid):
    code = "stale_status"


def parse_time(value: str, field: str) -> datetime:
    """A signed time: ISO 8601 UTC ending in Z, as the wire contract says."""
    if not _TIME.fullmatch(value):
        raise Invalid(f"{field}: expected a UTC time like 2026-11-30T06:00:00Z", field=field)
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class StatusIn:
    device_id: str
    time: str
    locked: bool
    locked_since: str | None
    holding: list[dict[str, str]] | None
    signature: str


@dataclass(frozen=True)
class StatusAnswer:
    wipe: DeviceWipe | None
    delete_shares: list[str]
    stored: bool
    next_poll_seconds: int = protocol.STATUS_POLL_SECONDS


def _verified(db: Session, device_id: str, message: bytes, signature: str) -> Device | None:
    device = db.get(Device, device_id) if text.is_id(device_id) else None
    if device is None or device.status_public is None:
        # The same work as a real check, so the answer's timing says nothing either.
        crypto.verify_signature(_DUMMY_PUBLIC, message, signature)
        return None
    if not crypto.verify_signature(device.status_public, message, signature):
        return None
    return device


_DUMMY_PUBLIC = crypto.SigningKey(b"\x00" * 32).public


def _guarded(
    unit_of_work: UnitOfWork,
    *,
    client: str,
    lookup_key: bytes,
    now: datetime,
    work: Callable[[Session], Any],
) -> Any:
    """Run ``work`` (which returns None for a refused signature) behind the client throttle;
    a refusal is counted, committed, and answered :class:`BadStatusSignature`."""
    client_key = throttle.key(lookup_key, "client", client)
    with unit_of_work() as db:
        wait = throttle.blocked_for(db, client_key, now)
        if wait is not None:
            raise throttle.client_blocked(wait)
        result = work(db)
        if result is None:
            throttle.record_failure(db, client_key, throttle.CLIENT, now)
    if result is None:
        raise BadStatusSignature()
    return result


def pending_wipe(db: Session, device_id: str) -> DeviceWipe | None:
    return db.execute(
        select(DeviceWipe)
        .where(DeviceWipe.device_id == device_id, DeviceWipe.confirmed_at.is_(None))
        .order_by(DeviceWipe.requested_at)
        .limit(1)
    ).scalar()


def shares_to_delete(db: Session, device: Device) -> list[str]:
    """Recalled shares to the device's user whose deletion this device has not confirmed."""
    confirmed = select(ShareDeletion.share_id).where(ShareDeletion.device_id == device.id)
    return list(
        db.execute(
            select(Share.id)
            .where(
                Share.recipient_user_id == device.user_id,
                Share.recalled_at.is_not(None),
                Share.id.not_in(confirmed),
            )
            .order_by(Share.recalled_at, Share.id)
            .limit(MAX_DELETE_SHARES)
        ).scalars()
    )


def report_status(
    unit_of_work: UnitOfWork, *, body: StatusIn, client: str, lookup_key: bytes, clock: Clock
) -> StatusAnswer:
    """Check a signed status report, store it (at most one per device per 30 s, and only if
    newer than the last stored), and tell the device what to wipe or delete."""
    now = clock.now()
    signed_at = parse_time(body.time, "time")
    if body.locked_since is not None:
        parse_time(body.locked_since, "locked_since")
    if abs(signed_at - now) > STATUS_WINDOW:
        raise StaleStatus(
            "time: more than 5 minutes from the server's clock; check the device's clock",
            field="time",
        )
    if body.holding is not None and len(body.holding) > MAX_HOLDING:
        raise Invalid(f"holding: at most {MAX_HOLDING} items", field="holding")
    message = protocol.device_status_message(
        body.device_id, body.time, body.locked, body.locked_since, body.holding
    )

    def work(db: Session) -> StatusAnswer | None:
        device = _verified(db, body.device_id, message, body.signature)
        if device is None:
            return None
        stored = _store(db, device, body, signed_at, now)
        return StatusAnswer(
            wipe=pending_wipe(db, device.id),
            delete_shares=shares_to_delete(db, device),
            stored=stored,
        )

    answer: StatusAnswer = _guarded(
        unit_of_work, client=client, lookup_key=lookup_key, now=now, work=work
    )
    return answer


def _store(db: Session, device: Device, body: StatusIn, signed_at: datetime, now: datetime) -> bool:
    last = latest_report(db, device.id, None)
    if last is not None and (now - last.received_at < STORE_EVERY or signed_at <= last.reported_at):
        return False
    db.add(
        DeviceStatusReport(
            id=new_id(),
            device_id=device.id,
            received_at=now,
            reported_at=signed_at,
            time_text=body.time,
            locked=body.locked,
            locked_since=body.locked_since,
            holding=(
                None
                if body.holding is None
                else protocol.canonical_json(body.holding).decode("ascii")
            ),
            signature=body.signature,
        )
    )
    db.flush()
    return True


def latest_report(
    db: Session, device_id: str, before: datetime | None, *, with_holding: bool = False
) -> DeviceStatusReport | None:
    """The device's last stored report (signed at or before ``before``, when given; one
    that knew what the outbox held, with ``with_holding``)."""
    query = select(DeviceStatusReport).where(DeviceStatusReport.device_id == device_id)
    if before is not None:
        query = query.where(DeviceStatusReport.reported_at <= before)
    if with_holding:
        query = query.where(DeviceStatusReport.holding.is_not(None))
    return db.execute(query.order_by(DeviceStatusReport.reported_at.desc()).limit(1)).scalar()


def prune_history(unit_of_work: UnitOfWork, *, clock: Clock, keep_days: int) -> int:
    """Delete stored status reports received more than ``keep_days`` ago, except what the
    register reads (decision 014): each device's latest report and latest that knew its
    outbox, and, for every breach about a device, the same two as of its time of loss.
    Returns how many were deleted. Run by the server's periodic job and `clinphoto breach
    prune-status`."""
    cutoff = clock.now() - timedelta(days=keep_days)
    deleted = 0
    with unit_of_work() as db:
        old = select(DeviceStatusReport.device_id).where(DeviceStatusReport.received_at < cutoff)
        for device_id in db.execute(old.distinct()).scalars().all():
            losses = db.execute(
                select(Breach.occurred_at, Breach.reported_at).where(Breach.device_id == device_id)
            ).all()
            keep = {
                report.id
                for before in [None, *(occurred or reported for occurred, reported in losses)]
                for known in (False, True)
                if (report := latest_report(db, device_id, before, with_holding=known))
            }
            result = db.execute(
                delete(DeviceStatusReport).where(
                    DeviceStatusReport.device_id == device_id,
                    DeviceStatusReport.received_at < cutoff,
                    DeviceStatusReport.id.not_in(keep),
                )
            )
            deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def holding_of(report: DeviceStatusReport | None) -> list[dict[str, str]] | None:
    """What a stored report said the outbox held (None: not known)."""
    if report is None or report.holding is None:
        return None
    held: list[dict[str, str]] = json.loads(report.holding)
    return held


def report_signature_valid(report: DeviceStatusReport, status_public: str | None) -> bool:
    """Check a stored report's signature again, as signed."""
    if status_public is None:
        return False
    message = protocol.device_status_message(
        report.device_id, report.time_text, report.locked, report.locked_since, holding_of(report)
    )
    return crypto.verify_signature(status_public, message, report.signature)


# --- remote wipe -------------------------------------------------------------------------


def queue_wipe(
    db: Session, *, device: Device, by: str, breach_id: str | None, now: datetime
) -> DeviceWipe:
    """A wipe for the device's next contact (a building block: the caller audits). One
    pending wipe per device: asking again returns it."""
    wipe = pending_wipe(db, device.id)
    if wipe is None:
        wipe = DeviceWipe(
            id=new_id(), device_id=device.id, breach_id=breach_id, requested_at=now, requested_by=by
        )
        db.add(wipe)
        db.flush()
    return wipe


def last_wipe(db: Session, device_id: str) -> DeviceWipe | None:
    return db.execute(
        select(DeviceWipe)
        .where(DeviceWipe.device_id == device_id)
        .order_by(DeviceWipe.requested_at.desc())
        .limit(1)
    ).scalar()


def wipe_signature_valid(wipe: DeviceWipe) -> bool | None:
    """The stored confirmation's signature checked again (None: not confirmed)."""
    if wipe.confirmed_at is None or wipe.wiped_at is None or wipe.erased is None:
        return None
    if wipe.signature is None or wipe.status_public is None:
        return False
    message = protocol.wipe_confirmation_message(
        wipe.device_id, wipe.id, wipe.wiped_at, json.loads(wipe.erased)
    )
    return crypto.verify_signature(wipe.status_public, message, wipe.signature)


def confirm_wipe(
    unit_of_work: UnitOfWork,
    *,
    device_id: str,
    wipe_id: str,
    wiped_at: str,
    erased: dict[str, Any],
    signature: str,
    client: str,
    lookup_key: bytes,
    clock: Clock,
) -> None:
    """Keep a device's signed wipe confirmation (BRE-4); idempotent, audited."""
    now = clock.now()
    parse_time(wiped_at, "wiped_at")
    message = protocol.wipe_confirmation_message(device_id, wipe_id, wiped_at, erased)

    def work(db: Session) -> bool | None:
        device = _verified(db, device_id, message, signature)
        wipe = db.get(DeviceWipe, wipe_id) if text.is_id(wipe_id) else None
        if device is None or wipe is None or wipe.device_id != device.id:
            return None
        if wipe.confirmed_at is None:
            wipe.confirmed_at = now
            wipe.wiped_at = wiped_at
            wipe.erased = protocol.canonical_json(erased).decode("ascii")
            wipe.signature = signature
            wipe.status_public = device.status_public
            db.flush()
            audit.log(
                db,
                action=Action.WIPE_CONFIRM,
                actor=device.user_id,
                device=device.id,
                object_type="device_wipe",
                object_id=wipe.id,
                details={"breach": wipe.breach_id or "", "erased": erased},
            )
        return True

    _guarded(unit_of_work, client=client, lookup_key=lookup_key, now=now, work=work)


# --- recalled shares ---------------------------------------------------------------------


def confirm_share_deleted(
    unit_of_work: UnitOfWork,
    *,
    device_id: str,
    share_id: str,
    deleted_at: str,
    signature: str,
    client: str,
    lookup_key: bytes,
    clock: Clock,
) -> None:
    """Keep a recipient device's signed confirmation that it deleted its copy of a recalled
    share (BRE-2); idempotent, audited against the patient."""
    now = clock.now()
    parse_time(deleted_at, "deleted_at")
    message = protocol.share_deleted_message(device_id, share_id, deleted_at)

    def work(db: Session) -> bool | None:
        device = _verified(db, device_id, message, signature)
        share = db.get(Share, share_id) if text.is_id(share_id) else None
        if (
            device is None
            or share is None
            or share.recalled_at is None
            or share.recipient_user_id != device.user_id
        ):
            return None
        done = db.execute(
            select(ShareDeletion).where(
                ShareDeletion.share_id == share.id, ShareDeletion.device_id == device.id
            )
        ).scalar()
        if done is None:
            db.add(
                ShareDeletion(
                    id=new_id(),
                    share_id=share.id,
                    device_id=device.id,
                    deleted_at=deleted_at,
                    received_at=now,
                    signature=signature,
                )
            )
            db.flush()
            copy = db.get(Media, share.copy_media_id)
            audit.log(
                db,
                action=Action.SHARE_DELETE_CONFIRM,
                actor=device.user_id,
                device=device.id,
                patient_ref=copy.patient_id if copy is not None else "",
                object_type="share",
                object_id=share.id,
            )
        return True

    _guarded(unit_of_work, client=client, lookup_key=lookup_key, now=now, work=work)
