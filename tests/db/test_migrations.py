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


def test_the_upgrade_to_linked_accounts_keeps_each_account_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    db.upgrade(url, "0018")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO shops (shop_id, shop_code, shop_name, region, authorized, chr_authorized) "
            "VALUES ('1', 'C1', 'Kite', 'US', 1, 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO account_snapshots (shop_id, tiktok_handle, date, chr) VALUES "
            "('1', 'kite.a', '2026-11-01', 700), ('1', 'kite.a', '2026-11-02', 690), "
            "('1', 'Kite.B', '2026-11-02', 500)"
        )
    db.upgrade(url)
    with engine.connect() as conn:
        linked = conn.exec_driver_sql("SELECT shop_id, tiktok_handle FROM linked_accounts").all()
    assert sorted(linked) == [("1", "Kite.B"), ("1", "kite.a")]
