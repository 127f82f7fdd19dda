"""The instance's database: every model, and Alembic migrations to build and upgrade it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from clinphoto.accounts import models as _accounts_models  # noqa: F401  (registers tables)
from clinphoto.audit import models as _audit_models  # noqa: F401
from clinphoto.breaches import models as _breaches_models  # noqa: F401
from clinphoto.consent import models as _consent_models  # noqa: F401
from clinphoto.inspection import models as _inspection_models  # noqa: F401
from clinphoto.media import models as _media_models  # noqa: F401
from clinphoto.patientrights import models as _patientrights_models  # noqa: F401
from clinphoto.patients import models as _patients_models  # noqa: F401
from clinphoto.records import models as _records_models  # noqa: F401
from clinphoto.sharing import models as _sharing_models  # noqa: F401
from clinphoto.storage.db import Base

MIGRATIONS = Path(__file__).parent / "migrations"
metadata = Base.metadata


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    command.upgrade(alembic_config(engine), "head")
