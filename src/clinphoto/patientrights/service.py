"""Patients' requests: a copy of their record (RET-4, AUD-3), deletion requests and their
decision (RET-3), consent forms as PDF (CON-2, CON-3). Decision record 015.

Every use case asks the one access policy and writes its audit entry in the caller's unit of
work, allowed or refused; an unknown or hidden request answers "not found". Media are
opened by an ``Opener`` the caller passes (the records custodian's, with the records key):
plaintext exists only in memory, in the report and the package being built, and leaves only
as a passphrase-sealed age file. What went into a package is audited by ids and hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import crypto, policy
from clinphoto.accounts.models import User
from clinphoto.audit.service import Action
from clinphoto.consent import service as consent_service
from clinphoto.consent.models import Consent, Encounter
from clinphoto.consent.texts import ConsentText
from clinphoto.core import text
from clinphoto.core.clock import new_id
from clinphoto.core.errors import Conflict, Invalid
from clinphoto.crypto import FieldKeyring
from clinphoto.disclosures import service as disclosures
from clinphoto.media.models import Media
from clinphoto.patientrights import render
from clinphoto.patientrights.models import CopyRequest, DeletionItem, DeletionRequest
from clinphoto.patientrights.words import words
from clinphoto.patients import service as patients
from clinphoto.patients.models import Patient
from clinphoto.policy import Act, ObjectKind, Relation, Resource, Subject
from clinphoto.records import service as records
from clinphoto.records import sweep
from clinphoto.records.clock import Clock
from clinphoto.storage.blobs import BlobError, BlobStore

Opener = Callable[[Media], bytes | None]
LANGUAGES = ("en", "fr")
PHOTO, SIGNATURE = "photo", "consent-signature"
# The package is built in memory (its plaintext never touches a disk), so it is bounded.
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
OPEN, PACKAGED, DELIVERED = "open", "packaged", "delivered"
GRANTED, REFUSED, PARTLY = "granted", "refused", "partly_granted"
DECISIONS = (GRANTED, REFUSED, PARTLY)
DESTROYED = "destroyed"
REFUSED_HOLD, REFUSED_CLINICAL, REFUSED_RETENTION = (
    "refused_hold",
    "refused_clinical_decision",
    "refused_retention",
)
SCOPES = ("patient", "encounter", "items")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed
_EXT = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "image/webp": "webp",
    "image/avif": "avif",
}


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise Invalid("language: en or fr", field="language")
    return language


def _patient_resource(db: Session, patient_id: str) -> Resource:
    found = db.get(Patient, patient_id) if text.is_id(patient_id) else None
    if found is None:
        return Resource(ObjectKind.PATIENT, id=patient_id[:64] or "-", exists=False)
    return Resource(ObjectKind.PATIENT, id=found.id, patient_ref=found.id)


def _request_resource(row: CopyRequest | DeletionRequest | None, ref: str) -> Resource:
    if row is None:
        return Resource(ObjectKind.PATIENT, id=ref[:64] or "-", exists=False)
    return Resource(ObjectKind.PATIENT, id=row.id, patient_ref=row.patient_id)


def _copy(db: Session, ref: str) -> CopyRequest | None:
    return db.get(CopyRequest, ref) if text.is_id(ref) else None


def _deletion(db: Session, ref: str) -> DeletionRequest | None:
    return db.get(DeletionRequest, ref) if text.is_id(ref) else None


def new_passphrase(groups: int = 6) -> str:
    """Six groups of five letters and digits (about 147 bits), easy to read out or type."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(groups))


# --- copy requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyView:
    id: str
    patient_id: str
    status: str
    language: str
    received_at: date
    created_at: datetime
    packaged_at: datetime | None
    package_size: int | None
    downloaded_at: datetime | None


def _copy_view(r: CopyRequest) -> CopyView:
    return CopyView(
        r.id,
        r.patient_id,
        r.status,
        r.language,
        r.received_at,
        r.created_at,
        r.packaged_at,
        r.package_size,
        r.downloaded_at,
    )


def create_copy_request(
    db: Session,
    *,
    subject: Subject,
    clock: Clock,
    patient_id: str,
    language: str,
    received_at: date,
) -> CopyView:
    """Record a patient's request for a copy of their record (RET-4); a privacy officer's."""
    resource = _patient_resource(db, patient_id)
    grant = policy.authorize(db, subject, Act.COPY_REQUEST, resource, action=Action.COPY_REQUEST)
    with policy.refusals_audited(db, subject, Action.COPY_REQUEST, resource):
        lang = _language(language)
        if received_at > clock.now().date():
            raise Invalid("received_at: a date in the future", field="received_at")
    row = CopyRequest(
        id=new_id(),
        patient_id=resource.id,
        language=lang,
        received_at=received_at,
        status=OPEN,
        created_by=subject.user_id,
        created_at=clock.now(),
    )
    db.add(row)
    db.flush()
    grant.record(db, object_type="copy_request", object_id=row.id, details={"language": lang})
    return _copy_view(row)


def list_copy_requests(db: Session, *, subject: Subject) -> list[CopyView]:
    """Every copy request, newest first; each listed is audited against its patient."""
    return [_copy_view(r) for r in _listed(db, subject, Act.COPY_REQUEST, CopyRequest)]


_R = TypeVar("_R", CopyRequest, DeletionRequest)


def _listed(db: Session, subject: Subject, act: Act, model: type[_R]) -> list[_R]:
    grant = policy.authorize(
        db, subject, act, Resource(ObjectKind.PATIENT), action=Action.REQUEST_LIST
    )
    rows = list(db.execute(select(model).order_by(model.created_at.desc(), model.id)).scalars())
    grant.record_listing(
        db, [(r.id, r.patient_id) for r in rows], object_type=str(model.__tablename__)[:-1]
    )
    return rows


def _patient_lines(db: Session, keys: FieldKeyring, patient_id: str) -> render.PatientLines:
    p = db.get(Patient, patient_id)
    assert p is not None
    v = patients.view(p, keys)
    return render.PatientLines(v.name, v.dob, v.mrn)


def _names(db: Session, user_ids: Iterable[str]) -> dict[str, str]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {row.id: row.display_name for row in rows}


def _body_site(manifest: Mapping[str, object], w_lat: Mapping[str, str]) -> str:
    site = manifest.get("body_site")
    if not isinstance(site, dict):
        return ""
    words = f"SNOMED CT {site.get('code', '')}"
    lat = site.get("laterality")
    if isinstance(lat, str):
        words += f" ({w_lat.get(f'laterality.{lat}', lat)})"
    return words


def _photos(
    db: Session, patient_id: str, open_media: Opener, language: str
) -> list[render.PhotoLines]:
    w = words(language)
    started = {
        row.id: row.started_at
        for row in db.execute(
            select(Encounter.id, Encounter.started_at).where(Encounter.patient_id == patient_id)
        ).all()
    }
    rows = db.execute(
        select(Media)
        .where(Media.patient_id == patient_id, Media.kind == PHOTO)
        .order_by(Media.created_at, Media.id)
    ).scalars()
    found = []
    for m in rows:
        manifest = json.loads(m.manifest)
        taken = str(manifest.get("captured_at") or m.created_at.isoformat())
        when = started.get(m.encounter_id)
        encounter = f"{m.encounter_id[:8]} ({when.date().isoformat()})" if when else m.encounter_id
        name = f"photos/{taken[:10]}_{m.id[:12]}.{_EXT.get(m.content_type, 'bin')}"
        found.append(
            render.PhotoLines(
                id=m.id,
                taken=taken.replace("T", " ")[:16] + " UTC",
                body_site=_body_site(manifest, w),
                encounter=encounter,
                derived_from=m.derived_from,
                content_type=m.content_type,
                file=name,
                plain=open_media(m),
            )
        )
    return found


def _consent_lines(
    db: Session,
    keys: FieldKeyring,
    consent: Consent,
    open_media: Opener,
    texts: Mapping[str, ConsentText] | None = None,
) -> tuple[render.ConsentLines, Media | None]:
    v = consent_service.view(db, keys, consent)
    signature = db.execute(
        select(Media).where(Media.consent_id == consent.id, Media.kind == SIGNATURE)
    ).scalar_one_or_none()
    encounter = db.get(Encounter, consent.encounter_id)
    shown = texts.get(consent.text_version) if texts is not None else None
    lines = render.ConsentLines(
        id=consent.id,
        encounter=f"{consent.encounter_id[:8]}"
        + (f" ({encounter.started_at.date().isoformat()})" if encounter else ""),
        obtained_at=v.obtained_at,
        obtained_by=_names(db, [v.obtained_by]).get(v.obtained_by, v.obtained_by),
        method=v.method.value if v.method else None,
        purposes=[p.value for p in v.purposes],
        withdrawn=[w.purpose for w in v.withdrawals],
        witness=v.witness_name,
        text_version=v.text_version,
        status=v.status.value,
        informed_of_rights=v.informed_of_rights,
        identifiable=v.identifiable_allowed,
        unsecure=v.unsecure_channel_allowed,
        foreign=v.foreign_storage_allowed,
        signature=open_media(signature) if signature is not None else None,
        signature_type=signature.content_type if signature is not None else "",
        text_body=shown.body if shown is not None else None,
    )
    return lines, signature


def _access(
    db: Session, subject: Subject, patient_id: str, language: str
) -> list[render.AccessLine]:
    lines = []
    for e in disclosures.whole_access_report(
        db, subject=subject, patient_id=patient_id, language=language
    ):
        who = f"{e.who} ({e.role})" if e.role else e.who
        what = f"{e.what} → {e.to}" if e.to else e.what
        lines.append(render.AccessLine(e.at.replace("T", " ")[:16], who, what, e.outcome))
    return lines


@dataclass
class _Copy:
    report: render.CopyReport
    signatures: list[tuple[str, Media, bytes | None]]
    texts: Mapping[str, ConsentText]
    keys: FieldKeyring


def _gather(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    row: CopyRequest,
    open_media: Opener,
    texts: Mapping[str, ConsentText],
) -> _Copy:
    consents = db.execute(
        select(Consent)
        .where(Consent.patient_id == row.patient_id)
        .order_by(Consent.obtained_at, Consent.id)
    ).scalars()
    report = render.CopyReport(
        request_id=row.id,
        language=row.language,
        received_at=row.received_at,
        made_at=clock.now(),
        patient=_patient_lines(db, keys, row.patient_id),
        photos=_photos(db, row.patient_id, open_media, row.language),
    )
    signatures = []
    for c in consents:
        lines, sig = _consent_lines(db, keys, c, open_media, texts)
        report.consents.append(lines)
        if sig is not None:
            signatures.append((c.id, sig, lines.signature))
    report.access = _access(db, subject, row.patient_id, row.language)
    return _Copy(report, signatures, texts, keys)


def _copy_row(
    db: Session, subject: Subject, request_id: str, action: Action
) -> tuple[CopyRequest, policy.Grant]:
    row = _copy(db, request_id)
    resource = _request_resource(row, request_id)
    grant = policy.authorize(db, subject, Act.COPY_REQUEST, resource, action=action)
    assert row is not None
    return row, grant


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_report(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    request_id: str,
    open_media: Opener,
    texts: Mapping[str, ConsentText],
) -> bytes:
    """The printable report of a copy request (AUD-3's "print"), in the patient's language:
    photos, consents with their signatures, who accessed the record. Audited with the ids
    and hashes of what it shows."""
    row, grant = _copy_row(db, subject, request_id, Action.COPY_REPORT)
    copy = _gather(
        db, subject=subject, keys=keys, clock=clock, row=row, open_media=open_media, texts=texts
    )
    pdf = render.copy_report(copy.report)
    grant.record(
        db,
        object_type="copy_request",
        object_id=row.id,
        details={"pdf_sha256": _sha(pdf), **_contents(copy)},
    )
    return pdf


def _contents(copy: _Copy) -> dict[str, object]:
    return {
        "photos": [
            {"id": p.id, "sha256": _sha(p.plain) if p.plain is not None else None}
            for p in copy.report.photos
        ][:1000],
        "consents": [c.id for c in copy.report.consents][:1000],
        "signatures": [s.id for _, s, _ in copy.signatures][:1000],
    }


@dataclass(frozen=True)
class Package:
    passphrase: str
    size: int
    sha256: str


def _zip(copy: _Copy, pdf: bytes, made_at: datetime) -> tuple[bytes, list[dict[str, object]]]:
    """The package's plaintext: a ZIP (stored, not compressed: photos do not compress) of
    the report, the consent forms, the photos and the signatures, in memory."""
    buf = io.BytesIO()
    stamp = made_at.timetuple()[:6]
    listed: list[dict[str, object]] = []
    lang = copy.report.language
    total = 0

    def put(name: str, data: bytes) -> None:
        nonlocal total
        total += len(data)
        if total > MAX_PACKAGE_BYTES:
            raise Invalid(
                "the record is too large for one package "
                f"({MAX_PACKAGE_BYTES >> 20} MiB in memory); ask the operator to split it"
            )
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_STORED
        zf.writestr(info, data)
        listed.append({"name": name, "sha256": _sha(data), "size": len(data)})

    with zipfile.ZipFile(buf, "w") as zf:
        put(f"report-{lang}.pdf", pdf)
        for p in copy.report.photos:
            if p.plain is not None:
                put(p.file, p.plain)
        for c in copy.report.consents:
            form = render.consent_form(c, copy.report.patient, language=lang, made_at=made_at)
            put(f"consents/consent-{c.id[:12]}-{lang}.pdf", form)
        for cid, sig, plain in copy.signatures:
            if plain is not None:
                put(f"consents/signature-{cid[:12]}.{_EXT.get(sig.content_type, 'bin')}", plain)
    return buf.getvalue(), listed


def copy_package(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    blobs: BlobStore,
    request_id: str,
    open_media: Opener,
    texts: Mapping[str, ConsentText],
) -> Package:
    """Build the patient's package (RET-4): one age file, sealed with a new passphrase, that
    holds the report, the consent forms and the images as stored in the record. The
    passphrase is returned once and never stored (its SHA-256 is); a new package replaces
    the last one. Audited: who, for which request, what it holds by names and hashes."""
    row, grant = _copy_row(db, subject, request_id, Action.COPY_PACKAGE)
    copy = _gather(
        db, subject=subject, keys=keys, clock=clock, row=row, open_media=open_media, texts=texts
    )
    made_at = clock.now()
    pdf = render.copy_report(copy.report)
    plain, listed = _zip(copy, pdf, made_at)
    passphrase = new_passphrase()
    sealed = crypto.seal_with_passphrase(plain, passphrase)
    del plain
    stored = blobs.put_stream([sealed], max_bytes=len(sealed))
    if row.package_sha256 and row.package_sha256 != stored.sha256:
        _drop_package(blobs, row.package_sha256)
    row.status = PACKAGED
    row.packaged_by = subject.user_id
    row.packaged_at = made_at
    row.package_sha256 = stored.sha256
    row.package_size = stored.size
    row.passphrase_sha256 = _sha(passphrase.encode())
    row.downloaded_at = None
    db.flush()
    grant.record(
        db,
        object_type="copy_request",
        object_id=row.id,
        details={
            "package_sha256": stored.sha256,
            "size": stored.size,
            "files": listed[:1000],
            **_contents(copy),
        },
    )
    return Package(passphrase, stored.size, stored.sha256)


def _drop_package(blobs: BlobStore, sha256: str) -> None:
    with contextlib.suppress(BlobError):
        blobs.delete(sha256)


def package_file(
    db: Session, *, subject: Subject, clock: Clock, blobs: BlobStore, request_id: str
) -> bytes:
    """The sealed package, for download; it is deleted from the server once fetched (it is
    a copy outside the record: a later deletion or the retention sweep could not reach it)."""
    row, grant = _copy_row(db, subject, request_id, Action.COPY_PACKAGE)
    if row.package_sha256 is None:
        raise Conflict("no package to download: make one (it is deleted once downloaded)")
    try:
        data = b"".join(blobs.open(row.package_sha256))
    except BlobError:
        raise Conflict("no package to download: make one") from None
    sha = row.package_sha256
    row.status = DELIVERED
    row.downloaded_at = clock.now()
    row.package_sha256 = None
    db.flush()
    _drop_package(blobs, sha)
    grant.record(
        db,
        object_type="copy_request",
        object_id=row.id,
        details={"downloaded": sha, "size": len(data)},
    )
    return data


def drop_packages(db: Session, blobs: BlobStore, patient_id: str) -> int:
    """Delete the packages not yet downloaded of a patient (after a destruction)."""
    rows = db.execute(
        select(CopyRequest).where(
            CopyRequest.patient_id == patient_id, CopyRequest.package_sha256.is_not(None)
        )
    ).scalars()
    count = 0
    for r in rows:
        assert r.package_sha256 is not None
        _drop_package(blobs, r.package_sha256)
        r.package_sha256 = None
        r.status = OPEN
        count += 1
    return count


# --- deletion requests --------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    id: str
    kind: str
    outcome: str | None
    certificate_seq: int | None


@dataclass(frozen=True)
class DeletionView:
    id: str
    patient_id: str
    scope: str
    encounter_id: str | None
    media_ids: list[str] | None
    language: str
    status: str
    reason: str
    created_at: datetime
    decision: str | None
    decided_at: datetime | None
    decision_reason: str | None
    items: list[ItemView]


def _aad(column: str, row_id: str) -> str:
    return f"deletion_requests.{column}:{row_id}"


def _deletion_view(db: Session, keys: FieldKeyring, r: DeletionRequest) -> DeletionView:
    items = db.execute(
        select(DeletionItem).where(DeletionItem.request_id == r.id).order_by(DeletionItem.item_id)
    ).scalars()
    return DeletionView(
        id=r.id,
        patient_id=r.patient_id,
        scope=r.scope,
        encounter_id=r.encounter_id,
        media_ids=json.loads(r.media_ids) if r.media_ids else None,
        language=r.language,
        status=r.status,
        reason=keys.decrypt(r.reason_ct, _aad("reason_ct", r.id)),
        created_at=r.created_at,
        decision=r.decision,
        decided_at=r.decided_at,
        decision_reason=keys.decrypt(r.decision_reason_ct, _aad("decision_reason_ct", r.id))
        if r.decision_reason_ct is not None
        else None,
        items=[ItemView(i.item_id, i.kind, i.outcome, i.certificate_seq) for i in items],
    )


def _root(m: Media, by_id: Mapping[str, Media]) -> Media:
    seen = set()
    while m.derived_from and m.derived_from in by_id and m.id not in seen:
        seen.add(m.id)
        m = by_id[m.derived_from]
    return m


def _families(
    db: Session, patient_id: str, scope: str, encounter_id: str | None, media_ids: list[str]
) -> list[Media]:
    """The photos (originals, each standing for its family) a request names."""
    photos = {
        m.id: m
        for m in db.execute(
            select(Media).where(Media.patient_id == patient_id, Media.kind == PHOTO)
        ).scalars()
    }
    if scope == "patient":
        chosen = list(photos.values())
    elif scope == "encounter":
        chosen = [m for m in photos.values() if m.encounter_id == encounter_id]
    else:
        unknown = [i for i in media_ids if i not in photos]
        if unknown:
            raise Invalid("media_ids: not photos of this patient", field="media_ids")
        chosen = [photos[i] for i in media_ids]
    roots = {r.id: r for r in (_root(m, photos) for m in chosen)}
    return sorted(roots.values(), key=lambda m: (m.created_at, m.id))


def create_deletion_request(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    patient_id: str,
    scope: str,
    encounter_id: str | None,
    media_ids: list[str] | None,
    reason: str,
    language: str,
) -> DeletionView:
    """Record a patient's request that photos be deleted (RET-3), with the photos it covers
    (each with what derives from it); a privacy officer decides it later."""
    resource = _patient_resource(db, patient_id)
    grant = policy.authorize(
        db, subject, Act.DELETION_REQUEST, resource, action=Action.DELETION_REQUEST
    )
    with policy.refusals_audited(db, subject, Action.DELETION_REQUEST, resource):
        lang = _language(language)
        if scope not in SCOPES:
            raise Invalid("scope: patient, encounter or items", field="scope")
        if scope == "encounter":
            e = (
                db.get(Encounter, encounter_id)
                if encounter_id and text.is_id(encounter_id)
                else None
            )
            if e is None or e.patient_id != resource.id:
                raise Invalid("encounter_id: an encounter of this patient", field="encounter_id")
        ids = list(dict.fromkeys(media_ids or []))
        if scope == "items" and (not ids or len(ids) > 1000):
            raise Invalid("media_ids: 1 to 1000 photo ids", field="media_ids")
        clean = text.clean(reason, "reason", max_len=2000)
        families = _families(db, resource.id, scope, encounter_id, ids)
        if not families:
            raise Invalid("there is no photo to delete in this scope", field="scope")
    rid = new_id()
    row = DeletionRequest(
        id=rid,
        patient_id=resource.id,
        scope=scope,
        encounter_id=encounter_id if scope == "encounter" else None,
        media_ids=json.dumps(ids) if scope == "items" else None,
        language=lang,
        reason_ct=keys.encrypt(clean, _aad("reason_ct", rid)),
        status=OPEN,
        created_by=subject.user_id,
        created_at=clock.now(),
    )
    db.add(row)
    db.flush()
    for m in families:
        kind = "video" if m.content_type.startswith("video/") else "photo"
        db.add(DeletionItem(request_id=rid, item_id=m.id, kind=kind))
    db.flush()
    grant.record(
        db,
        object_type="deletion_request",
        object_id=rid,
        details={"scope": scope, "items": [m.id for m in families][:1000]},
    )
    return _deletion_view(db, keys, row)


def _hold_outcome(db: Session, patient_id: str, media: Media | None, family: str) -> str | None:
    holds = records.active_holds(
        db,
        patient_id=patient_id,
        encounter_id=media.encounter_id if media is not None else None,
        family=family,
    )
    if any(h.kind == records.LEGAL_HOLD for h in holds):
        return REFUSED_HOLD
    if holds:
        return REFUSED_CLINICAL
    return None


def decide_deletion(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    blobs: BlobStore,
    request_id: str,
    decision: str,
    reason: str,
    retain: list[str] | None = None,
) -> DeletionView:
    """A privacy officer's decision on a deletion request (RET-3), photo by photo.

    Held photos (a legal hold) and photos marked integral to a clinical decision are always
    refused, on that ground. ``refused``: the others are refused under the retention rule;
    ``partly_granted``: those named in ``retain`` are; the rest are destroyed exactly as the
    retention sweep destroys a family, each with a certificate of destruction in the audit
    trail. The request's status says what came of it: granted, partly granted or refused."""
    row = _deletion(db, request_id)
    resource = _request_resource(row, request_id)
    grant = policy.authorize(
        db, subject, Act.DELETION_REQUEST, resource, action=Action.DELETION_DECIDE
    )
    assert row is not None
    items = list(
        db.execute(select(DeletionItem).where(DeletionItem.request_id == row.id)).scalars()
    )
    keep = set(retain or [])
    with policy.refusals_audited(db, subject, Action.DELETION_DECIDE, resource):
        if subject.role is None:
            raise Invalid("a deletion request is decided by a privacy officer (--as EMAIL)")
        if row.status != OPEN:
            raise Conflict("this request was decided already")
        if decision not in DECISIONS:
            raise Invalid("decision: granted, refused or partly_granted", field="decision")
        clean = text.clean(reason, "reason", max_len=2000)
        if not clean:
            raise Invalid("reason: say why", field="reason")
        if decision == PARTLY and not keep:
            raise Invalid("retain: the photos kept under the retention rule", field="retain")
        if keep - {i.item_id for i in items}:
            raise Invalid("retain: photos of this request only", field="retain")
    media = {
        m.id: m
        for m in db.execute(select(Media).where(Media.id.in_([i.item_id for i in items]))).scalars()
    }
    to_destroy = []
    for it in items:
        it.outcome = _hold_outcome(db, row.patient_id, media.get(it.item_id), it.item_id)
        if it.outcome is not None:
            continue
        if it.item_id not in media:
            it.outcome = DESTROYED  # destroyed already (at the end of its retention)
        elif decision == REFUSED or it.item_id in keep:
            it.outcome = REFUSED_RETENTION
        else:
            to_destroy.append(it.item_id)
    done = (
        sweep.destroy_now(
            db,
            families=to_destroy,
            subject=subject,
            blobs=blobs,
            clock=clock,
            job=f"deletion-request/{row.id}",
            why="the patient's deletion request was granted by a privacy officer; no legal "
            "hold or clinical-decision mark in force",
        )
        if to_destroy
        else {}
    )
    for it in items:
        if it.item_id in to_destroy:
            seq = done.get(it.item_id)
            it.outcome = DESTROYED if seq is not None else REFUSED_HOLD
            it.certificate_seq = seq
    if done:
        drop_packages(db, blobs, row.patient_id)
    outcomes = {it.outcome for it in items}
    row.status = (
        GRANTED if outcomes == {DESTROYED} else REFUSED if DESTROYED not in outcomes else PARTLY
    )
    row.decision = decision
    row.decided_by = subject.user_id
    row.decided_at = clock.now()
    row.decision_reason_ct = keys.encrypt(clean, _aad("decision_reason_ct", row.id))
    db.flush()
    grant.record(
        db,
        object_type="deletion_request",
        object_id=row.id,
        details={
            "decision": decision,
            "status": row.status,
            "items": [
                {"id": i.item_id, "outcome": i.outcome, "certificate_seq": i.certificate_seq}
                for i in items
            ][:1000],
        },
    )
    return _deletion_view(db, keys, row)


def list_deletion_requests(
    db: Session, *, subject: Subject, keys: FieldKeyring
) -> list[DeletionView]:
    rows = _listed(db, subject, Act.DELETION_REQUEST, DeletionRequest)
    return [_deletion_view(db, keys, r) for r in rows]


def deletion_letter(
    db: Session, *, subject: Subject, keys: FieldKeyring, clock: Clock, request_id: str
) -> bytes:
    """The letter to the patient, in their language: each photo deleted or kept, and why."""
    row = _deletion(db, request_id)
    resource = _request_resource(row, request_id)
    grant = policy.authorize(
        db, subject, Act.DELETION_REQUEST, resource, action=Action.REQUEST_LETTER
    )
    assert row is not None
    v = _deletion_view(db, keys, row)
    pdf = render.deletion_letter(
        render.DeletionLetter(
            request_id=v.id,
            language=v.language,
            received_at=v.created_at,
            decided_at=v.decided_at,
            made_at=clock.now(),
            patient=_patient_lines(db, keys, v.patient_id),
            status=v.status,
            patient_reason=v.reason,
            officer_reason=v.decision_reason,
            items=[render.LetterItem(i.id, i.kind, i.outcome, i.certificate_seq) for i in v.items],
        )
    )
    grant.record(
        db,
        object_type="deletion_request",
        object_id=row.id,
        details={"pdf_sha256": _sha(pdf), "status": v.status},
    )
    return pdf


# --- consent forms ------------------------------------------------------------------------


def consent_form(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    consent_id: str,
    language: str,
    open_media: Opener,
    texts: Mapping[str, ConsentText],
) -> bytes:
    """The consent form as PDF from the stored consent (CON-2, CON-3): the patient's
    rights, the record, the words shown (the stored version, word for word) and the
    signature image. For privacy officers and the patient's care team; audited."""
    consent = db.get(Consent, consent_id) if text.is_id(consent_id) else None
    if consent is None:
        resource = Resource(ObjectKind.CONSENT, id=consent_id[:64] or "-", exists=False)
    else:
        rels = set(patients.relations(db, subject.user_id, consent.patient_id))
        resource = Resource(
            ObjectKind.CONSENT,
            id=consent.id,
            patient_ref=consent.patient_id,
            relations=frozenset(rels & {Relation.CARE_TEAM, Relation.EMERGENCY_OVERRIDE}),
        )
    grant = policy.authorize(db, subject, Act.CONSENT_FORM, resource, action=Action.CONSENT_FORM)
    assert consent is not None
    with policy.refusals_audited(db, subject, Action.CONSENT_FORM, resource):
        lang = _language(language)
    lines, signature = _consent_lines(db, keys, consent, open_media, texts)
    pdf = render.consent_form(
        lines, _patient_lines(db, keys, consent.patient_id), language=lang, made_at=clock.now()
    )
    grant.record(
        db,
        object_type="consent",
        object_id=consent.id,
        details={
            "language": lang,
            "text_version": consent.text_version,
            "signature": signature.id if signature is not None else None,
            "pdf_sha256": _sha(pdf),
        },
    )
    return pdf
