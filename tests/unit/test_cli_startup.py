"""What a start of `clinphoto` loads (issue 9): the device's commands and `--help` never load
the server side or the imaging stack.

Each case runs in a fresh interpreter, as a user's command does, and lists the modules it
loaded. Which modules, not how long: the timings are in bench/run.py (bench_cli_start).
"""

from __future__ import annotations

import json
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
