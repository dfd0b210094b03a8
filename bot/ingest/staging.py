"""The staging table an import writes its validated rows into before one merge into the real table.

- SQLite: a TEMP table, private to the import's connection, so the main database's write lock is
  taken only by the final merge (requests keep writing while a file is read and validated).
- PostgreSQL: a temporary table filled with COPY, the fastest way in.
Then one `INSERT ... SELECT ... ON CONFLICT DO UPDATE` per set of columns the rows carry (an
optional column a file does not have leaves the stored value alone). Memory stays bounded: rows
pass through in batches; duplicates are found by one GROUP BY in the database.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import ProgrammingError

from bot.db import upsert_insert

# sqlite3 takes a date as the ISO text SQLAlchemy stores there (its own default adapter does the
# same, but is deprecated from Python 3.12 on).
sqlite3.register_adapter(dt.date, dt.date.isoformat)

# PostgreSQL: "ON CONFLICT DO UPDATE command cannot affect row a second time"
CARDINALITY_VIOLATION = "21000"
LINE = "line_"  # the row's line in the file
COLUMNS_PRESENT = "colset_"  # bit i set: the row carries the table's i-th optional column


@dataclass(frozen=True)
class Duplicate:
    """A key found on more than one line of a file, and whether the lines disagree."""

    key: tuple[Any, ...]
    first_line: int
    last_line: int
    lines: int
    conflicting: bool


class Staging:
    """One file's staging table, on one connection, for one target table."""

    def __init__(self, conn: Connection, target: Table, *, optional: Sequence[str], name: str) -> None:
        self.conn = conn
        self.target = target
        self.postgres = conn.dialect.name == "postgresql"
        self.keys = [c.name for c in target.primary_key.columns]
        self.optional = list(optional)
        self.columns = [c.name for c in target.columns if c.name != "authorization_lost_at"]
        self.table = Table(
            name,
            MetaData(),
            *(Column(c.name, c.type) for c in target.columns if c.name in self.columns),
            Column(LINE, Integer),
            Column(COLUMNS_PRESENT, Integer),
            # SQLite: rows kept in key order, so finding repeated keys and the merge read them in
            # order without a sort. PostgreSQL: a plain heap, the fastest for COPY.
            *([] if self.postgres else [PrimaryKeyConstraint(*self.keys, LINE)]),
            prefixes=["TEMPORARY"],
            sqlite_with_rowid=False,
        )
        self._booleans = {c.name for c in target.columns if isinstance(c.type, Boolean)}
        self.column_sets: set[int] = set()
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # left by an import that died here
        self.table.create(conn)

    def drop(self) -> None:
        self.conn.execute(text(f"DROP TABLE IF EXISTS {self.table.name}"))

    def write(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Stage a batch of (line, parsed row)."""
        if not rows:
            return
        optional = [(name, 1 << bit) for bit, name in enumerate(self.optional)]
        columns = self.columns
        values = []
        for line, row in rows:
            present = 0
            for name, bit in optional:
                if name in row:
                    present |= bit
            self.column_sets.add(present)
            # A tuple of plain values, which the garbage collector soon stops tracking.
            values.append((*map(row.get, columns), line, present))
        names = ", ".join([*columns, LINE, COLUMNS_PRESENT])
        dbapi: Any = self.conn.connection.dbapi_connection
        if self.postgres:
            with (
                dbapi.cursor() as cursor,
                cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy,
            ):
                for value in values:
                    copy.write_row(value)
        else:
            placeholders = ", ".join("?" for _ in range(len(columns) + 2))
            cursor = dbapi.cursor()
            cursor.executemany(f"INSERT INTO {self.table.name} ({names}) VALUES ({placeholders})", values)
            cursor.close()

    def duplicates(self) -> list[Duplicate]:
        """Keys on more than one line; `conflicting` when the lines' values differ."""
        t = self.table.c
        key_columns = [t[k] for k in self.keys]
        repeated = select(*key_columns).group_by(*key_columns).having(func.count() > 1).limit(1)
        if self.conn.execute(repeated).first() is None:  # the common case, found by a count alone
            return []
        differs = []
        for name in self.columns:
            if name in self.keys:
                continue
            column: Any = sql_cast(t[name], Integer) if name in self._booleans else t[name]
            differs.append(func.min(column) != func.max(column))
            differs.append(and_(func.count(column) > 0, func.count(column) < func.count()))
        differs.append(func.min(t[COLUMNS_PRESENT]) != func.max(t[COLUMNS_PRESENT]))
        query = (
            select(
                *key_columns,
                func.min(t[LINE]),
                func.max(t[LINE]),
                func.count(),
                case((or_(*differs), 1), else_=0),
            )
            .group_by(*key_columns)
            .having(func.count() > 1)
        )
        found = []
        for row in self.conn.execute(query):
            *key, first, last, lines, conflicting = row
            found.append(Duplicate(tuple(key), int(first), int(last), int(lines), bool(conflicting)))
        return found

    def discard(self, duplicates: Sequence[Duplicate]) -> None:
        """Drop every line of these keys (skip-invalid: neither of two disagreeing lines is trusted)."""
        t = self.table.c
        for duplicate in duplicates:
            where = and_(*(t[k] == v for k, v in zip(self.keys, duplicate.key, strict=True)))
            self.conn.execute(self.table.delete().where(where))

    def shop_ids(self) -> Select[Any]:
        return select(self.table.c.shop_id).distinct()

    def dates(self) -> set[dt.date]:
        """The days the staged rows are for (a kind with a `date` column)."""
        return {_day(d) for d in self.conn.scalars(select(self.table.c.date).distinct())}

    def merge_unless_repeated(self, now: dt.datetime) -> bool:
        """PostgreSQL: merge, unless some key is on several lines (then nothing is merged and
        False is returned). SQLite: False, so the caller looks for repeated keys first."""
        if not self.postgres:
            return False
        try:
            with self.conn.begin_nested():
                self.merge(deduplicate=False, now=now)
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != CARDINALITY_VIOLATION:
                raise
            return False
        return True

    def merge(self, *, deduplicate: bool, now: dt.datetime) -> None:
        """Upsert the staged rows into the target, one statement per set of columns they carry.

        `deduplicate`: some key is on several lines (with the same values); PostgreSQL cannot
        upsert one key twice in a statement, so the last line of each key is taken."""
        t = self.table.c
        for present in sorted(self.column_sets):
            columns = [
                c for c in self.columns if c not in self.optional or present & (1 << self.optional.index(c))
            ]
            source = select(*(t[c] for c in columns)).where(t[COLUMNS_PRESENT] == present)
            if deduplicate:
                if self.postgres:
                    source = source.ext(distinct_on(*(t[k] for k in self.keys))).order_by(
                        *(t[k] for k in self.keys), t[LINE].desc()
                    )
                else:
                    source = source.order_by(t[LINE])  # SQLite upserts row by row: the last line wins
            names = list(columns)
            if "authorized" in columns and "authorization_lost_at" in self.target.c:
                # A new shop starts with no loss stamp; see `_lost_at` for existing ones.
                source = source.add_columns(null())
                names.append("authorization_lost_at")
            if not self.postgres:
                source = source.where(true())  # SQLite: keeps ON CONFLICT from reading as a join
            stmt = upsert_insert(self.conn, self.target).from_select(names, source)
            updates = {c: stmt.excluded[c] for c in columns if c not in self.keys}
            if "authorization_lost_at" in names:
                updates["authorization_lost_at"] = _lost_at(self.target, stmt.excluded, now)
            self.conn.execute(stmt.on_conflict_do_update(index_elements=self.keys, set_=updates))


def _lost_at(target: Table, excluded: Any, now: dt.datetime) -> Any:
    """Carry `authorization_lost_at` forward, stamping it when access goes from granted to lost."""
    return case(
        (excluded.authorized.is_(True), null()),
        (target.c.authorized.is_(True), literal(now, target.c.authorization_lost_at.type)),
        else_=target.c.authorization_lost_at,
    )


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
