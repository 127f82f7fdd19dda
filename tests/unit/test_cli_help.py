"""Every command explains itself with an example (issue 2: `--help` of every command)."""

from __future__ import annotations

from typing import Any

import typer.main

from clinphoto.cli.deid import tools
from clinphoto.cli.main import app


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(full name, command) for every leaf command; Typer vendors its own Click."""
    found: list[tuple[str, Any]] = []
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            found += _commands(command, f"{prefix} {name}".strip())
    else:
        found.append((prefix, group))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 30  # the walk really reached the tree
    missing = [name for name, command in commands if "Example:" not in (command.help or "")]
    assert missing == []


def test_the_fast_file_tools_are_the_same_commands() -> None:
    """`clinphoto scrub|inspect|redact` start from cli.deid.tools; they must match main's."""
    full = dict(_commands(typer.main.get_command(app)))
    fast = dict(_commands(typer.main.get_command(tools)))
    assert sorted(fast) == ["inspect", "redact", "scrub"]
    for name, command in fast.items():
        assert command.help == full[name].help
        assert [p.name for p in command.params] == [p.name for p in full[name].params]
