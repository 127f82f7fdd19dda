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
