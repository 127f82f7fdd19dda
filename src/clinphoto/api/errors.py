"""The one JSON shape of every error, and the handlers that map errors onto it (STYLE 6).

``{"error": {"code", "message", "request_id", "fields"?}}``: ``code`` is stable and
machine-readable, ``message`` tells a person what to fix, ``request_id`` matches the
``X-Request-Id`` header and the server's log, and ``fields`` (validation errors only) names
each field at fault with the form it expects. Messages never repeat what was sent: it may
be patient data.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from clinphoto.core.errors import DomainError, Invalid

# Every machine-readable error code, listed in the OpenAPI document: a client may switch on
# them. device_revoked means the device must wipe what it holds (BRE-4).
ErrorCode = typing.Literal[
    "invalid_request",
    "unauthenticated",
    "device_revoked",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "internal_error",
    "http_error",
    # Device status and the breach register (docs/wire/device-status.md).
    "stale_status",
    "bad_status_signature",
    "status_key_set",
    "breach_step_order",
]

STATUS = {
    "invalid_request": 422,
    "unauthenticated": 401,
    "device_revoked": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "internal_error": 500,
    "stale_status": 400,
    "bad_status_signature": 401,
    "status_key_set": 409,
    "breach_step_order": 409,
}
_CODE_BY_STATUS = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    request_id: str
    fields: list[FieldError] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# Declared on every API route, so the OpenAPI document describes the answers clients get.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "No valid session: sign in again, or enroll the device again",
        403: "Your role does not allow this, whoever the patient (the message says why)",
        404: "Not found (also what anything that is not yours answers)",
        413: "Request body too large",
        422: "Invalid request: each field at fault, and the form it expects",
        500: "Internal error: quote the request id to your administrator",
    }.items()
}
# Declared on the routes that record something that must never be written twice.
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Already recorded: records are never rewritten"}
}


def error_body(
    code: str, message: str, request_id: str, fields: Sequence[FieldError] = ()
) -> dict[str, object]:
    """The one JSON shape of every error."""
    detail: dict[str, object] = {"code": code, "message": message, "request_id": request_id}
    if fields:
        detail["fields"] = [f.model_dump() for f in fields]
    return {"error": detail}


def error_response(
    scope: Scope,
    code: str,
    message: str,
    *,
    status: int | None = None,
    fields: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error answer for this request; its code is noted for the request log."""
    state = scope.setdefault("state", {})
    state["error_code"] = code
    body = error_body(code, message, str(state.get("request_id", "")), fields)
    return JSONResponse(body, status or STATUS.get(code, 400), headers=headers)


def install(app: FastAPI) -> None:
    """Map HTTP, domain and validation errors onto the one shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        return error_response(
            request.scope, code, message, status=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        status = STATUS.get(exc.code, 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        field = getattr(exc, "field", None) if isinstance(exc, Invalid) else None
        fields = [FieldError(field=field, message=exc.message)] if field else []
        return error_response(
            request.scope, exc.code, exc.message, status=status, fields=fields, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = field_errors(exc.errors(), request.scope.get("route"))
        shown = "; ".join(f.message for f in fields[:3])
        if len(fields) > 3:
            shown += f" (and {len(fields) - 3} more)"
        return error_response(request.scope, "invalid_request", shown, fields=fields)


# --- Validation messages: "<field>: expected <form>", built from pydantic's error list -----

_DATE = "a date as YYYY-MM-DD"
_DATETIME = "a date and time with a UTC offset, as YYYY-MM-DDTHH:MM:SS+HH:MM"
_EXPECTED_BY_TYPE = {
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": _DATETIME,
    "date_past": "a date in the past",
    "date_future": "a date in the future",
    "datetime_past": "a time in the past",
    "datetime_future": "a time in the future",
    "string_type": "text",
    "string_unicode": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "list_type": "a list",
    "json_invalid": "valid JSON",
    "json_type": "valid JSON",
    "uuid_type": "a UUID",
    "uuid_parsing": "a UUID",
    "extra_forbidden": "no such field (remove it)",
    "string_too_short": "at least {min_length} characters",
    "string_too_long": "at most {max_length} characters",
    "too_short": "at least {min_length} items",
    "too_long": "at most {max_length} items",
    "greater_than": "a number above {gt}",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number below {lt}",
    "less_than_equal": "a number of at most {le}",
    "literal_error": "one of {expected}",
    "enum": "one of {expected}",
}
# Patterns used by the API, said in words.
_PATTERNS = {
    r"^[0-9a-f]{32}$": "32 lowercase hexadecimal characters",
    r"^[0-9a-f]{64}$": "64 lowercase hexadecimal characters (a SHA-256 digest)",
}


def field_errors(errors: Sequence[Any], route: object = None) -> list[FieldError]:
    """One :class:`FieldError` per pydantic error, naming the field and the expected form.

    ``route`` (the matched route) lends each field its description, when it has one, so a
    length or pattern error also says what the field is (a province code, a device id...).
    """
    out: list[FieldError] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        field = field_name(loc)
        info = _field_info(route, loc)
        out.append(FieldError(field=field, message=f"{field}: {_expected(error, info)}"))
    return out


def field_name(loc: Sequence[object]) -> str:
    """``("body", "purposes", 0)`` -> ``purposes[0]``; the source alone when nothing else."""
    name = ""
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "request")


def _expected(error: Mapping[str, Any], info: FieldInfo | None) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        annotation = info.annotation if info is not None else None
        form = _DATETIME if annotation is datetime else _DATE if annotation is date else None
        if form is not None:
            return f"required, expected {form}"
        if info is not None and info.description:
            return f"required ({info.description})"
        return "required"
    if kind == "value_error":  # our own validators' messages, which never hold the input
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind in ("string_pattern_mismatch", "string_too_short", "string_too_long"):
        # A field with a pattern (an id, a digest) says so whichever of its rules failed.
        pattern = str(ctx.get("pattern") or _declared(info, "pattern") or "")
        if pattern in _PATTERNS:
            return f"expected {_PATTERNS[pattern]}"
        if kind == "string_pattern_mismatch":
            words = info.description if info is not None else None
            return f"expected {words or f'text matching {pattern}'}"
    template = _EXPECTED_BY_TYPE.get(kind)
    if template is None:  # pydantic's own words: they describe the rule, not the input
        return f"invalid ({error.get('msg', 'invalid value')})"
    expected = template.format_map(_Ctx(ctx))
    if kind in ("string_too_short", "string_too_long"):
        low, high = _declared(info, "min_length"), _declared(info, "max_length")
        if low is not None and low == high:
            expected = f"exactly {low} characters"
        if info is not None and info.description:
            expected += f" ({info.description})"
    return f"expected {expected}"


class _Ctx(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _declared(info: FieldInfo | None, rule: str) -> Any:
    """A constraint declared on the field (``pattern``, ``max_length``...), or None."""
    value = None
    for constraint in info.metadata if info is not None else ():
        value = getattr(constraint, rule, None) or value
    return value


def _field_info(route: object, loc: tuple[object, ...]) -> FieldInfo | None:
    """The declared field at ``loc`` in the route's parameters or body model, if found."""
    dependant = getattr(route, "dependant", None)
    if dependant is None or len(loc) < 2:
        return None
    source, rest = loc[0], loc[1:]
    if source != "body":
        params = getattr(dependant, f"{source}_params", [])
        return next((p.field_info for p in params if p.alias == rest[0]), None)
    body = list(getattr(dependant, "body_params", []))
    if len(body) == 1 and not getattr(body[0].field_info, "embed", False):
        info: FieldInfo | None = body[0].field_info
    else:
        info = next((p.field_info for p in body if p.alias == rest[0]), None)
        rest = rest[1:]
    for part in rest:
        if info is None:
            return None
        if isinstance(part, int):
            continue
        model = _model_in(info.annotation)
        info = None if model is None else _model_field(model, str(part))
    return info


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_in(arg)
        if model is not None:
            return model
    return None


def _model_field(model: type[BaseModel], name: str) -> FieldInfo | None:
    for key, info in model.model_fields.items():
        if name in (key, info.alias):
            return info
    return None
