"""Storage: the engine and sessions, the models, and the Alembic migrations."""

from bot.db.engine import (
    DatabaseUnreachable,
    NoDatabase,
    SchemaOutdated,
    alembic_config,
    check_schema,
    current_revision,
    head_revision,
    is_busy,
    make_engine,
    ping,
    session_factory,
    shown_url,
    sqlite_file,
    transaction,
    upgrade,
    writable,
)

__all__ = [
    "DatabaseUnreachable",
    "NoDatabase",
    "SchemaOutdated",
    "alembic_config",
    "check_schema",
    "current_revision",
    "head_revision",
    "is_busy",
    "make_engine",
    "ping",
    "session_factory",
    "shown_url",
    "sqlite_file",
    "transaction",
    "upgrade",
    "writable",
]
