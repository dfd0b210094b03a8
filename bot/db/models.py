"""SQLAlchemy 2 models: shops, daily snapshots, violations, and the bot's own records.

Scores are stored exactly: AHR and CHR are integers, SPS is stored in tenths (`sps_tenths`) so that
"fell by more than 0.5" is an exact integer comparison in SQL and in Python.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Shop(Base):
    __tablename__ = "shops"

    shop_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_code: Mapped[str] = mapped_column(String(64), unique=True)
    shop_name: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(8))
    authorized: Mapped[bool] = mapped_column(Boolean)
    chr_authorized: Mapped[bool] = mapped_column(Boolean)
    owner: Mapped[str | None] = mapped_column(String(32))
    seller_center_url: Mapped[str | None] = mapped_column(Text)
    auth_request_url: Mapped[str | None] = mapped_column(Text)
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    # Set when the partner's shop access goes from granted to lost (import, sync or webhook).
    authorization_lost_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The shop's registered time zone (IANA name), for dispatch deadlines; None = HEALTHBOT_TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_shops_owner", "owner"),)  # App Home: "my sellers"


# `/health shop` looks a shop up by code or exact name in any case: one index seek each, never a scan
# (the lookup compares lower(column) with lower(:typed), so both sides use the database's own lower).
Index("ix_shops_code_lower", func.lower(Shop.shop_code))
Index("ix_shops_name_lower", func.lower(Shop.shop_name))


class MetricSnapshot(Base):
    """One shop's scores on one day. NULL = unknown that day; sps_tenths 0 = not scored yet."""

    __tablename__ = "metric_snapshots"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ahr: Mapped[int | None] = mapped_column(Integer)
    sps_tenths: Mapped[int | None] = mapped_column(Integer)
    gmv_7d: Mapped[float | None]
    # Optional: completed orders in the last 7 days, for the AHR recovery estimate.
    completed_orders_7d: Mapped[int | None] = mapped_column(Integer)
    # Optional, from Partner Center's Health List: its violation counts as given that day, shown on
    # the card of a shop for which no violation rows were imported.
    violations_7d: Mapped[int | None] = mapped_column(Integer)
    violations_60d: Mapped[int | None] = mapped_column(Integer)
    violations_appealable: Mapped[int | None] = mapped_column(Integer)

    # A day's rows, with what the portfolio trend counts: that day's and the day before's scores
    # are read from the index alone, in order, rather than a table page a row.
    __table_args__ = (
        Index("ix_metric_snapshots_date_scores", "date", "shop_id", "ahr", "sps_tenths", "gmv_7d"),
    )


class AccountSnapshot(Base):
    """CHR of one TikTok account linked to a shop (up to five per shop) on one day."""

    __tablename__ = "account_snapshots"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    tiktok_handle: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    chr: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_account_snapshots_date", "date"),)


class LinkedAccount(Base):
    """A TikTok account a shop has CHR snapshots for: one row per (shop, handle), kept by the
    accounts import. `/health shop @handle` and the five-accounts rule read it instead of every
    snapshot: an index on the snapshots' handles cost a full accounts import a third of its merge
    (at M, 2.8 million rows for 28,000 accounts)."""

    __tablename__ = "linked_accounts"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    tiktok_handle: Mapped[str] = mapped_column(String(64), primary_key=True)


# `/health shop @handle`: the handle in any case, and the shop beside it in the index.
Index("ix_linked_accounts_handle_lower", func.lower(LinkedAccount.tiktok_handle), LinkedAccount.shop_id)


class Violation(Base):
    __tablename__ = "violations"

    violation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(8))  # shop | account
    tiktok_handle: Mapped[str | None] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(255))
    notified_at: Mapped[dt.date] = mapped_column(Date)
    enforcement_status: Mapped[str] = mapped_column(String(32))
    appeal_status: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer, default=0)
    appeal_rejected_at: Mapped[dt.date | None] = mapped_column(Date)
    violation_status: Mapped[str | None] = mapped_column(String(32))
    # The last day it can be appealed (bot.domain.appeal_until); None when its status allows none.
    appeal_until: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_violations_shop_notified", "shop_id", "notified_at"),
        Index("ix_violations_appeal_until", "appeal_until"),
    )


class ShopHealth(Base):
    """Derived, one row per shop: the latest scores and the values 1 and 7 days earlier.

    Rebuilt after every import so that overview, at-risk and list queries are single indexed
    scans instead of self-joins over 180 days of history. CHR is the shop's worst linked account;
    chr_1d/chr_7d are chr minus the largest per-account fall, so that chr - chr_1d is that fall.
    """

    __tablename__ = "shop_health"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    ahr: Mapped[int | None] = mapped_column(Integer)
    ahr_1d: Mapped[int | None] = mapped_column(Integer)
    ahr_7d: Mapped[int | None] = mapped_column(Integer)
    sps_tenths: Mapped[int | None] = mapped_column(Integer)
    sps_tenths_1d: Mapped[int | None] = mapped_column(Integer)
    sps_tenths_7d: Mapped[int | None] = mapped_column(Integer)
    chr: Mapped[int | None] = mapped_column(Integer)
    chr_1d: Mapped[int | None] = mapped_column(Integer)
    chr_7d: Mapped[int | None] = mapped_column(Integer)
    gmv_7d: Mapped[float | None]
    # Bits: which drops and levels apply (bot.services.health.flag), so portfolio counts are one
    # GROUP BY. NULL until computed (rows from before the column): readers then count in SQL.
    flags: Mapped[int | None] = mapped_column(Integer)
    # Shops of regions that may be on the 48-point system: penalty points in the 180 days up to the
    # data date, and the day and week before (NULL elsewhere).
    points: Mapped[int | None] = mapped_column(Integer)
    points_1d: Mapped[int | None] = mapped_column(Integer)
    points_7d: Mapped[int | None] = mapped_column(Integer)
    # The restriction a milestone brought that is in force on the data date: the day it lifts (in
    # force while today < restricted_until) and the milestone's score.
    restricted_until: Mapped[dt.date | None] = mapped_column(Date)
    restriction: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_shop_health_gmv", "gmv_7d"),
        Index("ix_shop_health_ahr", "ahr"),
    )


class DataRefresh(Base):
    """When each data source last delivered, and whether its last attempt failed."""

    __tablename__ = "data_refresh"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    data_date: Mapped[dt.date | None] = mapped_column(Date)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuthRequestSend(Base):
    """Audit of every authorization-request link sent: who, when, where."""

    __tablename__ = "auth_request_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    sent_by: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The Slack interaction that caused it: a retried or double-clicked delivery repeats this key.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    message_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_auth_request_sends_shop_sent", "shop_id", "sent_at"),)


class ButtonClick(Base):
    """Logged clicks of URL buttons (Visit Seller Center), for the audit trail."""

    __tablename__ = "button_clicks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(32))
    clicked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DigestSubscription(Base):
    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    post_at: Mapped[str] = mapped_column(String(5))  # HH:MM local time
    timezone: Mapped[str] = mapped_column(String(64))
    skip_quiet_days: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DigestRun(Base):
    """The claim on one subscription's digest for one local day, taken before posting."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"))
    local_date: Mapped[dt.date] = mapped_column(Date)
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(128))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("subscription_id", "local_date"),)


class ActionClaim(Base):
    """First-come claim on a side effect (a share, a post): retries and double clicks find it taken."""

    __tablename__ = "action_claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Acknowledgement(Base):
    """Someone looked at a seller's trouble and owns the next step: who and when."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_acknowledgements_shop_at", "shop_id", "acknowledged_at"),)


class Snooze(Base):
    """A seller kept out of the digest until a date, or until its scores change (baseline kept)."""

    __tablename__ = "snoozes"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[dt.date | None] = mapped_column(Date)  # last local day snoozed; None = until change
    ahr: Mapped[int | None] = mapped_column(Integer)
    sps_tenths: Mapped[int | None] = mapped_column(Integer)
    chr: Mapped[int | None] = mapped_column(Integer)


class DigestThread(Base):
    """Where a seller's digest item was first posted in a channel; later updates reply in its thread."""

    __tablename__ = "digest_threads"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)


class OwnerPreference(Base):
    """An owner's opt-in to a DM when one of their sellers crosses an AHR milestone."""

    __tablename__ = "owner_preferences"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    milestone_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SecuritySignal(Base):
    """Seller Security Center items: security alert orders, risk refunds, and blocked fraud."""

    __tablename__ = "security_signals"

    signal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # alert_order | risk_refund | fraud_blocked
    order_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(24))  # open | resolved
    amount: Mapped[float | None]

    __table_args__ = (Index("ix_security_signals_shop_kind", "shop_id", "kind", "state"),)


class BuyerBlock(Base):
    """A buyer block requested from Slack. No API performs it: it stays pending until someone says
    it is done in Seller Center, and only then counts against the platform's limits (100 per shop,
    10 new a day)."""

    __tablename__ = "buyer_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    buyer_username: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(12))  # user | linked
    permanent: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    local_day: Mapped[dt.date] = mapped_column(Date)  # the day it was requested
    expires_on: Mapped[dt.date | None] = mapped_column(Date)  # None: permanent (or not yet done)
    # Done in Seller Center: who said so, when, and the day it counts against the daily limit.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_day: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_buyer_blocks_shop_day", "shop_id", "local_day"),
        Index("ix_buyer_blocks_shop_confirmed_day", "shop_id", "confirmed_day"),
    )


class ApiToken(Base):
    """The newest OAuth tokens of an upstream API, so a refresh survives restarts and replicas."""

    __tablename__ = "api_tokens"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:  # never show the tokens
        return f"ApiToken(source={self.source!r}, expires_at={self.expires_at!r})"


class DataVersion(Base):
    """A stamp renewed by every write that changes seller health or access, so replicas can cache
    answers (the overview) and know at once when they are out of date."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SeenRequest(Base):
    """A signed Slack request already handled (by its signature), kept for the 5-minute window in
    which a replay would still verify: the same request twice repeats no side effect, on any
    replica."""

    __tablename__ = "seen_requests"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the signature
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_seen_requests_seen_at", "seen_at"),)


class PostClaim(Base):
    """A message the bot posts on its own into a channel (a share, a request link, a thread update,
    a DM), claimed before it is posted. The claim ID travels in the message's metadata, so a post
    whose outcome is unknown (timeout, reset, crash) is settled from the channel's history."""

    __tablename__ = "post_claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    # First taken: an attempt's message comes after this. The holder's lease runs from attempted_at.
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(128))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class TikTokSeller(Base):
    """A seller who authorized the partner's app, with that seller's tokens, encrypted at rest
    (Fernet, HEALTHBOT_ENCRYPTION_KEY). A failed refresh is kept and shown, never dropped."""

    __tablename__ = "tiktok_sellers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    open_id: Mapped[str] = mapped_column(String(128), unique=True)
    seller_name: Mapped[str] = mapped_column(String(255))
    access_token: Mapped[str] = mapped_column(Text)  # Fernet token
    refresh_token: Mapped[str] = mapped_column(Text)  # Fernet token
    access_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    connected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The last failure of this seller's refresh or sync (no secret in it), and when.
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:  # never show the tokens
        return f"TikTokSeller(id={self.id!r}, open_id={self.open_id!r})"


class TikTokShopLink(Base):
    """Which seller's token sees a shop, and the shop's cipher for shop-scoped calls. Only that
    seller's answer (or TikTok's webhook) may mark the shop unauthorized."""

    __tablename__ = "tiktok_shops"

    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"), primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("tiktok_sellers.id", ondelete="CASCADE"))
    cipher: Mapped[str] = mapped_column(String(255))
    listed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Orders changed since this moment are fetched on the next sync (a small overlap is re-read).
    orders_synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_tiktok_shops_seller", "seller_id"),)


class OAuthState(Base):
    """Nonces of authorization states already used: a state is accepted once, on any replica."""

    __tablename__ = "oauth_states"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Order(Base):
    """An order for the dispatch watch, from TikTok's API or the orders CSV.

    `due_at` is the dispatch deadline, settled by `bot.services.dispatch` in the shop's zone
    (`due_zone`): NULL until then, and again whenever the order or the shop's zone changes.
    """

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(24))
    in_transit_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sla_deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(8))  # api | csv
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_zone: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_orders_shop_due", "shop_id", "due_at"),
        Index("ix_orders_due", "due_at"),
        Index("ix_orders_shop_in_transit", "shop_id", "in_transit_at"),
    )


class DispatchAlert(Base):
    """The claim on one order's alert at one threshold (24, 12 or 4 hours before its deadline),
    taken before posting: whichever replica inserts it first posts, every other finds it taken."""

    __tablename__ = "dispatch_alerts"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    threshold_hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.shop_id", ondelete="CASCADE"))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class UploadWait(Base):
    """`/health import` in a channel: the admin's next file shared there is imported. The first
    message to use it is remembered, so every file of that message counts and no later one does."""

    __tablename__ = "upload_waits"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class PortfolioDayStats(Base):
    """The portfolio on one past day, per region (`bot.services.portfolio_trend`): authorized
    sellers per AHR band and those at risk, with their GMV, by the AHR and SPS rules together
    (`ahr_*`) and by the SPS rules alone (`sps_*`, for 48-point shops, which the UK setting picks
    at read time). Written by the imports that bring the day's scores, so the trend reads a few
    rows per day whatever the portfolio's size."""

    __tablename__ = "portfolio_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    region: Mapped[str] = mapped_column(String(8), primary_key=True)
    excellent: Mapped[int] = mapped_column(Integer)
    fair: Mapped[int] = mapped_column(Integer)
    poor: Mapped[int] = mapped_column(Integer)
    deactivated: Mapped[int] = mapped_column(Integer)
    ahr_risk: Mapped[int] = mapped_column(Integer)
    ahr_risk_gmv: Mapped[float]
    sps_risk: Mapped[int] = mapped_column(Integer)
    sps_risk_gmv: Mapped[float]


class PortfolioAnswer(Base):
    """Portfolio-wide answers (overview counts, first pages of at-risk and the Health List) written
    with the data-version stamp they were computed for, in the same transaction as the change, so
    every worker process and replica reads them ready-made: no request pays the cold query."""

    __tablename__ = "portfolio_answers"

    question: Mapped[str] = mapped_column(String(255), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # JSON
