"""Asking the policy from a use case: decide, audit, and raise the right error.

A use-case service gathers the facts, calls :func:`authorize`, does its work, and records
the grant (allowed) in the same unit of work. A refusal is audited by :func:`authorize`
itself, with the patient reference whenever the object exists, and raised as "not found"
(hidden) or "forbidden" (a reason the user may see).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from clinphoto.audit import service as audit
from clinphoto.audit.service import Action
from clinphoto.core.errors import DomainError, Forbidden, NotFound
from clinphoto.policy.model import Act, Decision, Effect, Resource, Subject
from clinphoto.policy.rules import decide


def _fields(
    subject: Subject,
    action: Action,
    resource: Resource,
    purpose: str,
    decision: Decision,
    details: Mapping[str, object] | None,
) -> dict[str, object]:
    return {
        "action": action,
        "actor": subject.user_id,
        "device": subject.device_id,
        "patient_ref": resource.patient_ref,
        "object_type": resource.kind.value,
        "object_id": resource.id[:64],
        "purpose": purpose[:32],
        "details": {
            "decision": decision.effect.value,
            "reasons": list(decision.reasons),
            **(details or {}),
        },
    }


@dataclass(frozen=True)
class Grant:
    """An allowed decision, to be recorded once the use case has done its work."""

    subject: Subject
    act: Act
    action: Action
    resource: Resource
    purpose: str
    decision: Decision

    @property
    def override(self) -> bool:
        return self.decision.effect is Effect.ALLOW_OVERRIDE

    def record(
        self,
        db: Session,
        *,
        object_id: str | None = None,
        patient_ref: str | None = None,
        object_type: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        fields = _fields(
            self.subject, self.action, self.resource, self.purpose, self.decision, details
        )
        if object_id is not None:
            fields["object_id"] = object_id[:64]
        if patient_ref is not None:
            fields["patient_ref"] = patient_ref
        if object_type is not None:
            fields["object_type"] = object_type
        audit.log(db, **fields)

    def record_listing(
        self,
        db: Session,
        shown: Sequence[tuple[str, str]],
        *,
        object_type: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """A listing is itself a disclosure: one entry per object shown, given as (object
        id, patient reference), so each patient's export has it; one naming nothing when
        the list is empty."""
        for object_id, patient_ref in shown or [("", "")]:
            self.record(
                db,
                object_id=object_id,
                patient_ref=patient_ref,
                object_type=object_type,
                details=details,
            )


def authorize(
    db: Session,
    subject: Subject,
    act: Act,
    resource: Resource,
    *,
    action: Action,
    purpose: str = "",
    details: Mapping[str, object] | None = None,
) -> Grant:
    """The grant for ``act``, or an audited refusal raised as NotFound or Forbidden."""
    decision = decide(subject, act, resource, purpose)
    if decision.allowed:
        return Grant(subject, act, action, resource, purpose, decision)
    fields = _fields(subject, action, resource, purpose, decision, details)
    audit.log_denied(db, **fields)
    error: NotFound | Forbidden = (
        NotFound() if decision.effect is Effect.DENY_HIDDEN else Forbidden(decision.message)
    )
    error.audited = True
    raise error


def refuse(
    db: Session,
    subject: Subject,
    action: Action,
    resource: Resource,
    *,
    reason: str,
    purpose: str = "",
    details: Mapping[str, object] | None = None,
) -> None:
    """Audit a refusal decided by a use case's own rule (bad input, a state conflict) after
    the policy allowed the act, with the same fields as the policy's own refusals."""
    decision = Decision(Effect.DENY, (reason,))
    audit.log_denied(db, **_fields(subject, action, resource, purpose, decision, details))


def audit_refusal(
    db: Session, subject: Subject, action: Action, resource: Resource, error: DomainError
) -> DomainError:
    """Audit ``error`` as a refusal, with its code as the reason, unless the policy (or an
    earlier step) already did; mark it audited and return it, to be raised."""
    if not error.audited:
        refuse(db, subject, action, resource, reason=error.code)
        error.audited = True
    return error


@contextmanager
def refusals_audited(
    db: Session, subject: Subject, action: Action, resource: Resource
) -> Iterator[None]:
    """Any refusal raised inside the block is audited (once) against ``resource``."""
    try:
        yield
    except DomainError as exc:
        audit_refusal(db, subject, action, resource, exc)
        raise
