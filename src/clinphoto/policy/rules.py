"""The one decision function: who x action x object x purpose -> decision (AUD-2).

Read it as a table. Every rule returns the reasons that the audit entry records. Anything
not allowed below is denied; what the caller may not know exists is denied as "not found".
Decision record: docs/decisions/008-access-policy-and-care-teams.md.
"""

from __future__ import annotations

from clinphoto.policy.model import (
    Act,
    Coverage,
    Decision,
    Effect,
    Relation,
    Resource,
    Role,
    Subject,
)

# Acts that a server-side job or an operator at the server's console may take.
SYSTEM_ACTS = frozenset(
    {
        Act.ADMINISTER,
        Act.AUDIT_EXPORT,
        Act.INSPECT,
        Act.REVIEW,
        # The retention sweep is a job; it reads the rules and the dates it acts on. Changing
        # a rule or placing and releasing a hold is a person's decision: a privacy officer's.
        Act.RUN_SWEEP,
        Act.READ_RETENTION,
        Act.READ_RETENTION_RULES,
        Act.ACCESS_REPORT,
        Act.READ_DISCLOSURES,
        # A copy of a patient's record, and a consent form, printed at the server's console.
        # Deciding a deletion request is a privacy officer's, never the instance's.
        Act.COPY_REQUEST,
        Act.CONSENT_FORM,
    }
)
# Administrators administer (users, devices, settings) and see no patient data.
ADMIN_ACTS = frozenset({Act.ADMINISTER})
# Privacy officers review consents, overrides and the audit trail, and may document or
# withdraw consent for a patient; they never view, capture or share media.
PRIVACY_OFFICER_ACTS = frozenset(
    {
        Act.FIND_BY_IDENTIFIER,
        Act.FIND_BY_NAME,
        Act.READ_IDENTIFIERS,
        Act.REGISTER_PATIENT,
        Act.ADD_CARE_TEAM_MEMBER,
        Act.RECORD_CONSENT,
        Act.WITHDRAW_CONSENT,
        Act.READ_CONSENT,
        Act.REVIEW,
        Act.AUDIT_EXPORT,
        Act.READ_RETENTION_RULES,
        Act.READ_RETENTION,
        Act.MANAGE_RETENTION,
        Act.PLACE_HOLD,
        Act.RELEASE_HOLD,
        Act.RUN_SWEEP,
        Act.ACCESS_REPORT,
        Act.READ_DISCLOSURES,
        Act.COPY_REQUEST,
        Act.DELETION_REQUEST,
        Act.CONSENT_FORM,
        Act.REPORT_BREACH,
        Act.READ_BREACH,
        Act.MANAGE_BREACH,
        Act.RECALL_SHARE,
    }
)
# Acts for privacy officers only (and the instance): reviews, the audit trail, and the reports
# on who accessed a patient's records and what was disclosed (decision 013). A clinician,
# care team included, asks a privacy officer: the report names colleagues and their refusals.
OFFICER_ONLY_ACTS = frozenset(
    {
        Act.REVIEW,
        Act.AUDIT_EXPORT,
        Act.ACCESS_REPORT,
        Act.READ_DISCLOSURES,
        # A patient's requests for a copy or a deletion go to a privacy officer (RET-3, RET-4).
        Act.COPY_REQUEST,
        Act.DELETION_REQUEST,
    }
)
# Retention decisions that are a privacy officer's alone (RET-1, RET-3, RET-5).
RETENTION_OFFICER_ACTS = frozenset(
    {Act.MANAGE_RETENTION, Act.PLACE_HOLD, Act.RELEASE_HOLD, Act.RUN_SWEEP}
)
# The breach register's workflow is a privacy officer's (BRE-1, BRE-6).
BREACH_OFFICER_ACTS = frozenset({Act.MANAGE_BREACH})
# Clinicians: open to any clinician (the wristband case, new patients, breaking the glass).
CLINICIAN_OPEN_ACTS = frozenset(
    {
        Act.FIND_BY_IDENTIFIER,
        Act.FIND_BY_NAME,
        Act.REGISTER_PATIENT,
        Act.OPEN_ENCOUNTER,
        Act.EMERGENCY_OVERRIDE,
        Act.READ_RETENTION_RULES,  # the rules table: no patient data
        Act.REPORT_BREACH,  # "report a problem" (BRE-2): a lost phone, a share gone astray
    }
)
# Clinicians: need the patient's care team, or an emergency override in force.
CARE_TEAM_ACTS = frozenset(
    {
        Act.READ_IDENTIFIERS,
        Act.ADD_CARE_TEAM_MEMBER,
        Act.RECORD_CONSENT,
        Act.WITHDRAW_CONSENT,
        Act.READ_CONSENT,
        Act.CONSENT_FORM,  # the patient's copy of their consent form (CON-2, CON-3)
        Act.CAPTURE,
    }
)
# Acts that also need the consent to cover the stated purpose.
CONSENTED_ACTS = frozenset(
    {Act.CAPTURE, Act.VIEW, Act.SHARE, Act.RECEIVE, Act.ACKNOWLEDGE, Act.EXPORT}
)
# Acts that move a photo beyond its author: never for a quarantined photo.
OUTBOUND_ACTS = frozenset({Act.SHARE, Act.EXPORT})

_COVERAGE_MESSAGES = {
    Coverage.NOT_COVERED: "no consent covers this purpose for this encounter: record one first",
    Coverage.WITHDRAWN: "the patient withdrew consent for this purpose; only a new consent, "
    "documented as renewing it, brings it back",
    Coverage.TO_FOLLOW_EXPIRED: "the consent-to-follow for this encounter passed its deadline: "
    "record the patient's consent (completing it) before capturing more",
}


def _hidden(*reasons: str) -> Decision:
    return Decision(Effect.DENY_HIDDEN, reasons)


def _role_denied(subject: Subject, act: Act, *reasons: str) -> Decision:
    # Depends on the role alone, never on the object, so it reveals nothing about it.
    who = subject.role.value.replace("_", " ") if subject.role else "the instance"
    return Decision(
        Effect.DENY,
        reasons,
        f"your role ({who}) does not allow this ({act.value.replace('_', ' ')})",
    )


def _deny(message: str, *reasons: str) -> Decision:
    return Decision(Effect.DENY, reasons, message)


def _role_gate(subject: Subject, act: Act) -> Decision | None:
    """A decision made by role alone, or None to go on to the relationship rules."""
    if subject.role is None:
        if act in SYSTEM_ACTS:
            return Decision(Effect.ALLOW, ("role:instance",))
        return _role_denied(subject, act, "role:instance", "act-not-for-the-instance")
    role = f"role:{subject.role.value}"
    if act in ADMIN_ACTS or subject.role is Role.ADMINISTRATOR:
        if act in ADMIN_ACTS and subject.role is Role.ADMINISTRATOR:
            return Decision(Effect.ALLOW, (role,))
        return _role_denied(subject, act, role, "administration-and-patient-data-are-separate")
    if act is Act.INSPECT:
        return _role_denied(subject, act, role, "only-the-custodian-inspects")
    if subject.role is Role.PRIVACY_OFFICER:
        if act in PRIVACY_OFFICER_ACTS:
            return Decision(Effect.ALLOW, (role, "privacy-officer-review"))
        return _role_denied(subject, act, role, "privacy-officers-do-not-handle-media")
    if act in OFFICER_ONLY_ACTS:
        return _role_denied(subject, act, role, "review-is-for-privacy-officers")
    if act in RETENTION_OFFICER_ACTS:
        return _role_denied(subject, act, role, "retention-decisions-are-for-privacy-officers")
    if act in BREACH_OFFICER_ACTS:
        return _role_denied(subject, act, role, "breach-handling-is-for-privacy-officers")
    if act in CLINICIAN_OPEN_ACTS:
        return Decision(Effect.ALLOW, (role, f"open-to-clinicians:{act.value}"))
    return None


def _relationship(act: Act, relations: frozenset[Relation]) -> tuple[Effect, str] | None:
    """The relation that allows ``act``, or None."""
    if act in CARE_TEAM_ACTS:
        if Relation.CARE_TEAM in relations:
            return Effect.ALLOW, "relation:care_team"
        if act is Act.READ_IDENTIFIERS and Relation.SHARE_RECIPIENT in relations:
            return Effect.ALLOW, "relation:share_recipient"
        if Relation.EMERGENCY_OVERRIDE in relations and act is not Act.ADD_CARE_TEAM_MEMBER:
            return Effect.ALLOW_OVERRIDE, "relation:emergency_override"
        return None
    if act is Act.ATTACH_SIGNATURE:
        return (
            (Effect.ALLOW, "relation:consent_obtainer")
            if (Relation.CONSENT_OBTAINER in relations)
            else None
        )
    if act in (Act.VIEW, Act.SHARE, Act.LIST_SHARES):
        return (Effect.ALLOW, "relation:author") if Relation.AUTHOR in relations else None
    if act in (Act.RECEIVE, Act.ACKNOWLEDGE):
        if Relation.SHARE_RECIPIENT in relations:
            return Effect.ALLOW, "relation:share_recipient"
        return None
    if act is Act.READ_BREACH:
        # A clinician reads the problems they reported themselves.
        return (Effect.ALLOW, "relation:self") if Relation.SELF in relations else None
    if act is Act.RECALL_SHARE:
        # The sender of a share (the author of what it carries) recalls it.
        return (Effect.ALLOW, "relation:author") if Relation.AUTHOR in relations else None
    if act in (Act.EXPORT, Act.READ_RETENTION):
        # READ_RETENTION: a clinician sees the destroy-not-before date and holds of what
        # they took or of their own patient's records.
        for rel in (Relation.AUTHOR, Relation.CARE_TEAM):
            if rel in relations:
                return Effect.ALLOW, f"relation:{rel.value}"
        return None
    return None


def decide(subject: Subject, act: Act, resource: Resource, purpose: str = "") -> Decision:
    """May ``subject`` take ``act`` on ``resource`` for ``purpose``?

    The role is judged first (it says nothing about the object), then whether the object
    exists, then the caller's relation to it, quarantine, and consent.
    """
    gate = _role_gate(subject, act)
    if gate is not None and not gate.allowed:
        # Refused by role alone. About a named object, "not yours" answers exactly like
        # "not found"; for a collection (a search, a queue) the reason helps and hides nothing.
        return _hidden(*gate.reasons) if resource.id else gate
    if not resource.exists:
        return _hidden("object:absent")
    if gate is not None:
        return gate
    role = f"role:{subject.role.value if subject.role else 'instance'}"
    found = _relationship(act, resource.relations)
    if found is None:
        return _hidden(role, "relation:none")
    effect, why = found
    reasons: list[str] = [role, why]
    if act in OUTBOUND_ACTS and resource.quarantined:
        return _deny(
            "this photo is quarantined: the records custodian could not open it, so it can "
            "never be shared or exported. Capture it again; a privacy officer reviews it.",
            *reasons,
            "media:quarantined",
        )
    if act in CONSENTED_ACTS:
        if resource.coverage is not Coverage.COVERED:
            reasons.append(f"consent:{resource.coverage.value}")
            if act is Act.CAPTURE:
                message = _COVERAGE_MESSAGES.get(resource.coverage, "no consent covers this")
                return _deny(message, *reasons)
            return _hidden(*reasons)
        reasons.append(f"consent:covered:{purpose}" if purpose else "consent:covered")
    return Decision(effect, tuple(reasons))
