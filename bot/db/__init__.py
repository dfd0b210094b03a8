"""Storage: the engine and sessions, the models, and the Alembic migrations."""

from bot.db.engine import (
    SchemaOutdated,
    alembic_config,
    check_schema,
    current_revision,
    head_revision,
    is_busy,
    make_engine,
    ping,
    session_factory,
    transaction,
    upgrade,
    writable,
)

__all__ = [
    "SchemaOutdated",
    "alembic_config",
    "check_schema",
    "current_revision",
    "head_revision",
    "is_busy",
    "make_engine",
    "ping",
    "session_factory",
    "transaction",
    "upgrade",
    "writable",
]
