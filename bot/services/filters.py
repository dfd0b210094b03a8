"""The SQL side of the rules: visibility, bands, drops and "needs action" as column expressions.

Every threshold comes from `bot.domain`'s range tables, so SQL and Python agree by construction.
Lists read the derived `shop_health` table, one row per shop.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, and_, select

from bot import domain
from bot.db.models import Shop, ShopHealth
from bot.domain import Score, Window
from bot.services.records import SellerRow

# The list filters' words for DOMAIN.md's bands (the ranges themselves live in bot.domain).
AHR_BANDS: dict[str, domain.Range] = {band.value.lower(): bounds for band, bounds in domain.AHR_BANDS.items()}
SPS_BANDS: dict[str, domain.Range] = {
    ("unscored" if band is domain.SpsBand.UNSCORED else band.value): bounds
    for band, bounds in domain.SPS_BANDS.items()
}
CHR_BANDS: dict[str, domain.Range] = {
    {domain.ChrBand.BE_CAREFUL: "careful", domain.ChrBand.SUSPENDED: "suspended"}.get(
        band, band.value.lower()
    ): bounds
    for band, bounds in domain.CHR_BANDS.items()
}


def then_column(window: Window, score: Score) -> Any:
    column = {"ahr": "ahr", "sps": "sps_tenths", "chr": "chr"}[score.value]
    suffix = "_1d" if window is Window.DAY else "_7d"
    return getattr(ShopHealth, column + suffix)


def now_column(score: Score) -> Any:
    return {Score.AHR: ShopHealth.ahr, Score.SPS: ShopHealth.sps_tenths, Score.CHR: ShopHealth.chr}[score]


def visible(score: Score) -> ColumnElement[bool]:
    """Scores the partner may see: all need shop access; CHR also needs the Data Compass scope.

    A seller who has not authorized the partner is left out of every count (DOMAIN.md), even
    when a Data Compass grant makes its CHR readable.
    """
    if score is Score.CHR:
        return and_(Shop.authorized.is_(True), Shop.chr_authorized.is_(True))
    return Shop.authorized.is_(True)


def band(column: Any, bounds: tuple[int, int], shown: ColumnElement[bool]) -> ColumnElement[bool]:
    low, high = bounds
    return and_(shown, column >= low, column <= high)


def drop(score: Score, window: Window, *, shown: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """`shown`: the visibility condition (default: `visible(score)`; `true()` for the raw rule)."""
    now, then = now_column(score), then_column(window, score)
    condition = and_(now.is_not(None), then.is_not(None), now - then < -domain.DROP_LIMITS[score])
    if score is Score.SPS:
        condition = and_(condition, now > 0, then > 0)  # unscored is never a drop
    return and_(visible(score) if shown is None else shown, condition)


def in_level(
    score: Score, level: domain.Level, *, shown: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    return band(now_column(score), domain.LEVELS[score][level], visible(score) if shown is None else shown)


def critical_band(score: Score) -> ColumnElement[bool]:
    return in_level(score, domain.Level.CRITICAL)


def warning_band(score: Score) -> ColumnElement[bool]:
    return in_level(score, domain.Level.WARNING)


def seller_select(window: Window) -> Select[Any]:
    """The columns of a SellerRow, shops joined to their health, compared over `window`."""
    return select(
        Shop.shop_id,
        Shop.shop_code,
        Shop.shop_name,
        Shop.region,
        Shop.authorized,
        Shop.chr_authorized,
        Shop.owner,
        ShopHealth.ahr,
        then_column(window, Score.AHR),
        ShopHealth.sps_tenths,
        then_column(window, Score.SPS),
        ShopHealth.chr,
        then_column(window, Score.CHR),
        ShopHealth.gmv_7d,
        ShopHealth.points,
        ShopHealth.points_1d if window is Window.DAY else ShopHealth.points_7d,
        ShopHealth.restricted_until,
        ShopHealth.restriction,
        Shop.authorization_lost_at,
    ).join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)


@functools.cache
def _seller_attributes(window: Window) -> tuple[str, ...]:
    """`seller_select`'s columns' names, in its order."""
    return tuple(str(column.key) for column in seller_select(window).selected_columns)


# A row of a Core statement, each column read by its own name (`row.ahr`).
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def seller_row_of(found: AnyRow, window: Window) -> SellerRow:
    """The SellerRow `seller_select` would read, from a shop and its health read together
    (`lookup.SHOP_ROW`, whose columns bear their own names)."""
    return seller_row([getattr(found, key) for key in _seller_attributes(window)])


def seller_row(values: Sequence[Any]) -> SellerRow:
    """A SellerRow from `seller_select`'s columns (its reasons come from `attention.explain`)."""
    row = SellerRow(*values)
    lost = row.access_lost_at
    if lost is not None and lost.tzinfo is None:  # SQLite keeps no offset: the stamp is UTC
        row = replace(row, access_lost_at=lost.replace(tzinfo=dt.UTC))
    return row
