"""Re-encrypt every encrypted field under the keyring's primary key (after ``rotate-keys``).

Each encrypted column is listed here with its table. The associated data of a field is
``"<table>.<column>:<row id>"`` everywhere in clinphoto, so a field is opened and sealed
again in place without knowing what it means. The work goes in small batches, each its own
transaction, and only touches fields still under an older key: it can be interrupted and run
again, and it never holds a long lock. A row changed by someone else between the read and the
write is left for the next run (the update compares the old ciphertext first). The server
keeps answering meanwhile: it reads every field with whichever key sealed it.
``instance.service.rewrap_fields`` is the audited use case around this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinphoto.consent.models import Consent, ConsentWithdrawal
from clinphoto.crypto import FieldKeyring
from clinphoto.patients.models import Patient

ENCRYPTED_COLUMNS: tuple[tuple[Any, str], ...] = (
    (Patient, "name_ct"),
    (Patient, "dob_ct"),
    (Patient, "mrn_ct"),
    (Patient, "hcn_ct"),
    (Consent, "witness_name_ct"),
    (Consent, "to_follow_reason_ct"),
    (ConsentWithdrawal, "reason_ct"),
)


@dataclass
class RewrapReport:
    examined: int = 0
    rewrapped: int = 0
    skipped_changed: int = 0
    left: int = 0  # still under an older key when the run ended


def field_aad(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column}:{row_id}"


def pending(db: Session, keys: FieldKeyring) -> int:
    """How many fields are still sealed under a key other than the primary."""
    count = 0
    for model, column in ENCRYPTED_COLUMNS:
        col = getattr(model, column)
        for (value,) in db.execute(select(col).where(col.is_not(None))):
            if keys.key_id_of(value) != keys.primary:
                count += 1
    return count


def _batches(
    unit_of_work: Callable[[], AbstractContextManager[Session]], model: Any, column: str, size: int
) -> Iterator[tuple[Session, list[tuple[str, bytes]]]]:
    col = getattr(model, column)
    last = ""
    while True:
        with unit_of_work() as db:
            rows = [
                (str(r[0]), bytes(r[1]))
                for r in db.execute(
                    select(model.id, col)
                    .where(model.id > last, col.is_not(None))
                    .order_by(model.id)
                    .limit(size)
                )
            ]
            if not rows:
                return
            yield db, rows
        last = rows[-1][0]


def rewrap_fields(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    keys: FieldKeyring,
    *,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> RewrapReport:
    """Seal every field under ``keys.primary``; ``progress`` is told how many were examined."""
    report = RewrapReport()
    for model, column in ENCRYPTED_COLUMNS:
        table = model.__tablename__
        col = getattr(model, column)
        for db, rows in _batches(unit_of_work, model, column, batch):
            for row_id, value in rows:
                report.examined += 1
                if keys.key_id_of(value) == keys.primary:
                    continue
                aad = field_aad(table, column, row_id)
                fresh = keys.encrypt(keys.decrypt(value, aad), aad)
                done = db.execute(
                    update(model)
                    .where(model.id == row_id, col == value)
                    .values({column: fresh})
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", 0) == 1:
                    report.rewrapped += 1
                else:
                    report.skipped_changed += 1
            if progress is not None:
                progress(len(rows))
    return report
