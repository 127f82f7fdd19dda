"""The device passcode asked for before Typer is loaded, for the commands that ask first (issue 9).

``clinphoto inbox`` (and the other commands in :data:`UNLOCK_FIRST`) read nothing but
``--profile`` and ask for the passcode before anything else. Reading their command line
takes Typer, Click and Rich, about 0.3 s on the benchmark machine; this module recognises
those lines by hand, so the prompt comes up at once and Typer loads, in a thread, while the
user types. The command then runs through Typer as before and takes the passcode typed here
(:func:`take`) instead of asking again.

Only a line whose meaning is certain is handled: the command's words, then at most one
``--profile DIR`` or ``--profile=DIR``. Anything else (``--help``, another option, a
mistake, shell completion, ``CLINPHOTO_PASSCODE`` already set) is left to Typer, which asks
as it always did. The prompt is Click's, character for character: ``Device passcode:`` on
standard output, a space and the hidden input on the terminal, asked again when empty; an
interrupt ends the command as Click's ``Abort`` does (the command raises it at :func:`take`).
tests/unit/test_cli_startup.py holds :data:`UNLOCK_FIRST` to the commands Typer runs.
"""

from __future__ import annotations

import os
import sys

# Commands whose only option is --profile and whose first act is to unlock the profile.
UNLOCK_FIRST = frozenset(
    {
        ("inbox",),
        ("sync",),
        ("device", "login"),
        ("device", "whoami"),
        ("device", "users"),
        ("device", "approve"),
    }
)
PROMPT = "Device passcode: "

_ABORTED = object()
_given: str | object | None = None


def _recognised(argv: list[str]) -> bool:
    """Whether ``argv`` (the words after ``clinphoto``) is one of those commands with at most
    a --profile option, exactly as Typer would read it."""
    for words in UNLOCK_FIRST:
        if tuple(argv[: len(words)]) != words:
            continue
        rest = argv[len(words) :]
        if not rest:
            return True
        if len(rest) == 1:
            value = rest[0].removeprefix("--profile=")
            return value != rest[0] and value != ""
        return len(rest) == 2 and rest[0] == "--profile" and not rest[1].startswith("-")
    return False


def _load_typer_meanwhile() -> None:
    """Import the command line in a thread while the user types (reading the terminal
    releases the GIL); the command, run afterwards, finds it loaded."""
    import threading

    def load() -> None:
        try:  # noqa: SIM105 - contextlib is one more import before the prompt
            import clinphoto.cli.main  # noqa: F401
        except BaseException:  # noqa: BLE001, S110 - imported again, and raised, in the main thread
            pass

    threading.Thread(target=load, name="clinphoto-import", daemon=True).start()


def ask(argv: list[str]) -> None:
    """Ask for the passcode now if ``argv`` is a line this module recognises."""
    global _given
    if os.environ.get("CLINPHOTO_PASSCODE") or any(k.endswith("_COMPLETE") for k in os.environ):
        return
    if not _recognised(argv):
        return
    import getpass

    started = False
    try:
        while True:
            # As click.prompt(hide_input=True) does it: the text on stdout, its last
            # character through getpass, on the terminal.
            sys.stdout.write(PROMPT[:-1])
            sys.stdout.flush()
            if not started:
                _load_typer_meanwhile()
                started = True
            value = getpass.getpass(PROMPT[-1:])
            if value:
                _given = value
                return
    except (KeyboardInterrupt, EOFError):
        sys.stdout.write("\n")  # getpass leaves the line open on ^C, as Click notes
        sys.stdout.flush()
        _given = _ABORTED


class Aborted(Exception):
    """The user interrupted the early prompt; the command ends as Click's Abort ends it."""


def take() -> str | None:
    """The passcode typed at the early prompt (once), or None if there was none; raises
    :class:`Aborted` if the user interrupted it (clinphoto.cli.device._unlock)."""
    global _given
    value, _given = _given, None
    if value is _ABORTED:
        raise Aborted
    return value if isinstance(value, str) else None
