"""The HTTP layer under hostile input (issue #7, section 3): one error shape for everything,
unhandled exceptions included; bodies limited before they are parsed; input that cannot be
audited as it is refused before any route runs, and the refusal audited; /docs offline."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clinphoto.api import guard
from clinphoto.api.deps import ObjectId
from clinphoto.audit.models import AuditEntry
from clinphoto.core import protocol
from clinphoto.core.logging import configure
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice

NewDevice = Callable[..., EnrolledDevice]
PATIENT = {"name": "Jane Doe", "dob": "1980-02-03", "mrn": "7654321", "province": "QC"}


def _assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    return error


def _refusals(instance: Instance) -> list[AuditEntry]:
    with instance.unit_of_work() as db:
        return list(
            db.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "request.refused")
                .order_by(AuditEntry.seq)
            ).scalars()
        )


# --- every error in the one shape -------------------------------------------------------


def test_unhandled_exception_answers_in_the_one_shape_and_is_logged_without_its_message(
    client: TestClient,
) -> None:
    def broken() -> None:
        raise RuntimeError("MRN 7654321 for Jane Doe")  # what an exception may carry

    client.app.add_api_route("/v1/test-broken", broken)  # type: ignore[attr-defined]
    stream = io.StringIO()
    configure("info", stream=stream)
    no_raise = TestClient(client.app, raise_server_exceptions=False)

    response = no_raise.get("/v1/test-broken")

    error = _assert_error_shape(response, 500, "internal_error")
    assert "request id" in error["message"]
    assert response.headers["Cache-Control"] == "no-store"
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    crash = next(line for line in lines if line["event"] == "unhandled_error")
    assert crash["request_id"] == response.headers["X-Request-Id"]
    assert crash["error"] == "RuntimeError"
    assert crash["route"] == "/v1/test-broken"
    request = next(line for line in lines if line["event"] == "request")
    assert (request["status"], request["error"]) == (500, "internal_error")
    assert "7654321" not in stream.getvalue()
    assert "Jane" not in stream.getvalue()


def test_method_not_allowed_answers_in_the_one_shape(client: TestClient) -> None:
    _assert_error_shape(client.put("/healthz"), 405, "method_not_allowed")


# --- validation errors name the field and the expected form -------------------------------


def test_validation_error_names_each_field_and_the_form_it_expects(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    response = client.post(
        "/v1/patients",
        json={**PATIENT, "dob": "03/02/1980", "province": "Quebec"},
        headers=dev.auth,
    )
    error = _assert_error_shape(response, 422, "invalid_request")
    assert "dob: expected a date as YYYY-MM-DD" in error["message"]
    assert "province: expected" in error["message"]
    fields = {f["field"]: f["message"] for f in error["fields"]}
    assert fields["dob"] == "dob: expected a date as YYYY-MM-DD"
    assert "2 characters" in fields["province"]
    assert "Quebec" not in response.text  # what was sent is never repeated
    assert "03/02/1980" not in response.text


def test_malformed_id_is_the_callers_mistake_named_as_such(client: TestClient) -> None:
    def read(patient_id: ObjectId) -> dict[str, str]:
        return {"id": patient_id}

    client.app.add_api_route("/v1/test-ids/{patient_id}", read)  # type: ignore[attr-defined]
    for bad in ("ABCDEF" + "0" * 26, "0" * 31, "0" * 31 + "g", "0" * 33):
        response = client.get(f"/v1/test-ids/{bad}")
        error = _assert_error_shape(response, 422, "invalid_request")
        assert error["message"] == "patient_id: expected 32 lowercase hexadecimal characters"
    assert client.get("/v1/test-ids/" + "0" * 32).status_code == 200


def test_missing_body_and_invalid_json_say_what_was_expected(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    garbled = client.post(
        "/v1/patients",
        content=b'{"name": ',
        headers={**dev.auth, "content-type": "application/json"},
    )
    assert "expected valid JSON" in _assert_error_shape(garbled, 422, "invalid_request")["message"]
    missing = client.post("/v1/patients", json={"name": "Jane Doe"}, headers=dev.auth)
    message = _assert_error_shape(missing, 422, "invalid_request")["message"]
    assert "dob: required, expected a date as YYYY-MM-DD" in message
    for not_json in (b'{"mrn": 1' + b"0" * 5000 + b"}", b'{"name": "\xff"}'):
        response = client.post(
            "/v1/patients",
            content=not_json,
            headers={**dev.auth, "content-type": "application/json"},
        )
        error = _assert_error_shape(response, 422, "invalid_request")
        assert error["message"].startswith("body: expected valid JSON")


# --- bodies limited before they are parsed ------------------------------------------------


def test_json_body_over_the_limit_is_refused_before_it_is_parsed(client: TestClient) -> None:
    limit = client.app.state.settings.max_json_body  # type: ignore[attr-defined]
    # Not even JSON: the size is refused first, without reading it as JSON.
    big = b"[" * (limit + 1)
    response = client.post(
        "/v1/sessions", content=big, headers={"content-type": "application/json"}
    )
    error = _assert_error_shape(response, 413, "payload_too_large")
    assert str(limit) in error["message"]


def test_chunked_body_without_a_length_is_counted_too(client: TestClient) -> None:
    limit = client.app.state.settings.max_json_body  # type: ignore[attr-defined]

    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(limit // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/v1/sessions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    _assert_error_shape(response, 413, "payload_too_large")


def test_streamed_uploads_are_not_held_to_the_json_limit(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    limit = client.app.state.settings.max_json_body  # type: ignore[attr-defined]
    response = client.post(
        "/v1/media",
        content=b"\0" * (limit * 2),
        headers={**dev.auth, protocol.MANIFEST_HEADER: "not-a-manifest"},
    )
    # Past the guard: the route's own check of the signed manifest answers.
    error = _assert_error_shape(response, 422, "invalid_request")
    assert protocol.MANIFEST_HEADER in error["message"]


def test_every_streamed_upload_route_exists(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method, path in guard.STREAMED_UPLOADS:
        assert method.lower() in paths.get(path, {}), (method, path)


# --- input that cannot be audited is refused, and the refusal audited ---------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("jane\x00@hospital.example", "control_character"),
        ("jane\u200b@hospital.example", "format_character"),
        ("jane\u202e@hospital.example", "format_character"),
        ("x" * (guard.MAX_STRING + 1), "too_long"),
    ],
)
def test_unauditable_text_in_a_body_is_refused_naming_the_field_and_audited(
    client: TestClient, instance: Instance, value: str, problem: str
) -> None:
    response = client.post("/v1/sessions", json={"email": value, "password": "p"})
    error = _assert_error_shape(response, 422, "invalid_request")
    assert error["message"].startswith("email: expected")
    assert error["fields"][0]["field"] == "email"
    [entry] = _refusals(instance)
    assert entry.outcome == "denied"
    assert json.loads(entry.details) == {
        "route": "/v1/sessions",
        "method": "POST",
        "field": "email",
        "problem": problem,
    }
    assert "jane" not in entry.details


def test_lone_surrogate_in_json_is_refused(client: TestClient, instance: Instance) -> None:
    response = client.post(
        "/v1/sessions",
        content=b'{"email": "jane\\ud800@hospital.example", "password": "p"}',
        headers={"content-type": "application/json"},
    )
    _assert_error_shape(response, 422, "invalid_request")
    assert json.loads(_refusals(instance)[0].details)["problem"] == "lone_surrogate"


def test_control_character_in_a_path_parameter_is_refused_and_audited_with_the_actor(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    response = client.get("/v1/patients/" + "0" * 31 + "%0A", headers=dev.auth)
    error = _assert_error_shape(response, 422, "invalid_request")
    assert error["message"].startswith("patient_id: expected text without control characters")
    [entry] = _refusals(instance)
    assert (entry.actor, entry.device) == (dev.user_id, dev.device_id)
    assert json.loads(entry.details) == {
        "route": "/v1/patients/{patient_id}",
        "method": "GET",
        "field": "patient_id",
        "problem": "control_character",
    }


def test_format_character_in_a_query_parameter_is_refused_and_audited(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    response = client.get("/v1/devices", params={"user_id": "ab\u2066cd"}, headers=dev.auth)
    error = _assert_error_shape(response, 422, "invalid_request")
    assert error["message"].startswith("user_id: expected text without invisible formatting")
    [entry] = _refusals(instance)
    assert json.loads(entry.details)["field"] == "user_id"


def test_a_key_chosen_by_the_client_is_not_written_to_the_audit_trail(
    client: TestClient, instance: Instance
) -> None:
    response = client.post("/v1/sessions", json={"Jane Doe 1980-02-03": "a\x07"})
    error = _assert_error_shape(response, 422, "invalid_request")
    assert "Jane" not in error["message"]
    [entry] = _refusals(instance)
    assert "Jane" not in entry.details


def test_control_character_in_an_unknown_path_is_refused_and_audited(
    client: TestClient, instance: Instance
) -> None:
    response = client.get("/v1/patients%00Jane")
    error = _assert_error_shape(response, 422, "invalid_request")
    assert error["message"].startswith("path: expected text without control characters")
    assert "Jane" not in response.text
    [entry] = _refusals(instance)
    assert json.loads(entry.details)["route"] == "unmatched"


def test_deeply_nested_json_is_refused_and_audited(client: TestClient, instance: Instance) -> None:
    deep = b'{"email": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(
        "/v1/sessions", content=deep, headers={"content-type": "application/json"}
    )
    error = _assert_error_shape(response, 422, "invalid_request")
    assert error["message"] == f"body: expected JSON nested at most {guard.MAX_DEPTH} levels deep"
    [entry] = _refusals(instance)
    assert json.loads(entry.details)["problem"] == "too_deep"


def test_ordinary_text_of_every_script_passes_the_guard(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    dev = new_device()
    response = client.post(
        "/v1/patients",
        json={**PATIENT, "name": "Nguyễn Thị Ōkawa-Côté", "mrn": "A-123 456"},
        headers=dev.auth,
    )
    assert response.status_code == 200, response.text
    assert _refusals(instance) == []


# --- /docs on a closed network ----------------------------------------------------------


def test_docs_load_nothing_from_outside_the_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    urls = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert not [u for u in urls if re.match(r"(?i)(https?:)?//", u)], urls
    assets = [u for u in urls if u.startswith("/docs/assets/")]
    assert len(assets) == 4, urls  # Swagger UI's script, stylesheet and icon, and init.js
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0
    assert "SwaggerUIBundle(" in client.get("/docs/assets/init.js").text
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_docs_pages_run_no_inline_script(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts
    for attributes, body in scripts:
        assert re.search(r"\bsrc=\"/docs/assets/[\w.-]+\.js\"", attributes), attributes
        assert not body.strip()
        src = re.search(r'src="([^"]+)"', attributes)
        assert src is not None
        assert client.get(src.group(1)).status_code == 200
    assert not re.search(r"\bon[a-z]+\s*=", page.text)  # no inline event handlers
    policy = dict(
        d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy.get("default-src", "")
    assert policy["frame-ancestors"] == "'none'"


def test_an_anonymous_client_cannot_fill_the_audit_trail_with_refused_requests(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    from clinphoto.instance.events import ANONYMOUS_REFUSALS

    flood = ANONYMOUS_REFUSALS.failures + 15
    for _ in range(flood):
        response = client.post("/v1/sessions", json={"email": "a\u0000b"})
        _assert_error_shape(response, 422, "invalid_request")  # still refused, every time
    entries = _refusals(instance)
    assert len(entries) == ANONYMOUS_REFUSALS.failures
    assert "further_anonymous_refusals_from_this_client" in json.loads(entries[-1].details)
    # A signed-in user's refusals are always audited: they name someone.
    dev = new_device()
    response = client.get("/v1/devices", params={"user_id": "ab\u2066cd"}, headers=dev.auth)
    _assert_error_shape(response, 422, "invalid_request")
    assert _refusals(instance)[-1].actor == dev.user_id


# --- a revoked device is told to wipe itself -----------------------------------------------


def test_a_revoked_device_is_told_to_clear_what_the_app_kept(
    client: TestClient, new_device: NewDevice
) -> None:
    dev = new_device()
    assert client.get("/v1/me", headers=dev.auth).status_code == 200
    revoked = client.delete(f"/v1/devices/{dev.device_id}", headers=dev.auth)
    assert revoked.status_code == 200, revoked.text

    response = client.get("/v1/me", headers=dev.auth)

    _assert_error_shape(response, 401, "device_revoked")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_a_signed_out_or_unknown_session_keeps_the_devices_data(
    client: TestClient, new_device: NewDevice
) -> None:
    """Signing out leaves the device enrolled: its keys and unsent photos stay on it."""
    dev = new_device()
    signed_out = client.delete("/v1/sessions/current", headers=dev.auth)
    assert signed_out.status_code == 204
    after = client.get("/v1/me", headers=dev.auth)
    _assert_error_shape(after, 401, "unauthenticated")
    unknown = client.get("/v1/me", headers={"Authorization": "Bearer not-a-session"})
    for response in (signed_out, after, unknown):
        assert "Clear-Site-Data" not in response.headers
