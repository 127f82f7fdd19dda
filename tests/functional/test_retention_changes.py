"""A retention rule change says why (RET-1, AUD-1): the reason is required on the API and the
command line, and the change's audit entry holds the old rule, the new rule and the reason,
field-encrypted (no free text in clear in the audit trail), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clinphoto.accounts.models import Role
from clinphoto.audit.models import AuditEntry
from clinphoto.cli.main import app as cli_app
from clinphoto.crypto import CryptoError
from clinphoto.instance.runtime import Instance
from clinphoto.records import service as records
from tests.conftest import EnrolledDevice
from tests.functional.test_retention import RULES, _cli_env, _photo_of, _plus, _sweep, _years_ago

NewDevice = Callable[..., EnrolledDevice]
REASON = "College letter of 2026-11-02: ten years after the last entry"


def _changed(code: str, years: int, **extra: Any) -> dict[str, Any]:
    return {**RULES[code], "years_after_last_entry": years, "basis": "college",
            "minor_basis": "college", "confidence": "verified",
            "minor_confidence": "verified", "confirmed": True,
            "source": "College (test)", "source_url": "https://college.example/x",
            **extra}  # fmt: skip


def _rule_entries(instance: Instance, code: str) -> list[AuditEntry]:
    with instance.unit_of_work() as db:
        return list(
            db.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "retention.rule_set", AuditEntry.object_id == code)
                .order_by(AuditEntry.seq)
            ).scalars()
        )


def test_ret1_rule_change_needs_a_reason_kept_sealed_with_old_and_new_rule(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    officer = new_device(Role.PRIVACY_OFFICER)
    missing = client.put("/v1/retention/rules/NB", json=_changed("NB", 11), headers=officer.auth)
    assert missing.status_code == 422
    blank = client.put(
        "/v1/retention/rules/NB", json=_changed("NB", 11, reason="   "), headers=officer.auth
    )
    assert blank.status_code == 422
    with instance.unit_of_work() as db:  # the blank reason was refused, and audited
        refused = db.execute(
            select(AuditEntry.actor).where(
                AuditEntry.action == "retention.rule_set", AuditEntry.outcome == "denied"
            )
        ).all()
    assert refused == [(officer.user_id,)]
    assert _rule_entries(instance, "NB") == []
    done = client.put(
        "/v1/retention/rules/NB", json=_changed("NB", 11, reason=REASON), headers=officer.auth
    )
    assert done.status_code == 200, done.text
    # The rule itself keeps its own source: the reason is not written into it.
    rules = client.get("/v1/retention/rules", headers=officer.auth).json()
    nb = next(r for r in rules if r["rule"]["jurisdiction"] == "NB")
    assert nb["rule"]["source"] == "College (test)"
    assert "reason" not in nb["rule"]
    (entry,) = [e for e in _rule_entries(instance, "NB") if e.outcome == "success"]
    assert entry.actor == officer.user_id
    assert REASON not in entry.details  # sealed: no free text in clear in the trail
    details = json.loads(entry.details)
    assert details["previous"]["years_after_last_entry"] == RULES["NB"]["years_after_last_entry"]
    assert details["rule"]["years_after_last_entry"] == 11
    assert records.rule_change_reason(details, instance.keys.fields) == REASON
    # Bound to its change: the ciphertext does not open as another change's reason.
    with pytest.raises(CryptoError):
        records.rule_change_reason({**details, "change": "0" * 32}, instance.keys.fields)


def test_ret1_cli_rule_change_takes_a_reason(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    officer = new_device(Role.PRIVACY_OFFICER)
    env = _cli_env(instance)
    cli = CliRunner()
    base = ["retention", "rules", "set", "PE", "--as", officer.email,
            "--years-after-last-entry", "12", "--source", "CPSPEI (test)",
            "--source-url", "https://cpspei.ca/x"]  # fmt: skip
    without = cli.invoke(cli_app, base, env=env)
    assert without.exit_code == 2
    assert "--reason" in without.output
    done = cli.invoke(cli_app, [*base, "--reason", "Board minute 2026-14"], env=env)
    assert done.exit_code == 0, done.output
    (entry,) = [e for e in _rule_entries(instance, "PE") if e.outcome == "success"]
    details = json.loads(entry.details)
    assert details["rule"]["years_after_last_entry"] == 12
    assert records.rule_change_reason(details, instance.keys.fields) == "Board minute 2026-14"
    assert "Board minute" not in entry.details


def test_ret5_certificates_are_listed_newest_first_a_page_at_a_time(
    client: TestClient, instance: Instance, new_device: NewDevice
) -> None:
    alice, officer = new_device(), new_device(Role.PRIVACY_OFFICER)
    for _ in range(3):
        _photo_of(client, instance, alice, "QC", _years_ago(45))
    done = _sweep(instance, _plus(datetime.now(UTC).date(), 5))
    assert len(done.certificates) == 3
    refused = client.get("/v1/retention/certificates", headers=alice.auth)
    assert refused.status_code == 403
    first = client.get("/v1/retention/certificates?limit=2", headers=officer.auth)
    assert first.status_code == 200, first.text
    page = first.json()
    numbers = [c["number"] for c in page["certificates"]]
    assert numbers == sorted(done.certificates, reverse=True)[:2]
    assert page["next_before"] == numbers[-1]
    rest = client.get(
        f"/v1/retention/certificates?limit=2&before={page['next_before']}", headers=officer.auth
    ).json()
    assert [c["number"] for c in rest["certificates"]] == [min(done.certificates)]
    assert rest["next_before"] is None
    listed = page["certificates"] + rest["certificates"]
    for c in listed:
        assert c["job"] == done.job
        assert c["rule"] == "QC"
        # The counts say what the certificate itself names: a photo and the consent.
        whole = client.get(f"/v1/retention/certificates/{c['number']}", headers=officer.auth)
        families = whole.json()["details"]["families"]
        assert c["families"] == len(families) == 2
        assert c["media"] == sum(len(f["media"]) for f in families)
        assert c["consents"] == sum(len(f["consents"]) for f in families) == 1
        assert c["blobs"] == sum(f["blobs_destroyed"] for f in families)
        assert c["shares"] == 0
        assert c["patient_ref"] == whole.json()["patient_ref"]
    # Each certificate listed is a read of it, audited against its patient.
    with instance.unit_of_work() as db:
        reads = db.execute(
            select(AuditEntry.object_id, AuditEntry.patient_ref).where(
                AuditEntry.action == "retention.read",
                AuditEntry.object_type == "certificate",
                AuditEntry.actor == officer.user_id,
            )
        ).all()
        # Listed (3), then each opened above (3).
        certs = db.execute(
            select(AuditEntry.seq, AuditEntry.patient_ref).where(
                AuditEntry.action == "retention.destroy"
            )
        ).all()
    assert sorted(reads) == sorted([(str(seq), ref) for seq, ref in certs] * 2)
    assert all(ref for _, ref in reads)
    # The command line lists the same, and the photos destroyed are named in them.
    out = CliRunner().invoke(cli_app, ["retention", "certificates"], env=_cli_env(instance))
    assert out.exit_code == 0, out.output
    for n in done.certificates:
        assert str(n) in out.output
