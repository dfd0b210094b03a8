"""Import for the kinds of file in PRODUCT.md, known by their header.

One code path for files and for the demo generator: rows are validated one by one and written in
batches to a staging table (`bot.ingest.staging`); when the whole file is good (or `skip_invalid`
is set) one upsert keyed on the natural keys merges it into the real table (so importing the same
file twice changes nothing), and the derived health of the shops it touched is recomputed in the
same transaction. A key on two lines with different values is a bad row on both lines. Memory
stays bounded: the current batch, what its rows need from the database (looked up once per
batch) and the list of errors are held; what concerns the whole file or every shop is asked of the
staging table.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, func, select, true
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db import upsert_insert
from bot.db.models import (
    AccountSnapshot,
    Base,
    LinkedAccount,
    MetricSnapshot,
    Order,
    SecuritySignal,
    Shop,
    ShopHealth,
    Violation,
)
from bot.ingest.fields import BadValue
from bot.ingest.formats import (
    KIND_ORDER,
    VIOLATION_COUNTS,
    ImportFileError,
    ImportResult,
    Kind,
    RowError,
)
from bot.ingest.readers import open_file
from bot.ingest.staging import LINE, Duplicate, Staging
from bot.ingest.validate import CODE_TAKEN, UNKNOWN_SHOP, Validator
from bot.services.health import data_version, record_refresh, refresh_shop_health
from bot.services.portfolio import Moved, data_changed, groups_of
from bot.services.portfolio_trend import forget_days, store_days, touched_days
from bot.settings import Settings

BATCH_SIZE = 5000
SMALL_IMPORT = 100  # rows: a correction; the trend's days it touches are recomputed when next asked
MODELS: dict[Kind, type[Base]] = {
    Kind.SHOPS: Shop,
    Kind.METRICS: MetricSnapshot,
    Kind.ACCOUNTS: AccountSnapshot,
    Kind.VIOLATIONS: Violation,
    Kind.SECURITY: SecuritySignal,
    Kind.ORDERS: Order,
}


# Columns a file of the kind may leave out (then the stored values stay as they are).
OPTIONAL: dict[Kind, tuple[str, ...]] = {
    Kind.SHOPS: ("owner", "seller_center_url", "auth_request_url", "slack_channel", "timezone"),
    Kind.METRICS: ("completed_orders_7d", *VIOLATION_COUNTS),
    Kind.ACCOUNTS: (),
    Kind.VIOLATIONS: (),
    Kind.SECURITY: ("order_id", "amount"),
    Kind.ORDERS: ("in_transit_at", "sla_deadline"),
}
# What `shop_health` is derived from (violations: the 48-point shops' penalty points).
HEALTH_KINDS = (Kind.SHOPS, Kind.METRICS, Kind.ACCOUNTS, Kind.VIOLATIONS)


class _Collector:
    """Python's garbage collector during a large import. Each of its full passes walks every object
    alive, and a large file's rows set them off every few thousand rows: about a third of the
    import's time went there. So once a file proves large (a full batch), what is alive then (the
    app's modules, SQLAlchemy's caches) is frozen (`gc.freeze`) until the import ends; garbage
    left by earlier work is collected first, not frozen with them (an import of several files
    would otherwise carry each one's garbage through the next). A small file changes nothing.
    Process-wide but harmless: frozen objects are only collected later."""

    frozen = False

    def spare(self) -> None:
        if not self.frozen:
            gc.collect()
            gc.freeze()
            self.frozen = True

    def release(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False


def _stage(
    staging: Staging,
    validator: Validator,
    rows: Iterable[tuple[int, dict[str, str]]],
    result: ImportResult,
    *,
    batch_size: int,
    collector: _Collector,
) -> None:
    """Validate every row and stage the good ones, a batch at a time."""
    source = iter(rows)
    while batch := list(itertools.islice(source, batch_size)):
        if len(batch) == batch_size:  # a large file, most likely
            collector.spare()
        result.rows += len(batch)
        validator.prefetch([raw for _, raw in batch])
        good: list[tuple[int, dict[str, Any]]] = []
        for line, raw in batch:
            try:
                good.append((line, validator.parse(raw)))
            except BadValue as bad:
                result.errors.append(RowError(line, bad.column, str(bad)))
        result.imported += len(good)
        staging.write(good)  # even when the file will be rejected: its repeated keys are named too


def _refuse(
    staging: Staging, result: ImportResult, where: Any, column: str, reason: Callable[[str], str]
) -> None:
    """The staged lines `where` picks are bad rows (`reason` of each line's shop ID says why):
    they leave the staging table, so that `skip_invalid` merges only the rest."""
    t = staging.table.c
    found = staging.conn.execute(select(t[LINE], t.shop_id).where(where)).all()
    if found:
        result.errors += [RowError(line, column, reason(shop_id)) for line, shop_id in found]
        staging.conn.execute(staging.table.delete().where(where))
        result.imported -= len(found)


def _unknown_shops(staging: Staging, result: ImportResult) -> None:
    """Rows of shops that are not known are bad (an anti-join, so that no set of every shop is
    held in memory). Whether there are any is asked of the file's distinct shops first: a lookup
    a shop, not a row (at L, 0.2 s against 1.0 s for six million rows of scores)."""

    def unknown(shop_id: Any) -> Any:
        return ~select(Shop.shop_id).where(Shop.shop_id == shop_id).exists()

    staged = select(staging.table.c.shop_id).distinct().subquery()
    if staging.conn.execute(select(staged.c.shop_id).where(unknown(staged.c.shop_id)).limit(1)).first():
        _refuse(staging, result, unknown(staging.table.c.shop_id), "shop_id", UNKNOWN_SHOP.format)


MAX_ACCOUNTS_PER_SHOP = 5
TOO_MANY_ACCOUNTS = f"shop {{}} already has {MAX_ACCOUNTS_PER_SHOP} linked accounts"


def _sixth_accounts(staging: Staging, result: ImportResult) -> None:
    """A shop links at most five TikTok accounts, those it has and those the file brings: the
    lines of any further handle (taken in the order the file first names them) are bad and leave
    the staging table. One pass over the file's (shop, handle) pairs finds the shops that would
    go over; only those are read further."""
    t, linked = staging.table.c, LinkedAccount
    pairs = select(t.shop_id, t.tiktok_handle).distinct().subquery()
    is_linked = (
        select(linked.shop_id)
        .where(linked.shop_id == pairs.c.shop_id, linked.tiktok_handle == pairs.c.tiktok_handle)
        .exists()
    )
    new = (
        select(pairs.c.shop_id, func.count().label("new"))
        .where(~is_linked)
        .group_by(pairs.c.shop_id)
        .subquery()
    )
    had = select(func.count()).where(linked.shop_id == new.c.shop_id).scalar_subquery()
    conn = staging.conn
    over = conn.scalars(select(new.c.shop_id).where(new.c.new + had > MAX_ACCOUNTS_PER_SHOP)).all()
    if not over:
        return
    links: dict[str, set[str]] = {}
    for shop_id, handle in conn.execute(
        select(linked.shop_id, linked.tiktok_handle).where(linked.shop_id.in_(over))
    ):
        links.setdefault(shop_id, set()).add(handle)
    first = func.min(t[LINE])
    named = select(t.shop_id, t.tiktok_handle).where(t.shop_id.in_(over)).group_by(t.shop_id, t.tiktok_handle)
    refused = []
    for shop_id, handle in conn.execute(named.order_by(first)):
        shop_links = links.setdefault(shop_id, set())
        if handle not in shop_links:
            if len(shop_links) < MAX_ACCOUNTS_PER_SHOP:
                shop_links.add(handle)
            else:
                refused.append((shop_id, handle))
    for shop_id, handle in refused:
        where = and_(t.shop_id == shop_id, t.tiktok_handle == handle)
        _refuse(staging, result, where, "tiktok_handle", TOO_MANY_ACCOUNTS.format)


def _link_accounts(staging: Staging) -> None:
    """The accounts the merged snapshots are of, each kept once (`LinkedAccount`)."""
    t = staging.table.c
    pairs = select(t.shop_id, t.tiktok_handle).distinct().where(true())  # SQLite: ON CONFLICT, not a join
    insert = upsert_insert(staging.conn, LinkedAccount).from_select(["shop_id", "tiktok_handle"], pairs)
    staging.conn.execute(insert.on_conflict_do_nothing(index_elements=["shop_id", "tiktok_handle"]))


def _shared_codes(staging: Staging, result: ImportResult) -> None:
    """A shop code given to different shops of the file (the validator checks it against the
    database): the first line's shop keeps it, the later lines are bad and leave the staging table
    (which `skip_invalid` then merges). One GROUP BY finds them, so no list of the file's codes is
    held in memory."""
    t = staging.table.c
    shared = select(t.shop_code).group_by(t.shop_code).having(func.min(t.shop_id) != func.max(t.shop_id))
    for code in staging.conn.scalars(shared).all():
        first = select(t.shop_id).where(t.shop_code == code).order_by(t[LINE]).limit(1)
        owner = staging.conn.scalar(first)
        where = and_(t.shop_code == code, t.shop_id != owner)
        # (the line's own shop ID, passed last, is not in the message)
        _refuse(staging, result, where, "shop_code", functools.partial(CODE_TAKEN.format, code, owner))


def _duplicate_errors(staging: Staging, result: ImportResult) -> list[Duplicate]:
    """A key on several lines is fine when the lines agree; when they differ both lines are bad."""
    duplicates = staging.duplicates()
    conflicting = [d for d in duplicates if d.conflicting]
    column = ", ".join(staging.keys)
    for d in conflicting:
        key = ", ".join(str(v) for v in d.key)
        for line, other in ((d.first_line, d.last_line), (d.last_line, d.first_line)):
            reason = f"{column} {key} is also on line {other}, with different values"
            result.errors.append(RowError(line, column, reason))
    result.errors.sort(key=lambda e: e.line)
    return duplicates


ANALYZE_ROWS = 10_000  # smaller imports leave the statistics alone (they hardly change the shape)


def _analyze(conn: Connection, table: Table, *, rows: int) -> None:
    """Keep the planner's statistics current, so that e.g. recomputing one shop's health reads
    that shop's rows by primary key rather than a whole day by the date index. Only after a large
    import, or when a table has none yet: new statistics make every connection reload the schema
    and prepare its statements again, which the first request after a small import should not pay.
    SQLite samples (`analysis_limit`): a few milliseconds at any size."""
    names = [table.name, ShopHealth.__tablename__]
    if conn.dialect.name == "sqlite":
        if rows < ANALYZE_ROWS:
            has_table = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            known = "SELECT count(DISTINCT tbl) FROM sqlite_stat1 WHERE tbl IN (?, ?)"
            if (
                conn.exec_driver_sql(has_table).scalar()
                and conn.exec_driver_sql(known, tuple(names)).scalar() == 2
            ):
                return
        conn.exec_driver_sql("PRAGMA analysis_limit = 400")
        for name in names:
            conn.exec_driver_sql(f"ANALYZE {name}")
    elif rows >= ANALYZE_ROWS:
        for name in names:
            conn.exec_driver_sql(f"ANALYZE {name}")


@dataclass
class Staged:
    """A file read, validated and staged on its own connection (`stage_rows`), not yet merged:
    `finish` checks it against the database, merges it and commits. The two halves may run on
    different threads, one after the other (`import_in_turn`)."""

    conn: Connection
    kind: Kind
    staging: Staging
    result: ImportResult
    batch_size: int

    def finish(
        self,
        *,
        skip_invalid: bool = False,
        rebuild: bool = True,
        commit: bool = True,
        settings: Settings | None = None,
    ) -> ImportResult:
        """Merge the file, committing when it is accepted (`import_rows` says how)."""
        conn, kind, staging, result = self.conn, self.kind, self.staging, self.result
        table = staging.target
        try:
            if kind is not Kind.SHOPS:
                _unknown_shops(staging, result)
            elif result.rows > 1:
                _shared_codes(staging, result)
            if kind is Kind.ACCOUNTS:
                _sixth_accounts(staging, result)
            now = dt.datetime.now(dt.UTC)
            if commit:
                conn.commit()  # the staged rows; the merge starts a fresh transaction (no stale snapshot)
            # PostgreSQL refuses to upsert one key twice in a statement, which tells us at no cost
            # whether any key is repeated; SQLite finds that out with a count over the ordered staging.
            if result.errors or not staging.merge_unless_repeated(now):
                duplicates = _duplicate_errors(staging, result)
                if result.errors and not skip_invalid:
                    result.imported = 0
                    return result
                conflicting = [d for d in duplicates if d.conflicting]
                if conflicting:
                    staging.discard(conflicting)
                    result.imported -= sum(d.lines for d in conflicting)
                staging.merge(deduplicate=bool(duplicates), now=now)
            if kind is Kind.ACCOUNTS:
                _link_accounts(staging)
            if kind is Kind.METRICS:
                result.notes += _ignored_ahr(staging)
            with Session(bind=conn) as session:  # joins the merge's transaction
                if rebuild and kind in HEALTH_KINDS:
                    moved = _refresh(session, staging, kind, imported=result.imported)
                    if kind is Kind.METRICS:  # the portfolio trend's stored days
                        days = touched_days(staging.dates())
                        if result.imported > SMALL_IMPORT:
                            store_days(session, days)
                        else:
                            forget_days(session, days)
                    data_changed(session, settings, moved)
                record_refresh(session, "csv")
                session.flush()
            if not commit:
                return result
            _analyze(conn, table, rows=result.imported)
            conn.commit()
            result.committed = True
            return result
        finally:
            self.clean_up(commit=commit)

    def clean_up(self, *, commit: bool) -> None:
        if not commit:
            self.staging.drop()
        elif self.result.rows >= self.batch_size and self.conn.dialect.name == "sqlite":
            # A large file's TEMP table goes with its connection, at once; DROP TABLE would walk
            # every page of it (at L, 1.4 s for six million rows of scores).
            self.conn.invalidate()
        else:
            self.conn.rollback()
            self.staging.drop()
            self.conn.commit()


def stage_rows(
    conn: Connection,
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    batch_size: int = BATCH_SIZE,
    collector: _Collector,
    commit: bool = True,
) -> Staged:
    """Read, validate and stage every row of one file on `conn`; nothing reaches the real table
    yet. A file that cannot be read further (`ImportFileError`) leaves no staging table behind."""
    result = ImportResult(source=source, kind=kind)
    table = cast(Table, MODELS[kind].__table__)
    staging = Staging(conn, table, optional=OPTIONAL[kind], name=f"staging_{kind.value}")
    staged = Staged(conn, kind, staging, result, batch_size)
    try:
        _stage(staging, Validator(conn, kind), rows, result, batch_size=batch_size, collector=collector)
    except BaseException:
        staged.clean_up(commit=commit)
        raise
    return staged


def import_rows(
    conn: Connection,
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    skip_invalid: bool = False,
    rebuild: bool = True,
    batch_size: int = BATCH_SIZE,
    commit: bool = True,
    settings: Settings | None = None,
) -> ImportResult:
    """Validate, stage and merge one file on `conn`, committing when it is accepted.

    SQLite: staging writes only the connection's TEMP database, so the main database's write lock
    is held only by the merge transaction at the end. `commit=False` (a dry run): everything
    happens inside the caller's transaction, which decides what stays. With the app's `settings`,
    the answers its commands start from are stored with the change (`portfolio.data_changed`)."""
    collector = _Collector()
    try:
        staged = stage_rows(
            conn, kind, rows, source=source, batch_size=batch_size, collector=collector, commit=commit
        )
        return staged.finish(skip_invalid=skip_invalid, rebuild=rebuild, commit=commit, settings=settings)
    finally:
        collector.release()


def _refresh(session: Session, staging: Staging, kind: Kind, *, imported: int) -> Moved | None:
    """Recompute the touched shops' health. A small file of scores also says how it moved those
    shops between the portfolio's groups (with the stamp read before them: `data_changed` counts
    again if another writer has renewed it since), unless the newest data day moved (then every
    shop's health was recomputed)."""
    touched = staging.shop_ids()
    if not (imported <= SMALL_IMPORT and kind is not Kind.SHOPS):
        if imported >= (session.scalar(select(func.count()).select_from(Shop)) or 0):
            # As many rows as shops: recompute every shop rather than pick out the touched ones,
            # which costs more (at L, picking 100,000 shops out of 9 million account rows took
            # 16 s and 53 MB against 9 s and 16 MB for all of them).
            refresh_shop_health(session, None)
        else:
            refresh_shop_health(session, touched)
        return None
    day = session.scalar(select(ShopHealth.as_of).limit(1))
    since = data_version(session)
    before = groups_of(session, touched)
    as_of = refresh_shop_health(session, touched)
    moved = since is not None and day is not None and as_of == day
    return Moved(since, before, groups_of(session, touched)) if moved else None


def _ignored_ahr(staging: Staging) -> list[str]:
    """A note when the file gives an AHR to 48-point shops: kept, but never used (DOMAIN.md:
    they are watched by their penalty points). Said once per import, not once per row."""
    rows = staging.table.c
    given = select(rows.shop_id).where(rows.shop_id == Shop.shop_id, rows.ahr.is_not(None)).exists()
    ignored = staging.conn.execute(  # those shops first, then their rows (not every row, then its shop)
        select(func.count()).where(func.upper(Shop.region).in_(domain.penalty_point_regions()), given)
    ).scalar_one()
    if not ignored:
        return []
    shops = "1 shop" if ignored == 1 else f"{ignored:,} shops"
    return [
        f"AHR ignored for {shops} on the 48-point system (Indonesia and Southeast Asia): "
        "they are watched by penalty points."
    ]


Source = tuple[Kind, Iterable[tuple[int, dict[str, str]]], str]  # a file's kind, rows and name


def import_in_turn(
    factory: sessionmaker[Session],
    sources: Iterable[Source],
    *,
    skip_invalid: bool = False,
    settings: Settings | None = None,
) -> Iterator[ImportResult]:
    """Import each source in its own transaction, in the order given, yielding each one's result.

    While the database merges one file (on a thread that mostly waits for it), the next file is
    read, validated and staged here, on its own connection: reading is Python's work and merging
    the database's, so the two overlap (at M on PostgreSQL the scores' merge, 16 s, beside the
    reading of the accounts, 13 s). Each file is still checked against the database only once the
    one before is committed, and a shops file, whose validation reads the shops table, is read
    only then."""
    engine = factory.kw["bind"]
    collector = _Collector()  # one for the whole run: a file finishing must not thaw the next one's

    def finish(staged: Staged) -> ImportResult:
        try:
            return staged.finish(skip_invalid=skip_invalid, settings=settings)
        finally:
            staged.conn.close()

    merging: Future[ImportResult] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-merge") as merger:
            for kind, rows, source in sources:
                if merging is not None and kind is Kind.SHOPS:
                    yield merging.result()
                    merging = None
                staged: Staged | ImportResult
                conn = engine.connect()
                try:
                    staged = stage_rows(conn, kind, rows, source=source, collector=collector)
                except ImportFileError as exc:
                    conn.close()
                    staged = ImportResult.unreadable(source, kind, exc)
                except BaseException:
                    conn.close()
                    raise
                if merging is not None:
                    try:
                        yield merging.result()
                    except BaseException:
                        if isinstance(staged, Staged):
                            _discard(staged)
                        raise
                    merging = None
                if isinstance(staged, ImportResult):
                    yield staged
                else:
                    merging = merger.submit(finish, staged)
            if merging is not None:
                yield merging.result()
    finally:
        collector.release()


def _discard(staged: Staged) -> None:
    """A staged file that will not be merged: its staging table goes, and its connection."""
    try:
        staged.clean_up(commit=True)
    finally:
        staged.conn.close()


def import_files(
    factory: sessionmaker[Session],
    paths: Iterable[Path],
    *,
    skip_invalid: bool = False,
    settings: Settings | None = None,
) -> list[ImportResult]:
    """Import each file in its own transaction (shops first), then rebuild the derived health."""
    opened: list[Source] = []
    results: list[ImportResult] = []
    for path in paths:
        try:
            readable = open_file(path)
            kind, rows = readable.kind, readable.rows
        except (ImportFileError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            results.append(ImportResult(str(path), Kind.SHOPS, errors=[RowError(1, "-", reason)]))
            continue
        opened.append((kind, rows, str(path)))
    opened.sort(key=lambda item: KIND_ORDER.index(item[0]))
    results += import_in_turn(factory, opened, skip_invalid=skip_invalid, settings=settings)
    return results


def import_source(
    factory: sessionmaker[Session],
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    skip_invalid: bool = False,
    rebuild: bool = True,
    batch_size: int = BATCH_SIZE,
    settings: Settings | None = None,
) -> ImportResult:
    """Import one source's rows in its own transaction; nothing is written when it is rejected."""
    engine = factory.kw["bind"]
    with engine.connect() as conn:
        try:
            return import_rows(
                conn,
                kind,
                rows,
                source=source,
                skip_invalid=skip_invalid,
                rebuild=rebuild,
                batch_size=batch_size,
                settings=settings,
            )
        except ImportFileError as exc:
            return ImportResult.unreadable(source, kind, exc)
