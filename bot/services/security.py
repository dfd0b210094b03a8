"""Seller Security Center: open items per shop and buyer-block requests within the platform's limits.

No public API performs a block, so the bot records the request as pending and deep-links to
Seller Center > Account Health > Security Center > Block List. Someone says when it is done there
("Done in Seller Center"); only then does it count against the limits the platform keeps (100
blocked buyers per shop, 10 new blocks per shop per day; a 90-day block runs from that day and
expires on its own). Pending requests are shown beside the counts, never in them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import BuyerBlock, SecuritySignal, Shop
from bot.domain import BLOCK_DAYS, MAX_BLOCKED_BUYERS, MAX_NEW_BLOCKS_PER_DAY, OUTCOME_DAYS
from bot.services.records import PendingBlock, SecuritySummary, ShopInfo, Signal

MAX_USERNAME = 64


def active_block_filter(today: dt.date) -> object:
    """Done in Seller Center and still in force (permanent, or its 90 days not over)."""
    return BuyerBlock.confirmed_at.is_not(None) & or_(
        BuyerBlock.expires_on.is_(None), BuyerBlock.expires_on > today
    )


def summary(session: Session, shop: ShopInfo, *, today: dt.date) -> SecuritySummary:
    signals = [
        Signal(s.signal_id, s.kind, s.order_id, s.occurred_at, s.state, s.amount)
        for s in session.scalars(
            select(SecuritySignal)
            .where(
                SecuritySignal.shop_id == shop.shop_id,
                or_(
                    SecuritySignal.state == "open",
                    (SecuritySignal.kind == "fraud_blocked")
                    & (SecuritySignal.occurred_at >= today - dt.timedelta(days=OUTCOME_DAYS)),
                ),
            )
            .order_by(SecuritySignal.occurred_at.desc())
        )
    ]
    return SecuritySummary(
        shop=shop,
        alert_orders=[s for s in signals if s.kind == "alert_order" and s.state == "open"],
        risk_refunds=[s for s in signals if s.kind == "risk_refund" and s.state == "open"],
        blocked_fraud=[s for s in signals if s.kind == "fraud_blocked"],
        blocked_buyers=count_active_blocks(session, shop.shop_id, today),
        blocks_today=count_blocks_on(session, shop.shop_id, today),
        pending=pending_blocks(session, shop.shop_id),
    )


def pending_blocks(session: Session, shop_id: str) -> list[PendingBlock]:
    """Block requests not yet said to be done in Seller Center, oldest first."""
    return [
        PendingBlock(b.id, b.buyer_username, b.scope, b.permanent, b.requested_by, b.requested_at)
        for b in session.scalars(
            select(BuyerBlock)
            .where(BuyerBlock.shop_id == shop_id, BuyerBlock.confirmed_at.is_(None))
            .order_by(BuyerBlock.requested_at, BuyerBlock.id)
        )
    ]


def count_active_blocks(session: Session, shop_id: str, today: dt.date) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(BuyerBlock)
            .where(
                BuyerBlock.shop_id == shop_id,
                active_block_filter(today),  # type: ignore[arg-type]
            )
        )
        or 0
    )


def count_blocks_on(session: Session, shop_id: str, day: dt.date) -> int:
    """Blocks done in Seller Center on that day: what the 10-a-day limit counts."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(BuyerBlock)
            .where(BuyerBlock.shop_id == shop_id, BuyerBlock.confirmed_day == day)
        )
        or 0
    )


def shops_with_open_items(session: Session) -> list[tuple[str, str, str, int]]:
    """(shop_id, code, name, open items) for authorized shops with open alert orders or risk refunds."""
    rows = session.execute(
        select(Shop.shop_id, Shop.shop_code, Shop.shop_name, func.count())
        .join(SecuritySignal, SecuritySignal.shop_id == Shop.shop_id)
        .where(SecuritySignal.state == "open", Shop.authorized.is_(True))
        .group_by(Shop.shop_id, Shop.shop_code, Shop.shop_name)
        .order_by(func.count().desc(), Shop.shop_code)
    )
    return [(shop_id, code, name, int(n)) for shop_id, code, name, n in rows]


class BlockRefused(ValueError):
    """A block request the platform would refuse; the message says which rule and when it frees up."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BlockDraft:
    shop_id: str
    buyer_username: str
    scope: str  # user | linked
    permanent: bool
    reason: str


def validate_draft(draft: BlockDraft) -> None:
    if not draft.reason.strip():
        raise BlockRefused("reason", "A reason is required: say why this buyer is blocked.")
    username = draft.buyer_username
    if not username or username != username.strip() or " " in username:
        raise BlockRefused("username", "Enter the buyer's exact username, without spaces.")
    if len(username) > MAX_USERNAME:
        raise BlockRefused("username", f"A username has at most {MAX_USERNAME} characters.")
    if draft.scope not in ("user", "linked"):
        raise BlockRefused("scope", "Choose this user ID only, or all linked user IDs.")


def check_limits(session: Session, shop_id: str, *, today: dt.date) -> None:
    """Raise BlockRefused when a new block would break the per-shop or per-day limit (counting the
    blocks done in Seller Center; pending requests do not count)."""
    active = count_active_blocks(session, shop_id, today)
    if active >= MAX_BLOCKED_BUYERS:
        next_free = session.scalar(
            select(func.min(BuyerBlock.expires_on)).where(
                BuyerBlock.shop_id == shop_id,
                BuyerBlock.confirmed_at.is_not(None),
                BuyerBlock.expires_on > today,
            )
        )
        when = (
            f"the next 90-day block expires on {next_free:%b %-d, %Y}"
            if next_free
            else "every block is permanent: remove one in Seller Center first"
        )
        raise BlockRefused(
            "username",
            f"This shop already blocks {active} buyers, the limit of {MAX_BLOCKED_BUYERS}; {when}.",
        )
    today_count = count_blocks_on(session, shop_id, today)
    if today_count >= MAX_NEW_BLOCKS_PER_DAY:
        raise BlockRefused(
            "username",
            f"This shop has made {today_count} new blocks today, the limit of {MAX_NEW_BLOCKS_PER_DAY} a day; "
            f"it frees up tomorrow ({today + dt.timedelta(days=1):%b %-d}).",
        )


def record_block(
    session: Session, draft: BlockDraft, *, user_id: str, today: dt.date, now: dt.datetime | None = None
) -> int:
    """Check the rules and the limits, then record the request, pending until it is done in Seller
    Center (the caller commits); returns its ID."""
    validate_draft(draft)
    # Serialize concurrent requests for one shop so two submits cannot both take the 100th place.
    session.execute(select(Shop.shop_id).where(Shop.shop_id == draft.shop_id).with_for_update())
    check_limits(session, draft.shop_id, today=today)
    block = BuyerBlock(
        shop_id=draft.shop_id,
        buyer_username=draft.buyer_username,
        scope=draft.scope,
        permanent=draft.permanent,
        reason=draft.reason.strip(),
        requested_by=user_id,
        requested_at=now or dt.datetime.now(dt.UTC),
        local_day=today,
        expires_on=None,  # set when it is done in Seller Center: 90 days run from then
    )
    session.add(block)
    session.flush()
    return block.id


@dataclass(frozen=True)
class Confirmed:
    shop_id: str
    buyer_username: str
    expires_on: dt.date | None  # None: permanent
    already: bool  # it was confirmed before (a double click): nothing changed


class BlockGone(LookupError):
    """The block request no longer exists (its shop was removed)."""


def confirm_block(
    session: Session, block_id: int, *, user_id: str, today: dt.date, now: dt.datetime | None = None
) -> Confirmed:
    """Record that a pending block was done in Seller Center (the caller commits): from today it
    counts against the limits, and a 90-day block runs until today + 90 days. Seller Center keeps
    the same limits, so a confirmation past them is refused (BlockRefused)."""
    block = session.get(BuyerBlock, block_id)
    if block is None:
        raise BlockGone(block_id)
    session.execute(select(Shop.shop_id).where(Shop.shop_id == block.shop_id).with_for_update())
    session.refresh(block)
    if block.confirmed_at is not None:
        return Confirmed(block.shop_id, block.buyer_username, block.expires_on, already=True)
    check_limits(session, block.shop_id, today=today)
    block.confirmed_at = now or dt.datetime.now(dt.UTC)
    block.confirmed_by = user_id
    block.confirmed_day = today
    block.expires_on = None if block.permanent else today + dt.timedelta(days=BLOCK_DAYS)
    session.flush()
    return Confirmed(block.shop_id, block.buyer_username, block.expires_on, already=False)
