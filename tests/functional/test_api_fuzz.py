"""Schemathesis over the OpenAPI document (issue #7, section 4): for every operation, requests
generated from the document, valid and deliberately invalid, never end in a server error, and
every answer is one the document declares: its status code, its content type and its body.

The real app runs on SQLite and PostgreSQL. A clinician's device signs four requests in five,
so that the fuzzer reaches the handlers behind authentication; the fifth goes without a session.
Every other valid case names objects that exist (a patient, an encounter, a consent, a photo, a
share, a device...), so that handlers run past "not found". Generation is derandomized: every
run sends the same cases, about 1,650 per database (the schemathesis coverage phase, then
MAX_EXAMPLES generated cases per operation).

Operations that cannot be fuzzed meaningfully, and are still run for the shape of their answers:
- POST /v1/media, POST /v1/media/{media_id}/shares, POST /v1/consents/{consent_id}/signature:
  streamed age uploads whose signed manifest travels in headers the document does not describe;
  generated requests carry no manifest, so they end at the manifest check (422).
  tests/functional/test_media_api.py and test_sharing_api.py drive them with real manifests.
- POST /v1/enroll: a generated code is never a live one-time code, and a generated key never an
  age or Ed25519 key, so enrollment ends at those checks (tests/functional/test_accounts_api.py).
- POST /v1/sessions: a generated request never carries a valid device signature.
- DELETE /v1/sessions/current: each case signs out a fresh device of the same clinician, so that
  the other cases keep their session.
- The review queues and the patient audit export answer a clinician 403 or 404: they are for
  privacy officers, whose cases tests/functional/test_authorization_matrix.py covers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from clinphoto.accounts import service as accounts
from clinphoto.accounts.models import Role, User
from clinphoto.api.app import create_app
from clinphoto.core.config import Settings
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice, enroll, make_user
from tests.functional.test_sharing_api import _captured, _reseal

MAX_EXAMPLES = 25  # generated cases per operation; the coverage phase adds its own
SHAPE = [status_code_conformance, content_type_conformance, response_schema_conformance]
CHECKS = [
    not_a_server_error,
    *SHAPE,
    negative_data_rejection,  # a request that breaks the schema is refused (4xx), never done
]
SIGN_OUT = "DELETE /v1/sessions/current"


@dataclass
class Fuzzed:
    """The app under test, the device that signs the requests, and the objects that exist."""

    client: TestClient
    instance: Instance
    device: EnrolledDevice
    # Where a valid case names something, what to name instead: objects that exist, and
    # values that pass the use case's own rules; by location (path, query, body), then name.
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)  # cases per operation
    statuses: dict[str, set[int]] = field(default_factory=dict)  # answers per operation

    def fresh_device(self) -> EnrolledDevice:
        """Another device of the same clinician (what a second phone enrolls)."""
        with self.instance.unit_of_work() as db:
            user = db.get(User, self.device.user_id)
            assert user is not None
            code = accounts.issue_enrollment_code(db, user=user, issued_by="test")
        return enroll(self.client, code)


def _seed(client: TestClient, instance: Instance) -> Fuzzed:
    """Alice (the fuzzing clinician): a patient, a consent, an inspected photo, a photo Bob
    shared with her, a spare device; Bob: a clinician who declared an emergency override."""
    alice = enroll(client, make_user(instance, Role.CLINICIAN, "alice@hospital.example"))
    bob = enroll(client, make_user(instance, Role.CLINICIAN, "bob@hospital.example"))
    fuzzed = Fuzzed(client, instance, alice)
    spare = fuzzed.fresh_device()
    media_id, _, patient_id = _captured(client, instance, alice)
    # A second consent, in an encounter of its own, for the fuzzer to withdraw: the photo's
    # consent stays in force, so that the photo stays readable.
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": patient_id,
            "purposes": ["clinical_care", "education"],
            "method": "written",
            "informed_of_rights": True,
            "text_version": "2026-11-en",
        },
        headers=alice.auth,
    )
    assert consent.status_code == 200, consent.text
    bob_media, bob_plain, _ = _captured(client, instance, bob)
    recipients = [alice.age.recipient, spare.age.recipient, instance.keys.records.recipient]
    shared = _reseal(client, bob, bob_media, bob_plain, alice.user_id, recipients)
    assert shared.status_code == 201, shared.text  # type: ignore[attr-defined]
    override = client.post(
        f"/v1/patients/{patient_id}/emergency-override",
        json={"reason": "unconscious in the emergency room", "minutes": 30},
        headers=bob.auth,
    )
    assert override.status_code == 201, override.text
    ids = {
        "patient_id": patient_id,
        "consent_id": consent.json()["id"],
        "media_id": media_id,
        "share_id": shared.json()["id"],  # type: ignore[attr-defined]
        "override_id": override.json()["id"],
        "device_id": spare.device_id,  # the fuzzer may revoke it
    }
    fuzzed.known = {
        "path": ids,
        "query": {"user_id": bob.user_id, "email": bob.email, "purpose": "clinical_care"},
        "body": {
            "patient_id": patient_id,
            "encounter_id": consent.json()["encounter_id"],
            "user_id": bob.user_id,
            "province": "QC",
            "method": "written",  # a verbal consent needs a witness, which is rarely generated
            "informed_of_rights": True,
            "deadline": (datetime.now(UTC) + timedelta(hours=24)).isoformat(),
        },
    }
    return fuzzed


@pytest.fixture
def fuzzed(settings: Settings, instance: Instance) -> Iterator[Fuzzed]:
    # Seeding and fresh devices come from an address of their own: the sign-ins and
    # enrollments the fuzzer fails are throttled per client address.
    with TestClient(create_app(settings, instance), client=("192.0.2.1", 50000)) as client:
        yield _seed(client, instance)


@pytest.fixture
def fuzzing(fuzzed: Fuzzed, api_schema: OpenApiSchema) -> Iterator[Fuzzed]:
    """The fuzzing run, checked afterwards for having reached past authentication."""
    yield fuzzed
    operations = {operation.label for operation in _operations(api_schema)}
    assert set(fuzzed.statuses) == operations
    # It proves something only if its session worked: each operation answered something else
    # than "no session" (401) or "no such method" (405) at least once.
    stuck = sorted(label for label, got in fuzzed.statuses.items() if not got - {401, 405})
    assert not stuck, f"the fuzzer never got past authentication on {stuck}"


@pytest.fixture
def api_schema(fuzzed: Fuzzed) -> OpenApiSchema:
    config = schemathesis.Config.from_dict(
        {"seed": 20261129, "generation": {"max-examples": MAX_EXAMPLES}}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed.client.app, config=config)


@pytest.fixture(autouse=True)
def _schemathesis_on_pytest_9(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames the test node of a fixture-loaded schema through the private
    ``_nodeid`` attribute, which pytest 9.2 no longer has: give it one (reporting only)."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


def _operations(api_schema: OpenApiSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document is a valid OpenAPI schema
        operations.append(result.ok())
    return operations


def _name_known_objects(case: Case[Any], known: dict[str, dict[str, Any]]) -> None:
    """Point a valid case at objects that exist, wherever it names one."""
    for location, values in (("path", case.path_parameters), ("query", case.query)):
        values.update({k: known[location][k] for k in values if k in known[location]})
    if isinstance(case.body, dict):
        case.body.update({k: v for k, v in known["body"].items() if k in case.body})


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_in_its_declared_shape_and_never_with_a_server_error(
    case: Case[Any], fuzzing: Fuzzed
) -> None:
    fuzzed, label = fuzzing, case.operation.label
    n = fuzzed.seen[label]
    fuzzed.seen[label] += 1
    valid = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if valid and n % 2 == 0:
        _name_known_objects(case, fuzzed.known)
    if n % 5 == 4:
        headers: dict[str, str] = {}  # no session at all
    elif label == SIGN_OUT:
        headers = fuzzed.fresh_device().auth
    else:
        headers = fuzzed.device.auth
    response = case.call(headers=headers)
    fuzzed.statuses.setdefault(label, set()).add(response.status_code)
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_the_input_guards_refusal_is_declared_on_every_operation(
    fuzzed: Fuzzed, api_schema: OpenApiSchema
) -> None:
    """The input guard runs before any route, on every path: a query parameter with a control
    character in it is refused (422), and that answer is one each operation declares."""
    for operation in _operations(api_schema):
        case = operation.Case(
            path_parameters={p.name: "0" * 32 for p in operation.path_parameters},
            query={"note": "line\nbreak"},
        )
        response = case.call_and_validate(headers=fuzzed.device.auth, checks=SHAPE)
        assert response.status_code == 422, (operation.label, response.text)
