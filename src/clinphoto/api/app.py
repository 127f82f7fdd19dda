"""Application factory: builds the HTTP API from settings; nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from clinphoto import __version__
from clinphoto.api import (
    accounts,
    breaches,
    consent,
    device_status,
    disclosures,
    docs,
    errors,
    grants,
    media,
    patientrights,
    patients,
    records,
    review,
    sharing,
)
from clinphoto.api.errors import error_body
from clinphoto.api.guard import InputGuard, RequestContext
from clinphoto.api.webapp import API_PREFIXES, SecurityHeaders, WebApp
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance

__all__ = ["API_PREFIXES", "PUBLIC_METHODS", "PUBLIC_PATHS", "create_app", "error_body"]

# Routes reachable without a session. Everything else must depend on authentication, and
# tests/functional/test_api_routes.py walks every route to prove it (STYLE 7).
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/docs",
        "/docs/oauth2-redirect",
        "/docs/assets/{name}",  # Swagger UI's own files: no CDN (api/docs.py)
        "/openapi.json",
        "/v1/enroll",  # redeems a one-time code
        "/v1/sessions",  # POST: sign in with password and device signature
        # POST, signed by the device's status key instead of a session, so that a locked or
        # revoked device still reports, is told to wipe, and confirms (decision 014).
        "/v1/device-status",
        "/v1/device-status/wipe-confirmation",
        "/v1/device-status/delete-confirmation",
    }
)
# Methods allowed on a public path; anything else there still needs a session.
PUBLIC_METHODS = {
    "/v1/sessions": {"POST"},
    "/v1/device-status": {"POST"},
    "/v1/device-status/wipe-confirmation": {"POST"},
    "/v1/device-status/delete-confirmation": {"POST"},
}
# Also public: GET and HEAD of any path outside API_PREFIXES, the phone app's files
# (api/webapp.py), which hold no patient data. Every route lies under API_PREFIXES, and the
# same test proves it, so the app's files can never stand in front of a route.


def create_app(settings: Settings, instance: Instance) -> FastAPI:
    app = FastAPI(
        title="clinphoto",
        version=__version__,
        description="Secure clinical photography: the HTTP API is the one contract between "
        "clinphoto's clients (CLI device client, web app) and its server. Every error "
        'answers {"error": {"code", "message", "request_id"}}.',
        docs_url=None,
        redoc_url=None,
        lifespan=records.lifespan,  # the scheduled retention sweep (RET-5)
    )
    app.state.settings = settings
    app.state.instance = instance

    # Added last, runs first: the security headers wrap everything, the request id and
    # the catch-all wrap the input guard, and the guard screens the path before the phone
    # app's files are looked up.
    app.add_middleware(WebApp, root=settings.resolved_web_dir)
    app.add_middleware(InputGuard, max_body=settings.max_json_body)
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    docs.install(app)

    # The input guard and the catch-all answer on every path, this one included.
    guarded: dict[int | str, dict[str, Any]] = {s: errors.RESPONSES[s] for s in (413, 422, 500)}

    @app.get(
        "/healthz",
        tags=["meta"],
        summary="Liveness check (no authentication)",
        responses=guarded,
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for area in (
        accounts,
        patients,
        consent,
        media,
        sharing,
        grants,
        review,
        records,
        disclosures,
        patientrights,
        device_status,
        breaches,
    ):
        app.include_router(area.router, responses=errors.RESPONSES)
    return app
