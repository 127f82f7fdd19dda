"""ASGI middleware around every request: the request id, the request log and the catch-all
(:class:`RequestContext`), and the input guard (:class:`InputGuard`).

The guard runs before any route: it refuses a JSON body larger than the limit before it is
parsed (413, also when it arrives chunked, with no Content-Length), JSON nested too deeply,
and any string in a body, a query or a path that cannot be audited as it is (control or
invisible format characters, lone surrogates, over-long text; 422 naming the field). Each
such refusal is itself audited, with the route template, the method, the field and the kind
of problem, never the value (issue #7, AUD-2).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from traceback import extract_tb
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinphoto.api.errors import FieldError, error_response
from clinphoto.core import boundedjson, text
from clinphoto.core.logging import get_logger
from clinphoto.instance import events

log = get_logger("clinphoto.api")

# Routes whose body is a streamed age ciphertext, not JSON. They check the declared size in
# the signed manifest themselves, and write the bytes to the blob store as they arrive.
STREAMED_UPLOADS = frozenset(
    {
        ("POST", "/v1/media"),
        ("POST", "/v1/media/{media_id}/shares"),
        ("POST", "/v1/consents/{consent_id}/signature"),
    }
)
MAX_DEPTH = 32  # levels of JSON arrays and objects in a request body
MAX_STRING = 8 * 1024  # characters in any one string of a request (every field is shorter)
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContext:
    """Outermost: a request id on every answer (``X-Request-Id``), one structured log line
    per request, and the one error shape for anything left unhandled (500 ``internal_error``,
    logged with the exception's type and place, never its message, which may hold data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = rid
                headers.setdefault("Cache-Control", "no-store")
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # noqa: BLE001 - the catch-all: answer, log, carry on
            frame = extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            log.error(
                "unhandled_error",
                request_id=rid,
                route=_route(scope),
                error=type(exc).__name__,
                where=f"{frame[0].filename}:{frame[0].lineno}" if frame else "",
            )
            if not response_started:
                response = error_response(
                    scope,
                    "internal_error",
                    "internal error: the request was not completed; quote the request id "
                    "to your administrator",
                )
                await response(scope, receive, send_with_headers)
        finally:
            user, device = state.get("actor", (None, None))
            log.info(
                "request",
                request_id=rid,
                method=scope["method"] if scope["method"] in _METHODS else "other",
                route=_route(scope),
                status=status,
                error=state.get("error_code"),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user=user,
                device=device,
            )


def _route(scope: Scope) -> str:
    """The route template (/v1/devices/{device_id}), never the raw path or query."""
    route = getattr(scope.get("route"), "path", None)
    return str(route or scope.get("state", {}).get("route_template") or "unmatched")


class _Refusal(Exception):  # a signal inside this module
    def __init__(self, field: str, kind: str) -> None:
        super().__init__(kind)
        self.field = field
        self.kind = kind


class _TooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class _Malformed(Exception):
    pass


class InputGuard:
    """Body limit, nesting limit and auditable-text check, before any route runs."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self._templates: list[_Template] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        template, params = self._match(scope)
        scope.setdefault("state", {})["route_template"] = template
        try:
            for name, value in params:
                _screen(value, name)
            if template == "unmatched":
                _screen(scope["path"], "path")
            _screen_query(scope.get("query_string", b""))
        except _Refusal as refusal:
            await self._refuse(scope, receive, send, template, refusal)
            return
        if (method, template) in STREAMED_UPLOADS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            await self._too_large(scope, receive, send)
            return
        except _ClientGone:
            return
        try:
            _screen_body(body)
        except _Refusal as refusal:
            await self._refuse(scope, receive, send, template, refusal)
            return
        except _Malformed:
            message = "body: expected valid JSON in UTF-8 (numbers of at most 4300 digits)"
            field = FieldError(field="body", message=message)
            await error_response(scope, "invalid_request", message, fields=[field])(
                scope, receive, send
            )
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            scope,
            "payload_too_large",
            f"request body larger than {self.max_body} bytes: send at most "
            f"{self.max_body} bytes of JSON",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, template: str, refusal: _Refusal
    ) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        await run_in_threadpool(_audit_refusal, scope, template, method, refusal)
        if refusal.kind == "too_deep":
            message = f"{refusal.field}: expected JSON nested at most {MAX_DEPTH} levels deep"
        else:
            expected = text.expected(refusal.kind, max_len=MAX_STRING)
            message = f"{refusal.field}: expected {expected}"
        response = error_response(
            scope,
            "invalid_request",
            message,
            fields=[FieldError(field=refusal.field, message=message)],
        )
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[str, list[tuple[str, str]]]:
        """The route template this request is for, and its path parameters, by the OpenAPI
        document's paths (the routes are only matched later, by the router)."""
        if self._templates is None:
            self._templates = list(_templates(scope["app"]))
        path, method = scope["path"], scope["method"].lower()
        fallback: tuple[str, list[tuple[str, str]]] | None = None
        for t in self._templates:
            m = t.regex.fullmatch(path)
            if m is None:
                continue
            found = (t.path, list(m.groupdict().items()))
            if method in t.methods:
                return found
            fallback = fallback or found
        return fallback or ("unmatched", [])


@dataclass(frozen=True)
class _Template:
    path: str
    regex: re.Pattern[str]
    methods: frozenset[str]


def _templates(app: Any) -> Iterator[_Template]:
    """Every API route of the OpenAPI document, then the application's own routes that it
    leaves out (/openapi.json, /docs and its assets)."""
    routes = {path: set(ops) for path, ops in app.openapi().get("paths", {}).items()}
    for route in app.routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if isinstance(path, str) and methods and path not in routes:
            routes[path] = {m.lower() for m in methods}
    for path, methods in routes.items():
        pattern = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", path):
            pattern += re.escape(literal) + (f"(?P<{name}>[^/]+)" if name else "")
        yield _Template(path, re.compile(pattern), frozenset(methods))


def _screen(value: str, field: str) -> None:
    kind = text.problem(value, max_len=MAX_STRING)
    if kind is not None:
        raise _Refusal(field, kind)


def _screen_query(query_string: bytes) -> None:
    # The same parsing as Starlette's request.query_params.
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        _screen(key, "query")
        _screen(value, _safe(key))


def _screen_body(body: bytes) -> None:
    if not body.strip():
        return
    try:
        parsed = boundedjson.loads(body, max_depth=MAX_DEPTH)
    except boundedjson.TooDeep:
        raise _Refusal("body", "too_deep") from None
    except json.JSONDecodeError:
        return  # not JSON: the route's own parsing answers that (422 "expected valid JSON")
    except ValueError:  # not UTF-8, or a number of thousands of digits
        raise _Malformed from None
    _walk(parsed, "")


def _walk(value: object, field: str) -> None:
    if isinstance(value, str):
        _screen(value, field or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            _screen(key, field or "body")
            _walk(item, f"{field}.{_safe(key)}" if field else _safe(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{field or 'body'}[{i}]")


def _safe(name: str) -> str:
    """A field name fit for a message and the audit trail: a client-chosen key is shown
    only when it looks like a field name (it could be anything, patient data included)."""
    return name if _SAFE_NAME.fullmatch(name) else "(unnamed field)"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _audit_refusal(scope: Scope, template: str, method: str, refusal: _Refusal) -> None:
    header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = header.partition(" ")
    client = scope.get("client")
    events.request_refused(
        scope["app"].state.instance,
        token=token.strip() if scheme.lower() == "bearer" else "",
        client=str(client[0]) if client else "",
        route=template,
        method=method,
        field=refusal.field,
        problem=refusal.kind,
    )
