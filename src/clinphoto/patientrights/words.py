"""The words of the documents a patient receives, in English and French (RET-3, RET-4,
CON-2, CON-3). One dictionary per language with the same keys; a test checks they match."""

from __future__ import annotations

LANGUAGES = ("en", "fr")

EN: dict[str, str] = {
    "pages": "Page {page} of {pages}",
    "footer": "clinphoto: confidential health information",
    "copy_title": "Copy of your clinical photography record",
    "copy_subtitle": "Prepared on {date} at your request received on {received}",
    "patient": "Patient",
    "dob": "Date of birth",
    "mrn": "Medical record number",
    "request": "Request",
    "intro": "This report holds every clinical photo of you in our record, the consents you "
    "gave with your signature, and the list of everyone who accessed your record. The same "
    "files are in the encrypted package that comes with it.",
    "photos": "Your photos",
    "photos_version": "Each image is the version kept in your record: the photo as taken, with "
    "the camera's hidden data (location, device, time stamps) removed before it was stored. A "
    "redacted version (parts hidden to protect your privacy) is marked as such.",
    "no_photos": "There is no photo of you in the record.",
    "photo": "Photo",
    "taken": "Taken",
    "body_site": "Body site",
    "encounter": "Encounter",
    "version": "Version",
    "original": "as taken, hidden data removed",
    "redacted": "redacted version of photo {id}",
    "file": "File in the package",
    "not_shown": "This item cannot be shown on paper ({type}); it is in the package as a file.",
    "unopenable": "This item could not be opened from the record; the privacy office will "
    "follow up.",
    "consents": "Your consents",
    "no_consents": "No consent is recorded.",
    "consent": "Consent",
    "purposes": "Purposes",
    "withdrawn": "Withdrawn",
    "method": "How it was given",
    "obtained_by": "Obtained by",
    "obtained_at": "Date",
    "witness": "Witness",
    "text_version": "Consent text shown (version)",
    "signature": "Signature",
    "no_signature": "No signature image (consent given verbally or on paper).",
    "options": "Options",
    "yes": "yes",
    "no": "no",
    "identifiable": "Photos showing my face or identifying me may be used",
    "unsecure": "Photos may be sent to me by unsecured email or text",
    "foreign": "My photos may be stored outside Canada",
    "informed": "I was told I may ask for a copy of any photo, or for its deletion",
    "access": "Who accessed your record",
    "access_intro": "Every access, share, download and refused attempt recorded in the audit "
    "trail, newest first.",
    "when": "When",
    "who": "Who",
    "what": "What",
    "outcome": "Outcome",
    "no_access": "No access is recorded.",
    "none": "none",
    "purpose.clinical_care": "clinical care",
    "purpose.education": "education",
    "purpose.research": "research",
    "purpose.publication": "publication",
    "purpose.all": "all purposes",
    "method.verbal": "verbally, with a witness",
    "method.written": "in writing",
    "method.electronic_signature": "electronic signature",
    "method.none": "consent to follow (emergency)",
    "laterality.7771000": "left",
    "laterality.24028007": "right",
    "laterality.51440002": "both sides",
    # deletion letter
    "letter_title": "Your request to delete photos",
    "letter_subtitle": "Decision of {date} on your request received on {received}",
    "letter_intro": "You asked us to delete clinical photos from your record. Here is our "
    "decision, photo by photo, and the reasons for it.",
    "decision": "Decision",
    "decision.granted": "granted",
    "decision.refused": "refused",
    "decision.partly_granted": "partly granted",
    "decision.open": "not yet decided",
    "reason": "Reason given by the privacy office",
    "your_reason": "Your reason",
    "items": "The photos of your request",
    "item": "Photo",
    "certificate": "Certificate of destruction",
    "outcome.destroyed": "deleted: destroyed with every copy and version of it",
    "outcome.refused_hold": "kept: a legal hold requires it",
    "outcome.refused_clinical_decision": "kept: it was part of a clinical decision about you",
    "outcome.refused_retention": "kept: the law on health records requires us to keep it",
    "explain.destroyed": "A deleted photo is destroyed with every copy of it (shared copies and "
    "redacted versions); a certificate of destruction is kept in our audit trail.",
    "explain.refused_hold": "A legal hold (for example a claim or a court order) requires us to "
    "keep the photo until it ends.",
    "explain.refused_clinical_decision": "The photo was integral to a decision about your care; "
    "it is part of your medical record and must be kept.",
    "explain.refused_retention": "Clinical photos are part of your medical record, which the law "
    "of your province requires us to keep for a set period; the photo will be destroyed when "
    "that period ends.",
    "contact": "You may ask the privacy office to review this decision, or complain to the "
    "privacy commissioner of your province.",
    # consent form
    "form_title": "Consent to clinical photography",
    "form_subtitle": "Record of the consent of {date}",
    "rights": "Your rights",
    "rights_text": "You may ask at any time for a copy of any photo, or for its deletion. You may "
    "withdraw this consent at any time; what was already shared is not recalled by the "
    "withdrawal, and the privacy office follows it up.",
    "text_words": "The text you were shown",
    "text_missing": "No consent text was shown (consent to follow, emergency).",
    "text_language": "The text is reproduced word for word in the language it was shown in.",
    "status": "Status",
    "status.active": "in force",
    "status.to_follow": "to follow (emergency): to be completed",
    "status.completed_follow": "completed by a later consent",
}

FR: dict[str, str] = {
    "pages": "Page {page} de {pages}",
    "footer": "clinphoto : renseignements de santé confidentiels",
    "copy_title": "Copie de votre dossier de photographie clinique",
    "copy_subtitle": "Préparée le {date} à votre demande reçue le {received}",
    "patient": "Patient",
    "dob": "Date de naissance",
    "mrn": "Numéro de dossier",
    "request": "Demande",
    "intro": "Ce rapport contient toutes les photos cliniques de vous conservées à votre dossier, "
    "les consentements que vous avez donnés avec votre signature, et la liste de toutes les "
    "personnes qui ont consulté votre dossier. Les mêmes fichiers sont dans la copie chiffrée "
    "qui l'accompagne.",
    "photos": "Vos photos",
    "photos_version": "Chaque image est la version conservée à votre dossier : la photo telle "
    "que prise, dont les données cachées de l'appareil (lieu, appareil, horodatage) ont été "
    "retirées avant l'enregistrement. Une version caviardée (parties masquées pour protéger "
    "votre vie privée) est indiquée comme telle.",
    "no_photos": "Aucune photo de vous n'est au dossier.",
    "photo": "Photo",
    "taken": "Prise le",
    "body_site": "Site anatomique",
    "encounter": "Rencontre",
    "version": "Version",
    "original": "telle que prise, données cachées retirées",
    "redacted": "version caviardée de la photo {id}",
    "file": "Fichier dans la copie",
    "not_shown": "Cet élément ne peut pas être imprimé ({type}) ; il est dans la copie chiffrée "
    "sous forme de fichier.",
    "unopenable": "Cet élément n'a pas pu être ouvert à partir du dossier ; le bureau de la "
    "protection de la vie privée fera un suivi.",
    "consents": "Vos consentements",
    "no_consents": "Aucun consentement n'est consigné.",
    "consent": "Consentement",
    "purposes": "Usages",
    "withdrawn": "Retiré",
    "method": "Comment il a été donné",
    "obtained_by": "Obtenu par",
    "obtained_at": "Date",
    "witness": "Témoin",
    "text_version": "Texte de consentement présenté (version)",
    "signature": "Signature",
    "no_signature": "Aucune image de signature (consentement verbal ou sur papier).",
    "options": "Options",
    "yes": "oui",
    "no": "non",
    "identifiable": "Les photos montrant mon visage ou m'identifiant peuvent être utilisées",
    "unsecure": "Les photos peuvent m'être envoyées par courriel ou texto non sécurisé",
    "foreign": "Mes photos peuvent être conservées hors du Canada",
    "informed": "On m'a dit que je peux demander une copie de toute photo, ou sa suppression",
    "access": "Qui a consulté votre dossier",
    "access_intro": "Chaque consultation, partage, téléchargement et tentative refusée consignés "
    "au journal d'audit, du plus récent au plus ancien.",
    "when": "Quand",
    "who": "Qui",
    "what": "Quoi",
    "outcome": "Résultat",
    "no_access": "Aucune consultation n'est consignée.",
    "none": "aucun",
    "purpose.clinical_care": "soins cliniques",
    "purpose.education": "enseignement",
    "purpose.research": "recherche",
    "purpose.publication": "publication",
    "purpose.all": "tous les usages",
    "method.verbal": "verbalement, devant témoin",
    "method.written": "par écrit",
    "method.electronic_signature": "signature électronique",
    "method.none": "consentement à obtenir (urgence)",
    "laterality.7771000": "gauche",
    "laterality.24028007": "droite",
    "laterality.51440002": "des deux côtés",
    "letter_title": "Votre demande de suppression de photos",
    "letter_subtitle": "Décision du {date} sur votre demande reçue le {received}",
    "letter_intro": "Vous nous avez demandé de supprimer des photos cliniques de votre dossier. "
    "Voici notre décision, photo par photo, et ses motifs.",
    "decision": "Décision",
    "decision.granted": "accordée",
    "decision.refused": "refusée",
    "decision.partly_granted": "accordée en partie",
    "decision.open": "pas encore rendue",
    "reason": "Motif donné par le bureau de la protection de la vie privée",
    "your_reason": "Votre motif",
    "items": "Les photos de votre demande",
    "item": "Photo",
    "certificate": "Certificat de destruction",
    "outcome.destroyed": "supprimée : détruite avec toutes ses copies et versions",
    "outcome.refused_hold": "conservée : une conservation légale l'exige",
    "outcome.refused_clinical_decision": "conservée : elle a servi à une décision clinique "
    "vous concernant",
    "outcome.refused_retention": "conservée : la loi sur les dossiers de santé nous oblige à "
    "la garder",
    "explain.destroyed": "Une photo supprimée est détruite avec toutes ses copies (copies "
    "partagées et versions caviardées) ; un certificat de destruction est conservé à notre "
    "journal d'audit.",
    "explain.refused_hold": "Une conservation légale (par exemple une réclamation ou une "
    "ordonnance d'un tribunal) nous oblige à garder la photo jusqu'à sa levée.",
    "explain.refused_clinical_decision": "La photo a servi à une décision sur vos soins ; elle "
    "fait partie de votre dossier médical et doit être conservée.",
    "explain.refused_retention": "Les photos cliniques font partie de votre dossier médical, que "
    "la loi de votre province nous oblige à conserver pendant une durée fixée ; la photo sera "
    "détruite à la fin de cette durée.",
    "contact": "Vous pouvez demander au bureau de la protection de la vie privée de réviser "
    "cette décision, ou porter plainte auprès du commissaire à la protection de la vie privée "
    "de votre province.",
    "form_title": "Consentement à la photographie clinique",
    "form_subtitle": "Relevé du consentement du {date}",
    "rights": "Vos droits",
    "rights_text": "Vous pouvez demander en tout temps une copie de toute photo, ou sa "
    "suppression. Vous pouvez retirer ce consentement en tout temps ; ce qui a déjà été partagé "
    "n'est pas rappelé par le retrait, et le bureau de la protection de la vie privée en fait le "
    "suivi.",
    "text_words": "Le texte qui vous a été présenté",
    "text_missing": "Aucun texte de consentement n'a été présenté (consentement à obtenir, "
    "urgence).",
    "text_language": "Le texte est reproduit mot pour mot dans la langue où il a été présenté.",
    "status": "Statut",
    "status.active": "en vigueur",
    "status.to_follow": "à obtenir (urgence) : à compléter",
    "status.completed_follow": "complété par un consentement ultérieur",
}

_BY_LANGUAGE = {"en": EN, "fr": FR}


def words(language: str) -> dict[str, str]:
    """The words of one language (English for anything else)."""
    return _BY_LANGUAGE.get(language, EN)
