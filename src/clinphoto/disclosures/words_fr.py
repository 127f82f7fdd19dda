""" "Who saw my photos" in French, for the patient's copy of their record (BEY-6, RET-4).

The English words stay in :mod:`clinphoto.disclosures.service` (the API answers in them);
these are the same lines, by audited action, as a patient in Quebec or a francophone
patient elsewhere reads them: (what it is about, done, refused).
"""

from __future__ import annotations

from clinphoto.audit.service import Action

ABOUT = {
    "photo": "photo",
    "consent": "consentement",
    "message": "message",
    "patient": "dossier du patient",
    "record": "dossier",
}
OUTCOMES = {
    "allowed": "permis",
    "allowed under an emergency override": "permis en urgence (bris de verre)",
    "refused": "refusé",
    "failure": "échec",
}
SYSTEM_ACTORS = {
    "cli": "l'exploitant du serveur (ligne de commande)",
    "custodian": "le gardien des dossiers",
}
ROLES = {
    "clinician": "clinicien·ne",
    "privacy_officer": "responsable de la protection de la vie privée",
    "administrator": "administrateur·rice",
    "instance": "clinphoto",
}
REFUSED = "(refusé)"
SOMEONE = "une personne non connectée"

WORDS: dict[str, tuple[str, str, str]] = {
    Action.MEDIA_UPLOAD: (
        "photo",
        "a pris et enregistré la photo",
        "a tenté d'enregistrer une photo",
    ),
    Action.MEDIA_VIEW: ("photo", "a ouvert la photo", "a tenté d'ouvrir la photo"),
    Action.MEDIA_LIST: ("photo", "a vu la photo dans une liste", "a tenté de lister les photos"),
    Action.MEDIA_INSPECT: (
        "photo",
        "a vérifié la photo (visages et texte) : gardien des dossiers",
        "n'a pas pu vérifier la photo",
    ),
    Action.SHARE_SEND: ("photo", "a partagé la photo", "a tenté de partager la photo"),
    Action.SHARE_DELIVER: (
        "photo",
        "a téléchargé la copie partagée",
        "a tenté d'ouvrir une copie partagée",
    ),
    Action.SHARE_ACK: (
        "photo",
        "a confirmé la réception de la copie partagée",
        "a tenté de confirmer une copie partagée",
    ),
    Action.INBOX_LIST: (
        "photo",
        "a vu la copie partagée dans sa boîte de réception",
        "a tenté de voir sa boîte de réception",
    ),
    Action.SHARE_LIST: (
        "photo",
        "a listé les partages de la photo",
        "a tenté de lister les partages",
    ),
    Action.QUARANTINE_REVIEW: (
        "photo",
        "a examiné la photo mise en quarantaine",
        "a tenté de l'examiner",
    ),
    Action.GRANT_LIST: (
        "photo",
        "a listé ce qu'un nouvel appareil pouvait ouvrir",
        "a tenté de le lister",
    ),
    Action.GRANT_WRITE: (
        "photo",
        "a donné à un nouvel appareil la clé pour l'ouvrir",
        "a tenté de donner la clé à un nouvel appareil",
    ),
    Action.CONSENT_RECORD: (
        "consentement",
        "a consigné le consentement",
        "a tenté de consigner un consentement",
    ),
    Action.CONSENT_TO_FOLLOW: (
        "consentement",
        "a consigné un consentement à obtenir",
        "a tenté de consigner un consentement à obtenir",
    ),
    Action.CONSENT_WITHDRAW: (
        "consentement",
        "a consigné un retrait",
        "a tenté de consigner un retrait",
    ),
    Action.CONSENT_READ: (
        "consentement",
        "a lu le consentement",
        "a tenté de lire le consentement",
    ),
    Action.CONSENT_REVIEW: (
        "consentement",
        "a examiné le consentement à obtenir",
        "a tenté de l'examiner",
    ),
    Action.CONSENT_SIGNATURE: (
        "consentement",
        "a joint la signature",
        "a tenté de joindre une signature",
    ),
    Action.CONSENT_FORM: (
        "consentement",
        "a imprimé le formulaire de consentement",
        "a tenté d'imprimer le formulaire",
    ),
    Action.DISCLOSURES_READ: (
        "consentement",
        "a lu ce qui avait été partagé avant le retrait",
        "a tenté de le lire",
    ),
    Action.DISCLOSURES_REVIEW: (
        "consentement",
        "a vu le retrait dans la liste de suivi",
        "a tenté de voir la liste de suivi",
    ),
    Action.PATIENT_CREATE: ("patient", "a inscrit le patient", "a tenté d'inscrire le patient"),
    Action.PATIENT_READ: (
        "patient",
        "a lu les identifiants du patient",
        "a tenté de les lire",
    ),
    Action.PATIENT_FIND: ("patient", "a trouvé le patient", "a tenté de trouver le patient"),
    Action.ENCOUNTER_OPEN: ("patient", "a ouvert une rencontre", "a tenté d'ouvrir une rencontre"),
    Action.CARE_TEAM_ADD: (
        "patient",
        "a modifié l'équipe de soins",
        "a tenté de modifier l'équipe de soins",
    ),
    Action.EMERGENCY_OVERRIDE: (
        "patient",
        "a utilisé l'accès d'urgence (bris de verre)",
        "a tenté l'accès d'urgence",
    ),
    Action.OVERRIDE_REVIEW: (
        "patient",
        "a examiné un accès d'urgence",
        "a tenté de l'examiner",
    ),
    Action.AUDIT_EXPORT: (
        "record",
        "a exporté le journal d'audit",
        "a tenté d'exporter le journal d'audit",
    ),
    Action.ACCESS_REPORT: (
        "record",
        "a lu qui a consulté le dossier du patient",
        "a tenté de lire qui a consulté le dossier",
    ),
    Action.RETENTION_READ: ("record", "a lu les dates de conservation", "a tenté de les lire"),
    Action.RETENTION_RECOMPUTE: (
        "record",
        "a recalculé les dates de conservation",
        "n'a pas pu les recalculer",
    ),
    Action.HOLD_PLACE: (
        "record",
        "a placé une conservation légale",
        "a tenté de placer une conservation légale",
    ),
    Action.HOLD_RELEASE: (
        "record",
        "a levé une conservation légale",
        "a tenté de lever une conservation légale",
    ),
    Action.RETENTION_DESTROY: (
        "record",
        "a détruit des éléments (fin de conservation ou demande accordée)",
        "n'a pas pu détruire",
    ),
    Action.COPY_REQUEST: (
        "record",
        "a consigné une demande de copie du dossier",
        "a tenté de consigner une demande de copie",
    ),
    Action.COPY_REPORT: (
        "record",
        "a imprimé le rapport du dossier pour le patient",
        "a tenté d'imprimer le rapport",
    ),
    Action.COPY_PACKAGE: (
        "record",
        "a préparé la copie chiffrée du dossier pour le patient",
        "a tenté de préparer la copie",
    ),
    Action.DELETION_REQUEST: (
        "record",
        "a consigné une demande de suppression",
        "a tenté de consigner une demande de suppression",
    ),
    Action.DELETION_DECIDE: (
        "record",
        "a rendu la décision sur la demande de suppression",
        "a tenté de rendre la décision",
    ),
    Action.REQUEST_LETTER: (
        "record",
        "a imprimé la lettre au patient",
        "a tenté d'imprimer la lettre",
    ),
    # Le registre des atteintes et ce que les appareils lui confirment (BRE-1 à BRE-6).
    Action.SHARE_RECALL: (
        "photo",
        "a rappelé la copie partagée : son destinataire ne peut plus l'ouvrir",
        "a tenté de rappeler une copie partagée",
    ),
    Action.SHARE_DELETE_CONFIRM: (
        "photo",
        "a confirmé depuis son appareil que la copie rappelée en a été supprimée",
        "a tenté de confirmer la suppression d'une copie rappelée",
    ),
    Action.BREACH_REPORT: (
        "record",
        "a signalé un appareil perdu ou volé, ou une photo envoyée à la mauvaise personne",
        "a tenté de signaler un problème de confidentialité",
    ),
    Action.WIPE_CONFIRM: (
        "record",
        "a confirmé depuis l'appareil perdu qu'il a été effacé (signé par l'appareil)",
        "a tenté de confirmer l'effacement d'un appareil perdu",
    ),
    Action.BREACH_READ: (
        "record",
        "a consulté l'entrée du registre des atteintes qui nomme le patient",
        "a tenté de consulter une entrée du registre des atteintes",
    ),
    Action.BREACH_LIST: (
        "record",
        "a consulté la liste du registre des atteintes",
        "a tenté de la consulter",
    ),
    Action.BREACH_STEP: (
        "record",
        "a fait passer une atteinte à l'étape suivante",
        "a tenté de faire passer une atteinte à l'étape suivante",
    ),
    Action.BREACH_NOTIFY: (
        "record",
        "a consigné l'envoi d'un avis d'atteinte",
        "a tenté de consigner un avis d'atteinte",
    ),
    Action.BREACH_LETTER: (
        "record",
        "a imprimé une lettre d'avis d'atteinte",
        "a tenté d'imprimer une lettre d'avis d'atteinte",
    ),
    Action.STATUS_KEY_REGISTER: (
        "record",
        "a enregistré la clé d'état d'un appareil (pour l'effacement à distance)",
        "a tenté d'enregistrer la clé d'état d'un appareil",
    ),
}
