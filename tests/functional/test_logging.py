"""Logs are JSON with request ids and route templates, never raw paths or queries (STYLE 8)."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient

from clinphoto.core.logging import configure


def test_request_log_is_json_with_route_template_not_raw_query(client: TestClient) -> None:
    stream = io.StringIO()
    configure("info", stream=stream)
    secret = "MRN-7654321"
    response = client.get(f"/v1/devices?user_id={secret}")
    assert response.status_code == 401
    client.get("/healthz")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 2
    assert requests[0]["route"] == "/v1/devices"
    assert requests[0]["request_id"] == response.headers["X-Request-Id"]
    assert requests[0]["status"] == 401
    assert secret not in stream.getvalue()


def test_every_error_is_logged_with_its_code_and_never_with_what_was_sent(
    client: TestClient,
) -> None:
    stream = io.StringIO()
    configure("info", stream=stream)
    refused = client.get("/v1/patients/" + "0" * 31 + "%00", params={"q": "Jane Doe"})
    assert refused.status_code == 422
    signin = client.post("/v1/sessions", json={"email": "jane.doe\u200b@h.example"})
    assert signin.status_code == 422
    unauthenticated = client.get("/v1/me")
    assert unauthenticated.status_code == 401
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["route"], r["status"], r["error"]) for r in requests] == [
        ("/v1/patients/{patient_id}", 422, "invalid_request"),
        ("/v1/sessions", 422, "invalid_request"),
        ("/v1/me", 401, "unauthenticated"),
    ]
    assert [r["request_id"] for r in requests] == [
        r.headers["X-Request-Id"] for r in (refused, signin, unauthenticated)
    ]
    assert "Jane" not in stream.getvalue()
    assert "jane" not in stream.getvalue()


def test_routes_outside_the_api_are_logged_by_their_template_too(client: TestClient) -> None:
    stream = io.StringIO()
    configure("info", stream=stream)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    routes = [line["route"] for line in lines if line.get("event") == "request"]
    assert routes == ["/openapi.json", "/docs/assets/{name}"]
