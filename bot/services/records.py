"""Plain data the services return and the builders read: no ORM objects, no open sessions.

A record outlives the session that read it, so a builder, a background task or another thread can
use it safely. Nothing here imports SQLAlchemy (blocks may import this module).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.domain import Finding, Reason, Score, SortKey, Window


@dataclass(frozen=True)
class Freshness:
    data_date: dt.date | None
    refreshed_at: dt.datetime | None
    stale_sources: tuple[str, ...] = ()
    failing_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopInfo:
    """One shop's identity, access and links, as imported."""

    shop_id: str
    shop_code: str
    shop_name: str
    region: str
    authorized: bool
    chr_authorized: bool
    owner: str | None = None
    seller_center_url: str | None = None
    auth_request_url: str | None = None
    slack_channel: str | None = None


@dataclass(frozen=True)
class HealthScores:
    """A shop's latest scores and the values 1 and 7 days earlier (CHR: its worst account)."""

    as_of: dt.date | None = None
    ahr: int | None = None
    ahr_1d: int | None = None
    ahr_7d: int | None = None
    sps_tenths: int | None = None
    sps_tenths_1d: int | None = None
    sps_tenths_7d: int | None = None
    chr: int | None = None
    chr_1d: int | None = None
    chr_7d: int | None = None
    gmv_7d: float | None = None
    points: int | None = None  # 48-point regions: penalty points in the last 180 days
    points_1d: int | None = None
    points_7d: int | None = None
    restricted_until: dt.date | None = None  # the restriction in force on the data date: when it lifts
    restriction: int | None = None  # and the milestone that brought it


@dataclass(frozen=True)
class TeamState:
    """Who is on a seller: its owner, the latest acknowledgement, an active snooze, and the latest
    authorization request sent. Shown on every row and card, so two people do not do the same."""

    owner: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    snoozed_by: str | None = None
    snoozed: bool = False
    snoozed_until: dt.date | None = None  # None while snoozed: until its scores change
    request_by: str | None = None
    request_at: dt.datetime | None = None


@dataclass(frozen=True)
class SellerRow:
    shop_id: str
    shop_code: str
    shop_name: str
    region: str
    authorized: bool
    chr_authorized: bool
    owner: str | None
    ahr: int | None
    ahr_then: int | None
    sps_tenths: int | None
    sps_tenths_then: int | None
    chr: int | None
    chr_then: int | None
    gmv_7d: float | None
    points: int | None = None  # 48-point regions: penalty points, and at the window's start
    points_then: int | None = None
    restricted_until: dt.date | None = None  # a restriction in force on the data date lifts then
    restriction: int | None = None  # the milestone that brought it
    access_lost_at: dt.datetime | None = None
    reasons: tuple[str, ...] = ()  # why it needs action, most urgent first, in words
    why: tuple[Reason, ...] = ()  # the same, as reasons
    team: TeamState | None = None


R = TypeVar("R")


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a list: its rows, how many there are in all, and where the page starts."""

    rows: list[R]
    total: int
    offset: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.offset - len(self.rows))


@dataclass(frozen=True)
class Overview:
    window: Window
    counts: dict[Score, tuple[int, int]]  # (warning, critical)
    needs_action: int
    unauthorized: int
    total: int
    without_chr_scope: int  # authorized, but no Data Compass scope: no CHR
    gmv_at_risk: float
    freshness: Freshness
    points: tuple[int, int] = (0, 0)  # 48-point shops: (warning, critical) by the configured points
    points_shops: int = 0  # authorized 48-point shops (no AHR band for them)


@dataclass(frozen=True)
class ListFilter:
    """Partner Center's Health List filters, as `/health list` parses them."""

    ahr: str | None = None
    sps: str | None = None
    chr: str | None = None
    action: tuple[Score, ...] = ()
    window: Window = Window.DAY
    sort: SortKey = SortKey.GMV
    descending: bool = True

    def describe(self) -> str:
        parts = [
            f"{name.upper()} {value}"
            for name, value in (("ahr", self.ahr), ("sps", self.sps), ("chr", self.chr))
            if value
        ]
        if self.action:
            parts.append("action required on " + "/".join(s.value.upper() for s in self.action))
        parts.append(f"{self.window.label}, by {self.sort.value} {'desc' if self.descending else 'asc'}")
        return "; ".join(parts)


@dataclass(frozen=True)
class AccountHealth:
    tiktok_handle: str
    chr: int | None
    chr_1d: int | None
    chr_7d: int | None


@dataclass(frozen=True)
class ViolationItem:
    """One violation as the card lists it."""

    violation_id: str
    scope: str
    policy: str
    points: int
    notified_at: dt.date


@dataclass(frozen=True)
class ViolationSummary:
    last_7d: int
    last_60d: int
    appealable: int
    nearest_deadline: dt.date | None
    appealable_items: list[tuple[ViolationItem, dt.date]] = field(default_factory=list)  # (item, last day)
    points_180d: int = 0
    recent: list[ViolationItem] = field(
        default_factory=list
    )  # counted, in the last 7 days, most points first


@dataclass(frozen=True)
class ShopDetail:
    shop: ShopInfo
    health: HealthScores | None
    ahr_trend: list[tuple[dt.date, int | None]]
    sps_trend: list[tuple[dt.date, int | None]]
    accounts: list[AccountHealth]
    shop_violations: ViolationSummary
    account_violations: ViolationSummary
    freshness: Freshness
    today: dt.date
    completed_orders_7d: int | None = None
    next_expiry: tuple[dt.date, int] | None = None  # when the oldest deductions leave the window
    # Partner Center's own counts, shown when no violation rows were imported for the shop.
    given_counts: GivenCounts | None = None
    findings: list[Finding] = field(default_factory=list)  # given a lens: why to act, most urgent first
    team: TeamState | None = None  # who is on it
    # Given a zone (`shop_detail`): the dispatch watch's Late Dispatch Rate (None: nothing
    # dispatched in 30 days) and where the card's fields come from.
    late_dispatch: LateDispatch | None = None
    sources: SourceAuthority | None = None


@dataclass(frozen=True)
class GivenCounts:
    """Violation counts as an imported Health List gave them, on its data day (None: not given)."""

    day: dt.date
    last_7d: int | None
    last_60d: int | None
    appealable: int | None


@dataclass(frozen=True)
class Lookup:
    """A shop found by code, ID, name or handle; else the several matches or the closest names."""

    shop: ShopInfo | None
    matches: list[ShopInfo]  # the most relevant first, then by GMV
    suggestions: list[ShopInfo]
    more: int = 0  # matches beyond those listed
    health: dict[str, HealthScores] = field(default_factory=dict)  # of the listed shops, when known


@dataclass(frozen=True)
class Signal:
    signal_id: str
    kind: str
    order_id: str | None
    occurred_at: dt.date
    state: str
    amount: float | None


@dataclass(frozen=True)
class PendingBlock:
    """A buyer block recorded in Slack and not yet said to be done in Seller Center."""

    block_id: int
    buyer_username: str
    scope: str  # user | linked
    permanent: bool
    requested_by: str
    requested_at: dt.datetime


@dataclass(frozen=True)
class SecuritySummary:
    shop: ShopInfo
    alert_orders: list[Signal]
    risk_refunds: list[Signal]
    blocked_fraud: list[Signal]
    blocked_buyers: int  # confirmed done in Seller Center, still in force
    blocks_today: int  # confirmed today
    pending: list[PendingBlock] = field(default_factory=list)  # recorded, not yet confirmed


# ---- TikTok sellers and the dispatch watch ----


@dataclass(frozen=True)
class ListedShop:
    """A shop as one seller's token lists it (`/authorization/202309/shops`)."""

    shop_id: str
    code: str
    name: str
    region: str
    cipher: str


@dataclass(frozen=True)
class OrderFacts:
    """An order as TikTok's API or the orders CSV gives it (times in UTC)."""

    order_id: str
    status: str  # TikTok's status name, e.g. AWAITING_SHIPMENT
    created_at: dt.datetime
    sla_deadline: dt.datetime | None = None
    in_transit_at: dt.datetime | None = None


@dataclass(frozen=True)
class SellerCredentials:
    """One connected seller's decrypted tokens, for the sync only; the tokens never show in a repr."""

    seller_id: int
    open_id: str
    seller_name: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class SellerStatus:
    """A connected seller for `/health tiktok`: its shops and the health of its token."""

    seller_name: str
    open_id: str
    connected_at: dt.datetime
    access_expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None
    synced_at: dt.datetime | None
    last_error: str | None
    failed_at: dt.datetime | None
    shops: tuple[tuple[str, str, bool], ...] = ()  # (code, name, authorized)


@dataclass(frozen=True)
class DueOrder:
    order_id: str
    shop_id: str
    due_at: dt.datetime  # in the shop's zone
    status: str
    from_sla: bool  # TikTok's own SLA time rather than the 2-business-day rule


@dataclass(frozen=True)
class LateDispatch:
    """A shop's Late Dispatch Rate over the last 30 days: late / dispatched orders."""

    late: int
    dispatched: int

    @property
    def rate(self) -> float | None:
        return self.late / self.dispatched if self.dispatched else None


@dataclass(frozen=True)
class ShopDispatch:
    """One seller in `/health dispatch`: its open orders, soonest first, and its rate."""

    shop: ShopInfo
    zone: str
    orders: tuple[DueOrder, ...]
    late_dispatch: LateDispatch
    overdue: int = 0


@dataclass(frozen=True)
class DispatchAlertBatch:
    """Orders of one seller that crossed one alert threshold, claimed for one post."""

    shop: ShopInfo
    threshold_hours: int
    orders: tuple[DueOrder, ...]
    channel: str | None  # the seller's mapped channel, else None: DM the owner


@dataclass(frozen=True)
class SourceAuthority:
    """Where a shop's fields come from: the TikTok API (through which seller) or CSV import."""

    api_seller: str | None  # the connected seller whose token lists the shop
    api_failing: bool = False
    orders_from: str | None = None  # "api" | "csv" | None (no orders seen)


@dataclass(frozen=True)
class AccountRow:
    """One TikTok account in Partner Center's TikTok Account Health list."""

    tiktok_handle: str
    shop_id: str
    shop_code: str
    shop_name: str
    owner: str | None
    chr: int | None
    chr_then: int | None
    gmv_7d: float | None
    violations_7d: int
    violations_60d: int
    appealable: int
    nearest_deadline: dt.date | None
