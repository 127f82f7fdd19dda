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


def test_help_paragraphs_are_reflowed_for_any_width() -> None:
    """Docstrings wrapped at 100 columns in the source are not shown with their line breaks
    (ragged in an 80-column terminal): each paragraph is one line for Rich to wrap, apart
    from example and list lines and shell examples continued with a backslash."""
    commands = _commands(typer.main.get_command(app))
    ragged = []
    for name, command in commands:
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.split("\n")
            if any(line.rstrip().endswith("\\") for line in lines):
                continue
            ragged += [
                (name, line) for line in lines[1:] if not line.startswith(("Example:", "- ", "* "))
            ]
    assert ragged == []


def test_reflow_joins_lines_but_keeps_examples_lists_and_continued_commands() -> None:
    from clinphoto.cli.tree import reflow

    doc = """First line
    goes on.

    A paragraph wrapped
    in the source.
    Example: clinphoto x --a 1
    --b 2

    - one item
      wrapped
    - two

    Example: clinphoto y \\
      --c 3
    """
    assert reflow(doc) == (
        "First line goes on.\n\n"
        "A paragraph wrapped in the source.\nExample: clinphoto x --a 1 --b 2\n\n"
        "- one item wrapped\n- two\n\n"
        "Example: clinphoto y \\\n  --c 3"
    )
