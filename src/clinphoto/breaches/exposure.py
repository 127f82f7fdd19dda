"""What could have been exposed, from the server's own records (BRE-2, BRE-3, BRE-5).

For a lost or stolen device, as of the time of loss: the captures its outbox held (its last
signed status report before the loss), what was shared to it (shares it downloaded or
acknowledged, and device grants to it), what it opened (the audit trail's views and
downloads by this device), and whether its vault was locked (that report, and the idle lock
policy). For a misdirected share: the photo it carried and whether the wrong recipient
downloaded it before the recall. Then the re-identification facts (BRE-3): the inspector's
verdict of each photo involved, and caption or message warnings that were overridden.
Decision 014 says what this can and cannot know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto.accounts.models import Device
from clinphoto.audit.models import AuditEntry
from clinphoto.audit.service import Action, Outcome
from clinphoto.breaches import devices
from clinphoto.breaches.models import DeviceStatusReport
from clinphoto.core import protocol
from clinphoto.inspection import service as inspection
from clinphoto.media.models import Media
from clinphoto.sharing.models import DeviceGrant, Share

CAPTURED = "captured_not_uploaded"
SHARED_TO_DEVICE = "shared_to_device"
OPENED = "opened_on_device"
SHARED_BY_MISTAKE = "shared_by_mistake"

NOT_A_BREACH = "not_a_breach"
LOW_RISK = "breach_low_risk"
REAL_RISK = "breach_real_risk"
CLASSIFICATIONS = (NOT_A_BREACH, LOW_RISK, REAL_RISK)

_OPENING = (Action.MEDIA_VIEW.value, Action.SHARE_DELIVER.value, Action.SHARE_ACK.value)


@dataclass
class ExposedPatient:
    patient_id: str
    reasons: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)

    def add(self, reason: str, media_id: str | None) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        if media_id and media_id not in self.media_ids:
            self.media_ids.append(media_id)


@dataclass
class DeviceState:
    """The device's state at the time of loss, as its last report before then said."""

    reported: bool  # it ever reported before the loss
    last_contact_at: datetime | None
    locked: bool | None  # None: not known
    locked_since: str | None
    presumed_locked: bool  # unlocked when it last reported, but the idle lock ran since
    holding_known: bool
    # Unlocked after the last report that knew the outbox, without reporting again (offline):
    # captures made since then are not known.
    holding_gap_since: datetime | None = None


@dataclass
class Exposure:
    as_of: datetime
    patients: dict[str, ExposedPatient]
    device: DeviceState | None = None
    opened_before_recall: bool | None = None

    def patient(self, patient_id: str) -> ExposedPatient:
        return self.patients.setdefault(patient_id, ExposedPatient(patient_id))

    @property
    def media_ids(self) -> list[str]:
        return sorted({m for p in self.patients.values() for m in p.media_ids})


def _audit_time(at: datetime) -> str:
    """The audit trail's text form of a time, which sorts as the times do."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _original(db: Session, share_id: str) -> Share | None:
    return db.get(Share, share_id)


def device_exposure(
    db: Session, device: Device, as_of: datetime, *, lock_after_seconds: int
) -> Exposure:
    exposure = Exposure(as_of=as_of, patients={})
    report = devices.latest_report(db, device.id, as_of)
    # A locked device cannot read its outbox (it is in the vault) and reports holding null;
    # the outbox changes only while unlocked, so the last report that knew it still holds.
    known = report
    if report is not None and report.holding is None:
        known = devices.latest_report(db, device.id, as_of, with_holding=True)
    held = devices.holding_of(known)
    for item in held or []:
        exposure.patient(item["patient_id"]).add(CAPTURED, item["media_id"])
    # What the device opened: views of photos, downloads and acknowledgements of shares.
    entries = db.execute(
        select(AuditEntry.action, AuditEntry.object_id, AuditEntry.patient_ref).where(
            AuditEntry.device == device.id,
            AuditEntry.action.in_(_OPENING),
            AuditEntry.outcome == Outcome.SUCCESS.value,
            AuditEntry.at <= _audit_time(as_of),
        )
    ).all()
    for action, object_id, patient_ref in entries:
        if not patient_ref:
            continue
        media_id: str | None = object_id
        if action != Action.MEDIA_VIEW.value:
            share = _original(db, object_id)
            media_id = share.original_media_id if share is not None else None
            exposure.patient(patient_ref).add(SHARED_TO_DEVICE, media_id)
        exposure.patient(patient_ref).add(OPENED, media_id)
    # What was made openable on it: shares it acknowledged, and device grants to it.
    acked = db.execute(
        select(Share, Media)
        .join(Media, Media.id == Share.copy_media_id)
        .where(Share.ack_device_id == device.id, Share.sent_at <= as_of)
    ).all()
    for share, copy in acked:
        exposure.patient(copy.patient_id).add(SHARED_TO_DEVICE, share.original_media_id)
    granted = db.execute(
        select(DeviceGrant, Media)
        .join(Media, Media.id == DeviceGrant.media_id)
        .where(DeviceGrant.device_id == device.id, DeviceGrant.created_at <= as_of)
    ).all()
    for _grant, media in granted:
        original = media.derived_from or media.id
        exposure.patient(media.patient_id).add(SHARED_TO_DEVICE, original)
    exposure.device = _state(report, held is not None, as_of, lock_after_seconds)
    if report is not None and known is not None and known is not report:
        # Unlocked for longer than one poll after the last report that knew the outbox, yet
        # silent: it was offline, and may have captured more (decision 014).
        since = report.locked_since
        poll = timedelta(seconds=protocol.STATUS_POLL_SECONDS)
        if since is None or devices.parse_time(since, "locked_since") - known.reported_at > poll:
            exposure.device.holding_gap_since = known.reported_at
    return exposure


def _state(
    report: DeviceStatusReport | None,
    holding_known: bool,
    as_of: datetime,
    lock_after_seconds: int,
) -> DeviceState:
    if report is None:
        return DeviceState(False, None, None, None, False, False)
    presumed = not report.locked and (
        as_of - report.reported_at > timedelta(seconds=lock_after_seconds)
    )
    return DeviceState(
        reported=True,
        last_contact_at=report.received_at,
        locked=report.locked,
        locked_since=report.locked_since,
        presumed_locked=presumed,
        holding_known=holding_known,
    )


def share_exposure(db: Session, share: Share, as_of: datetime) -> Exposure:
    exposure = Exposure(as_of=as_of, patients={})
    copy = db.get(Media, share.copy_media_id)
    if copy is not None:
        exposure.patient(copy.patient_id).add(SHARED_BY_MISTAKE, share.original_media_id)
    recalled = share.recalled_at or as_of
    opened = [t for t in (share.delivered_at, share.acknowledged_at) if t is not None]
    exposure.opened_before_recall = any(t <= recalled for t in opened)
    return exposure


# --- assessment (BRE-3) --------------------------------------------------------------------


@dataclass(frozen=True)
class MediaVerdict:
    media_id: str
    verdict: str  # identifiable | not_identifiable | pending | failed | quarantined | unknown
    faces: int
    text: int
    metadata: bool


@dataclass(frozen=True)
class CaptionOverride:
    media_id: str
    at: str
    by: str
    warnings: list[str]


@dataclass(frozen=True)
class Assessment:
    media: list[MediaVerdict]
    caption_overrides: list[CaptionOverride]


def assess(db: Session, exposure: Exposure) -> Assessment:
    """The inspector's verdict of each stored photo involved, and the caption or message
    warnings their senders overrode (BRE-3). A capture still held by a device is not on the
    server: it has no verdict ("unknown")."""
    verdicts = []
    ids = exposure.media_ids
    for media_id in ids:
        media = db.get(Media, media_id)
        if media is None:
            verdicts.append(MediaVerdict(media_id, "unknown", 0, 0, False))
            continue
        v = inspection.verdict(db, media)
        kinds = [str(r.get("kind", "")) for r in v.regions]
        if v.status == "done":
            word = "identifiable" if v.identifiable else "not_identifiable"
        else:
            word = v.status
        verdicts.append(
            MediaVerdict(
                media_id,
                word,
                faces=sum(1 for k in kinds if k == "face"),
                text=sum(1 for k in kinds if k == "text"),
                metadata=any("metadata" in r for r in v.reasons),
            )
        )
    return Assessment(verdicts, _overrides(db, exposure, set(ids)))


def _overrides(db: Session, exposure: Exposure, ids: set[str]) -> list[CaptionOverride]:
    if not ids:
        return []
    rows = db.execute(
        select(AuditEntry.at, AuditEntry.actor, AuditEntry.object_id, AuditEntry.details)
        .where(
            AuditEntry.patient_ref.in_(list(exposure.patients)),
            AuditEntry.action.in_([Action.MEDIA_UPLOAD.value, Action.SHARE_SEND.value]),
            AuditEntry.outcome == Outcome.SUCCESS.value,
        )
        .order_by(AuditEntry.seq)
    ).all()
    found = []
    for at, actor, object_id, details in rows:
        d = json.loads(details or "{}")
        media_id = str(d.get("original") or object_id)
        if media_id in ids and d.get("text_warnings_confirmed"):
            found.append(CaptionOverride(media_id, at, actor, list(d.get("text_warnings", []))))
    return found


# --- the proposed classification (BRE-5) ---------------------------------------------------


def propose(kind: str, exposure: Exposure, assessment: Assessment) -> tuple[str, list[str]]:
    """A proposal with its reasons; the privacy officer decides (steps)."""
    reasons: list[str] = []
    n = len(exposure.patients)
    identifiable = [m.media_id for m in assessment.media if m.verdict == "identifiable"]
    if identifiable:
        reasons.append(f"{len(identifiable)} photo(s) involved are identifiable (inspector)")
    if assessment.caption_overrides:
        reasons.append(
            f"{len(assessment.caption_overrides)} caption or message warning(s) were overridden"
        )
    if exposure.device is not None:
        return _propose_device(exposure.device, n, bool(identifiable), reasons)
    if exposure.opened_before_recall is not None:
        if exposure.opened_before_recall:
            reasons.insert(0, "the wrong recipient downloaded the photo before the recall")
            return REAL_RISK, reasons
        reasons.insert(0, "the wrong recipient never downloaded the sealed copy before the recall")
        return LOW_RISK, reasons
    if kind == "shown_by_accident":
        reasons.insert(0, "a photo was seen by someone not entitled to see it")
        return REAL_RISK, reasons
    reasons.insert(0, "the system holds no record to assess this problem by")
    return LOW_RISK, reasons


def _propose_device(
    state: DeviceState, patients: int, identifiable: bool, reasons: list[str]
) -> tuple[str, list[str]]:
    if not state.reported:
        reasons.insert(0, "the device never reported its state: whether it was locked is unknown")
    elif state.locked:
        reasons.insert(0, "the vault was locked (encrypted with a key derived from the passcode)")
    elif state.presumed_locked:
        reasons.insert(
            0, "unlocked at its last report, but the idle lock would have locked it since"
        )
    else:
        reasons.insert(0, "the vault was unlocked at its last report before the loss")
    locked = state.reported and (bool(state.locked) or state.presumed_locked)
    if state.holding_gap_since is not None:
        reasons.append(
            "it was unlocked without reporting after "
            f"{state.holding_gap_since:%Y-%m-%d %H:%M} UTC: captures made since are not known"
        )
    if patients == 0:
        reasons.append("no patient's media is known to have been on the device")
        if not state.holding_known:
            reasons.append("what its outbox held at the time is not known")
        if locked and state.holding_known and state.holding_gap_since is None:
            return NOT_A_BREACH, reasons
        return LOW_RISK, reasons
    reasons.append(f"media of {patients} patient(s) could have been on the device")
    if locked and not identifiable:
        return LOW_RISK, reasons
    return REAL_RISK, reasons
