"""The device outbox's own logic (STO-1): deletes only after a receipt, keeps what may still
go, drops what never can, purges by count and age, survives a crash between its two files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinphoto.client.api import ApiError
from clinphoto.client.capture import SealedCapture
from clinphoto.client.outbox import Outbox


def _sealed(n: int) -> SealedCapture:
    return SealedCapture(
        f"{n:032x}", b'{"v":1}', "sig", b"age-encryption.org/v1\n" + bytes([n]), ""
    )


class Server:
    """Answers each upload from a script of outcomes: a receipt, or an ApiError."""

    def __init__(self, *outcomes: int) -> None:
        self.outcomes = list(outcomes)
        self.seen: list[bytes] = []

    def __call__(self, manifest: bytes, signature: str, body: bytes, path: str) -> dict[str, Any]:
        self.seen.append(body)
        status = self.outcomes.pop(0)
        if status == 201:
            return {"id": body[-1:].hex()}
        raise ApiError(status, "x", f"status {status}")


def test_items_go_oldest_first_and_are_deleted_only_after_the_receipt(tmp_path: Path) -> None:
    clock = iter(range(100))
    box = Outbox(tmp_path, clock=lambda: float(next(clock)))
    for n in (3, 1, 2):
        box.add(_sealed(n), label=f"photo {n}")
    server = Server(201, 0)
    report = box.sync(server)
    assert [b[-1] for b in server.seen] == [3, 1]  # added order; stopped when unreachable
    assert [i.label for i, _ in report.sent] == ["photo 3"]
    assert [i.label for i in report.waiting] == ["photo 1", "photo 2"]
    left = box.items()
    assert [(i.label, i.attempts, i.last_error) for i in left] == [
        ("photo 1", 1, "status 0"),
        ("photo 2", 0, None),
    ]


@pytest.mark.parametrize(
    ("status", "kept"),
    [(500, True), (401, True), (429, True), (409, False), (422, False), (404, False)],
)
def test_what_can_still_go_is_kept_and_what_never_can_is_dropped(
    tmp_path: Path, status: int, kept: bool
) -> None:
    box = Outbox(tmp_path)
    box.add(_sealed(1), label="photo")
    report = box.sync(Server(status))
    assert bool(box.items()) is kept
    if status == 409:
        assert len(report.sent) == 1  # the server already holds this very object
    elif not kept:
        assert report.refused[0][1] == f"status {status}"


def test_purge_by_age_then_count_says_what_it_dropped(tmp_path: Path) -> None:
    now = [0.0]
    box = Outbox(tmp_path, max_items=2, max_age_seconds=100, clock=lambda: now[0])
    for n in range(4):
        now[0] = n * 10.0
        box.add(_sealed(n), label=f"photo {n}")
    now[0] = 105.0  # photo 0 is 105 s old
    purged = box.purge()
    assert [i.label for i in purged] == ["photo 0", "photo 1"]
    assert [i.label for i in box.items()] == ["photo 2", "photo 3"]


def test_a_crash_between_the_two_files_leaves_no_half_item(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add(_sealed(1), label="photo")
    (tmp_path / f"{2:032x}.age").write_bytes(b"age-encryption.org/v1\n")  # meta never written
    assert [i.label for i in box.items()] == ["photo"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{1:032x}.age", f"{1:032x}.json"]
