"""``clinphoto ... --help`` without loading Typer and Rich, when it was shown before (issue 9).

Typer renders help from the real command tree with Rich: loading the two and building the
tree takes about 0.4 s on the benchmark machine, over the 0.3 s a command may take to start.
So the help Typer prints is kept, and shown again as it was when the same line is asked for
in the same conditions: the same command words, the same width and colours (the terminal,
the environment variables Rich, Typer and Click read), the same interpreter, and the same
code (the size and modification time of every file of clinphoto, Typer, Click and Rich that
the rendering loaded). Anything else renders afresh through Typer, which refreshes the copy.
The first ``--help`` after an install or a change is the slow one.

The copy lives in ``$XDG_CACHE_HOME/clinphoto`` (``~/.cache/clinphoto``), one small file per
line and condition, readable by its owner only. It holds help text, nothing about patients
or the device; it is never needed: without it (read-only home, a copy from another version,
a damaged file) help is rendered as before. Only ``WORDS... --help`` lines whose words are
command names are kept, and only help that Typer printed with exit status 0.
tests/unit/test_cli_startup.py compares the copy with Typer's own output.
"""

from __future__ import annotations

import marshal
import os
import sys

# Not typing.TYPE_CHECKING: importing typing (and re with it) costs more than the rest of this
# start; mypy treats any TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FORMAT = 1
# Every environment variable that Rich, Typer (and its Click) or our commands' defaults read
# while rendering help (tests/unit/test_cli_startup.py checks the packages' sources for more).
ENVIRONMENT = (
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLORTERM",
    "COLUMNS",
    "DATABRICKS_RUNTIME_VERSION",
    "FORCE_COLOR",
    "GITHUB_ACTIONS",
    "HOME",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LINES",
    "NO_COLOR",
    "PY_COLORS",
    "TERM",
    "TERMINAL_WIDTH",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "TYPER_RICH_MARKUP_MODE",
    "TYPER_USE_RICH",
    "UNICODE_VERSION",
    "VSCODE_PID",
    "WT_SESSION",
    "XDG_CONFIG_HOME",
    "_TYPER_FORCE_DISABLE_TERMINAL",
)
KEEP = 200  # copies at most (about 15 KB each)
# Whose loaded files stamp a copy: a change to any of them renders help afresh.
PACKAGES = ("clinphoto", "typer", "click", "rich")


def help_words(argv: list[str]) -> tuple[str, ...] | None:
    """The command words of a ``WORDS... --help`` line, or None for any other line."""
    if not argv or argv[-1] != "--help" or any(k.endswith("_COMPLETE") for k in os.environ):
        return None  # (shell completion is Click's)
    words = argv[:-1]
    for word in words:
        if not (word[:1].isalpha() and word.replace("-", "").isalnum() and word.isascii()):
            return None
    return tuple(words)


def _terminal() -> tuple[object, ...]:
    """What Rich reads of the terminal: which standard streams are terminals, the first
    one's size, the output's encoding."""
    ttys = []
    size = None
    for fd in (0, 1, 2):
        try:
            ttys.append(os.isatty(fd))
            if size is None:
                size = tuple(os.get_terminal_size(fd))
        except OSError:
            continue
    encoding = getattr(sys.stdout, "encoding", None)
    return (tuple(ttys), size, encoding, sys.platform)


def _key(words: tuple[str, ...]) -> tuple[object, ...]:
    env = tuple(os.environ.get(name) for name in ENVIRONMENT)
    return (FORMAT, sys.hexversion, sys.executable, words, env, _terminal())


def _directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "clinphoto")


def _file(key: tuple[object, ...]) -> str:
    import zlib

    return os.path.join(_directory(), f"help-{zlib.crc32(repr(key).encode()):08x}")


def _stamp(path: str) -> tuple[str, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (path, info.st_mtime_ns, info.st_size)


def show(words: tuple[str, ...]) -> bool:
    """Print the kept help for ``words`` if it is still what Typer would print; whether it
    was printed."""
    key = _key(words)
    try:
        with open(_file(key), "rb") as f:
            # The owner's own file, written by _keep; marshal builds data, it runs nothing.
            kept: Any = marshal.loads(f.read())  # noqa: S302
        if not (isinstance(kept, tuple) and len(kept) == 3 and kept[0] == repr(key)):
            return False
        _, stamps, text = kept
        if not stamps or any(_stamp(stamp[0]) != tuple(stamp) for stamp in stamps):
            return False
    except (OSError, ValueError, EOFError, TypeError, IndexError):
        return False
    sys.stdout.write(text)
    sys.stdout.flush()
    return True


class _Recorder:
    """Standard output as Rich and Click see it (same stream, same terminal), recording."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream does: Click probes with b""
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.parts.append(text)
        result: int = self._stream.write(text)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _loaded_files() -> list[tuple[str, int, int]]:
    stamps = []
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in PACKAGES:
            continue
        path = getattr(module, "__file__", None)
        stamp = _stamp(path) if path else None
        if stamp is not None:
            stamps.append(stamp)
    return sorted(set(stamps))


def render(words: tuple[str, ...], run: Callable[[], None]) -> None:
    """Run Typer (``run``) on the help line, and keep what it printed if it succeeded."""
    key = _key(words)
    recorder = _Recorder(sys.stdout)
    sys.stdout = recorder
    code: object = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        sys.stdout = recorder._stream
        if code in (0, None) and recorder.parts:
            _keep(key, _loaded_files(), "".join(recorder.parts))


def _keep(key: tuple[object, ...], stamps: list[tuple[str, int, int]], text: str) -> None:
    path = _file(key)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps((repr(key), tuple(stamps), text)))
        os.replace(tmp, path)
        _prune(os.path.dirname(path))
    except OSError:
        return  # help was printed; keeping it is only a convenience


def _prune(directory: str) -> None:
    """Keep the most recently written copies only: one is kept per width a terminal had."""
    kept = [e for e in os.scandir(directory) if e.name.startswith("help-") and e.is_file()]
    if len(kept) > KEEP:
        kept.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in kept[: len(kept) - KEEP]:
            os.unlink(entry.path)
