"""The authorization matrix (AUD-2): every route that touches patient data, asked by every
kind of caller, for purposes the consent covers, does not cover, or no longer covers.

One table, ``MATRIX``, says what each caller must get; the test builds one world (a patient,
a consent with one purpose withdrawn, a photo, a share) and walks the table through HTTP, on
SQLite and on PostgreSQL. "Not yours" must answer exactly like "not found". Requests that
would change state are chosen so that an allowed caller meets a business rule (422) rather
than changing the world the next rows see.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from clinphoto import crypto
from clinphoto.accounts.models import Role
from clinphoto.instance.custodian import inspect_pending
from clinphoto.instance.runtime import Instance
from tests.conftest import EnrolledDevice
from tests.functional.test_media_api import _seal, _upload
from tests.functional.test_sharing_api import _reseal

NewDevice = Callable[..., EnrolledDevice]

# Who asks. Each is a separate user with one enrolled device.
AUTHOR = "author"  # registered the patient, obtained consent, took the photo, shared it
CARE_TEAM = "care_team"  # added to the patient's care team by the author
RECIPIENT = "recipient"  # received the photo by a share
UNRELATED = "unrelated"  # a clinician with no relation to the patient
OFFICER = "privacy_officer"
ADMIN = "administrator"
REVOKED = "revoked_device"  # the device was revoked
EXPIRED = "expired_session"  # the session ran out
CALLERS = (AUTHOR, CARE_TEAM, RECIPIENT, UNRELATED, OFFICER, ADMIN, REVOKED, EXPIRED)

# Expected answers: an HTTP status, or for searches "found" / "none".
FOUND, NONE = "found", "none"


@dataclass(frozen=True)
class Cli:
    """The device command (``clinphoto ...``) that makes a row's request, for
    tests/functional/test_authorization_matrix_cli.py: the same answers, through the CLI.

    ``args`` are filled like paths, plus ``{out}`` (a file that does not exist yet);
    ``shows`` is what the command prints when the server allows the request;
    ``valid_request``: the command can only send a well-formed request where the row sends
    a malformed one (a bad signature), so an allowed caller's 422 is a success through it.
    """

    args: tuple[str, ...]
    shows: str = ""
    valid_request: bool = False


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # {pid} {cid} {eid} {mid} {sid} {admin} are filled from the world
    expect: dict[str, int | str]
    body: dict[str, Any] | None = None
    cli: Cli | None = None  # the device command for this row, if one makes this request


def _row(
    name: str,
    method: str,
    path: str,
    expect: tuple[Any, ...],
    body: Any = None,
    cli: Cli | None = None,
) -> Row:
    """``expect`` lists the answers for AUTHOR, CARE_TEAM, RECIPIENT, UNRELATED, OFFICER,
    ADMIN; a revoked device and an expired session always get 401."""
    answers: dict[str, int | str] = dict(zip(CALLERS[:6], expect, strict=True))
    answers[REVOKED] = answers[EXPIRED] = 401
    return Row(name, method, path, answers, body, cli)


MEDIA = "/v1/media/{mid}"
OPEN = ("open", "{mid}", "--out", "{out}", "--purpose")
OPENED = "signature and hash verified"
RECONSENT = (
    "consent", "record", "--patient", "{pid}", "--encounter", "{eid}", "--purpose", "education",
    "--method", "written", "--informed-of-rights", "--text-version", "2026-11-en",
)  # fmt: skip
MATRIX = [
    # Answers in order: author, care team, recipient, unrelated, privacy officer, admin.
    # A row without `cli` has no device command that makes its request (reading a patient's
    # identifiers or one consent, the review queues and the patient audit have none yet).
    _row("read patient", "GET", "/v1/patients/{pid}", (200, 200, 200, 404, 200, 404)),
    _row(
        "find by name",
        "GET",
        "/v1/patients?name=Lavoie",
        (FOUND, FOUND, FOUND, NONE, FOUND, 403),
        cli=Cli(("patient", "find", "--name", "Lavoie"), "{pid}"),
    ),
    _row(
        "find by MRN",
        "GET",
        "/v1/patients?mrn={mrn}",
        (FOUND, FOUND, FOUND, FOUND, FOUND, 403),
        cli=Cli(("patient", "find", "--mrn", "{mrn}"), "{pid}"),
    ),
    _row(
        "care team",
        "GET",
        "/v1/patients/{pid}/care-team",
        (200, 200, 200, 404, 200, 404),
        cli=Cli(("patient", "team", "{pid}"), "{author} registered"),
    ),
    # No cli row: the CLI adds by e-mail (`patient team --add EMAIL`); that path is proved
    # for the author and a privacy officer in test_authorization_matrix_cli.py.
    _row(
        "add to care team (not a clinician)",
        "POST",
        "/v1/patients/{pid}/care-team",
        (422, 422, 404, 404, 422, 404),
        {"user_id": "{admin}"},
    ),
    _row(
        "list consents",
        "GET",
        "/v1/patients/{pid}/consents",
        (200, 200, 404, 404, 200, 404),
        cli=Cli(("consent", "list", "--patient", "{pid}"), "{cid}"),
    ),
    _row("read consent", "GET", "/v1/consents/{cid}", (200, 200, 404, 404, 200, 404)),
    # The timeline lists the caller's own photos only, and only for a purpose the consent
    # still covers (education was withdrawn); to anyone else the patient does not exist.
    _row(
        "timeline, clinical care",
        "GET",
        "/v1/patients/{pid}/media?purpose=clinical_care",
        (FOUND, NONE, NONE, 404, NONE, 404),
    ),
    _row(
        "timeline, withdrawn purpose",
        "GET",
        "/v1/patients/{pid}/media?purpose=education",
        (NONE, NONE, NONE, 404, NONE, 404),
    ),
    _row(
        "withdraw a purpose never given",
        "POST",
        "/v1/consents/{cid}/withdrawals",
        (422, 422, 404, 404, 422, 404),
        {"purposes": ["research"]},
        cli=Cli(("consent", "withdraw", "{cid}", "--purpose", "research")),
    ),
    _row(
        "re-consent a withdrawn purpose without saying so",
        "POST",
        "/v1/consents",
        (422, 422, 404, 404, 422, 404),
        {
            "patient_id": "{pid}",
            "encounter_id": "{eid}",
            "purposes": ["education"],
            "method": "written",
            "informed_of_rights": True,
            "text_version": "2026-11-en",
        },
        cli=Cli(RECONSENT),
    ),
    # `clinphoto open` views, then downloads: one command for both rows of a purpose.
    _row(
        "view, covered",
        "GET",
        MEDIA + "?purpose=clinical_care",
        (200, 404, 404, 404, 404, 404),
        cli=Cli((*OPEN, "clinical_care"), OPENED),
    ),
    _row(
        "view, withdrawn",
        "GET",
        MEDIA + "?purpose=education",
        (404, 404, 404, 404, 404, 404),
        cli=Cli((*OPEN, "education"), OPENED),
    ),
    _row(
        "view, not covered",
        "GET",
        MEDIA + "?purpose=research",
        (404, 404, 404, 404, 404, 404),
        cli=Cli((*OPEN, "research"), OPENED),
    ),
    _row(
        "download, covered",
        "GET",
        MEDIA + "/content?purpose=clinical_care",
        (200, 404, 404, 404, 404, 404),
        cli=Cli((*OPEN, "clinical_care"), OPENED),
    ),
    _row(
        "download, withdrawn",
        "GET",
        MEDIA + "/content?purpose=education",
        (404, 404, 404, 404, 404, 404),
        cli=Cli((*OPEN, "education"), OPENED),
    ),
    _row(
        "inspection verdict",
        "GET",
        MEDIA + "/inspection?purpose=clinical_care",
        (200, 404, 404, 404, 404, 404),
        cli=Cli(("inspection", "{mid}", "--purpose", "clinical_care"), "done: not identifiable"),
    ),
    _row(
        "sent shares",
        "GET",
        MEDIA + "/shares",
        (200, 404, 404, 404, 404, 404),
        cli=Cli(("shares", "{mid}"), "{sid}"),
    ),
    _row(
        "shared copy",
        "GET",
        "/v1/shares/{sid}/content",
        (404, 404, 200, 404, 404, 404),
        cli=Cli(("open", "{sid}", "--share", "--out", "{out}"), OPENED),
    ),
    _row(
        "acknowledge (bad signature)",
        "POST",
        "/v1/shares/{sid}/ack",
        (404, 404, 422, 404, 404, 404),
        {"signature": "A" * 86},
        cli=Cli(("ack", "{sid}"), "acknowledged", valid_request=True),
    ),
    _row("inbox", "GET", "/v1/inbox", (200, 200, 200, 200, 200, 200), cli=Cli(("inbox",))),
    # Every caller gets their own sent shares (none for most); the author's are listed.
    _row(
        "sent shares",
        "GET",
        "/v1/shares/sent",
        (200, 200, 200, 200, 200, 200),
        cli=Cli(("shares", "--waiting")),
    ),
    _row("consent review", "GET", "/v1/review/consents-to-follow", (403, 403, 403, 403, 200, 403)),
    _row(
        "override review", "GET", "/v1/review/emergency-overrides", (403, 403, 403, 403, 200, 403)
    ),
    _row("patient audit", "GET", "/v1/patients/{pid}/audit", (404, 404, 404, 404, 200, 404)),
    _row("quarantine review", "GET", "/v1/review/quarantine", (403, 403, 403, 403, 200, 403)),
    # Privacy officers' reports (decision 013): the care team asks a privacy officer.
    _row(
        "who saw my photos",
        "GET",
        "/v1/patients/{pid}/access-report",
        (404, 404, 404, 404, 200, 404),
    ),
    _row(
        "disclosed before a withdrawal",
        "GET",
        "/v1/consents/{cid}/disclosures",
        (404, 404, 404, 404, 200, 404),
    ),
    _row(
        "withdrawals to follow up",
        "GET",
        "/v1/review/withdrawn-disclosures",
        (403, 403, 403, 403, 200, 403),
    ),
    # The consent form as printed (CON-2, CON-3): the care team and privacy officers.
    _row(
        "consent form PDF",
        "GET",
        "/v1/consents/{cid}/form.pdf",
        (200, 200, 404, 404, 200, 404),
    ),
]


@dataclass
class World:
    ids: dict[str, str]
    callers: dict[str, EnrolledDevice]


def _build(client: TestClient, instance: Instance, new_device: NewDevice) -> World:
    author = new_device()
    callers = {
        AUTHOR: author,
        CARE_TEAM: new_device(),
        RECIPIENT: new_device(),
        UNRELATED: new_device(),
        OFFICER: new_device(Role.PRIVACY_OFFICER),
        ADMIN: new_device(Role.ADMINISTRATOR),
        REVOKED: new_device(),
        EXPIRED: new_device(),
    }
    mrn = uuid.uuid4().hex[:10].upper()
    patient = client.post(
        "/v1/patients",
        json={"name": "Gisèle Lavoie", "dob": "1944-12-01", "mrn": mrn, "province": "NB"},
        headers=author.auth,
    ).json()
    pid = patient["id"]
    consent = client.post(
        "/v1/consents",
        json={
            "patient_id": pid,
            "purposes": ["clinical_care", "education"],
            "method": "verbal",
            "witness_name": "M. Cormier, RN",
            "informed_of_rights": True,
            "text_version": "2026-11-fr",
        },
        headers=author.auth,
    ).json()
    cid, eid = consent["id"], consent["encounter_id"]
    sealed = _seal(instance, author, pid, eid)
    assert _upload(client, author, sealed).status_code == 201  # type: ignore[attr-defined]
    [verdict] = inspect_pending(instance)
    assert verdict.status == "done"
    plain = crypto.open_sealed(sealed.ciphertext, author.age)
    recipient = callers[RECIPIENT]
    records = instance.keys.records.recipient
    shared = _reseal(
        client,
        author,
        sealed.object_id,
        plain,
        recipient.user_id,
        [recipient.age.recipient, records],
    )
    assert shared.status_code == 201, shared.text  # type: ignore[attr-defined]
    added = client.post(
        f"/v1/patients/{pid}/care-team",
        json={"user_id": callers[CARE_TEAM].user_id},
        headers=author.auth,
    )
    assert added.status_code == 200, added.text
    withdrawn = client.post(
        f"/v1/consents/{cid}/withdrawals", json={"purposes": ["education"]}, headers=author.auth
    )
    assert withdrawn.status_code == 200, withdrawn.text
    with instance.engine.begin() as conn:
        conn.execute(
            text("UPDATE devices SET status = 'revoked' WHERE id = :id"),
            {"id": callers[REVOKED].device_id},
        )
        conn.execute(
            text("UPDATE sessions SET expires_at = :t WHERE device_id = :id"),
            {"t": datetime.now(UTC) - timedelta(minutes=1), "id": callers[EXPIRED].device_id},
        )
    ids = {
        "pid": pid,
        "cid": cid,
        "eid": eid,
        "mid": sealed.object_id,
        "sid": shared.json()["id"],  # type: ignore[attr-defined]
        "mrn": mrn,
        "admin": callers[ADMIN].user_id,
    }
    return World(ids, callers)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _answer(response: Any, expected: int | str) -> int | str:
    if expected in (FOUND, NONE) and response.status_code == 200:
        return FOUND if response.json() else NONE
    return int(response.status_code)


def test_aud2_authorization_matrix(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    world = _build(client, instance, new_device)
    not_found = client.get(f"/v1/patients/{'0' * 32}", headers=world.callers[AUTHOR].auth).json()
    mismatches = []
    for row in MATRIX:
        path = _fill(row.path, world.ids)
        body = _fill(row.body, world.ids)
        for caller in CALLERS:
            response = client.request(
                row.method, path, json=body, headers=world.callers[caller].auth
            )
            got = _answer(response, row.expect[caller])
            if got != row.expect[caller]:
                mismatches.append((row.name, caller, row.expect[caller], got, response.text[:200]))
                continue
            if got == 404:
                # "Not yours" is indistinguishable from "not found".
                error = response.json()["error"]
                assert (error["code"], error["message"]) == (
                    not_found["error"]["code"],
                    not_found["error"]["message"],
                ), (row.name, caller)
    assert mismatches == [], "\n".join(map(str, mismatches))
    assert len(MATRIX) * len(CALLERS) >= 150  # the walk really walked


def test_aud2_every_patient_route_is_in_the_matrix(client: TestClient) -> None:
    """A new route that touches patient data must be added to the table above."""
    covered = {(r.method, r.path.split("?")[0]) for r in MATRIX}
    templates = {
        "{patient_id}": "{pid}",
        "{consent_id}": "{cid}",
        "{media_id}": "{mid}",
        "{share_id}": "{sid}",
    }
    exempt = {
        # Covered by their own tests (uploads need sealed bodies; the others change state).
        ("POST", "/v1/media"),
        ("POST", "/v1/media/{mid}/shares"),
        ("POST", "/v1/consents/{cid}/signature"),
        ("POST", "/v1/patients"),
        ("POST", "/v1/consents/to-follow"),
        ("POST", "/v1/patients/{pid}/encounters"),
        ("POST", "/v1/patients/{pid}/emergency-override"),
        ("POST", "/v1/review/emergency-overrides/{override_id}"),
        ("GET", "/v1/directory"),
        # Recall changes state; who may recall is proven in test_share_recall.py (BRE-2).
        ("POST", "/v1/shares/{sid}/recall"),
        # Patients' requests change state; that only privacy officers may make them, and that
        # anyone else gets "not found", is proven in test_copy_requests.py and
        # test_deletion_requests.py (RET-3, RET-4).
        ("POST", "/v1/patients/{pid}/copy-requests"),
        ("POST", "/v1/patients/{pid}/deletion-requests"),
    }
    missing = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if not any(
            p in path for p in ("patients", "consents", "media", "shares", "inbox", "review")
        ):
            continue
        for method in operations:
            key = (method.upper(), path)
            for old, new in templates.items():
                key = (key[0], key[1].replace(old, new))
            if key not in covered and key not in exempt:
                missing.append(key)
    assert missing == []


@pytest.mark.parametrize("caller", [UNRELATED, ADMIN, OFFICER])
def test_aud2_opening_an_encounter_is_for_clinicians_and_joins_the_care_team(
    client: TestClient, instance: Instance, new_device: NewDevice, caller: str
) -> None:
    world = _build(client, instance, new_device)
    pid = world.ids["pid"]
    who = world.callers[caller]
    opened = client.post(f"/v1/patients/{pid}/encounters", headers=who.auth)
    expected = {UNRELATED: 201, ADMIN: 404, OFFICER: 404}[caller]
    assert opened.status_code == expected, opened.text
    after = client.get(f"/v1/patients/{pid}", headers=who.auth).status_code
    assert after == {UNRELATED: 200, ADMIN: 404, OFFICER: 200}[caller]
