"""Every route needs authentication unless it is on the explicit allow-list (STYLE 7)."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from clinphoto.api.app import API_PREFIXES, PUBLIC_METHODS, PUBLIC_PATHS


def _is_public(path: str, method: str) -> bool:
    return path in PUBLIC_PATHS and method in PUBLIC_METHODS.get(path, {method})


def _assert_unauthenticated_shape(response: httpx.Response) -> None:
    """The one error shape: exactly code, message and request id, the id in the header too."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == "unauthenticated"
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["error"]["request_id"])
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Cache-Control"] == "no-store"


def test_every_route_refuses_a_request_without_a_session(client: TestClient) -> None:
    # The OpenAPI document lists every API route, including those of included routers
    # (which this FastAPI mounts lazily, out of sight of app.routes).
    checked = 0
    for route_path, operations in client.get("/openapi.json").json()["paths"].items():
        for method in sorted(m.upper() for m in operations):
            if _is_public(route_path, method):
                continue
            path = re.sub(r"\{[^}]+\}", "0" * 32, route_path)
            response = client.request(method, path, json={})
            assert response.status_code == 401, (method, route_path, response.text)
            _assert_unauthenticated_shape(response)
            bogus = client.request(
                method, path, json={}, headers={"Authorization": "Bearer not-a-session"}
            )
            assert bogus.status_code == 401, (method, route_path)
            _assert_unauthenticated_shape(bogus)
            checked += 1
    assert checked >= 5  # the walk really walked


def test_allow_list_holds_only_what_must_be_public() -> None:
    assert set(PUBLIC_PATHS) == {
        "/healthz",
        "/docs",
        "/docs/oauth2-redirect",
        "/docs/assets/{name}",
        "/openapi.json",
        "/v1/enroll",
        "/v1/sessions",
        # Signed by the device's status key: a locked or revoked device must still report
        # and confirm its wipe (decision 014).
        "/v1/device-status",
        "/v1/device-status/wipe-confirmation",
        "/v1/device-status/delete-confirmation",
    }


def test_every_route_lies_under_the_api_prefixes(client: TestClient) -> None:
    """Outside API_PREFIXES, GET and HEAD serve the phone app's public files (api/webapp.py).
    A route there would be hidden behind them, and the walk above would not prove it needs
    a session; so there is none."""
    assert API_PREFIXES == ("/v1", "/docs", "/openapi.json", "/healthz")
    paths = set(client.get("/openapi.json").json()["paths"])
    paths |= {p for p in (getattr(r, "path", None) for r in client.app.routes) if p}  # type: ignore[attr-defined]
    assert len(paths) >= 10
    assert [
        p for p in paths if not any(p == a or p.startswith(a + "/") for a in API_PREFIXES)
    ] == []


def test_the_phone_app_never_answers_an_api_path(client: TestClient) -> None:
    for path in ("/v1", "/v1/", "/v1/index.html", "/v1/patients/x", "/docs/x", "/healthz/x"):
        response = client.get(path)
        assert response.status_code in (401, 404), path
        assert response.headers["content-type"] == "application/json", path


def test_unknown_route_answers_in_the_one_error_shape(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]


def test_health_is_public(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/enroll" in spec["paths"]


def test_openapi_declares_the_one_error_shape_for_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            for status in ("401", "422", "500"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                    method,
                    path,
                    status,
                )
