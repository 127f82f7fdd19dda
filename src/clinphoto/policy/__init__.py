"""The access policy (AUD-2): one function decides every access to patient data.

``decide`` is pure (tested with Hypothesis); ``authorize`` asks it from a use case and
audits a refusal. Decision record: docs/decisions/008-access-policy-and-care-teams.md.
"""

from clinphoto.policy.enforce import Grant, authorize, refuse
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
    "authorize",
    "decide",
    "refuse",
]
