"""Opening an instance: settings in, engine, keys and blob store out. Built by interfaces
(the CLI, the API factory) and passed down; nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clinphoto.audit import service as audit
from clinphoto.audit.service import AuditKeys
from clinphoto.core.config import Settings
from clinphoto.instance import keys as instance_keys
from clinphoto.instance import schema
from clinphoto.storage.blobs import FilesystemBlobStore
from clinphoto.storage.db import make_engine, make_sessionmaker


@dataclass
class Instance:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Any]
    keystore: instance_keys.KeyStore
    blobs: FilesystemBlobStore

    @property
    def keys(self) -> instance_keys.InstanceKeys:
        """The keys as the keys file holds them now: a rotation done by another process
        (``admin rotate-keys``) is used from the next call on, without a restart."""
        return self.keystore.current()

    @property
    def audit_keys(self) -> AuditKeys:
        return AuditKeys(
            signing=self.keys.audit_key,
            key_id=self.keys.audit_key_id,
            public_by_id=self.keys.audit_public_by_id,
        )

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Use cases append their audit entries inside it. Refusals they record are written
        with the work when it commits, and in a transaction of their own when it rolls back.
        """
        keys = self.audit_keys
        with self.sessions() as db:
            audit.bind(db, keys)
            try:
                with db.begin():
                    yield db
                    for fields in audit.take_deferred(db):
                        audit.append(db, keys, **fields)
            except BaseException:
                deferred = audit.take_deferred(db)
                if deferred:
                    with self.sessions() as again, again.begin():
                        for fields in deferred:
                            audit.append(again, keys, **fields)
                raise

    def close(self) -> None:
        self.engine.dispose()


def open_instance(settings: Settings, *, engine: Engine | None = None) -> Instance:
    """Load keys, connect, migrate the database to the newest schema, and finish or discard
    a key rotation that a crash left staged (promoted only if its audit entry committed)."""
    from clinphoto.instance import service as instance_service

    instance_keys.load(settings)  # a missing or unopenable key file is reported first
    engine = engine or make_engine(settings.resolved_database_url)
    schema.upgrade(engine)
    sessions = make_sessionmaker(engine)
    instance_service.resolve_staged_rotation(settings, sessions)
    return Instance(
        settings=settings,
        engine=engine,
        sessions=sessions,
        keystore=instance_keys.KeyStore(settings),
        blobs=FilesystemBlobStore(settings.blob_dir, settings.storage_jurisdiction),
    )
