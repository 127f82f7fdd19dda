"""Use cases that record what happens to the instance as a whole: its creation, and a
request refused before any route ran because its input cannot be audited as it is.

Interfaces call these rather than writing to the audit trail themselves (issue #7, AUD-2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinphoto.accounts import service as accounts
from clinphoto.audit import service as audit
from clinphoto.core.errors import DomainError

if TYPE_CHECKING:
    from clinphoto.instance.runtime import Instance


def instance_created(inst: Instance, *, actor: str = "cli") -> None:
    """The first entry of a new instance's audit trail."""
    with inst.unit_of_work() as db:
        audit.log(db, action=audit.Action.INSTANCE_INIT, actor=actor)


def request_refused(
    inst: Instance, *, token: str, route: str, method: str, field: str, problem: str
) -> None:
    """A request refused before any route ran, in a unit of work of its own: who sent it
    (when ``token`` is a valid session), the route template, the method, the field and the
    kind of problem. Never the value: it is what could not be audited."""
    with inst.unit_of_work() as db:
        actor = device = ""
        if token:
            try:
                principal = accounts.authenticate(db, token)
                actor, device = principal.user.id, principal.device.id
            except DomainError:
                pass  # unknown or ended session: refused all the same, without a name
        audit.log(
            db,
            action=audit.Action.REQUEST_REFUSED,
            outcome=audit.Outcome.DENIED,
            actor=actor,
            device=device,
            object_type="request",
            details={"route": route, "method": method, "field": field, "problem": problem},
        )
