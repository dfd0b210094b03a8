"""The Alembic migrations build exactly the schema the models describe, and run down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from bot import db
from bot.db.engine import alembic_config
from bot.db.models import Base


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert db.current_revision(engine) == db.head_revision()


# SQLite's batch mode reflects the tables a changed table refers to (shops, with its expression
# indexes, which reflection cannot describe); the indexes themselves are untouched.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    db.upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = db.make_engine(url)
    assert db.current_revision(engine) is None
    db.upgrade(url)
    db.check_schema(engine)  # raises when outdated
