"""Command help that reads well at any width: docstrings reflowed into paragraphs.

Typer (in its Rich mode) keeps the single line breaks of a docstring after the first
paragraph, so source lines wrapped at 100 columns came out ragged in an 80-column terminal
("... and the records" / "key, and signs it."). The commands' help is reflowed once, when the
command tree is built: the lines of a paragraph become one line for Rich to wrap to the
terminal; a line starting ``Example:`` or a list item (``- ``) starts a line of its own; a
paragraph written line by line on purpose (a shell example continued with ``\\``, or one
that Click's ``\\b`` marks) is kept as written.
"""

from __future__ import annotations

import inspect

TYPE_CHECKING = False
if TYPE_CHECKING:
    import typer

_OWN_LINE = ("Example:", "- ", "* ")


def reflow(text: str) -> str:
    """``text`` (a docstring) with each paragraph's lines joined, as described above."""
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.split("\n")
        if (
            paragraph.startswith("\b")
            or "\f" in paragraph
            or any(line.rstrip().endswith("\\") for line in lines)
        ):
            paragraphs.append(paragraph)
            continue
        joined: list[str] = []
        for line in lines:
            words = line.strip()
            if joined and words and not words.startswith(_OWN_LINE):
                joined[-1] = f"{joined[-1]} {words}"
            else:
                joined.append(words)
        paragraphs.append("\n".join(joined))
    return "\n\n".join(paragraphs)


def reflow_app(app: typer.Typer) -> None:
    """Reflow the help of every command registered on ``app`` and on its sub-applications.

    Call it once all commands are registered (at the end of the module that builds ``app``).
    """
    for info in app.registered_commands:
        text = info.help if isinstance(info.help, str) else inspect.getdoc(info.callback)
        if text:
            info.help = reflow(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            reflow_app(group.typer_instance)
