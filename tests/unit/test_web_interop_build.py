"""The Python suite can run the web app's TypeScript (tests/webtools.py)."""

from tests.webtools import run_interop


def test_interop_programs_build_and_run() -> None:
    assert run_interop("ping", {"x": "é"}) == {"ok": True, "echo": '{"x": "\\u00e9"}'}
