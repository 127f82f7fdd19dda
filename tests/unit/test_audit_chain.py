"""The tamper-evident audit chain (AUD-1): canonical form, hashing, checkpoints, verification.

Chains are built in memory (50 entries, a checkpoint every 10 entries signed with a real
Ed25519 key) and then tampered with the way someone with write access to the table could.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from clinphoto import crypto
from clinphoto.audit import chain
from clinphoto.audit.chain import (
    GENESIS,
    ChainRow,
    Checkpoint,
    EntryFields,
    Problem,
    canonical,
    canonical_details,
    chain_row,
    checkpoint_message,
    entry_hash,
    verify_chain,
)

N = 50
EVERY = 10
KEY_ID = "audit-2026"

Verifier = Callable[[str, bytes, bytes], bool]


def _entry(seq: int) -> EntryFields:
    return EntryFields(
        seq=seq,
        at=f"2026-11-24T09:{seq // 60:02d}:{seq % 60:02d}.000000Z",
        actor=f"user:{seq % 7}",
        device=f"device:{seq % 3}",
        patient_ref=f"patient:{seq % 11}",
        action="photo.view" if seq % 2 else "photo.capture",
        object_type="photo",
        object_id=f"obj-{seq:04d}",
        purpose="treatment",
        outcome="ok",
        details=canonical_details({"n": seq, "note": "Clinique Élan — suivi"}),
    )


def _build(n: int = N) -> list[ChainRow]:
    rows: list[ChainRow] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        row = chain_row(prev, _entry(seq))
        rows.append(row)
        prev = row[12]
    return rows


def _sign(key: crypto.SigningKey, seq: int, h: bytes, key_id: str = KEY_ID) -> Checkpoint:
    signature = base64.urlsafe_b64decode(crypto.sign(key, checkpoint_message(seq, h)))
    return Checkpoint(seq=seq, hash=h, signature=signature, key_id=key_id)


def _checkpoints(key: crypto.SigningKey, rows: list[ChainRow]) -> list[Checkpoint]:
    return [_sign(key, row[0], row[12]) for row in rows if row[0] % EVERY == 0]


def _verifier(keys: dict[str, crypto.SigningKey]) -> Verifier:
    public = {key_id: key.public for key_id, key in keys.items()}

    def verify(key_id: str, message: bytes, signature: bytes) -> bool:
        if key_id not in public:
            return False
        sig = base64.urlsafe_b64encode(signature).decode("ascii")
        return crypto.verify_signature(public[key_id], message, sig)

    return verify


def _raw_hash(prev: bytes, fields: tuple[object, ...]) -> bytes:
    """What a forger with the algorithm but no validation would compute."""
    text = "\x1f".join(str(f) for f in fields)
    return hashlib.sha256(prev + text.encode("utf-8")).digest()


def _with(row: ChainRow, **changes: object) -> ChainRow:
    """``row`` with some columns replaced (hashes untouched unless named)."""
    values = list(row)
    for name, value in changes.items():
        values[chain.COLUMNS.index(name)] = value
    return tuple(values)  # type: ignore[return-value]


def _rehashed(row: ChainRow, prev: bytes) -> ChainRow:
    """``row`` relinked after ``prev`` with its own hash correctly recomputed."""
    return chain_row(prev, EntryFields(*row[:11]))


@pytest.fixture(scope="module")
def key() -> crypto.SigningKey:
    return crypto.SigningKey.generate()


@pytest.fixture(scope="module")
def verify(key: crypto.SigningKey) -> Verifier:
    return _verifier({KEY_ID: key})


@pytest.fixture
def rows() -> list[ChainRow]:
    return _build()


@pytest.fixture
def cps(key: crypto.SigningKey, rows: list[ChainRow]) -> list[Checkpoint]:
    return _checkpoints(key, rows)


# --- canonical form and hashing ------------------------------------------------------------


def test_aud1_canonical_is_fields_in_order_joined_by_unit_separator() -> None:
    e = EntryFields(7, "2026-11-24T16:00:00Z", "a", "d", "p", "act", "ot", "oi", "pu", "ok", "{}")
    assert (
        canonical(e)
        == b"7\x1f2026-11-24T16:00:00Z\x1fa\x1fd\x1fp\x1fact\x1fot\x1foi\x1fpu\x1fok\x1f{}"
    )
    assert canonical(replace(e, actor="é")) == canonical(e).replace(
        b"\x1fa\x1f", b"\x1f\xc3\xa9\x1f"
    )


def test_aud1_entry_hash_is_sha256_of_prev_and_canonical() -> None:
    e = _entry(1)
    assert entry_hash(GENESIS, e) == hashlib.sha256(bytes(32) + canonical(e)).digest()
    assert entry_hash(b"\x01" * 32, e) != entry_hash(GENESIS, e)
    assert bytes(32) == GENESIS


def test_aud1_chain_row_links_to_prev_and_stores_its_hash() -> None:
    rows = _build(3)
    assert rows[0][11] == GENESIS
    assert rows[1][11] == rows[0][12]
    assert rows[2][12] == entry_hash(rows[1][12], _entry(3))
    assert len(rows[0]) == len(chain.COLUMNS) == 13


def test_aud1_canonical_details_is_sorted_compact_json() -> None:
    assert canonical_details({"b": 1, "a": [1, 2], "c": {"z": None, "y": "x"}}) == (
        '{"a":[1,2],"b":1,"c":{"y":"x","z":null}}'
    )
    # Control characters and non-ASCII are escaped, so details never trips the canonical check.
    text = canonical_details({"note": "line1\nline2\x1fé"})
    assert text == '{"note":"line1\\nline2\\u001f\\u00e9"}'
    canonical(replace(_entry(1), details=text))
    with pytest.raises(ValueError):
        canonical_details({"x": float("nan")})


def test_aud1_checkpoint_message_format() -> None:
    h = bytes(range(32))
    assert checkpoint_message(40, h) == b"clinphoto-audit-checkpoint\x1f40\x1f" + h.hex().encode()


@pytest.mark.parametrize("bad", ["\x1f", "\x00", "\n", "\r", "\t", "\x1e"])
@pytest.mark.parametrize("field", ["at", "actor", "device", "patient_ref", "purpose", "details"])
def test_aud1_control_char_in_field_is_rejected(field: str, bad: str) -> None:
    changes: dict[str, Any] = {field: f"x{bad}y"}
    e = replace(_entry(1), **changes)
    with pytest.raises(ValueError, match="control character"):
        canonical(e)
    with pytest.raises(ValueError):
        entry_hash(GENESIS, e)


@pytest.mark.parametrize("seq", [0, -1])
def test_aud1_non_positive_seq_is_rejected(seq: int) -> None:
    with pytest.raises(ValueError):
        canonical(replace(_entry(1), seq=seq))


# --- verification ----------------------------------------------------------------------------


def test_aud1_verify_intact_chain(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    assert len(cps) == N // EVERY
    assert verify_chain(rows, cps, verify) is None


def test_aud1_verify_accepts_single_pass_iterables(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    def cursor() -> Iterator[ChainRow]:
        yield from rows

    assert verify_chain(cursor(), iter(cps), verify) is None


def test_aud1_verify_accepts_memoryview_hashes(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    # Some drivers hand bytea/BLOB columns back as memoryview.
    as_read = [_with(r, prev_hash=memoryview(r[11]), hash=memoryview(r[12])) for r in rows]
    assert verify_chain(as_read, cps, verify) is None


def test_aud1_verify_empty_chain(verify: Verifier) -> None:
    assert verify_chain([], [], verify) is None


def test_aud1_verify_without_checkpoints(rows: list[ChainRow], verify: Verifier) -> None:
    assert verify_chain(rows, [], verify) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2026-11-24T10:00:00.000000Z"),
        ("actor", "user:intruder"),
        ("patient_ref", "patient:999"),
        ("action", "photo.delete"),
        ("outcome", "denied"),
        ("details", canonical_details({"n": 23})),
    ],
)
def test_aud1_verify_detects_edited_entry(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier, column: str, value: str
) -> None:
    rows[22] = _with(rows[22], **{column: value})
    assert verify_chain(rows, cps, verify) == Problem(23, chain.EDITED)


def test_aud1_verify_detects_edited_entry_with_recomputed_hash(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    rows[22] = _rehashed(_with(rows[22], actor="user:intruder"), rows[21][12])
    assert verify_chain(rows, cps, verify) == Problem(24, chain.UNLINKED)


def test_aud1_verify_detects_rewritten_tail_at_next_checkpoint(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    # A forger who rewrites every entry from 23 on keeps the chain self-consistent; only the
    # signed checkpoint at 30 (which they cannot re-sign) gives them away.
    prev = rows[21][12]
    for i in range(22, N):
        row = _with(rows[i], actor="user:intruder") if i == 22 else rows[i]
        rows[i] = _rehashed(row, prev)
        prev = rows[i][12]
    assert verify_chain(rows, cps, verify) == Problem(30, chain.CHECKPOINT_MISMATCH)


def test_aud1_verify_detects_deleted_middle_entry(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    del rows[24]
    assert verify_chain(rows, cps, verify) == Problem(25, chain.GAP)


def test_aud1_verify_detects_deleted_entry_renumbered(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    del rows[24]
    for i in range(24, len(rows)):
        rows[i] = _with(rows[i], seq=rows[i][0] - 1)
    assert verify_chain(rows, cps, verify) == Problem(25, chain.UNLINKED)


def test_aud1_verify_detects_deleted_first_entry(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    del rows[0]
    assert verify_chain(rows, cps, verify) == Problem(1, chain.GAP)


@pytest.mark.parametrize("keep", [49, 45, 41, 40, 37, 1, 0])
def test_aud1_verify_detects_truncation_beyond_checkpoint(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier, keep: int
) -> None:
    first_lost_checkpoint = (keep // EVERY + 1) * EVERY
    assert verify_chain(rows[:keep], cps, verify) == Problem(first_lost_checkpoint, chain.TRUNCATED)


def test_aud1_verify_detects_inserted_forged_row(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    # Forged seq 26 links to 25 and carries its own correct hash; the genuine 26 follows.
    forged = _rehashed(_with(rows[25], actor="user:intruder"), rows[24][12])
    rows.insert(25, forged)
    assert verify_chain(rows, cps, verify) == Problem(26, chain.OUT_OF_ORDER)


def test_aud1_verify_detects_inserted_forged_row_with_renumbering(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    forged = _rehashed(_with(rows[25], actor="user:intruder"), rows[24][12])
    for i in range(25, len(rows)):
        rows[i] = _with(rows[i], seq=rows[i][0] + 1)
    rows.insert(25, forged)
    assert verify_chain(rows, cps, verify) == Problem(27, chain.UNLINKED)


def test_aud1_verify_detects_appended_row_that_does_not_link(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    rows.append(_rehashed(_with(rows[-1], seq=N + 1), b"\xab" * 32))
    assert verify_chain(rows, cps, verify) == Problem(N + 1, chain.UNLINKED)


def test_aud1_verify_detects_swapped_rows(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    rows[16], rows[17] = rows[17], rows[16]
    problem = verify_chain(rows, cps, verify)
    assert problem is not None
    assert problem.seq == 17


def test_aud1_verify_detects_swapped_sequence_numbers(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    # Reordering in the table: the two entries exchange seq, so ORDER BY seq reads them swapped.
    a, b = rows[16], rows[17]
    rows[16], rows[17] = _with(b, seq=17), _with(a, seq=18)
    assert verify_chain(rows, cps, verify) == Problem(17, chain.UNLINKED)


def test_aud1_verify_detects_swapped_contents(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    # Swap everything but seq and the hash columns.
    a, b = rows[16], rows[17]
    rows[16] = (a[0], *b[1:11], a[11], a[12])
    rows[17] = (b[0], *a[1:11], b[11], b[12])
    assert verify_chain(rows, cps, verify) == Problem(17, chain.EDITED)


def test_aud1_verify_detects_stored_prev_hash_edit(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    rows[30] = _with(rows[30], prev_hash=b"\x00" * 32)
    assert verify_chain(rows, cps, verify) == Problem(31, chain.UNLINKED)


def test_aud1_verify_detects_forged_checkpoint_signature(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    sig = bytearray(cps[2].signature)
    sig[0] ^= 1
    cps[2] = replace(cps[2], signature=bytes(sig))
    assert verify_chain(rows, cps, verify) == Problem(30, chain.BAD_SIGNATURE)


def test_aud1_verify_detects_checkpoint_signed_by_other_key(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    other = crypto.SigningKey.generate()
    cps[1] = _sign(other, 20, rows[19][12])
    assert verify_chain(rows, cps, verify) == Problem(20, chain.BAD_SIGNATURE)
    cps[1] = _sign(other, 20, rows[19][12], key_id="unknown-key")
    assert verify_chain(rows, cps, verify) == Problem(20, chain.BAD_SIGNATURE)


def test_aud1_verify_checkpoint_with_raising_verifier_is_invalid(
    rows: list[ChainRow], cps: list[Checkpoint]
) -> None:
    def broken(key_id: str, message: bytes, signature: bytes) -> bool:
        raise ValueError("bad key")

    assert verify_chain(rows, cps, broken) == Problem(10, chain.BAD_SIGNATURE)


def test_aud1_verify_detects_checkpoint_that_does_not_match_chain(
    key: crypto.SigningKey, rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    cps[1] = _sign(key, 20, b"\x42" * 32)  # validly signed, but not this chain's hash
    assert verify_chain(rows, cps, verify) == Problem(20, chain.CHECKPOINT_MISMATCH)


def test_aud1_verify_forged_checkpoint_beyond_end_is_a_signature_problem(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    cps.append(Checkpoint(seq=60, hash=b"\x42" * 32, signature=b"\x00" * 64, key_id=KEY_ID))
    assert verify_chain(rows, cps, verify) == Problem(60, chain.BAD_SIGNATURE)


def test_aud1_verify_checkpoint_before_first_entry_does_not_match(
    key: crypto.SigningKey, rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    cps.append(_sign(key, 0, GENESIS))
    assert verify_chain(rows, cps, verify) == Problem(0, chain.CHECKPOINT_MISMATCH)


def test_aud1_verify_reports_first_problem_in_seq_order(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    cps[3] = replace(cps[3], signature=b"\x00" * 64)  # seq 40
    del rows[34]  # seq 35
    rows[6] = _with(rows[6], outcome="denied")  # seq 7
    assert verify_chain(rows, cps, verify) == Problem(7, chain.EDITED)


def test_aud1_verify_detects_control_char_forged_with_raw_hash(verify: Verifier) -> None:
    # A forger computing hashes without the canonical check: a separator hidden in a field
    # would shift content across field boundaries, so verification rejects it outright.
    rows = _build(5)
    for bad in ("\x1f", "\n"):
        forged = _with(rows[4], actor=f"user:1{bad}admin")
        forged = _with(forged, hash=_raw_hash(rows[3][12], forged[:11]))
        assert verify_chain([*rows[:4], forged], [], verify) == Problem(5, chain.CONTROL_CHAR)


@pytest.mark.parametrize(
    "damage",
    [
        {"actor": None},
        {"details": b"{}"},
        {"seq": "3"},
    ],
)
def test_aud1_verify_reports_malformed_rows(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier, damage: dict[str, object]
) -> None:
    rows[2] = _with(rows[2], **damage)
    assert verify_chain(rows, cps, verify) == Problem(3, chain.MALFORMED)


def test_aud1_verify_reports_short_row_as_malformed(
    rows: list[ChainRow], cps: list[Checkpoint], verify: Verifier
) -> None:
    rows[2] = rows[2][:12]  # type: ignore[assignment]
    assert verify_chain(rows, cps, verify) == Problem(3, chain.MALFORMED)
