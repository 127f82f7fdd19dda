"""Application factory: builds the HTTP API from settings; nothing is built at import time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinphoto import __version__
from clinphoto.api import accounts, consent, media, patients, review, sharing
from clinphoto.core.config import Settings
from clinphoto.core.errors import DomainError
from clinphoto.core.logging import get_logger
from clinphoto.instance.runtime import Instance

# Routes reachable without a session. Everything else must depend on authentication, and
# tests/functional/test_api_routes.py walks every route to prove it (STYLE 7).
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/docs",
        "/docs/oauth2-redirect",
        "/openapi.json",
        "/v1/enroll",  # redeems a one-time code
        "/v1/sessions",  # POST: sign in with password and device signature
    }
)
# Methods allowed on a public path; anything else there still needs a session.
PUBLIC_METHODS = {"/v1/sessions": {"POST"}}

_STATUS = {
    "not_found": 404,
    "unauthenticated": 401,
    "forbidden": 403,
    "invalid_request": 422,
    "conflict": 409,
    "rate_limited": 429,
}


def error_body(code: str, message: str, request_id: str) -> dict[str, object]:
    """The one JSON shape of every error: stable ``code``, human ``message``, ``request_id``."""
    return {"error": {"code": code, "message": message, "request_id": request_id}}


log = get_logger("clinphoto.api")


def create_app(settings: Settings, instance: Instance) -> FastAPI:
    app = FastAPI(
        title="clinphoto",
        version=__version__,
        description="Secure clinical photography: the HTTP API is the one contract between "
        "clinphoto's clients (CLI device client, web app) and its server.",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.instance = instance

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = uuid.uuid4().hex
        request.state.request_id = rid
        started = time.perf_counter()
        response = await call_next(request)
        # The route template (/v1/devices/{device_id}), never the raw path or query string.
        route = request.scope.get("route")
        user, device = getattr(request.state, "actor", (None, None))
        log.info(
            "request",
            request_id=rid,
            method=request.method,
            route=getattr(route, "path", "unmatched"),
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            user=user,
            device=device,
        )
        response.headers["X-Request-Id"] = rid
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http_error"
        )
        message = "not found" if exc.status_code == 404 else str(exc.detail)
        rid = getattr(request.state, "request_id", "")
        return JSONResponse(error_body(code, message, rid), status_code=exc.status_code)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        rid = getattr(request.state, "request_id", "")
        status = _STATUS.get(exc.code, 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, rid), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        rid = getattr(request.state, "request_id", "")
        return JSONResponse(error_body("invalid_request", "invalid request", rid), 422)

    @app.get("/healthz", tags=["meta"], summary="Liveness check (no authentication)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(accounts.router)
    app.include_router(patients.router)
    app.include_router(consent.router)
    app.include_router(media.router)
    app.include_router(sharing.router)
    app.include_router(review.router)
    return app
