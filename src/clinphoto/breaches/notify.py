"""Notification after a breach (BRE-6): a checklist per jurisdiction from the rules table
(``notification_rules.json``: who must be told, by when, the source, and "not confirmed"
where the research did not verify the rule), the sending of each notification recorded, and
letters in English and French as PDF. Privacy officers only; every use audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinphoto import policy
from clinphoto.accounts.models import User
from clinphoto.audit.service import Action
from clinphoto.breaches import service
from clinphoto.breaches.models import Breach, BreachNotification
from clinphoto.core import text
from clinphoto.core.clock import new_id
from clinphoto.core.errors import Invalid, NotFound
from clinphoto.crypto import FieldKeyring
from clinphoto.documents.pdf import Document
from clinphoto.patients.models import Patient
from clinphoto.patients.service import view as patient_view
from clinphoto.policy import Act, Subject
from clinphoto.records.clock import Clock

PARTIES = ("patients", "cmpa", "organization", "college", "commissioner")
LANGUAGES = ("en", "fr")
METHOD_MAX = 40
NOTE_MAX = 2000


@cache
def rules() -> dict[str, Any]:
    """The reviewed default table, shipped with clinphoto."""
    raw = (
        resources.files("clinphoto.breaches").joinpath("notification_rules.json").read_text("utf-8")
    )
    table: dict[str, Any] = json.loads(raw)
    return table


def rule_for(jurisdiction: str, party: str) -> dict[str, Any]:
    table = rules()
    place = table["jurisdictions"].get(jurisdiction) or table["jurisdictions"]["CA"]
    found: dict[str, Any] = place["parties"].get(party) or table["defaults"][party]
    return found


@dataclass(frozen=True)
class Item:
    party: str
    who: str
    required: str
    deadline: str
    source: str
    confirmed: bool
    sent: BreachNotification | None
    sent_by_name: str
    note: str | None


def _latest(db: Session, breach_id: str, party: str) -> BreachNotification | None:
    return db.execute(
        select(BreachNotification)
        .where(BreachNotification.breach_id == breach_id, BreachNotification.party == party)
        .order_by(BreachNotification.recorded_at.desc(), BreachNotification.id)
        .limit(1)
    ).scalar()


def _item(db: Session, keys: FieldKeyring, breach_id: str, jurisdiction: str, party: str) -> Item:
    rule = rule_for(jurisdiction, party)
    sent = _latest(db, breach_id, party)
    note = None
    if sent is not None and sent.note_ct is not None:
        note = keys.decrypt(sent.note_ct, f"breach_notifications.note_ct:{sent.id}")
    return Item(
        party=party,
        who=rule["who"],
        required=rule["required"],
        deadline=rule["deadline"],
        source=rule["source"],
        confirmed=bool(rule["confirmed"]),
        sent=sent,
        sent_by_name=service.user_name(db, sent.by_user) if sent is not None else "",
        note=note,
    )


def _officer_breach(
    db: Session, subject: Subject, breach_id: str, action: Action
) -> tuple[Breach, policy.Grant]:
    return service.get_for(db, subject, breach_id, Act.MANAGE_BREACH, action)


def checklist(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    breach_id: str,
    lock_after_seconds: int,
) -> tuple[str, list[Item]]:
    """The parties to notify under the patients' jurisdiction, each with its rule and
    whether it was sent."""
    breach, grant = _officer_breach(db, subject, breach_id, Action.BREACH_READ)
    jurisdiction = service.jurisdiction_for(db, breach, lock_after_seconds)
    items = [_item(db, keys, breach.id, jurisdiction, p) for p in PARTIES]
    grant.record(db, object_type="breach", details={"notifications": jurisdiction})
    return jurisdiction, items


def record_sent(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    breach_id: str,
    party: str,
    sent_at: datetime,
    method: str,
    note: str,
    lock_after_seconds: int,
) -> Item:
    """Record that a party was notified: when, how, a note (field-encrypted)."""
    breach, grant = _officer_breach(db, subject, breach_id, Action.BREACH_NOTIFY)
    resource = service.breach_resource(breach, subject)
    with policy.refusals_audited(db, subject, Action.BREACH_NOTIFY, resource):
        if party not in PARTIES:
            raise NotFound()
        how = text.clean(method, "method", max_len=METHOD_MAX)
        if not how:
            raise Invalid(
                "method: how it was sent (letter, e-mail, telephone, portal)", field="method"
            )
        clean = service.free_text(note, "note", NOTE_MAX)
        if sent_at > clock.now():
            raise Invalid("sent_at: a time in the past", field="sent_at")
    row_id = new_id()
    db.add(
        BreachNotification(
            id=row_id,
            breach_id=breach.id,
            party=party,
            sent_at=sent_at,
            method=how,
            by_user=subject.user_id,
            note_ct=keys.encrypt(clean, f"breach_notifications.note_ct:{row_id}")
            if clean
            else None,
            recorded_at=clock.now(),
        )
    )
    db.flush()
    grant.record(db, object_type="breach", details={"party": party, "method": how})
    jurisdiction = service.jurisdiction_for(db, breach, lock_after_seconds)
    return _item(db, keys, breach.id, jurisdiction, party)


# --- letters ---------------------------------------------------------------------------

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Notice of a privacy breach",
        "subtitle": "Clinical photographs: {institution}",
        "page": "Page {page} of {pages}",
        "to": "To",
        "dear_patient": "Dear {name},",
        "dear": "To whom it may concern,",
        "intro": "We are writing to tell you about a privacy breach that involved clinical "
        "photographs kept in clinphoto, our secure clinical photography system.",
        "facts": "What happened",
        "kind": "Kind of incident",
        "reported": "Reported on",
        "occurred": "Occurred on",
        "unknown": "not known",
        "status": "Status",
        "classification": "Assessment",
        "patients": "Patients whose photographs could have been involved",
        "your_photos": "Your photographs that could have been involved",
        "done": "What we did",
        "revoked": "The device was revoked at once: it can no longer sign in or "
        "receive photographs.",
        "wipe_asked": "A remote wipe of the device was requested on {at}.",
        "wipe_done": "The device confirmed that it erased its encrypted vault on {at}.",
        "wipe_waiting": "The device has not yet confirmed the wipe; it will be told "
        "at its next connection.",
        "recalled": "The photograph was recalled on {at}: the recipient can no longer open it.",
        "deleted": "The recipient's device confirmed that it deleted its copy on {at}.",
        "opened": "The recipient had downloaded the photograph before the recall.",
        "not_opened": "The recipient had not downloaded the photograph before the recall.",
        "locked": "The device's photo vault was locked and encrypted when it was lost.",
        "rights": "You may ask us what information was involved, and you have the right to "
        "complain to the privacy commissioner of your province or territory.",
        "rule": "The rule that applies: {who} ({deadline}). Source: {source}.",
        "not_confirmed": "This rule was not confirmed; we are notifying you as a precaution.",
        "contact": "Contact",
        "sign": "Privacy office, {institution}",
        "lost_device": "A device with clinphoto was lost",
        "stolen_device": "A device with clinphoto was stolen",
        "misdirected_share": "A photograph was sent to the wrong person",
        "shown_by_accident": "A photograph was shown by accident",
        "other": "Another privacy incident",
        "not_a_breach": "not a breach",
        "breach_low_risk": "breach, low risk of harm",
        "breach_real_risk": "breach, real risk of significant harm",
        "pending": "being assessed",
    },
    "fr": {
        "title": "Avis d'atteinte à la vie privée",
        "subtitle": "Photographies cliniques : {institution}",
        "page": "Page {page} de {pages}",
        "to": "Destinataire",
        "dear_patient": "Madame, Monsieur {name},",
        "dear": "Madame, Monsieur,",
        "intro": "Nous vous informons d'une atteinte à la vie privée touchant des photographies "
        "cliniques conservées dans clinphoto, notre système sécurisé de photographie clinique.",
        "facts": "Ce qui s'est passé",
        "kind": "Nature de l'incident",
        "reported": "Signalé le",
        "occurred": "Survenu le",
        "unknown": "inconnu",
        "status": "État",
        "classification": "Évaluation",
        "patients": "Patients dont des photographies ont pu être touchées",
        "your_photos": "Vos photographies qui ont pu être touchées",
        "done": "Ce que nous avons fait",
        "revoked": "L'appareil a été révoqué immédiatement : il ne peut plus se "
        "connecter ni recevoir de photographies.",
        "wipe_asked": "L'effacement à distance de l'appareil a été demandé le {at}.",
        "wipe_done": "L'appareil a confirmé l'effacement de son coffre chiffré le {at}.",
        "wipe_waiting": "L'appareil n'a pas encore confirmé l'effacement ; il en "
        "recevra l'ordre à sa prochaine connexion.",
        "recalled": "La photographie a été rappelée le {at} : le destinataire ne "
        "peut plus l'ouvrir.",
        "deleted": "L'appareil du destinataire a confirmé la suppression de sa copie le {at}.",
        "opened": "Le destinataire avait téléchargé la photographie avant le rappel.",
        "not_opened": "Le destinataire n'avait pas téléchargé la photographie avant le rappel.",
        "locked": "Le coffre de photos de l'appareil était verrouillé et "
        "chiffré au moment de la perte.",
        "rights": "Vous pouvez nous demander quels renseignements étaient en cause et vous avez le "
        "droit de porter plainte auprès du commissaire à la protection de la vie privée de "
        "votre province ou territoire.",
        "rule": "Règle applicable : {who} ({deadline}). Source : {source}.",
        "not_confirmed": "Cette règle n'a pas été confirmée ; nous vous avisons par précaution.",
        "contact": "Personne-ressource",
        "sign": "Bureau de la protection de la vie privée, {institution}",
        "lost_device": "Un appareil muni de clinphoto a été perdu",
        "stolen_device": "Un appareil muni de clinphoto a été volé",
        "misdirected_share": "Une photographie a été envoyée à la mauvaise personne",
        "shown_by_accident": "Une photographie a été montrée par accident",
        "other": "Un autre incident de confidentialité",
        "not_a_breach": "pas une atteinte",
        "breach_low_risk": "atteinte, faible risque de préjudice",
        "breach_real_risk": "atteinte, risque réel de préjudice grave",
        "pending": "en cours d'évaluation",
    },
}


def _when(at: datetime | None, words: dict[str, str]) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at is not None else words["unknown"]


def letter(
    db: Session,
    *,
    subject: Subject,
    keys: FieldKeyring,
    clock: Clock,
    breach_id: str,
    party: str,
    language: str,
    patient_id: str | None,
    lock_after_seconds: int,
) -> bytes:
    """A letter to one party (for ``patients``: to one patient, when named) in English or
    French, as PDF. Audited against the patient it names."""
    breach, grant = _officer_breach(db, subject, breach_id, Action.BREACH_LETTER)
    resource = service.breach_resource(breach, subject)
    with policy.refusals_audited(db, subject, Action.BREACH_LETTER, resource):
        if party not in PARTIES:
            raise NotFound()
        if language not in LANGUAGES:
            raise Invalid("lang: en or fr", field="lang")
        view = service.build_view(db, breach, keys, lock_after_seconds, names=True)
        if patient_id is not None and (party != "patients" or patient_id not in view.names):
            raise Invalid(
                "patient_id: a patient involved in this breach, for the patients' letter",
                field="patient_id",
            )
    words = _WORDS[language]
    officer = db.get(User, subject.user_id)
    institution = officer.institution if officer is not None else "clinphoto"
    doc = Document(
        title=words["title"],
        subtitle=words["subtitle"].format(institution=institution),
        language=language,
        created_at=clock.now(),
        page_words=words["page"],
        footer=institution,
    )
    rule = rule_for(view.jurisdiction, party)
    patient = db.get(Patient, patient_id) if patient_id else None
    if patient is not None:
        doc.paragraph(words["dear_patient"].format(name=patient_view(patient, keys).name))
    else:
        doc.facts([(words["to"], rule["who"])])
        doc.paragraph(words["dear"])
    doc.paragraph(words["intro"])
    doc.heading(words["facts"])
    b = view.breach
    decided = b.classification
    rows = [
        (words["kind"], words[b.kind]),
        (words["occurred"], _when(b.occurred_at, words)),
        (words["reported"], _when(b.reported_at, words)),
        (words["classification"], words[decided] if decided else words["pending"]),
    ]
    if patient is not None:
        mine = view.exposure.patients[patient.id].media_ids
        rows.append((words["your_photos"], str(len(mine))))
    else:
        rows.append((words["patients"], str(len(view.exposure.patients))))
    doc.facts(rows)
    doc.heading(words["done"])
    for line in _actions(view, words):
        doc.paragraph(line)
    doc.paragraph(
        words["rule"].format(who=rule["who"], deadline=rule["deadline"], source=rule["source"]),
        small=True,
    )
    if not rule["confirmed"]:
        doc.paragraph(words["not_confirmed"], small=True)
    if party == "patients":
        doc.paragraph(words["rights"])
    if officer is not None:
        doc.facts([(words["contact"], f"{officer.display_name}, {officer.email}")])
    doc.paragraph(words["sign"].format(institution=institution))
    pdf = doc.to_bytes()
    shown = [(breach.id, patient_id)] if patient_id else [(breach.id, "")]
    grant.record_listing(
        db, shown, object_type="breach", details={"party": party, "lang": language}
    )
    return pdf


def _actions(view: service.BreachView, words: dict[str, str]) -> list[str]:
    lines = []
    if view.device is not None:
        lines.append(words["revoked"])
        wipe = view.device.wipe
        if wipe is not None:
            lines.append(words["wipe_asked"].format(at=_when(wipe.wipe.requested_at, words)))
            if wipe.wipe.confirmed_at is not None and wipe.signature_valid:
                lines.append(words["wipe_done"].format(at=_when(wipe.wipe.confirmed_at, words)))
            else:
                lines.append(words["wipe_waiting"])
        state = view.exposure.device
        if state is not None and (state.locked or state.presumed_locked):
            lines.append(words["locked"])
    if view.share is not None:
        share = view.share
        lines.append(words["recalled"].format(at=_when(share.share.recalled_at, words)))
        lines.append(words["opened"] if view.exposure.opened_before_recall else words["not_opened"])
        for d in share.deletions:
            lines.append(words["deleted"].format(at=_when(d.received_at, words)))
    return lines
