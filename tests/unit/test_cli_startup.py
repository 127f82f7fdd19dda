"""What a start of `clinphoto` loads (issue 9): the device's commands and `--help` never load
the server side or the imaging stack.

Each case runs in a fresh interpreter, as a user's command does, and lists the modules it
loaded. Which modules, not how long: the timings are in bench/run.py (bench_cli_start).
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Third-party packages that only the server, the custodian or the imaging code need.
HEAVY = {"sqlalchemy", "alembic", "fastapi", "uvicorn", "numpy", "PIL", "onnxruntime", "cv2"}
# Our own server-side packages.
SERVER = {
    f"clinphoto.{name}"
    for name in (
        "instance",
        "accounts",
        "audit",
        "patients",
        "policy",
        "media",
        "consent",
        "sharing",
        "storage",
        "api",
    )
}

PROBE = """
import contextlib, io, json, sys
argv = json.loads(sys.argv[1])
out = io.StringIO()
code = None
if argv is None:
    import clinphoto.cli.main
else:
    from clinphoto.cli.entry import main
    sys.argv = ["clinphoto", *argv]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
print(json.dumps({"modules": sorted(sys.modules), "output": out.getvalue(), "code": code}))
"""


def _start(argv: list[str] | None, tmp_path: Path) -> dict[str, Any]:
    """Run ``clinphoto ARGV`` (or only import the CLI) in a new interpreter; what it loaded."""
    env = {
        **os.environ,
        "CLINPHOTO_PROFILE": str(tmp_path / "no-profile-here"),
        "CLINPHOTO_PASSCODE": "not-used-no-profile",
        "COLUMNS": "200",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # help rendered by Typer: nothing kept yet
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _forbidden(modules: list[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in HEAVY or any(m == s or m.startswith(s + ".") for s in SERVER)
    )


@pytest.mark.parametrize(
    "argv",
    [
        None,  # import clinphoto.cli.main
        ["--help"],
        ["inbox", "--help"],
        ["device", "--help"],
        ["capture", "--help"],
        ["admin", "create-user", "--help"],
    ],
    ids=lambda a: "import" if a is None else " ".join(a),
)
def test_help_loads_neither_the_server_nor_the_imaging_stack(
    argv: list[str] | None, tmp_path: Path
) -> None:
    result = _start(argv, tmp_path)
    assert _forbidden(result["modules"]) == []
    if argv is not None:
        assert result["code"] == 0
        assert "Usage: clinphoto" in result["output"]


@pytest.mark.parametrize(
    "argv",
    [["inbox"], ["device", "whoami"], ["shares", "0c1d"], ["patient", "find", "--mrn", "1"]],
    ids=" ".join,
)
def test_a_device_command_loads_neither_the_server_nor_the_imaging_stack(
    argv: list[str], tmp_path: Path
) -> None:
    """Run to its end: the passcode is given, the profile does not exist, so the command
    unlocks (loading the device's cryptography) and stops there with exit 2."""
    result = _start(argv, tmp_path)
    assert result["code"] == 2
    assert "no device profile" in result["output"]
    assert "clinphoto.client.profile" in result["modules"]  # it got as far as unlocking
    assert _forbidden(result["modules"]) == []


def test_the_probe_sees_a_server_command_load_the_server(tmp_path: Path) -> None:
    """The same probe on a server command finds the server side: the check above can fail."""
    env_dir = tmp_path / "instance"
    result = _start(["--data-dir", str(env_dir), "audit", "verify"], tmp_path)
    forbidden = _forbidden(result["modules"])
    assert "sqlalchemy" in forbidden
    assert "clinphoto.instance" in forbidden


def test_create_user_offers_exactly_the_policy_roles() -> None:
    from clinphoto.cli.main import RoleName
    from clinphoto.policy import Role

    assert [r.value for r in RoleName] == [r.value for r in Role]


# --- Help shown again without Typer, and the passcode asked before it (issue 9) ---------------

HELP_LINES = [
    ["--help"],
    ["inbox", "--help"],
    ["admin", "create-user", "--help"],
    ["scrub", "--help"],
]
UI = {"typer", "rich", "click"}


def _cached_env(tmp_path: Path, columns: str = "100") -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": columns}
    env.pop("CLINPHOTO_PASSCODE", None)
    return env


def _run_help(argv: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    """``clinphoto ARGV`` in a new interpreter with its output on a pipe; (output, the UI
    packages it loaded)."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(sorted({m.split('.')[0] for m in"
        " sys.modules}))))\n"
        "from clinphoto.cli.entry import main\n"
        f"sys.argv = ['clinphoto', *{argv!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, sorted(UI & set(done.stderr.split()))


def _typer_help(argv: list[str], env: dict[str, str]) -> str:
    """The help as Typer itself prints it, without clinphoto.cli.entry."""
    app = "clinphoto.cli.deid:tools" if argv[0] == "scrub" else "clinphoto.cli.main:app"
    module, name = app.split(":")
    code = (
        f"import sys; from {module} import {name} as a; sys.argv[1:] = {argv!r};"
        " a(prog_name='clinphoto')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("argv", HELP_LINES, ids=" ".join)
def test_help_shown_again_is_typers_and_loads_no_ui_library(
    argv: list[str], tmp_path: Path
) -> None:
    env = _cached_env(tmp_path)
    first, loaded_first = _run_help(argv, env)
    second, loaded_second = _run_help(argv, env)
    assert loaded_first  # rendered by Typer and Rich the first time...
    assert loaded_second == []  # ...and shown again without them
    assert "Usage: clinphoto" in first
    assert second == first == _typer_help(argv, env)


def test_help_is_rendered_again_when_the_width_or_the_code_changes(tmp_path: Path) -> None:
    from clinphoto.cli import helpcache

    argv = ["inbox", "--help"]
    wide = _run_help(argv, _cached_env(tmp_path, "120"))[0]
    _run_help(argv, _cached_env(tmp_path, "120"))
    narrow, loaded = _run_help(argv, _cached_env(tmp_path, "60"))
    assert loaded  # another width: not the kept copy
    assert narrow == _typer_help(argv, _cached_env(tmp_path, "60")) != wide
    assert _run_help(argv, _cached_env(tmp_path, "60"))[1] == []
    # A file the rendering loaded changes (its size and time are kept with the copy): stale.
    kept = list((tmp_path / "cache" / "clinphoto").iterdir())
    assert len(kept) == 2
    for path in kept:
        key, stamps, text = marshal.loads(path.read_bytes())
        assert any(s[0].endswith("/clinphoto/cli/device.py") for s in stamps)
        stale = tuple((p, mtime - 1, size) for p, mtime, size in stamps)
        path.write_bytes(marshal.dumps((key, stale, text.replace("Usage", "Stale"))))
    again, loaded = _run_help(argv, _cached_env(tmp_path, "60"))
    assert loaded
    assert again == narrow
    assert helpcache.help_words(["--help"]) == ()
    assert helpcache.help_words(["--data-dir", "x", "--help"]) is None
    assert helpcache.help_words(["inbox", "--help", "x"]) is None


def test_the_kept_help_depends_on_every_variable_rich_and_typer_read() -> None:
    """Rich and Typer read these environment variables; those that can change help are
    part of the copy's key, and this test finds a new one in a new version."""
    import re

    import rich
    import typer

    from clinphoto.cli.helpcache import ENVIRONMENT

    # Shell completion and tracebacks: not help.
    not_for_help = {
        "COMP_CWORD",
        "COMP_WORDS",
        "TYPER_STANDARD_TRACEBACK",
        "_TYPER_STANDARD_TRACEBACK",
    }
    found = set()
    pattern = re.compile(r"""(?:getenv|environ\.get|environ\[)\(?\s*["']([A-Za-z_]+)["']""")
    for package in (typer, rich):
        for source in Path(package.__file__).parent.rglob("*.py"):
            found |= set(pattern.findall(source.read_text(encoding="utf-8")))
    found = {n for n in found if not n.startswith("_TYPER_COMPLETE")} - not_for_help
    assert len(found) > 10  # the search works
    assert sorted(found - set(ENVIRONMENT)) == []


def test_the_early_prompt_knows_exactly_the_commands_that_unlock_first() -> None:
    """Each command of early.UNLOCK_FIRST takes only --profile and unlocks before anything
    else, so asking for the passcode before Typer reads the line changes nothing."""
    import ast
    import inspect
    import textwrap

    import typer.main

    from clinphoto.cli import early
    from clinphoto.cli.main import app

    root: Any = typer.main.get_command(app)
    for words in sorted(early.UNLOCK_FIRST):
        command = root
        for word in words:
            command = command.commands[word]
        assert [p.name for p in command.params] == ["profile"], words
        option = command.params[0]
        assert option.opts == ["--profile"]
        assert option.envvar == "CLINPHOTO_PROFILE"
        body = ast.parse(textwrap.dedent(inspect.getsource(command.callback))).body[0]
        assert isinstance(body, ast.FunctionDef)
        first = body.body[1]  # after the docstring
        assert ast.unparse(first) == "secrets_ = _unlock(profile)", words
    recognised = early._recognised
    assert recognised(["inbox"])
    assert recognised(["device", "whoami", "--profile", "p"])
    assert recognised(["inbox", "--profile=p"])
    for line in (
        ["inbox", "--help"],
        ["inbox", "--profile"],
        ["inbox", "--profile="],
        ["inbox", "--profile", "--help"],
        ["inbox", "x"],
        ["inbox", "--profile", "p", "--profile", "q"],
        ["shares", "x"],
        ["device"],
        ["--data-dir", "d", "inbox"],
    ):
        assert not recognised(line), line


def _on_terminal(argv: list[str], keys: list[bytes], env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``argv`` on a pty; type each of ``keys`` after the next passcode prompt.

    A child silent for 30 s is made to dump its threads' Python stacks (faulthandler, on
    SIGABRT), which the failure shows with the kernel's view of its threads.
    """
    import pty
    import select
    import signal

    pid, fd = pty.fork()
    if pid == 0:  # the child
        try:
            # As a terminal's shell starts a command: ^C interrupts it. A test run started in
            # the background (`make test &`) inherits SIGINT ignored, which exec keeps, and a
            # Python started with SIGINT ignored never raises KeyboardInterrupt.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(argv[0], argv, {**env, "PYTHONFAULTHANDLER": "1"})
        finally:
            os._exit(127)
    seen = b""
    typed = 0
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                state = _threads_state(pid)
                os.kill(pid, signal.SIGABRT)
                while select.select([fd], [], [], 10)[0]:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    seen += chunk
                raise AssertionError(f"silent for 30 s after {typed} key(s):\n{state}\n{seen!r}")
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if typed < len(keys) and seen.count(b"Device passcode: ") > typed:
                os.write(fd, keys[typed])
                typed += 1
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen


def _threads_state(pid: int) -> str:
    """Each thread of ``pid``: its name, state, where it sleeps, its pending and blocked
    signals (from /proc)."""
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        status = dict(
            line.split(":\t", 1)
            for line in (task / "status").read_text().splitlines()
            if ":\t" in line
        )
        wchan = (task / "wchan").read_text() if (task / "wchan").exists() else "?"
        fields = " ".join(
            f"{key}={status.get(key, '?').strip()}"
            for key in ("Name", "State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
        )
        lines.append(f"{task.name} {fields} wchan={wchan}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "keys",
    [[b"a passcode\r"], [b"\r", b"a passcode\r"], [b"\x03"], [b"\x04"]],
    ids=["typed", "empty-then-typed", "interrupted", "end-of-input"],
)
def test_the_early_prompt_behaves_as_typers(keys: list[bytes], tmp_path: Path) -> None:
    """`clinphoto inbox` on a terminal, asked early, against the same command run by Typer
    alone: the same screen, the same exit status (no profile here: exit 2 after the
    passcode)."""
    env = {**_cached_env(tmp_path), "CLINPHOTO_PROFILE": str(tmp_path / "no-profile")}
    clinphoto = str(Path(sys.executable).with_name("clinphoto"))
    typer_alone = [
        sys.executable,
        "-c",
        "from clinphoto.cli.main import app; app(prog_name='clinphoto')",
    ]
    early = _on_terminal([clinphoto, "inbox"], keys, env)
    alone = _on_terminal([*typer_alone, "inbox"], keys, env)
    assert early == alone
    assert early[0] == (2 if keys[-1].endswith(b"\r") else 1)
    assert early[1].startswith(b"Device passcode: ")


def test_the_passcode_prompt_comes_before_typer_loads(tmp_path: Path) -> None:
    """When `clinphoto inbox` writes its prompt, neither Typer, Click nor Rich is loaded (nor
    the server or the imaging stack); the command then runs through Typer with the passcode
    typed there, and stops at the missing profile."""
    probe = (
        "import getpass, json, sys\n"
        "seen = {}\n"
        "class Out:\n"
        "    def __init__(self, s): self.s = s\n"
        "    def write(self, t):\n"
        "        if 'Device passcode' in t and 'modules' not in seen:\n"
        "            seen['modules'] = sorted(sys.modules)\n"
        "        return self.s.write(t)\n"
        "    def __getattr__(self, n): return getattr(self.s, n)\n"
        "sys.stdout = Out(sys.stdout)\n"
        "getpass.getpass = lambda prompt='': 'typed'\n"
        "from clinphoto.cli.entry import main\n"
        "sys.argv = ['clinphoto', 'inbox']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    seen['code'] = exc.code\n"
        "sys.stderr.write(json.dumps(seen))\n"
    )
    env = {**_cached_env(tmp_path), "CLINPHOTO_PROFILE": str(tmp_path / "no-profile")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    seen = json.loads(done.stderr[done.stderr.rindex('{"modules"') :])
    at_prompt = seen["modules"]
    assert [m for m in at_prompt if m.split(".")[0] in UI] == []
    assert _forbidden(at_prompt) == []
    assert seen["code"] == 2
    assert "no device profile" in done.stderr
    assert done.stdout.startswith("Device passcode:")


def test_at_most_keep_copies_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clinphoto.cli import helpcache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(helpcache, "KEEP", 3)
    for width in range(5):
        monkeypatch.setenv("COLUMNS", str(60 + width))
        key = helpcache._key(("inbox",))
        helpcache._keep(key, [], f"help at {width}")
        past = 1_000_000_000 + width  # distinct times, in order (file times are coarse)
        os.utime(helpcache._file(key), (past, past))
    kept = sorted((tmp_path / "clinphoto").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert [marshal.loads(p.read_bytes())[2] for p in kept] == [f"help at {w}" for w in (2, 3, 4)]
