"""The derived `shop_health` table, the data-version stamp, and each source's freshness.

`shop_health` holds, per shop, the scores on the newest data day and 1 and 7 days before, so the
hot queries (overview, at-risk, list) read one row per shop instead of joining history.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    Date,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from bot import domain
from bot.db.models import (
    AccountSnapshot,
    DataRefresh,
    DataVersion,
    MetricSnapshot,
    Shop,
    ShopHealth,
    Violation,
)
from bot.domain import Score, Window
from bot.services.filters import drop, in_level
from bot.services.records import Freshness

STALE_AFTER = dt.timedelta(hours=36)


def latest_data_date(session: Session) -> dt.date | None:
    return session.scalar(select(func.max(MetricSnapshot.date)))


def rebuild_shop_health(session: Session) -> dt.date | None:
    """Recompute every shop's row from the snapshots; returns the data date used."""
    return refresh_shop_health(session, None)


def refresh_shop_health(session: Session, touched: Select[Any] | None) -> dt.date | None:
    """Recompute the rows of the shops `touched` selects (a query of shop IDs), or of every shop when
    it is None or when the newest data day has moved (then every shop's "today" changed).

    Two set-based statements (delete, insert from select), whatever the number of shops; returns
    the data date used. The caller renews the data version afterwards.
    """
    as_of = latest_data_date(session)
    stored = session.execute(select(ShopHealth.as_of).limit(1)).first()
    if stored is None or stored[0] != as_of:
        touched = None
    chosen = Shop.shop_id.in_(touched) if touched is not None else true()
    _forget_loaded(session)
    if touched is None:
        session.execute(_TABLE.delete())
    else:
        session.execute(_TABLE.delete().where(_TABLE.c.shop_id.in_(touched)))
    columns = [c.name for c in ShopHealth.__table__.columns if c.name not in SET_AFTER]
    if as_of is None:
        rows = select(Shop.shop_id, *(null() for _ in columns[1:])).where(chosen)
        session.execute(insert(ShopHealth).from_select(columns, rows))
        _set_flags(session, touched)
        return as_of
    d1, d7 = as_of - dt.timedelta(days=1), as_of - dt.timedelta(days=7)
    m0, m1, m7 = (aliased(MetricSnapshot) for _ in range(3))
    # CHR of a shop = its worst linked account today. Drops are per account (an account that fell
    # 50 matters even when another is lower), so chr_1d/chr_7d are stored as today's CHR minus the
    # worst per-account change: chr - chr_1d is that change, and it is unknown when no account has
    # a value on both days.
    on_day = {
        day: func.max(case((AccountSnapshot.date == day, AccountSnapshot.chr), else_=None))
        for day in (as_of, d1, d7)
    }
    per_account = (
        select(
            AccountSnapshot.shop_id,
            on_day[as_of].label("c0"),
            on_day[d1].label("c1"),
            on_day[d7].label("c7"),
        )
        .where(AccountSnapshot.date.in_([as_of, d1, d7]))
        .group_by(AccountSnapshot.shop_id, AccountSnapshot.tiktok_handle)
    )
    if touched is not None:
        per_account = per_account.where(AccountSnapshot.shop_id.in_(touched))
    accounts = per_account.subquery()
    per_shop = (
        select(
            accounts.c.shop_id,
            func.min(accounts.c.c0).label("chr"),
            func.min(accounts.c.c0 - accounts.c.c1).label("fall_1d"),
            func.min(accounts.c.c0 - accounts.c.c7).label("fall_7d"),
        )
        .group_by(accounts.c.shop_id)
        .subquery()
    )
    rows = (
        select(
            Shop.shop_id,
            literal(as_of, Date()),
            m0.ahr,
            m1.ahr,
            m7.ahr,
            m0.sps_tenths,
            m1.sps_tenths,
            m7.sps_tenths,
            per_shop.c.chr,
            per_shop.c.chr - per_shop.c.fall_1d,
            per_shop.c.chr - per_shop.c.fall_7d,
            m0.gmv_7d,
        )
        .outerjoin(m0, and_(m0.shop_id == Shop.shop_id, m0.date == as_of))
        .outerjoin(m1, and_(m1.shop_id == Shop.shop_id, m1.date == d1))
        .outerjoin(m7, and_(m7.shop_id == Shop.shop_id, m7.date == d7))
        .outerjoin(per_shop, per_shop.c.shop_id == Shop.shop_id)
        .where(chosen)
    )
    assert columns == [
        "shop_id",
        "as_of",
        "ahr",
        "ahr_1d",
        "ahr_7d",
        "sps_tenths",
        "sps_tenths_1d",
        "sps_tenths_7d",
        "chr",
        "chr_1d",
        "chr_7d",
        "gmv_7d",
    ]  # fmt: skip (flags are set from these just after)
    session.execute(insert(ShopHealth).from_select(columns, rows))
    _set_flags(session, touched)
    _set_points(session, touched, as_of)
    _set_restrictions(session, touched, as_of)
    return as_of


# The rows are rewritten as a table, not through the ORM: an ORM UPDATE or DELETE whose WHERE it
# cannot evaluate in Python reads back the key of every row it changed (RETURNING) to synchronize
# the session, at XL a million keys (~100 MB, the import's peak). Objects the session holds are
# expired instead (`_forget_loaded`).
_TABLE = cast(Table, ShopHealth.__table__)


def _forget_loaded(session: Session) -> None:
    """The session's ShopHealth objects are reloaded when next read: their rows are rewritten."""
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, ShopHealth):
            session.expire(loaded)


# Computed from the row's other columns (flags) or from other tables, once the rows exist.
SET_AFTER = ("flags", "points", "points_1d", "points_7d", "restricted_until", "restriction")
# Regions that are, or may be configured as (the UK), on the 48-point system: their shops' points
# are kept whatever HEALTHBOT_UK_48_POINT says, so changing it needs no recompute.
POINT_CANDIDATES = domain.penalty_point_regions(uk_48_point=True)
RESTRICTION_LOOKBACK = 35  # the longest restriction (28 days), and a week of gaps before its start
RESTRICTION_BATCH = 5000  # crossings read, and restrictions written, at a time


def _set_points(session: Session, touched: Select[Any] | None, as_of: dt.date) -> None:
    """Penalty points of shops in 48-point regions: points of every violation not revoked in the
    180 days up to the data date (and the day and week before)."""

    def points_on(day: dt.date) -> Any:
        start = day - dt.timedelta(days=domain.WINDOW_DAYS)
        return (
            select(func.coalesce(func.sum(Violation.points), 0))
            .where(
                Violation.shop_id == ShopHealth.shop_id,
                Violation.enforcement_status != "Revoked",
                Violation.notified_at > start,
                Violation.notified_at <= day,
            )
            .scalar_subquery()
        )

    candidates = select(Shop.shop_id).where(func.upper(Shop.region).in_(POINT_CANDIDATES))
    stmt = (
        update(_TABLE)
        .where(_TABLE.c.shop_id.in_(candidates))
        .values(
            points=points_on(as_of),
            points_1d=points_on(as_of - dt.timedelta(days=1)),
            points_7d=points_on(as_of - dt.timedelta(days=7)),
        )
    )
    if touched is not None:
        stmt = stmt.where(_TABLE.c.shop_id.in_(touched))
    session.execute(stmt)


def _set_restrictions(
    session: Session, touched: Select[Any] | None, as_of: dt.date, *, batch: int = RESTRICTION_BATCH
) -> None:
    """The restriction in force on the data date (DOMAIN.md "Restrictions in force"): found from
    the days a shop's AHR reached a milestone from above. Only shops at or below the highest
    milestone lately are read, each day beside its previous known value (a window function)."""
    start = as_of - dt.timedelta(days=RESTRICTION_LOOKBACK)
    highest = max(m.score for m in domain.milestones_for("US"))
    recent = MetricSnapshot.date > as_of - dt.timedelta(days=RESTRICTION_LOOKBACK - 7)
    # Shop by shop down the primary key, not by the date index: each of its entries (2.8 million
    # at L) costs a lookup of the row for its AHR (at L 4.1 s against 1.3 s for the whole read).
    low = select(Shop.shop_id).where(
        select(MetricSnapshot.shop_id)
        .where(MetricSnapshot.shop_id == Shop.shop_id, recent, MetricSnapshot.ahr <= highest)
        .exists()
    )
    if touched is not None:
        low = low.where(Shop.shop_id.in_(touched))
    known = (
        select(
            MetricSnapshot.shop_id,
            MetricSnapshot.date,
            MetricSnapshot.ahr,
            func.lag(MetricSnapshot.ahr)
            .over(partition_by=MetricSnapshot.shop_id, order_by=MetricSnapshot.date)
            .label("before"),
        )
        .where(
            MetricSnapshot.shop_id.in_(low),
            MetricSnapshot.date >= start,
            MetricSnapshot.date <= as_of,
            MetricSnapshot.ahr.is_not(None),
        )
        .subquery()
    )
    # Only the days a milestone was reached (any region's): a fall that stays between two
    # milestones brings nothing, and at L there are hundreds of thousands of those to skip.
    reached = or_(*(and_(known.c.before > score, known.c.ahr <= score) for score in domain.MILESTONE_SCORES))
    # Read shop by shop as a stream and written a batch at a time: memory stays flat however
    # many shops are restricted.
    crossings = session.execute(
        select(known.c.shop_id, Shop.region, known.c.date, known.c.ahr, known.c.before)
        .join(Shop, Shop.shop_id == known.c.shop_id)
        .where(reached)
        .order_by(known.c.shop_id),
        execution_options={"yield_per": batch},
    )
    write = (
        update(_TABLE)
        .where(_TABLE.c.shop_id == bindparam("id"))
        .values(restricted_until=bindparam("until"), restriction=bindparam("score"))
    )
    pending: list[dict[str, Any]] = []
    for shop_id, rows in itertools.groupby(crossings, key=lambda row: row[0]):
        latest: domain.Restriction | None = None
        for _, region, day, ahr, before in rows:
            for restriction in domain.restrictions(
                [(day - dt.timedelta(days=1), before), (day, ahr)], region
            ):
                if restriction.in_force(as_of) and (latest is None or restriction.until > latest.until):
                    latest = restriction
        if latest is not None:
            pending.append({"id": shop_id, "until": latest.until, "score": latest.milestone.score})
        if len(pending) >= batch:
            session.execute(write, pending)
            pending = []
    if pending:
        session.execute(write, pending)


@functools.cache  # a few values, asked for per group and score by every count
def flag(score: Score, what: Window | domain.Level) -> int:
    """The bit of `shop_health.flags` saying the shop's `score` fell beyond the limit over a
    window, or is in a level (critical, warning); whether the partner may see the score is not in
    it (access changes without a recompute), so readers apply visibility themselves."""
    order = [*Window, domain.Level.CRITICAL, domain.Level.WARNING]
    return 1 << (list(Score).index(score) * len(order) + order.index(what))


@functools.cache
def milestone_flag(window: Window) -> int:
    """The bit saying the AHR reached a milestone (from above) over the window."""
    return 1 << (len(Score) * (len(Window) + 2) + list(Window).index(window))


def _set_flags(session: Session, touched: Select[Any] | None) -> None:
    bits: Any = literal(0)
    for score in Score:
        for window in Window:
            bits = bits + case((drop(score, window, shown=true()), flag(score, window)), else_=0)
        for level in (domain.Level.CRITICAL, domain.Level.WARNING):
            bits = bits + case((in_level(score, level, shown=true()), flag(score, level)), else_=0)
    for window in Window:
        then = ShopHealth.ahr_1d if window is Window.DAY else ShopHealth.ahr_7d
        crossed = or_(*(and_(then > score, ShopHealth.ahr <= score) for score in domain.MILESTONE_SCORES))
        bits = bits + case((crossed, milestone_flag(window)), else_=0)
    stmt = update(_TABLE).values(flags=bits)
    if touched is not None:
        stmt = stmt.where(_TABLE.c.shop_id.in_(touched))
    session.execute(stmt)


def bump_data_version(session: Session) -> str:
    """Renew the stamp in the caller's transaction: cached answers made before it are stale.

    Writers call `bot.services.portfolio.data_changed`, which also stores the answers for it."""
    row = session.get(DataVersion, 1) or DataVersion(id=1)
    row.stamp = uuid.uuid4().hex
    row.changed_at = dt.datetime.now(dt.UTC)
    session.add(row)
    return row.stamp


def data_version(session: Session, *, lock: bool = False) -> str | None:
    """The stamp. Read on every cached answer: straight on the connection, without the ORM's
    per-statement work. `lock`: held until the transaction ends, as a writer's bump of it would
    (PostgreSQL: a writer that has renewed it but not committed is waited for, and read after)."""
    return session.connection().execute(_LOCKED_STAMP if lock else _STAMP).scalar()


_STAMP = select(DataVersion.stamp).where(DataVersion.id == 1)
_LOCKED_STAMP = _STAMP.with_for_update()


def record_refresh(
    session: Session, source: str, *, error: str | None = None, now: dt.datetime | None = None
) -> None:
    """Stamp a source as refreshed now, or note its failure without touching its last success."""
    now = now or dt.datetime.now(dt.UTC)
    row = session.get(DataRefresh, source) or DataRefresh(source=source)
    if error is None:
        row.refreshed_at = now
        row.data_date = latest_data_date(session)
        row.last_error = None
        row.last_error_at = None
    else:
        row.last_error = error
        row.last_error_at = now
    session.add(row)


_REFRESHES = select(*DataRefresh.__table__.columns)  # every reply's footer reads it: built once


def freshness(session: Session, now: dt.datetime | None = None) -> Freshness:
    return freshness_of(session.connection().execute(_REFRESHES).all(), now)


def freshness_of(rows: Sequence[Any], now: dt.datetime | None = None) -> Freshness:
    """From the data sources' rows (`DataRefresh`'s columns, by name)."""
    now = now or dt.datetime.now(dt.UTC)
    stamps = [aware(r.refreshed_at) for r in rows if r.refreshed_at]
    return Freshness(
        data_date=max((r.data_date for r in rows if r.data_date), default=None),
        refreshed_at=max(stamps, default=None),
        stale_sources=tuple(
            sorted(r.source for r in rows if r.refreshed_at and now - aware(r.refreshed_at) > STALE_AFTER)
        ),
        failing_sources=tuple(sorted(r.source for r in rows if r.last_error)),
    )


def aware(stamp: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
