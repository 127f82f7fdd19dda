"""Routes and commands parse, call one use case and render (issue 7, AUD-2): they never
append to the audit trail, never query tables themselves, and never decide access. The
services own that. Read from the source, so a new route or command is held to it too."""

from __future__ import annotations

import ast
from pathlib import Path

import clinphoto

SRC = Path(clinphoto.__file__).parent
INTERFACES = sorted([*SRC.glob("api/*.py"), *SRC.glob("cli/*.py")])
AREAS = ("accounts", "patients", "consent", "media", "sharing", "inspection", "audit")
# Calls that append to the audit trail or run queries.
FORBIDDEN_ATTRIBUTES = {"append", "log", "log_denied", "execute", "scalars", "scalar"}
FORBIDDEN_NAMES = {"select", "update", "delete", "insert"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in FORBIDDEN_ATTRIBUTES
                and isinstance(func.value, ast.Name)
                and func.value.id in ("audit", "db", "session")
            ):
                found.append(f"{path.name}:{node.lineno}: {func.value.id}.{func.attr}()")
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and isinstance(func.value, ast.Name)
                and func.value.id == "db"
            ):
                found.append(f"{path.name}:{node.lineno}: db.get()")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"{path.name}:{node.lineno}: {func.id}()")
        if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
            names = {a.name for a in node.names} & FORBIDDEN_NAMES
            if names:
                found.append(f"{path.name}:{node.lineno}: imports {sorted(names)} from sqlalchemy")
        if isinstance(node, ast.Attribute) and node.attr in ("authorize", "decide"):
            found.append(f"{path.name}:{node.lineno}: decides access ({node.attr})")
    return found


def test_interfaces_were_found() -> None:
    names = {p.name for p in INTERFACES}
    assert {"patients.py", "consent.py", "media.py", "sharing.py", "main.py"} <= names


def test_routes_and_commands_neither_audit_nor_query_nor_decide() -> None:
    problems = [v for path in INTERFACES for v in _violations(path)]
    assert problems == []


def test_the_check_itself_catches_a_route_that_audits(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from sqlalchemy import select\n"
        "def route(db, audit):\n"
        "    audit.append(db, None)\n"
        "    db.execute(select(1))\n"
        "    policy.authorize(db)\n"
    )
    assert len(_violations(bad)) == 5
