"""Domain errors. They know nothing of HTTP: the API maps each ``code`` to a status.

"Not yours" is raised as :class:`NotFound`, so it is indistinguishable from "not there".
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    # Set once the use case that raised it has written the refusal to the audit trail, so
    # that an outer layer does not audit it twice.
    audited = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, message: str = "not found") -> None:
        super().__init__(message)


class Unauthenticated(DomainError):
    code = "unauthenticated"

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message)


class DeviceRevoked(Unauthenticated):
    """The token's device was revoked: its app wipes what it holds (BRE-4) and enrolls again."""

    code = "device_revoked"


class Forbidden(DomainError):
    """The caller is known and the object is theirs to know of, but the action is not theirs."""

    code = "forbidden"


class Invalid(DomainError):
    """The caller's own mistake; ``field`` names what to fix when one field is at fault."""

    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    code = "conflict"


class RateLimited(DomainError):
    code = "rate_limited"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
