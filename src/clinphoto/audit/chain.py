"""The tamper-evident audit chain (AUD-1): canonical form, hashing and verification.

Pure logic, standard library only. Every entry's hash is
``sha256(prev_hash + canonical(entry))``; the first entry links to :data:`GENESIS`.
Signed checkpoints pin the hash at a sequence number so that rewriting the tail of the
chain, or truncating it, is detected too. Entries after the newest checkpoint are protected by
the links alone: someone who can write the table can rewrite or drop that tail undetected, so
checkpoint often.

The canonical form joins the fields with the unit separator ``\\x1f``. Because no text field
may contain a control character, the join is unambiguous: content cannot be moved across a
field boundary without changing the hash. :func:`verify_chain` enforces the same rule on the
stored rows, so a forged row that hides a separator inside a field is reported.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

GENESIS: Final = bytes(32)
"""The prev hash of entry seq 1."""

SEP: Final = "\x1f"
CHECKPOINT_DOMAIN: Final = b"clinphoto-audit-checkpoint\x1f"

#: Column order of the audit table, as fed to :func:`verify_chain` straight from a cursor.
COLUMNS: Final = (
    "seq",
    "at",
    "actor",
    "device",
    "patient_ref",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "outcome",
    "details",
    "prev_hash",
    "hash",
)

ChainRow: TypeAlias = tuple[int, str, str, str, str, str, str, str, str, str, str, bytes, bytes]
"""(seq, at, actor, device, patient_ref, action, object_type, object_id, purpose, outcome,
details, prev_hash, hash)."""

VerifySignature: TypeAlias = Callable[[str, bytes, bytes], bool]
"""verify_signature(key_id, message, signature) -> True only for a valid signature."""

_NUM_SEPARATORS: Final = 10  # 11 canonical fields
_CONTROL: Final = re.compile("[\x00-\x1f]")
_CONTROL_BYTES: Final = bytes(range(0x20))

EDITED: Final = "hash mismatch (entry edited, inserted or reordered)"
GAP: Final = "sequence gap (entry deleted)"
OUT_OF_ORDER: Final = "sequence out of order (entry inserted or reordered)"
UNLINKED: Final = "prev hash does not link"
CONTROL_CHAR: Final = "field contains a control character (entry forged)"
MALFORMED: Final = "malformed row"
BAD_SIGNATURE: Final = "checkpoint signature invalid"
CHECKPOINT_MISMATCH: Final = "checkpoint does not match chain"
TRUNCATED: Final = "chain ends before checkpoint (entries truncated)"


@dataclass(frozen=True, slots=True)
class EntryFields:
    """One audit entry as appended. ``at`` is ISO-8601 UTC; ``details`` is canonical JSON."""

    seq: int
    at: str
    actor: str
    device: str
    patient_ref: str
    action: str
    object_type: str
    object_id: str
    purpose: str
    outcome: str
    details: str


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with a chain: the sequence number and a human reason."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature over (seq, hash of the entry at seq) by the key named ``key_id``."""

    seq: int
    hash: bytes
    signature: bytes
    key_id: str


def canonical_details(d: Mapping[str, object]) -> str:
    """The canonical JSON text for an entry's ``details`` (sorted keys, no spaces, ASCII)."""
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical(e: EntryFields) -> bytes:
    """The bytes that are hashed for ``e``; ValueError if a field contains a control char."""
    if type(e.seq) is not int or e.seq < 1:
        raise ValueError("audit entry seq must be a positive int")
    texts = (
        e.at,
        e.actor,
        e.device,
        e.patient_ref,
        e.action,
        e.object_type,
        e.object_id,
        e.purpose,
        e.outcome,
        e.details,
    )
    for text in texts:
        if not isinstance(text, str):
            raise ValueError("audit entry text fields must be str")
        if _CONTROL.search(text) is not None:
            raise ValueError("audit entry field contains a control character")
    return SEP.join((str(e.seq), *texts)).encode("utf-8")


def entry_hash(prev: bytes, e: EntryFields) -> bytes:
    """``sha256(prev + canonical(e))``."""
    return hashlib.sha256(prev + canonical(e)).digest()


def chain_row(prev: bytes, e: EntryFields) -> ChainRow:
    """The row to store for ``e`` appended after an entry whose hash is ``prev``."""
    return (
        e.seq,
        e.at,
        e.actor,
        e.device,
        e.patient_ref,
        e.action,
        e.object_type,
        e.object_id,
        e.purpose,
        e.outcome,
        e.details,
        prev,
        entry_hash(prev, e),
    )


def checkpoint_message(seq: int, h: bytes) -> bytes:
    """The message a checkpoint signs: domain, seq and hash, separated by ``\\x1f``."""
    return CHECKPOINT_DOMAIN + str(seq).encode("ascii") + b"\x1f" + h.hex().encode("ascii")


def _signature_ok(cp: Checkpoint, verify_signature: VerifySignature) -> bool:
    try:
        ok = verify_signature(cp.key_id, checkpoint_message(cp.seq, cp.hash), cp.signature)
    except (ValueError, TypeError):
        return False
    return ok is True


def _checkpoint_problem(cp: Checkpoint, h: bytes, verify_signature: VerifySignature) -> str | None:
    if not _signature_ok(cp, verify_signature):
        return BAD_SIGNATURE
    if cp.hash != h:
        return CHECKPOINT_MISMATCH
    return None


def verify_chain(
    rows: Iterable[ChainRow],
    checkpoints: Iterable[Checkpoint],
    verify_signature: VerifySignature,
    *,
    after: tuple[int, bytes] = (0, GENESIS),
    through: int | None = None,
) -> Problem | None:
    """Verify the whole chain; return the first problem (in seq order) or None if intact.

    ``rows`` are raw 13-column tuples in :data:`COLUMNS` order, as read ``ORDER BY seq``.
    Each checkpoint's signature is verified when the walk reaches its seq; a checkpoint
    beyond the last entry means the chain was truncated.

    A segment of the chain can be verified on its own: ``after`` is the sequence number and
    hash the segment continues from (a signed checkpoint's, so trusted), and ``through`` the
    last sequence number it must reach; rows must then be those in ``(after, through]``.
    Segments that meet at checkpoints together verify exactly what one walk would.
    """
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_seq.setdefault(cp.seq, []).append(cp)
    pending = sorted(by_seq, reverse=True)  # pop() yields the smallest remaining seq
    if pending and pending[-1] < 1:
        return Problem(pending[-1], CHECKPOINT_MISMATCH)  # no entry can have seq < 1
    next_cp = pending.pop() if pending else 0  # 0: no more checkpoints (seqs start at 1)

    sha256 = hashlib.sha256
    join = SEP.join
    controls = _CONTROL_BYTES
    expected = after[0] + 1
    last = after[1]
    for row in rows:
        try:
            (seq, at, actor, device, patient, action, otype, oid, purpose, outcome, details,
             prev, h) = row  # fmt: skip
            if seq != expected:
                if type(seq) is not int:
                    return Problem(expected, MALFORMED)
                if seq > expected:
                    return Problem(expected, GAP)
                return Problem(seq, OUT_OF_ORDER)
            if prev != last:
                return Problem(seq, UNLINKED)
            # join() raises TypeError for a non-str field (e.g. NULL): reported as malformed.
            data = join(
                (
                    str(seq),
                    at,
                    actor,
                    device,
                    patient,
                    action,
                    otype,
                    oid,
                    purpose,
                    outcome,
                    details,
                )
            ).encode()
            # We put exactly 10 separators in; any other control byte came from a field.
            # (UTF-8 multi-byte sequences never contain bytes below 0x80.)
            if len(data) - len(data.translate(None, controls)) != _NUM_SEPARATORS:
                return Problem(seq, CONTROL_CHAR)
            digest = sha256(last + data).digest()
        except (TypeError, ValueError):
            return Problem(expected, MALFORMED)
        if digest != h:
            return Problem(seq, EDITED)
        if seq == next_cp:
            for cp in by_seq[seq]:
                reason = _checkpoint_problem(cp, digest, verify_signature)
                if reason is not None:
                    return Problem(seq, reason)
            next_cp = pending.pop() if pending else 0
        last = digest
        expected += 1

    if through is not None and expected <= through:
        return Problem(expected, GAP)  # the segment's tail is missing
    # Checkpoints the walk never reached lie beyond the last entry: the chain was truncated
    # (unless the checkpoint itself is forged).
    if next_cp:
        cp = by_seq[next_cp][0]
        if not _signature_ok(cp, verify_signature):
            return Problem(next_cp, BAD_SIGNATURE)
        return Problem(next_cp, TRUNCATED)
    return None
