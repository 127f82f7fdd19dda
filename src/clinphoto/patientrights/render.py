"""The patient's documents as PDF, from plain views (RET-3, RET-4, AUD-3, CON-2, CON-3):
the copy report, the letter deciding a deletion request, the consent form.

Layout only: the views come from :mod:`clinphoto.patientrights.service`, which asks the
policy, opens what must be opened and audits; the words are in
:mod:`clinphoto.patientrights.words`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from clinphoto.documents.pdf import Document, DocumentError
from clinphoto.patientrights.words import words

PRINTABLE = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class PatientLines:
    name: str
    dob: date
    mrn: str


@dataclass(frozen=True)
class PhotoLines:
    id: str
    taken: str  # ISO date and time, UTC
    body_site: str  # in words, or ""
    encounter: str  # its id and date
    derived_from: str | None
    content_type: str
    file: str  # its name in the package
    plain: bytes | None  # None: could not be opened


@dataclass(frozen=True)
class ConsentLines:
    id: str
    encounter: str
    obtained_at: datetime
    obtained_by: str
    method: str | None
    purposes: list[str]
    withdrawn: list[str]
    witness: str | None
    text_version: str
    status: str
    informed_of_rights: bool
    identifiable: bool
    unsecure: bool
    foreign: bool
    signature: bytes | None
    signature_type: str
    text_body: str | None = None


@dataclass(frozen=True)
class AccessLine:
    when: str
    who: str
    what: str
    outcome: str


@dataclass
class CopyReport:
    request_id: str
    language: str
    received_at: date
    made_at: datetime
    patient: PatientLines
    photos: list[PhotoLines] = field(default_factory=list)
    consents: list[ConsentLines] = field(default_factory=list)
    access: Iterable[AccessLine] = ()


def _document(
    w: dict[str, str], language: str, title: str, subtitle: str, at: datetime
) -> Document:
    return Document(
        title=title,
        subtitle=subtitle,
        language=language,
        created_at=at,
        footer=w["footer"],
        page_words=w["pages"],
    )


def _day(d: date | datetime) -> str:
    return d.date().isoformat() if isinstance(d, datetime) else d.isoformat()


def _patient(doc: Document, w: dict[str, str], p: PatientLines, request_id: str) -> None:
    doc.facts(
        [
            (w["patient"], p.name),
            (w["dob"], p.dob.isoformat()),
            (w["mrn"], p.mrn),
            (w["request"], request_id),
        ]
    )


def _purposes(w: dict[str, str], values: Sequence[str]) -> str:
    return ", ".join(w.get(f"purpose.{v}", v) for v in values) or w["none"]


def _image(doc: Document, w: dict[str, str], data: bytes | None, kind: str, caption: str) -> None:
    if data is None:
        doc.paragraph(w["unopenable"], small=True)
    elif kind not in PRINTABLE:
        doc.paragraph(w["not_shown"].format(type=kind), small=True)
    else:
        try:
            doc.image(data, caption=caption, max_height=110)
        except DocumentError:
            doc.paragraph(w["not_shown"].format(type=kind), small=True)


def consent_section(doc: Document, w: dict[str, str], c: ConsentLines, *, heading: bool) -> None:
    """One consent: who, when, how, purposes, options, the text's version, the signature."""
    if heading:
        doc.heading(f"{w['consent']} {c.id[:8]}", level=2)
    yes = {True: w["yes"], False: w["no"]}
    rows = [
        (w["obtained_at"], c.obtained_at.strftime("%Y-%m-%d %H:%M UTC")),
        (w["obtained_by"], c.obtained_by),
        (w["method"], w.get(f"method.{c.method or 'none'}", c.method or "")),
        (w["encounter"], c.encounter),
        (w["purposes"], _purposes(w, c.purposes)),
    ]
    if c.withdrawn:
        rows.append((w["withdrawn"], _purposes(w, c.withdrawn)))
    if c.witness:
        rows.append((w["witness"], c.witness))
    rows += [
        (w["status"], w.get(f"status.{c.status}", c.status)),
        (w["text_version"], c.text_version or w["none"]),
        (w["informed"], yes[c.informed_of_rights]),
        (w["identifiable"], yes[c.identifiable]),
        (w["unsecure"], yes[c.unsecure]),
        (w["foreign"], yes[c.foreign]),
    ]
    doc.facts(rows, label_width=0.45)
    if c.signature is None:
        doc.paragraph(w["no_signature"], small=True)
    elif c.signature_type in PRINTABLE:
        try:
            doc.signature(c.signature, label=w["signature"])
        except DocumentError:
            doc.paragraph(w["not_shown"].format(type=c.signature_type), small=True)
    else:
        doc.paragraph(w["not_shown"].format(type=c.signature_type), small=True)


def copy_report(r: CopyReport) -> bytes:
    """The printable copy of a patient's record (RET-4, AUD-3)."""
    w = words(r.language)
    doc = _document(
        w,
        r.language,
        w["copy_title"],
        w["copy_subtitle"].format(date=_day(r.made_at), received=_day(r.received_at)),
        r.made_at,
    )
    _patient(doc, w, r.patient, r.request_id)
    doc.paragraph(w["intro"])
    doc.heading(w["photos"])
    doc.paragraph(w["photos_version"], small=True)
    if not r.photos:
        doc.paragraph(w["no_photos"])
    for i, p in enumerate(r.photos, start=1):
        doc.heading(f"{w['photo']} {i}", level=2)
        version = w["redacted"].format(id=p.derived_from[:8]) if p.derived_from else w["original"]
        doc.facts(
            [
                (w["taken"], p.taken),
                (w["body_site"], p.body_site or "-"),
                (w["encounter"], p.encounter),
                (w["version"], version),
                (w["file"], p.file),
            ]
        )
        _image(doc, w, p.plain, p.content_type, f"{w['photo']} {i} ({p.id[:8]})")
    doc.heading(w["consents"])
    if not r.consents:
        doc.paragraph(w["no_consents"])
    for c in r.consents:
        consent_section(doc, w, c, heading=True)
    doc.heading(w["access"])
    doc.paragraph(w["access_intro"], small=True)
    rows = [[a.when, a.who, a.what, a.outcome] for a in r.access]
    if rows:
        doc.table([w["when"], w["who"], w["what"], w["outcome"]], rows, widths=[0.8, 1.1, 1.7, 0.6])
    else:
        doc.paragraph(w["no_access"])
    return doc.to_bytes()


@dataclass(frozen=True)
class LetterItem:
    id: str
    kind: str
    outcome: str | None
    certificate_seq: int | None


@dataclass(frozen=True)
class DeletionLetter:
    request_id: str
    language: str
    received_at: datetime
    decided_at: datetime | None
    made_at: datetime
    patient: PatientLines
    status: str
    patient_reason: str
    officer_reason: str | None
    items: list[LetterItem]


def deletion_letter(letter: DeletionLetter) -> bytes:
    """The letter that tells the patient what was deleted and what was kept, and why
    (RET-3)."""
    w = words(letter.language)
    doc = _document(
        w,
        letter.language,
        w["letter_title"],
        w["letter_subtitle"].format(
            date=_day(letter.decided_at or letter.made_at), received=_day(letter.received_at)
        ),
        letter.made_at,
    )
    _patient(doc, w, letter.patient, letter.request_id)
    doc.paragraph(w["letter_intro"])
    rows = [(w["decision"], w.get(f"decision.{letter.status}", letter.status))]
    rows.append((w["your_reason"], letter.patient_reason or "-"))
    if letter.officer_reason:
        rows.append((w["reason"], letter.officer_reason))
    doc.facts(rows)
    doc.heading(w["items"])
    doc.table(
        [w["item"], w["outcome"], w["certificate"]],
        [
            [
                it.id,
                w.get(f"outcome.{it.outcome}", w["decision.open"]),
                f"No. {it.certificate_seq}" if it.certificate_seq is not None else "-",
            ]
            for it in letter.items
        ],
        widths=[1.3, 1.9, 0.7],
    )
    for outcome in dict.fromkeys(it.outcome for it in letter.items if it.outcome):
        doc.paragraph(w[f"explain.{outcome}"])
    doc.paragraph(w["contact"], small=True)
    return doc.to_bytes()


def consent_form(
    c: ConsentLines, patient: PatientLines, *, language: str, made_at: datetime
) -> bytes:
    """The consent form, from the stored consent (CON-2, CON-3): the patient's rights, the
    record, the words they were shown and their signature."""
    w = words(language)
    doc = _document(
        w, language, w["form_title"], w["form_subtitle"].format(date=_day(c.obtained_at)), made_at
    )
    _patient(doc, w, patient, c.id)
    doc.heading(w["rights"], level=2)
    doc.paragraph(w["rights_text"])
    doc.heading(w["consent"], level=2)
    consent_section(doc, w, c, heading=False)
    doc.heading(w["text_words"], level=2)
    if c.text_body:
        doc.paragraph(w["text_language"], small=True)
        doc.paragraph(c.text_body)
    else:
        doc.paragraph(w["text_missing"])
    return doc.to_bytes()
