"""Every route needs authentication unless it is on the explicit allow-list (STYLE 7)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from clinphoto.api.app import PUBLIC_PATHS, create_app
from clinphoto.core.config import Settings


def test_every_route_is_authenticated_or_allow_listed(settings: Settings) -> None:
    app = create_app(settings)
    unguarded = []
    for route in app.routes:
        assert isinstance(route, (APIRoute, Route))
        if route.path in PUBLIC_PATHS:
            continue
        dependant = route.dependant if isinstance(route, APIRoute) else None
        calls = [d.call for d in dependant.dependencies] if dependant else []
        deps = {getattr(c, "__name__", "") for c in calls}
        if "current_session" not in deps:
            unguarded.append(route.path)
    assert unguarded == []


def test_unknown_route_answers_in_the_one_error_shape(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]


def test_health_is_public(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"
