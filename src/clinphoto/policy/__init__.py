"""The access policy (AUD-2): one function decides every access to patient data.

``decide`` is pure (tested with Hypothesis); ``authorize`` asks it from a use case and
audits a refusal. Decision record: docs/decisions/008-access-policy-and-care-teams.md.
"""

from clinphoto.policy.enforce import Grant, audit_refusal, authorize, refusals_audited, refuse
from clinphoto.policy.model import (
    Act,
    Coverage,
    Decision,
    Effect,
    ObjectKind,
    Relation,
    Resource,
    Role,
    Subject,
)
from clinphoto.policy.rules import decide

__all__ = [
    "Act",
    "Coverage",
    "Decision",
    "Effect",
    "Grant",
    "ObjectKind",
    "Relation",
    "Resource",
    "Role",
    "Subject",
    "audit_refusal",
    "authorize",
    "decide",
    "refusals_audited",
    "refuse",
]
