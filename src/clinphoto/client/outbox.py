"""The device's outbox: sealed objects waiting for the server's receipt (STO-1).

Every capture goes through it, online or not: the ciphertext and its signed manifest are
written first, then sent; an item is deleted only after the server's receipt (201), or when
the server says it already holds that object (409 on the same id). While the server cannot
be reached the items wait, and any later command that reaches it sends them, oldest first.
The outbox holds ciphertext and signed manifests only: nothing in it opens without a
recipient's key. A cap on count and age (STO-1) purges what waits too long; what it purged
is said, never silent.

An item is two files named by its random object id: ``<id>.age`` (the ciphertext) and
``<id>.json`` (manifest, signature, upload path, label, attempts, last error). Both are
written to a temporary name and renamed, the ciphertext first, so a crash leaves either a
whole item or an orphan ciphertext that :meth:`Outbox.items` cleans away.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinphoto.client.api import ApiError
from clinphoto.client.capture import SealedCapture

# STO-1 defaults: what an institution may tune through the device's configuration later.
MAX_ITEMS = 500
MAX_AGE_SECONDS = 30 * 24 * 3600  # the phone app keeps the same caps (web/src/app/outbox.ts)


@dataclass
class Item:
    object_id: str
    path: str
    label: str
    manifest: str
    signature: str
    created_at: float
    attempts: int = 0
    last_error: str | None = None
    directory: Path = field(default=Path(), repr=False)

    @property
    def ciphertext_path(self) -> Path:
        return self.directory / f"{self.object_id}.age"

    @property
    def meta_path(self) -> Path:
        return self.directory / f"{self.object_id}.json"

    def meta(self) -> dict[str, Any]:
        return {
            "object_id": self.object_id,
            "path": self.path,
            "label": self.label,
            "manifest": self.manifest,
            "signature": self.signature,
            "created_at": self.created_at,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


@dataclass
class SyncReport:
    sent: list[tuple[Item, dict[str, Any] | None]] = field(default_factory=list)
    refused: list[tuple[Item, str]] = field(default_factory=list)
    waiting: list[Item] = field(default_factory=list)
    purged: list[Item] = field(default_factory=list)
    unreachable: str | None = None


Sender = Callable[[bytes, str, bytes, str], dict[str, Any]]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Outbox:
    def __init__(
        self,
        directory: Path,
        *,
        max_items: int = MAX_ITEMS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.max_items = max_items
        self.max_age_seconds = max_age_seconds
        self._clock = clock

    def add(self, sealed: SealedCapture, *, path: str = "/v1/media", label: str) -> Item:
        """Keep a sealed object until the server confirms it. ``label`` says what it is
        ("photo", "consent signature") and never who."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        item = Item(
            object_id=sealed.object_id,
            path=path,
            label=label,
            manifest=sealed.manifest_bytes.decode("utf-8"),
            signature=sealed.signature,
            created_at=self._clock(),
            directory=self.directory,
        )
        _write_atomic(item.ciphertext_path, sealed.ciphertext)
        _write_atomic(item.meta_path, json.dumps(item.meta()).encode())
        return item

    def items(self) -> list[Item]:
        """Waiting items, oldest first; half-written ones (a crash between the two files)
        are removed."""
        if not self.directory.is_dir():
            return []
        found: list[Item] = []
        for meta in self.directory.glob("*.json"):
            try:
                doc = json.loads(meta.read_text(encoding="utf-8"))
                item = Item(**doc, directory=self.directory)
            except (OSError, ValueError, TypeError):
                continue
            if item.ciphertext_path.exists():
                found.append(item)
        known = {i.object_id for i in found}
        for orphan in self.directory.glob("*.age"):
            if orphan.stem not in known and not (self.directory / f"{orphan.stem}.json").exists():
                orphan.unlink(missing_ok=True)
        return sorted(found, key=lambda i: (i.created_at, i.object_id))

    def remove(self, item: Item) -> None:
        item.meta_path.unlink(missing_ok=True)
        item.ciphertext_path.unlink(missing_ok=True)

    def _note(self, item: Item, error: str) -> None:
        item.attempts += 1
        item.last_error = error
        _write_atomic(item.meta_path, json.dumps(item.meta()).encode())

    def purge(self) -> list[Item]:
        """Drop what is older than the age cap, then the oldest beyond the count cap."""
        items = self.items()
        now = self._clock()
        old = [i for i in items if now - i.created_at > self.max_age_seconds]
        rest = [i for i in items if i not in old]
        over = rest[: max(0, len(rest) - self.max_items)]
        for item in old + over:
            self.remove(item)
        return old + over

    def sync(self, send: Sender) -> SyncReport:
        """Send every waiting item, oldest first. ``send(manifest, signature, ciphertext,
        path)`` is the API call; it raises :class:`ApiError` on a refusal or when the server
        cannot be reached (status 0), which stops the round: the rest wait."""
        report = SyncReport(purged=self.purge())
        pending = self.items()
        for index, item in enumerate(pending):
            try:
                receipt = send(
                    item.manifest.encode("utf-8"),
                    item.signature,
                    item.ciphertext_path.read_bytes(),
                    item.path,
                )
            except ApiError as exc:
                if exc.status == 409:  # the server holds this very object already
                    self.remove(item)
                    report.sent.append((item, None))
                elif exc.status == 0 or exc.status >= 500 or exc.status in (401, 429):
                    # Unreachable, failing, signed out or throttled: worth trying again.
                    self._note(item, exc.message)
                    report.waiting.extend(pending[index:])
                    report.unreachable = exc.message
                    break
                else:  # refused for good: retrying the same bytes cannot succeed
                    self.remove(item)
                    report.refused.append((item, exc.message))
                continue
            self.remove(item)
            report.sent.append((item, receipt))
        return report
