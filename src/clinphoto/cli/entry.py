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
"""

from __future__ import annotations

import sys

FILE_TOOLS = frozenset({"scrub", "inspect", "redact"})


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "scrub":
        from clinphoto.cli.scrubtool import run

        status = run(sys.argv[2:])
        if status is not None:
            if status:
                raise SystemExit(status)
            return
    if len(sys.argv) > 1 and sys.argv[1] in FILE_TOOLS:
        from clinphoto.cli.deid import tools

        tools(prog_name="clinphoto")
        return
    from clinphoto.cli.main import app

    app(prog_name="clinphoto")
