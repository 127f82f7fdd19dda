"""The ``clinphoto`` command.

The local file tools (``scrub``, ``inspect``, ``redact``) need only the imaging library, so
they are dispatched to a Typer application of their own (:data:`clinphoto.cli.deid.tools`)
without building the rest of the command line. Everything else, including ``clinphoto
--help``, goes to the full application in :mod:`clinphoto.cli.main`, where the same three
commands are listed; it too starts without the server's stack, which its server commands
import when they run (tests/unit/test_cli_startup.py).

``clinphoto scrub FILES... --out DIR [--json]``, the line scripts run, goes further: it is
read by :mod:`clinphoto.cli.scrubtool` without Typer and Rich, whose imports cost more than
scrubbing a hundred photos. Any other ``scrub`` line (``--help``, a mistake) goes to Typer.

Two more lines start without Typer and Rich (issue 9: a command starts within 0.3 s):
``WORDS... --help`` prints the help Typer printed last time in the same conditions
(:mod:`clinphoto.cli.helpcache`), and the commands that ask for the device passcode first
(``inbox``...) ask for it before Typer is loaded (:mod:`clinphoto.cli.early`).
"""

from __future__ import annotations

import sys

FILE_TOOLS = frozenset({"scrub", "inspect", "redact"})


def _typer(argv: list[str]) -> None:
    """Run the Typer application that owns ``argv``."""
    if argv and argv[0] in FILE_TOOLS:
        from clinphoto.cli.deid import tools

        tools(prog_name="clinphoto")
        return
    from clinphoto.cli.main import app

    app(prog_name="clinphoto")


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] == "scrub":
        from clinphoto.cli.scrubtool import run

        status = run(argv[1:])
        if status is not None:
            if status:
                raise SystemExit(status)
            return
    from clinphoto.cli import helpcache

    words = helpcache.help_words(argv)
    if words is not None:
        if not helpcache.show(words):
            helpcache.render(words, lambda: _typer(argv))
        return
    from clinphoto.cli import early

    early.ask(argv)
    _typer(argv)
