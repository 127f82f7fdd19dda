"""The shared wire-format vectors (tests/vectors/, made by tools/wire_vectors.py) against the
Python code, and what the web app's TypeScript makes (web/test/interop/wire.ts) checked with
the Python code, the age CLI and the server's own manifest checks. The TypeScript suite
checks the same files (web/test/unit/vectors.test.ts): the two clients cannot drift apart."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tools import wire_vectors as wv

from clinphoto import crypto
from clinphoto.client import capture as client_capture
from clinphoto.client import profile as client_profile
from clinphoto.client import text as client_text
from clinphoto.core import protocol
from clinphoto.media.service import check_sealed_text
from tests.webtools import run_interop

needs_age = pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is not installed")


def _load(name: str) -> dict[str, Any]:
    doc = wv.read(wv.VECTORS, name)
    assert doc is not None, f"tests/vectors/{name} is missing: run python -m tools.wire_vectors"
    return doc


# --- the files are what the generator makes -----------------------------------------------


def test_vector_files_are_current() -> None:
    """Deterministic parts recomputed, random parts kept only while they still open: a
    change in the Python code that alters the wire format fails here until the vectors are
    regenerated (and the TypeScript suite then sees the change)."""
    built = wv.build(wv.VECTORS)
    stale = [
        name
        for name, text in built.items()
        if (wv.VECTORS / name).read_text(encoding="ascii") != text
    ]
    assert not stale, f"stale vectors {stale}: run python -m tools.wire_vectors"


def test_generator_makes_fresh_random_parts_that_fit(tmp_path: Path) -> None:
    """From nothing, the generator makes every file; the deterministic files come out the
    same, and a second run over its own output changes nothing."""
    first = wv.build(tmp_path)
    for name, text in first.items():
        (tmp_path / name).write_text(text, encoding="ascii")
    assert wv.build(tmp_path) == first
    for name in ("canonical.json", "messages.json", "ed25519.json", "fingerprint.json"):
        assert first[name] == (wv.VECTORS / name).read_text(encoding="ascii")
    assert first["age.json"] != (wv.VECTORS / "age.json").read_text(encoding="ascii")


# --- each vector against the Python code ------------------------------------------------------


def test_canonical_manifests() -> None:
    doc = _load("canonical.json")
    assert len(doc["cases"]) >= 10
    for case in doc["cases"]:
        encoded = protocol.encode_manifest(case["value"])
        assert encoded.decode("ascii") == case["canonical"], case["name"]
        assert hashlib.sha256(encoded).hexdigest() == case["sha256"]
        assert protocol.manifest_header(encoded) == case["header"]
        if isinstance(case["value"], dict):
            raw, parsed = protocol.read_manifest_header(case["header"])
            assert raw == encoded
            assert parsed == case["value"]
    # The traps are in the file as written: unsorted, so a client that does not sort (or
    # sorts by UTF-16 unit) fails.
    trap = next(c for c in doc["cases"] if c["name"].startswith("key order: code points"))
    assert list(trap["value"]) != sorted(trap["value"])
    assert sorted(trap["value"], key=lambda k: k.encode("utf-16-be")) != sorted(trap["value"])


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def test_refused_values_break_the_integer_rule_and_the_accepted_keep_it() -> None:
    doc = _load("canonical.json")
    for case in doc["refused_by_typescript"]:
        assert any(isinstance(n, float) or abs(n) > 2**53 - 1 for n in _numbers(case["value"])), (
            case["name"]
        )
    for case in doc["cases"]:
        assert all(isinstance(n, int) and abs(n) <= 2**53 - 1 for n in _numbers(case["value"]))


def test_protocol_constants_and_messages() -> None:
    doc = _load("messages.json")
    c = doc["constants"]
    assert c["MANIFEST_HEADER"] == protocol.MANIFEST_HEADER
    assert c["SIGNATURE_HEADER"] == protocol.SIGNATURE_HEADER
    assert c["AGE_MAGIC"].encode() == protocol.AGE_MAGIC
    assert tuple(c["SEALED_TEXT_FIELDS"]) == protocol.SEALED_TEXT_FIELDS
    assert tuple(c["TEXT_CONFIRMATIONS"]) == protocol.TEXT_CONFIRMATIONS
    assert c["MAX_SEALED_TEXT"] == protocol.MAX_SEALED_TEXT
    for login in doc["login"]:
        msg = protocol.login_message(login["device_id"], login["email"], login["timestamp"])
        assert msg.hex() == login["message_hex"]
        assert crypto.sign(wv._signing(login["seed"]), msg) == login["signature"]
    assert any(not login["email"].isascii() for login in doc["login"])
    for ack in doc["ack"]:
        msg = protocol.ack_message(ack["share_id"], ack["plaintext_sha256"])
        assert msg.hex() == ack["message_hex"]
        assert crypto.verify_signature(wv._signing(ack["seed"]).public, msg, ack["signature"])


def test_device_status_messages() -> None:
    """The status key's messages (BRE-4, BRE-5; docs/wire/device-status.md): the bytes the
    app and the CLI sign, and signatures that verify with the status key, and only there."""
    doc = _load("device-status.json")
    key = wv._signing(doc["seed"])
    assert key.public == doc["status_public"]
    assert [r["body"]["holding"] is None for r in doc["reports"]] == [True, False]
    for report in doc["reports"]:
        b = report["body"]
        msg = protocol.device_status_message(
            b["device_id"], b["time"], b["locked"], b["locked_since"], b["holding"]
        )
        assert msg.hex() == report["message_hex"]
        assert crypto.verify_signature(doc["status_public"], msg, b["signature"])
        assert not crypto.verify_signature(wv._signing(1).public, msg, b["signature"])
    w = doc["wipe_confirmation"]["body"]
    msg = protocol.wipe_confirmation_message(
        w["device_id"], w["wipe_id"], w["wiped_at"], w["erased"]
    )
    assert msg.hex() == doc["wipe_confirmation"]["message_hex"]
    assert b'"caches":3,"databases":1,"outbox_items":2,"vault":true' in msg
    assert crypto.verify_signature(doc["status_public"], msg, w["signature"])
    d = doc["delete_confirmation"]["body"]
    msg = protocol.share_deleted_message(d["device_id"], d["share_id"], d["deleted_at"])
    assert msg.hex() == doc["delete_confirmation"]["message_hex"]
    assert crypto.verify_signature(doc["status_public"], msg, d["signature"])
    # One message never verifies as another: each starts with its own label.
    assert not crypto.verify_signature(doc["status_public"], msg, w["signature"])


def test_ed25519() -> None:
    doc = _load("ed25519.json")
    for v in doc["rfc8032"]:
        key = crypto.SigningKey(bytes.fromhex(v["seed_hex"]))
        assert base64.urlsafe_b64decode(key.public).hex() == v["public_hex"]
        sig = crypto.sign(key, bytes.fromhex(v["message_hex"]))
        assert base64.urlsafe_b64decode(sig).hex() == v["signature_hex"]
    for k in doc["keys"]:
        assert crypto.SigningKey(bytes.fromhex(k["seed_hex"])).public == k["public"]
    for s in doc["signatures"]:
        key = crypto.SigningKey(bytes.fromhex(doc["keys"][s["seed"]]["seed_hex"]))
        msg = bytes.fromhex(s["message_hex"])
        assert crypto.sign(key, msg) == s["signature"]
        assert crypto.verify_signature(key.public, msg, s["signature"])
    for bad in doc["invalid"]:
        msg = bytes.fromhex(bad["message_hex"])
        assert not crypto.verify_signature(bad["public"], msg, bad["signature"]), bad["why"]


def test_fingerprints_and_blind_indexes() -> None:
    for case in _load("fingerprint.json")["cases"]:
        assert crypto.fingerprint(*case["public_keys"]) == case["fingerprint"]
    cases = _load("blind-index.json")["cases"]
    for case in cases:
        index = crypto.blind_index(bytes.fromhex(case["key_hex"]), case["kind"], case["value"])
        assert index == case["index"]
    # Each input its own token, but for the two that show why a kind never holds 0x1F:
    # ("mrn\x1fextra", "1") and ("mrn", "extra\x1f1") are the same bytes under the MAC.
    by_index: dict[str, list[tuple[str, str]]] = {}
    for case in cases:
        by_index.setdefault(case["index"], []).append((case["kind"], case["value"]))
    shared = [inputs for inputs in by_index.values() if len(inputs) > 1]
    assert shared == [[("mrn\x1fextra", "1"), ("mrn", "extra\x1f1")]]


def test_vault_kdf_wrap_and_cli_record(tmp_path: Path) -> None:
    doc = _load("vault.json")
    assert {(k["t"], k["m"], k["p"]) for k in doc["kdf"]} >= {(1, 8, 1), (3, 65536, 1)}
    for k in doc["kdf"]:
        params = crypto.KdfParams(k["t"], k["m"], k["p"])
        key = crypto.derive_vault_key(k["passcode"], bytes.fromhex(k["salt_hex"]), params)
        assert key.hex() == k["key_hex"]
    for w in doc["wrap"]:
        kek, wrapped = bytes.fromhex(w["kek_hex"]), bytes.fromhex(w["wrapped_hex"])
        assert crypto.unwrap_key(kek, wrapped, w["context"].encode()).hex() == w["secret_hex"]
        with pytest.raises(crypto.CryptoError):
            crypto.unwrap_key(kek, wrapped, w["context"].encode() + b"x")
    vault = doc["device_vault"]
    (tmp_path / client_profile.VAULT).write_text(json.dumps(vault["record"]))
    opened = client_profile.Profile(tmp_path).unlock(vault["passcode"])
    assert opened == client_profile.DeviceSecrets(**vault["secrets"])


def test_age_files() -> None:
    doc = _load("age.json")
    ids = [crypto.AgeIdentity(i["secret"]) for i in doc["identities"]]
    assert [i.recipient for i in ids] == [i["recipient"] for i in doc["identities"]]
    for f in doc["files"]:
        ct = base64.b64decode(f["ciphertext_b64"])
        for n, identity in enumerate(ids):
            if n in f["identities"]:
                assert crypto.open_sealed(ct, identity).hex() == f["plaintext_hex"]
            else:
                with pytest.raises(crypto.CryptoError):
                    crypto.open_sealed(ct, identity)


def _age_cli_open(ciphertext: bytes, secret: str, tmp_path: Path) -> bytes:
    key = tmp_path / f"key-{hashlib.sha256(secret.encode()).hexdigest()[:8]}.txt"
    key.write_text(crypto.AgeIdentity(secret).identity_file())
    os.chmod(key, 0o600)
    out = subprocess.run(
        ["age", "--decrypt", "-i", str(key)], input=ciphertext, capture_output=True, check=True
    )
    return out.stdout


@needs_age
def test_age_files_open_with_the_age_cli(tmp_path: Path) -> None:
    doc = _load("age.json")
    for f in doc["files"]:
        ct = base64.b64decode(f["ciphertext_b64"])
        secret = doc["identities"][f["identities"][0]]["secret"]
        assert _age_cli_open(ct, secret, tmp_path).hex() == f["plaintext_hex"]


def test_captures_and_sealed_text() -> None:
    doc = _load("capture.json")
    for c in doc["captures"]:
        raw, manifest = protocol.read_manifest_header(c["manifest_header"])
        assert manifest == c["manifest"]
        plain = client_capture.open_capture(
            base64.b64decode(c["ciphertext_b64"]),
            identity=wv._identity(1),
            manifest_bytes=raw,
            signature=c["signature"],
            author_signing_public=c["signing_public"],
            plaintext_sha256=c["plaintext_sha256"],
        )
        assert plain.hex() == doc["scrubbed_hex"]
        check_sealed_text(manifest)
    texts = _load("sealed-text.json")
    for case in texts["cases"]:
        fields = case["fields"]
        check_sealed_text(fields)
        for i in case["identities"]:
            assert client_text.open_text(fields[case["field"]], wv._identity(i)) == case["text"]


# --- what the TypeScript library makes, checked by the Python side ---------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def made_by_ts() -> dict[str, Any]:
    """One run of web/test/interop/wire.ts over everything it can make."""
    image = wv._label_bytes("a photo from the browser", 200_000)
    recipients = [wv._recipient(0), wv._recipient(1)]
    request = {
        "seed": _b64(wv.SIGNING_SEEDS[1]),
        "recipients": recipients,
        "capture": {
            "image": _b64(image),
            "content_type": "image/jpeg",
            "patient_id": wv.PATIENT_ID,
            "encounter_id": wv.ENCOUNTER_ID,
            "device_id": wv.DEVICE_ID,
            "caption": "Lésion 2 cm, MRN 7654321 \U0001f600",
            "caption_warnings": ["mrn"],
            "caption_confirmed": "clinically-necessary",
        },
        "share": {
            "plain": _b64(image[:1000]),
            "content_type": "image/jpeg",
            "device_id": wv.DEVICE_ID,
            "recipient_user_id": wv.RECIPIENT_USER_ID,
            "purpose": "consultation",
            "message": "Pour avis",
        },
        "login": {
            "device_id": wv.DEVICE_ID,
            "email": "Élodie@Example.CA",
            "timestamp": "2026-01-02T03:04:05.678000+00:00",
        },
        "ack": {"share_id": "1f" * 16, "plaintext_sha256": hashlib.sha256(image).hexdigest()},
        "vault": {
            "passcode": "passcode \u00e9\U0001f512",
            "kdf": {"t": 1, "m": 8, "p": 1},
            "secrets": {
                "server": "https://clinphoto.example",
                "userId": "1234567890abcdef1234567890abcdef",
                "email": "alice@example.ca",
                "deviceId": wv.DEVICE_ID,
                "ageSecret": wv.AGE_SECRETS[2],
                "signingSeed": _b64(wv.SIGNING_SEEDS[2]),
                "token": "tok",
            },
        },
        "keys": True,
        "seal": [{"plain": _b64(b"")}, {"plain": _b64(image[:65536])}, {"plain": _b64(image)}],
    }
    result: dict[str, Any] = run_interop("wire", request)
    result["request"] = request
    result["image"] = image
    return result


def test_ts_capture_verifies_and_opens_in_python(made_by_ts: dict[str, Any]) -> None:
    out, req = made_by_ts["capture"], made_by_ts["request"]
    raw, manifest = protocol.read_manifest_header(out["manifest_header"])
    assert raw == base64.b64decode(out["manifest_bytes"])
    assert raw == protocol.encode_manifest(manifest)  # the TS bytes are Python's canonical form
    ct = base64.b64decode(out["ciphertext"])
    plain = client_capture.open_capture(
        ct,
        identity=wv._identity(0),
        manifest_bytes=raw,
        signature=out["signature"],
        author_signing_public=wv._signing(1).public,
        plaintext_sha256=out["plaintext_sha256"],
    )
    assert plain == made_by_ts["image"]
    # Python's seal_capture would have written the same fields, with the same values where
    # a run does not make them random.
    python_photo = next(c for c in _load("capture.json")["captures"] if c["name"] == "photo")
    assert set(manifest) == set(python_photo["manifest"]) | {
        "caption_sealed",
        "text_warnings",
        "text_warnings_confirmed",
    }
    assert manifest["object_id"] == out["object_id"]
    assert manifest["ciphertext_sha256"] == hashlib.sha256(ct).hexdigest()
    assert manifest["size"] == len(ct)
    assert manifest["recipients"] == sorted(req["recipients"])
    assert manifest["kind"] == "photo"
    assert manifest["text_warnings"] == ["mrn"]
    check_sealed_text(manifest)
    caption = client_text.open_text(manifest["caption_sealed"], wv._identity(1))
    assert caption == req["capture"]["caption"]


@needs_age
def test_ts_age_files_open_with_the_age_cli(made_by_ts: dict[str, Any], tmp_path: Path) -> None:
    ct = base64.b64decode(made_by_ts["capture"]["ciphertext"])
    assert _age_cli_open(ct, wv.AGE_SECRETS[1], tmp_path) == made_by_ts["image"]
    for sealed, item in zip(made_by_ts["seal"], made_by_ts["request"]["seal"], strict=True):
        assert _age_cli_open(base64.b64decode(sealed), wv.AGE_SECRETS[0], tmp_path) == (
            base64.b64decode(item["plain"])
        )


def test_ts_age_files_open_with_pyrage(made_by_ts: dict[str, Any]) -> None:
    for sealed, item in zip(made_by_ts["seal"], made_by_ts["request"]["seal"], strict=True):
        opened = crypto.open_sealed(base64.b64decode(sealed), wv._identity(1))
        assert opened == base64.b64decode(item["plain"])
        with pytest.raises(crypto.CryptoError):
            crypto.open_sealed(base64.b64decode(sealed), wv._identity(2))


def test_ts_share_verifies_and_opens_in_python(made_by_ts: dict[str, Any]) -> None:
    out = made_by_ts["share"]
    raw, manifest = protocol.read_manifest_header(out["manifest_header"])
    assert raw == protocol.encode_manifest(manifest)
    assert crypto.verify_signature(wv._signing(1).public, raw, out["signature"])
    expected = next(
        c["manifest"] for c in _load("capture.json")["captures"] if c["manifest"]["kind"] == "share"
    )
    assert set(manifest) == set(expected)
    assert manifest["purpose"] == "consultation"
    assert manifest["recipient_user_id"] == wv.RECIPIENT_USER_ID
    plain = crypto.open_sealed(base64.b64decode(out["ciphertext"]), wv._identity(0))
    assert plain == made_by_ts["image"][:1000]
    assert hashlib.sha256(plain).hexdigest() == manifest["plaintext_sha256"]
    assert client_text.open_text(manifest["message_sealed"], wv._identity(0)) == "Pour avis"


def test_ts_login_and_ack_signatures_verify(made_by_ts: dict[str, Any]) -> None:
    req = made_by_ts["request"]
    login = req["login"]
    message = protocol.login_message(login["device_id"], login["email"], login["timestamp"])
    assert base64.b64decode(made_by_ts["login"]["message"]) == message
    public = wv._signing(1).public
    assert crypto.verify_signature(public, message, made_by_ts["login"]["signature"])
    assert made_by_ts["login"]["signature"] == crypto.sign(wv._signing(1), message)
    ack = protocol.ack_message(req["ack"]["share_id"], req["ack"]["plaintext_sha256"])
    assert base64.b64decode(made_by_ts["ack"]["message"]) == ack
    assert crypto.verify_signature(public, ack, made_by_ts["ack"]["signature"])
    assert not crypto.verify_signature(public, message, made_by_ts["ack"]["signature"])


def test_ts_vault_record_opens_with_the_cli(made_by_ts: dict[str, Any], tmp_path: Path) -> None:
    record = made_by_ts["vault"]["record"]
    req = made_by_ts["request"]["vault"]
    assert record["kdf"] == {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
    assert record["failed_unlocks"] == 0
    # Nothing in the stored record is a secret in the clear.
    stored = json.dumps(record)
    for secret in (wv.AGE_SECRETS[2], req["secrets"]["signingSeed"], "tok", "alice@example"):
        assert secret not in stored
    key = crypto.derive_vault_key(
        req["passcode"], base64.b64decode(record["salt"]), crypto.KdfParams(1, 8, 1)
    )
    raw = crypto.unwrap_key(key, base64.b64decode(record["sealed"]), wv.VAULT_CONTEXT)
    assert json.loads(raw)["age_secret"] == wv.AGE_SECRETS[2]
    (tmp_path / client_profile.VAULT).write_text(json.dumps(record))
    secrets = client_profile.Profile(tmp_path).unlock(req["passcode"])
    assert secrets.age_secret == wv.AGE_SECRETS[2]
    assert secrets.signing.raw == wv.SIGNING_SEEDS[2]
    assert secrets.user_id == req["secrets"]["userId"]
    assert secrets.token == "tok"
    with pytest.raises(client_profile.ProfileError, match="wrong passcode"):
        client_profile.Profile(tmp_path).unlock("another passcode")


def test_ts_device_keys_are_python_keys(made_by_ts: dict[str, Any]) -> None:
    keys = made_by_ts["keys"]
    assert keys["age_secret"].startswith("AGE-SECRET-KEY-1")
    assert crypto.AgeIdentity(keys["age_secret"]).recipient == keys["age_recipient"]
    assert crypto.is_age_recipient(keys["age_recipient"])
    seed = base64.b64decode(keys["signing_seed"])
    assert crypto.SigningKey(seed).public == keys["signing_public"]
    assert crypto.is_signing_public(keys["signing_public"])


def test_python_age_files_of_every_size_open_in_ts() -> None:
    """Python seals, the TypeScript opens: empty, one byte short of, exactly, and just past
    a 64 KiB STREAM chunk, and several chunks; a wrong identity is refused."""
    sizes = (0, 1, 65535, 65536, 65537, 200_000)
    plains = [wv._label_bytes(f"python to ts {n}", n) for n in sizes]
    recipient = wv._recipient(2)
    request = {
        "open": [
            {"ciphertext": _b64(crypto.seal(p, [recipient])), "secret": wv.AGE_SECRETS[2]}
            for p in plains
        ]
        + [{"ciphertext": _b64(crypto.seal(b"x", [recipient])), "secret": wv.AGE_SECRETS[0]}]
    }
    result = run_interop("wire", request)["open"]
    assert result[:-1] == [{"sha256": hashlib.sha256(p).hexdigest()} for p in plains]
    assert result[-1] == {"error": "cryptographic operation failed"}
