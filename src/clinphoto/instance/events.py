"""Use cases that record what happens to the instance as a whole: its creation, and a
request refused before any route ran because its input cannot be audited as it is.

Interfaces call these rather than writing to the audit trail themselves (issue #7, AUD-2).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from clinphoto.accounts import service as accounts
from clinphoto.accounts import throttle
from clinphoto.audit import service as audit
from clinphoto.core.clock import utcnow
from clinphoto.core.errors import DomainError
from clinphoto.core.logging import get_logger

if TYPE_CHECKING:
    from clinphoto.instance.runtime import Instance


def instance_created(inst: Instance, *, actor: str = "cli") -> None:
    """The first entry of a new instance's audit trail."""
    with inst.unit_of_work() as db:
        audit.log(db, action=audit.Action.INSTANCE_INIT, actor=actor)


# Refusals from one address without a session, audited before that address's entries are
# only logged: an anonymous client must not be able to fill the audit trail (or hold
# SQLite's write lock) at will. The request log keeps a line for every refusal.
ANONYMOUS_REFUSALS = throttle.Limit(
    failures=30,
    window=timedelta(minutes=15),
    first_block=timedelta(minutes=15),
    max_block=timedelta(hours=1),
)
log = get_logger("clinphoto.audit")


def request_refused(
    inst: Instance,
    *,
    token: str,
    route: str,
    method: str,
    field: str,
    problem: str,
    client: str = "",
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
        extra: dict[str, object] = {}
        if not actor:
            now = utcnow()
            row_key = throttle.key(inst.keys.blind_index_key, "refused", client)
            if throttle.blocked_for(db, row_key, now) is not None:
                log.warning("request_refused_not_audited", route=route, problem=problem)
                return
            if throttle.record_failure(db, row_key, ANONYMOUS_REFUSALS, now):
                extra = {"further_anonymous_refusals_from_this_client": "logged, not audited"}
        audit.log(
            db,
            action=audit.Action.REQUEST_REFUSED,
            outcome=audit.Outcome.DENIED,
            actor=actor,
            device=device,
            object_type="request",
            details={
                "route": route,
                "method": method,
                "field": field,
                "problem": problem,
                **extra,
            },
        )
