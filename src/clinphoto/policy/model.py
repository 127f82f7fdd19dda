"""The vocabulary of the access policy: who, what, on which object, and the decision.

Pure data. The facts (care-team membership, consent coverage, quarantine) are gathered by
the area that owns them; :func:`clinphoto.policy.rules.decide` turns them into a decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    CLINICIAN = "clinician"
    PRIVACY_OFFICER = "privacy_officer"
    ADMINISTRATOR = "administrator"


class Act(enum.StrEnum):
    """Every action on patient data (and on the instance) that the policy decides."""

    FIND_BY_IDENTIFIER = "find_by_identifier"  # exact MRN or health-card number: the wristband
    FIND_BY_NAME = "find_by_name"
    READ_IDENTIFIERS = "read_identifiers"
    REGISTER_PATIENT = "register_patient"
    OPEN_ENCOUNTER = "open_encounter"
    ADD_CARE_TEAM_MEMBER = "add_care_team_member"
    EMERGENCY_OVERRIDE = "emergency_override"
    RECORD_CONSENT = "record_consent"
    WITHDRAW_CONSENT = "withdraw_consent"
    READ_CONSENT = "read_consent"
    ATTACH_SIGNATURE = "attach_signature"
    CAPTURE = "capture"
    VIEW = "view"
    SHARE = "share"
    LIST_SHARES = "list_shares"
    RECEIVE = "receive"
    ACKNOWLEDGE = "acknowledge"
    EXPORT = "export"
    REVIEW = "review"
    AUDIT_EXPORT = "audit_export"
    INSPECT = "inspect"
    ADMINISTER = "administer"
    # Retention (RET-1, RET-3, RET-5): the rules table, each item's date, holds, the sweep.
    READ_RETENTION_RULES = "read_retention_rules"
    READ_RETENTION = "read_retention"
    MANAGE_RETENTION = "manage_retention"
    PLACE_HOLD = "place_hold"
    RELEASE_HOLD = "release_hold"
    RUN_SWEEP = "run_sweep"
    # Privacy officers' reports (BEY-6, CON-7): who accessed a patient's records, and what
    # was disclosed under purposes the patient later withdrew.
    ACCESS_REPORT = "access_report"
    READ_DISCLOSURES = "read_disclosures"
    # Patients' requests (RET-3, RET-4, CON-2, CON-3): a copy of their record, a deletion
    # request and its decision (privacy officers), and the consent form printed as PDF.
    COPY_REQUEST = "copy_request"
    DELETION_REQUEST = "deletion_request"
    CONSENT_FORM = "consent_form"
    # The breach register (BRE-1 to BRE-6): anybody reports a problem; the reporter and
    # privacy officers read it; privacy officers contain, assess, notify and close it. A
    # share's sender (or a privacy officer) recalls a share sent to the wrong person.
    REPORT_BREACH = "report_breach"
    READ_BREACH = "read_breach"
    MANAGE_BREACH = "manage_breach"
    RECALL_SHARE = "recall_share"


class ObjectKind(enum.StrEnum):
    PATIENT = "patient"
    ENCOUNTER = "encounter"
    CONSENT = "consent"
    MEDIA = "media"
    SHARE = "share"
    INSTANCE = "instance"
    USER = "user"
    DEVICE = "device"
    BREACH = "breach"


class Relation(enum.StrEnum):
    """How a user stands to an object's patient or to the object itself."""

    CARE_TEAM = "care_team"  # registered the patient, opened an encounter, or was added
    SHARE_RECIPIENT = "share_recipient"  # something of this patient was shared to them
    AUTHOR = "author"  # took this photo
    CONSENT_OBTAINER = "consent_obtainer"  # recorded this consent
    EMERGENCY_OVERRIDE = "emergency_override"  # "break the glass", reasoned and time-limited
    SELF = "self"  # the object is the user's own account or device


class Coverage(enum.StrEnum):
    """Whether the consent covers the stated purpose for the object's encounter."""

    NOT_APPLICABLE = "not_applicable"
    COVERED = "covered"
    NOT_COVERED = "not_covered"
    WITHDRAWN = "withdrawn"
    TO_FOLLOW_EXPIRED = "to_follow_expired"


class Effect(enum.StrEnum):
    ALLOW = "allow"
    ALLOW_OVERRIDE = "allow_override"  # allowed under an emergency override: reviewed later
    DENY_HIDDEN = "deny_hidden"  # answered exactly like "not found"
    DENY = "deny"  # the object is the caller's to know of; the reason may be shown


@dataclass(frozen=True, slots=True)
class Subject:
    """Who asks: a signed-in user through one active device, or a server-side job."""

    user_id: str
    role: Role | None  # None: the instance itself (a CLI command on the server, a job)
    device_id: str = ""
    strength: str = "password+device"

    @classmethod
    def system(cls, name: str) -> Subject:
        return cls(user_id=name, role=None, device_id="", strength="server")


@dataclass(frozen=True, slots=True)
class Resource:
    """The object acted on, with the facts the decision needs."""

    kind: ObjectKind
    id: str = ""
    patient_ref: str = ""
    exists: bool = True
    relations: frozenset[Relation] = field(default_factory=frozenset)
    coverage: Coverage = Coverage.NOT_APPLICABLE
    quarantined: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    effect: Effect
    reasons: tuple[str, ...]
    message: str = ""  # for Effect.DENY: what the user is told, and what to do

    @property
    def allowed(self) -> bool:
        return self.effect in (Effect.ALLOW, Effect.ALLOW_OVERRIDE)
