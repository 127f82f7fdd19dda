"""The stored audit trail (AUD-1) on SQLite and PostgreSQL: tampering done directly in the
database is detected, concurrent appends never fork the chain, the CLI reports it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from clinphoto.audit import service as audit
from clinphoto.audit.service import Action, Outcome
from clinphoto.cli.main import app
from clinphoto.instance.runtime import Instance

runner = CliRunner()


def _fill(inst: Instance, n: int, patient: str = "p-1") -> None:
    with inst.unit_of_work() as db:
        for i in range(n):
            audit.append(
                db,
                inst.audit_keys,
                action=Action.AUDIT_EXPORT,
                actor="u-1",
                device="d-1",
                patient_ref=patient if i % 2 else "p-2",
                object_type="media",
                object_id=f"m-{i}",
                purpose="clinical_care",
                details={"i": i},
            )
            if i % 10 == 9:  # signed checkpoints, where parallel verification may cut
                audit.checkpoint(db, inst.audit_keys)
        audit.checkpoint(db, inst.audit_keys)


def _verify(inst: Instance) -> audit.chain.Problem | None:
    """One walk, and the same chain cut into segments verified by 3 processes: they must
    give the same answer for every kind of tampering."""
    url = inst.engine.url.render_as_string(hide_password=False)
    with inst.unit_of_work() as db:
        single = audit.verify(db, inst.audit_keys.public_by_id)
        parallel = audit.verify(db, inst.audit_keys.public_by_id, workers=3, database_url=url)
    assert parallel == single
    return single


def _sql(inst: Instance, statement: str, **params: object) -> None:
    with inst.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_aud1_intact_chain_verifies(instance: Instance) -> None:
    _fill(instance, 30)
    assert _verify(instance) is None
    # The parallel path really cuts: 30 entries with checkpoints at 10, 20, 30 make three
    # segments ending at the checkpoints 10 and 20 and at the end of the table.
    with instance.unit_of_work() as db:
        checkpoints = audit._checkpoints(db)
        check = audit._checker(instance.audit_keys.public_by_id)
        segments = audit._segments(checkpoints, audit.head_seq(db), 3, check)
    assert [(s.after, s.through) for s in segments] == [(0, 10), (10, 20), (20, None)]


def test_aud1_verify_detects_edited_entry(instance: Instance) -> None:
    _fill(instance, 30)
    _sql(instance, "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 12")
    problem = _verify(instance)
    assert problem is not None
    assert problem.seq == 12


def test_aud1_verify_detects_deleted_entry(instance: Instance) -> None:
    _fill(instance, 30)
    _sql(instance, "DELETE FROM audit_entries WHERE seq = 7")
    problem = _verify(instance)
    assert problem is not None
    assert problem.seq in (7, 8)


def test_aud1_verify_detects_deleted_tail(instance: Instance) -> None:
    _fill(instance, 30)
    _sql(instance, "DELETE FROM audit_entries WHERE seq > 25")
    assert _verify(instance) is not None


def test_aud1_verify_detects_inserted_entry(instance: Instance) -> None:
    _fill(instance, 30)
    # Make room, then insert a forged row copied from a neighbour.
    _sql(instance, "UPDATE audit_entries SET seq = seq + 1000 WHERE seq > 10")
    _sql(
        instance,
        "INSERT INTO audit_entries SELECT 11, at, actor, device, patient_ref, 'forged', "
        "object_type, object_id, purpose, outcome, details, prev_hash, hash "
        "FROM audit_entries WHERE seq = 10",
    )
    _sql(instance, "UPDATE audit_entries SET seq = seq - 999 WHERE seq > 1000")
    problem = _verify(instance)
    assert problem is not None
    assert problem.seq == 11


def test_aud1_verify_detects_reordered_entries(instance: Instance) -> None:
    _fill(instance, 30)
    _sql(instance, "UPDATE audit_entries SET seq = -1 WHERE seq = 5")
    _sql(instance, "UPDATE audit_entries SET seq = 5 WHERE seq = 6")
    _sql(instance, "UPDATE audit_entries SET seq = 6 WHERE seq = -1")
    problem = _verify(instance)
    assert problem is not None
    assert problem.seq == 5


def test_aud1_verify_detects_forged_checkpoint(instance: Instance) -> None:
    _fill(instance, 30)
    _sql(instance, "UPDATE audit_checkpoints SET signature = :s", s="A" * 86 + "==")
    problem = _verify(instance)
    assert problem is not None
    assert "signature" in problem.reason


def test_aud1_concurrent_appends_form_one_chain(instance: Instance) -> None:
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(20):
                with instance.unit_of_work() as db:
                    audit.append(
                        db,
                        instance.audit_keys,
                        action=Action.AUDIT_EXPORT,
                        actor=f"worker-{w}",
                        object_id=str(i),
                    )
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with instance.unit_of_work() as db:
        assert audit.head_seq(db) == 80
        assert audit.verify(db, instance.audit_keys.public_by_id) is None


def test_aud1_cli_verify_exit_codes_and_export(instance: Instance, tmp_path: Path) -> None:
    ref = "4" * 32  # a pseudonymous patient reference
    _fill(instance, 10, patient=ref)
    data_dir = str(instance.settings.data_dir)
    env = {"CLINPHOTO_DATABASE_URL": instance.engine.url.render_as_string(hide_password=False)}
    ok = runner.invoke(app, ["--data-dir", data_dir, "audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output

    out = tmp_path / "p42.jsonl"
    exported = runner.invoke(
        app,
        ["--data-dir", data_dir, "audit", "export", "--patient", ref, "--out", str(out)],
        env=env,
    )
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5
    assert {r["patient_ref"] for r in rows} == {ref}
    # An MRN typed by mistake is refused, and written nowhere.
    mistaken = runner.invoke(
        app, ["--data-dir", data_dir, "audit", "export", "--patient", "MRN-4471"], env=env
    )
    assert mistaken.exit_code == 2
    assert "pseudonymous patient id" in mistaken.output
    with instance.engine.connect() as conn:
        rows_text = " ".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM audit_entries"))
    assert "4471" not in rows_text

    _sql(instance, "UPDATE audit_entries SET outcome = :o WHERE seq = 3", o=Outcome.DENIED.value)
    broken = runner.invoke(app, ["--data-dir", data_dir, "audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "entry 3" in broken.output


def test_migrations_produce_the_models_schema(instance: Instance) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from clinphoto.instance.schema import metadata

    with instance.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_ret5_certificates_of_destruction_are_read_through_an_index(instance: Instance) -> None:
    """The certificates list (RET-5; records.service.list_certificates: one action's entries, newest
    first, a page at a time) reads the (action, seq) index rather than walking the trail
    backwards past every other entry (migration 0014). SQLite's plan is deterministic;
    PostgreSQL's planner picks a plan by table size, so it is not asserted there."""
    if instance.engine.dialect.name != "sqlite":
        pytest.skip("query plans are asserted on SQLite only (PostgreSQL plans by table size)")
    from sqlalchemy import select

    from clinphoto.audit.models import AuditEntry

    query = (
        select(AuditEntry)
        .where(AuditEntry.action == Action.RETENTION_DESTROY.value, AuditEntry.seq < 1000)
        .order_by(AuditEntry.seq.desc())
        .limit(50)
    )
    with instance.engine.connect() as conn:
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " ".join(
            str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "ix_audit_entries_action_seq" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
