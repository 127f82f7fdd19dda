"""tests/vectors/grant.json (decision 011: device grants) against the Python code and the
`age` CLI, and the phone app's grants (web/src/lib/grants.ts, run through
web/test/interop/grants.ts) opened by Python and by the `age` CLI. The TypeScript suite
checks the same file in web/test/unit/grants.test.ts."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tools import grant_vectors as gv
from tools import wire_vectors as wv

from clinphoto import crypto
from tests.webtools import run_interop

needs_age = pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed")


def _doc() -> dict[str, Any]:
    doc = wv.read(wv.VECTORS, gv.NAME)
    assert doc is not None, "tests/vectors/grant.json is missing: run python -m tools.grant_vectors"
    return doc


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _age_cli_open(data: bytes, identity: int, tmp_path: Path) -> bytes | None:
    key = tmp_path / f"key-{identity}.txt"
    key.write_text(wv._identity(identity).identity_file())
    os.chmod(key, 0o600)
    out = subprocess.run(["age", "--decrypt", "-i", str(key)], input=data, capture_output=True)
    return out.stdout if out.returncode == 0 else None


def test_vector_file_is_current() -> None:
    """Deterministic parts recomputed, random parts kept only while they still fit."""
    assert gv.build(wv.VECTORS) == (wv.VECTORS / gv.NAME).read_text(encoding="ascii"), (
        "stale tests/vectors/grant.json: run python -m tools.grant_vectors"
    )


def test_generator_makes_fresh_files_that_fit(tmp_path: Path) -> None:
    first = gv.build(tmp_path)
    (tmp_path / gv.NAME).write_text(first, encoding="ascii")
    assert gv.build(tmp_path) == first  # a second run over its own output changes nothing
    fresh, stored = wv.read(tmp_path, gv.NAME), _doc()
    assert fresh is not None
    assert fresh["headers"] == stored["headers"]  # deterministic
    assert fresh["files"] != stored["files"]  # new age files, new file keys


def test_fixed_headers_unwrap_for_each_recipient_only() -> None:
    doc = _doc()
    for h in doc["headers"]:
        header = base64.b64decode(h["header_b64"])
        assert crypto.parse_header(header).x25519_count == len(h["recipients"])
        for i in range(len(wv.AGE_SECRETS)):
            if i in h["identities"]:
                assert crypto.file_key(header, wv._identity(i)).hex() == h["file_key_hex"]
            else:
                with pytest.raises(crypto.CryptoError):
                    crypto.file_key(header, wv._identity(i))


def test_files_keys_and_python_grants() -> None:
    for f in _doc()["files"]:
        ct = base64.b64decode(f["ciphertext_b64"])
        header, payload = crypto.split_age(ct)
        assert crypto.file_key(header, wv._identity(f["granter"])).hex() == f["file_key_hex"]
        with pytest.raises(crypto.CryptoError):
            crypto.open_sealed(ct, wv._identity(f["target"]))
        granted = base64.b64decode(f["grant_header_b64"]) + payload
        assert _sha(crypto.open_sealed(granted, wv._identity(f["target"]))) == f["plaintext_sha256"]


@needs_age
def test_python_grants_open_with_the_age_cli(tmp_path: Path) -> None:
    for f in _doc()["files"]:
        _, payload = crypto.split_age(base64.b64decode(f["ciphertext_b64"]))
        granted = base64.b64decode(f["grant_header_b64"]) + payload
        opened = _age_cli_open(granted, f["target"], tmp_path)
        assert opened is not None
        assert _sha(opened) == f["plaintext_sha256"]


def test_refused_headers_give_no_key() -> None:
    for r in _doc()["refused"]:
        header = base64.b64decode(r["header_b64"])
        identity = wv._identity(r["identity"])
        if r["opens"]:
            assert len(crypto.file_key(header, identity)) == 16, r["why"]
        else:
            with pytest.raises(crypto.CryptoError):
                crypto.file_key(header, identity)


def test_parse_cases() -> None:
    for p in _doc()["parse"]:
        header = base64.b64decode(p["header_b64"])
        for flag, key in ((True, "x25519_only"), (False, "any_type")):
            try:
                crypto.parse_header(header, x25519_only=flag)
                ok = True
            except crypto.CryptoError:
                ok = False
            assert ok is p[key], (p["why"], key)


# --- the app's grants, opened by Python and the age CLI ----------------------------------------


@pytest.fixture(scope="module")
def made_by_ts() -> list[dict[str, Any]]:
    files = _doc()["files"]
    request = {
        "grants": [
            {
                "ciphertext": f["ciphertext_b64"],
                "secret": wv.AGE_SECRETS[f["granter"]],
                "recipients": [wv._recipient(f["target"])],
            }
            for f in files
        ]
        # Two targets at once, and an identity the file is not sealed to (refused).
        + [
            {
                "ciphertext": files[0]["ciphertext_b64"],
                "secret": wv.AGE_SECRETS[0],
                "recipients": [wv._recipient(2), wv._recipient(1)],
            },
            {
                "ciphertext": files[0]["ciphertext_b64"],
                "secret": wv.AGE_SECRETS[2],
                "recipients": [wv._recipient(2)],
            },
        ]
    }
    out: list[dict[str, Any]] = run_interop("grants", request)["grants"]
    return out


def test_ts_grants_open_in_python(made_by_ts: list[dict[str, Any]]) -> None:
    files = _doc()["files"]
    for f, g in zip(files, made_by_ts, strict=False):
        assert g["file_key_hex"] == f["file_key_hex"]
        header = base64.b64decode(g["header"])
        crypto.parse_header(header)  # what the server accepts as a grant
        _, payload = crypto.split_age(base64.b64decode(f["ciphertext_b64"]))
        opened = crypto.open_sealed(header + payload, wv._identity(f["target"]))
        assert _sha(opened) == f["plaintext_sha256"]
        with pytest.raises(crypto.CryptoError):  # for the target only
            crypto.open_sealed(header + payload, wv._identity(f["granter"]))
    two, refused = made_by_ts[len(files)], made_by_ts[len(files) + 1]
    _, payload = crypto.split_age(base64.b64decode(files[0]["ciphertext_b64"]))
    for target in (2, 1):
        opened = crypto.open_sealed(base64.b64decode(two["header"]) + payload, wv._identity(target))
        assert _sha(opened) == files[0]["plaintext_sha256"]
    assert refused == {"refused": True}


@needs_age
def test_ts_grants_open_with_the_age_cli(made_by_ts: list[dict[str, Any]], tmp_path: Path) -> None:
    for f, g in zip(_doc()["files"], made_by_ts, strict=False):
        _, payload = crypto.split_age(base64.b64decode(f["ciphertext_b64"]))
        opened = _age_cli_open(base64.b64decode(g["header"]) + payload, f["target"], tmp_path)
        assert opened is not None
        assert _sha(opened) == f["plaintext_sha256"]
