"""The command tree, made ready once its commands are registered (:func:`prepare`).

**Help that reads well at any width.** Typer (in its Rich mode) keeps the single line
breaks of a docstring after the first paragraph, so source lines wrapped at 100 columns came
out ragged in an 80-column terminal ("... and the records" / "key, and signs it."). The
commands' help is reflowed once, when the command tree is built: the lines of a paragraph
become one line for Rich to wrap to the terminal; a line starting ``Example:`` or a list item
(``- ``) starts a line of its own; a paragraph written line by line on purpose (a shell
example continued with ``\\``, or one that Click's ``\\b`` marks) is kept as written.

**Annotations read once.** The command modules use postponed annotations (strings), which
Typer evaluates each time it builds a command, twice per command: 1,420 ``eval`` calls,
about half of building the tree, which every command that goes through Typer pays (the
first ``clinphoto --help`` too). Each callback's annotations are resolved once, here.
"""

from __future__ import annotations

import inspect
import typing

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


def prepare(app: typer.Typer) -> None:
    """Reflow the help of every command registered on ``app`` and its sub-applications, and
    resolve their callbacks' annotations once. Call it once all commands are registered (at
    the end of the module that builds ``app``)."""
    for info in app.registered_commands:
        text = info.help if isinstance(info.help, str) else inspect.getdoc(info.callback)
        if text:
            info.help = reflow(text)
        _resolve(info.callback)
    if app.registered_callback is not None:
        _resolve(app.registered_callback.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            prepare(group.typer_instance)


def _resolve(callback: object) -> None:
    """Replace ``callback``'s string annotations with what they name (as Typer would)."""
    annotations = getattr(callback, "__annotations__", None)
    if not annotations or not any(isinstance(v, str) for v in annotations.values()):
        return
    try:
        resolved = typing.get_type_hints(callback, include_extras=True)
    except Exception:  # noqa: BLE001 - left to Typer, which reports it as it always did
        return
    callback.__annotations__ = resolved
