"""Engine, sessions and schema checks. SQLite by default, any SQLAlchemy URL via DATABASE_URL."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias
from sqlalchemy.sql.visitors import InternalTraversal

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaOutdated(RuntimeError):
    """The database is behind the code's migrations."""


class NoDatabase(SchemaOutdated):
    """Nothing to work on at DATABASE_URL: no database there, or one without the bot's tables."""

    def __init__(self, url: str, *, create_first: bool = False) -> None:
        first = "create it, then " if create_first else ""
        super().__init__(f"no database at {url}; {first}run `healthbot db upgrade` then `healthbot demo`")
        self.url = url


class DatabaseUnreachable(SchemaOutdated):
    """The database server does not answer (or refuses the connection)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the database at {url}: {reason}")
        self.url = url


def shown_url(engine: Engine) -> str:
    """The database's URL as a person may see it: the password hidden."""
    return engine.url.render_as_string(hide_password=True)


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite database (None: another backend, or in memory)."""
    database = engine.url.database
    if (
        engine.dialect.name != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        return None
    return Path(database)


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may rest before it is checked at checkout


def make_engine(url: str, *, wait_seconds: float = 30.0, ping_after_idle: float = PING_AFTER_IDLE) -> Engine:
    """`wait_seconds`: how long a statement waits for a lock another writer holds (the web app
    waits briefly and answers "busy"; imports and jobs wait longer). `ping_after_idle`: a server
    database's pooled connection that has rested longer is checked before use (`_ping_when_idle`)."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        # One file shared by the server's threads; WAL lets readers run beside the importer.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": wait_seconds}
    engine = create_engine(url, **kwargs)
    _track_reads(engine)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine, ping_after_idle)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgres_lock_timeout(wait_seconds))
    return engine


_RESTING_SINCE = "healthbot_resting_since"  # in a pooled connection's `info`: when it was checked in


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Check a pooled connection at checkout only when it has rested more than `after` seconds:
    one that died meanwhile (the server restarted, a proxy closed it) is replaced before a request
    sees it. SQLAlchemy's `pool_pre_ping` checks at every checkout, a round trip each: every
    request checks out twice (its replay record, then its session), so on PostgreSQL at M it cost
    6-12% of a reply in process. A connection checked in a moment ago was working a moment ago; one
    that broke since fails its request's statement, and the pool then replaces every connection
    it holds (SQLAlchemy invalidates the whole pool on a disconnect)."""

    def rested(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RESTING_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RESTING_SINCE, 0.0) <= after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise DisconnectionError("a pooled connection no longer answers")  # the pool takes another

    event.listen(engine, "connect", rested)
    event.listen(engine, "checkin", rested)
    event.listen(engine, "checkout", checkout)


def _postgres_lock_timeout(seconds: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Outside a transaction, so the pool's rollback on return does not undo it.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(seconds * 1000)}")
        cursor.close()
        dbapi_connection.autocommit = autocommit

    return on_connect


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# In a connection's `info` (the DBAPI connection's, kept across checkouts, so cleared at every
# BEGIN): the transaction ran a statement other than a SELECT, or one that failed; the session
# has read without a transaction so far (`reads_first`).
_NOT_READ_ONLY = "healthbot_not_read_only"
_READING = "healthbot_reading"
# A statement that must run in a transaction: anything but a SELECT, or a SELECT that locks rows.
_LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def reads_first(session: Session) -> None:
    """The session begins its transaction at its first write, not its first read: the reads
    before it run each on its own, without BEGIN and COMMIT (on PostgreSQL two round trips fewer
    for a request that only reads; under its READ COMMITTED each statement sees its own snapshot
    either way). The first statement that writes or locks rows begins the transaction, which
    then commits or rolls back as any other. Only before the session's first statement."""
    if session.in_transaction():
        raise RuntimeError("reads_first: the session has already begun")
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"}).info[_READING] = True


def _track_reads(engine: Engine) -> None:
    """Notes on each connection whether its transaction has only read, for `close_session`, and
    begins the transaction of a session that reads first (`reads_first`) at its first write."""

    def begun(conn: Connection) -> None:
        conn.info.pop(_NOT_READ_ONLY, None)
        conn.info.pop(_READING, None)

    def executing(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        writes = not statement.startswith("SELECT")  # as SQLAlchemy writes them; anything else counts
        if conn.info.get(_READING) and (writes or any(lock in statement for lock in _LOCKS)):
            del conn.info[_READING]
            cursor.execute("BEGIN")  # the driver, in autocommit mode, now keeps it open to the end
        if writes:
            conn.info[_NOT_READ_ONLY] = True

    def failed(context: Any) -> None:
        if context.connection is not None:
            context.connection.info[_NOT_READ_ONLY] = True

    event.listen(engine, "begin", begun)
    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "handle_error", failed)


def close_session(session: Session) -> None:
    """Ends a request's session: a transaction that only read (every statement a SELECT that
    worked, nothing waiting to be flushed) is committed, anything else rolled back.

    To the database both end a read alike, but psycopg forgets every statement it has prepared on
    a connection at each ROLLBACK, so requests ending in one would have PostgreSQL plan each of
    their statements afresh; planning costs more than running most of them (the card's dispatch
    statement 0.74 ms planned each time, 0.25 ms prepared)."""
    transaction = session.get_transaction()
    try:
        if (
            transaction is not None
            and transaction.is_active  # not after a failed flush
            and not (session.new or session.dirty or session.deleted)
            and not session.connection().info.get(_NOT_READ_ONLY)
        ):
            session.commit()
    finally:
        session.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upsert_insert(on: Session | Connection, table: Any) -> Any:
    """The database's own INSERT for `table` (a model or Table), which has ON CONFLICT (SQLite and
    PostgreSQL spell it alike)."""
    name = (on.get_bind() if isinstance(on, Session) else on).dialect.name
    return (postgresql if name == "postgresql" else sqlite).insert(table)


class _IndexedBy(Alias):
    """An alias of a table that SQLite reads through one index (`INDEXED BY`); other databases
    choose for themselves."""

    inherit_cache = True
    index = ""
    _traverse_internals = [*Alias._traverse_internals, ("index", InternalTraversal.dp_string)]  # noqa: RUF012


@compiles(_IndexedBy, "sqlite")
def _sqlite_indexed_by(element: _IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    text: str = compiler.visit_alias(element, **kw)  # type: ignore[no-untyped-call]
    return f"{text} INDEXED BY {element.index}" if kw.get("asfrom") else text


def indexed_by(table: Any, index: str) -> Alias:
    """`table` (a model's table) under an alias that SQLite reads through `index`: for a lookup
    whose best index its planner cannot tell without statistics, or with statistics of a small
    table (a unique key it would take instead costs a table page a row)."""
    alias = _IndexedBy._construct(table, name=None)
    alias.index = index
    return alias


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Refuse to run against a database that `healthbot db upgrade` has not brought up to date.

    A missing SQLite file is not created as a side effect (connecting would create it); no
    database, or one without tables, is NoDatabase; an older schema is SchemaOutdated."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        raise NoDatabase(shown_url(engine))
    try:
        current = current_revision(engine)
    except OperationalError as error:
        reason = (
            str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        )
        if "does not exist" in reason:  # PostgreSQL: no such database
            raise NoDatabase(shown_url(engine), create_first=True) from None
        raise DatabaseUnreachable(shown_url(engine), reason) from None
    head = head_revision()
    if current is None:
        raise NoDatabase(shown_url(engine))
    if current != head:
        raise SchemaOutdated(
            f"The database schema is at {current or 'nothing'}, the code needs {head}. "
            "Run `healthbot db upgrade`."
        )


def writable(engine: Engine) -> str | None:
    """None when the bot can write to the database now; else what is wrong, in a few words.

    It writes what every Slack request writes first (a replay-protection record) and takes it
    back: while a long import holds SQLite's write lock, or a lock on that table, this waits as
    briefly as a request does and says "busy"; a read-only PostgreSQL says so.
    """
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(
                text("INSERT INTO seen_requests (signature, seen_at) VALUES (:s, :t)"),
                {"s": "readyz-" + uuid.uuid4().hex[:20], "t": dt.datetime.now(dt.UTC)},
            )
            transaction.rollback()
    except Exception as exc:
        if is_busy(exc):
            return "database busy (locked for writing)"
        return "database is read-only" if "read-only" in str(exc) else "database unreachable"
    return None


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def is_busy(error: BaseException) -> bool:
    """True when a statement failed because another writer held the database too long (SQLite's
    "database is locked", PostgreSQL's lock timeout), not because something is wrong."""
    orig = getattr(error, "orig", error)
    if getattr(orig, "sqlstate", None) == "55P03":  # lock_not_available
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)
