"""Team follow-up on sellers: owners, acknowledgements, snoozes and milestone DMs. No Slack here.

Functions write through the caller's session; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db.models import Acknowledgement, AuthRequestSend, OwnerPreference, Shop, ShopHealth, Snooze
from bot.services.portfolio import data_changed
from bot.services.records import Page, SellerRow, TeamState


class SnoozeMode(StrEnum):
    DAY = "1d"
    WEEK = "7d"
    CHANGE = "change"

    @property
    def label(self) -> str:
        return {"1d": "for 1 day", "7d": "for 7 days", "change": "until its scores change"}[self.value]


def acknowledge(session: Session, shop_id: str, user_id: str, *, now: dt.datetime | None = None) -> int:
    """Record the acknowledgement; returns its ID (what Undo takes back)."""
    row = Acknowledgement(shop_id=shop_id, user_id=user_id, acknowledged_at=now or dt.datetime.now(dt.UTC))
    session.add(row)
    session.flush()
    return row.id


def undo_acknowledgement(session: Session, ack_id: int, user_id: str) -> bool:
    """Take back one's own acknowledgement; False when it is gone or someone else's."""
    result = session.execute(
        delete(Acknowledgement).where(Acknowledgement.id == ack_id, Acknowledgement.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def latest_acknowledgements(session: Session, shop_ids: list[str]) -> dict[str, Acknowledgement]:
    latest: dict[str, Acknowledgement] = {}
    if not shop_ids:
        return latest
    for ack in session.scalars(
        select(Acknowledgement)
        .where(Acknowledgement.shop_id.in_(shop_ids))
        .order_by(Acknowledgement.acknowledged_at)
    ):
        latest[ack.shop_id] = ack
    return latest


def snooze(
    session: Session, shop_id: str, user_id: str, mode: SnoozeMode, *, today: dt.date,
    now: dt.datetime | None = None,
) -> Snooze:  # fmt: skip
    """Snooze a seller, keeping today's scores as the baseline that 'worse' is measured against."""
    health = session.get(ShopHealth, shop_id)
    row = session.get(Snooze, shop_id) or Snooze(shop_id=shop_id)
    row.user_id = user_id
    row.created_at = now or dt.datetime.now(dt.UTC)
    # Snoozed on day D for 1 day: the digest of D+1 leaves it out, D+2 shows it again.
    days = 1 if mode is SnoozeMode.DAY else 7
    row.until = None if mode is SnoozeMode.CHANGE else today + dt.timedelta(days=days)
    row.ahr = health.ahr if health else None
    row.sps_tenths = health.sps_tenths if health else None
    row.chr = health.chr if health else None
    session.add(row)
    return row


def unsnooze(session: Session, shop_id: str, *, user_id: str | None = None) -> bool:
    """End a seller's snooze (only `user_id`'s own, when given); False when there was none to end."""
    row = session.get(Snooze, shop_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        return False
    session.delete(row)
    return True


def _worse(now: int | None, then: int | None) -> bool:
    return now is not None and then is not None and now < then


@dataclass(frozen=True)
class SnoozeState:
    snooze: Snooze
    active: bool
    reason: str  # why it is active or why it ended


def snooze_state(snooze: Snooze, health: ShopHealth | None, today: dt.date) -> SnoozeState:
    """A snooze holds until its day passes, its scores change (change mode), or the seller worsens."""
    ahr, sps, chr_ = (health.ahr, health.sps_tenths, health.chr) if health else (None, None, None)
    if _worse(ahr, snooze.ahr) or _worse(sps, snooze.sps_tenths) or _worse(chr_, snooze.chr):
        return SnoozeState(snooze, False, "worsened since it was snoozed")
    if snooze.until is None:
        if (ahr, sps, chr_) != (snooze.ahr, snooze.sps_tenths, snooze.chr):
            return SnoozeState(snooze, False, "scores changed")
        return SnoozeState(snooze, True, "until its scores change")
    if today > snooze.until:
        return SnoozeState(snooze, False, "snooze ended")
    return SnoozeState(snooze, True, f"until {snooze.until:%b %-d}")


def active_snoozes(session: Session, today: dt.date) -> dict[str, SnoozeState]:
    states = {}
    for snooze_row, health in session.execute(
        select(Snooze, ShopHealth).join(ShopHealth, ShopHealth.shop_id == Snooze.shop_id, isouter=True)
    ):
        state = snooze_state(snooze_row, health, today)
        if state.active:
            states[snooze_row.shop_id] = state
    return states


def end_finished_snoozes(session: Session, today: dt.date) -> int:
    """Delete snoozes that have ended (day passed, scores changed, seller worse), so a seller that
    worsened and then came back to its snoozed scores is not hidden again. Returns how many."""
    ended = 0
    for snooze_row, health in session.execute(
        select(Snooze, ShopHealth).join(ShopHealth, ShopHealth.shop_id == Snooze.shop_id, isouter=True)
    ):
        if not snooze_state(snooze_row, health, today).active:
            session.delete(snooze_row)
            ended += 1
    return ended


def assign_owner(session: Session, shop_id: str, owner: str | None) -> bool:
    shop = session.get(Shop, shop_id)
    if shop is None:
        return False
    shop.owner = owner
    data_changed(session)  # lists show owners: cached answers are stale now
    return True


def set_milestone_dm(session: Session, user_id: str, enabled: bool) -> None:
    row = session.get(OwnerPreference, user_id) or OwnerPreference(user_id=user_id)
    row.milestone_dm = enabled
    row.updated_at = dt.datetime.now(dt.UTC)
    session.add(row)


def wants_milestone_dm(session: Session, user_ids: set[str]) -> set[str]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(OwnerPreference.user_id).where(
                OwnerPreference.user_id.in_(user_ids), OwnerPreference.milestone_dm.is_(True)
            )
        )
    )


def team_states(session: Session, shop_ids: Sequence[str], today: dt.date) -> dict[str, TeamState]:
    """Each seller's team state, in four queries whatever the number of sellers (one page's worth)."""
    ids = sorted(set(shop_ids))
    if not ids:
        return {}
    owners = {
        shop_id: owner
        for shop_id, owner in session.execute(select(Shop.shop_id, Shop.owner).where(Shop.shop_id.in_(ids)))
    }
    acks = latest_acknowledgements(session, ids)
    snoozes = {}
    for snooze_row, health in session.execute(
        select(Snooze, ShopHealth)
        .join(ShopHealth, ShopHealth.shop_id == Snooze.shop_id, isouter=True)
        .where(Snooze.shop_id.in_(ids))
    ):
        if snooze_state(snooze_row, health, today).active:  # an ended snooze is not shown
            snoozes[snooze_row.shop_id] = snooze_row
    latest = (
        select(AuthRequestSend.shop_id, func.max(AuthRequestSend.sent_at).label("at"))
        .where(AuthRequestSend.shop_id.in_(ids))
        .group_by(AuthRequestSend.shop_id)
        .subquery()
    )
    requests = {
        shop_id: (by, at)
        for shop_id, by, at in session.execute(
            select(AuthRequestSend.shop_id, AuthRequestSend.sent_by, AuthRequestSend.sent_at).join(
                latest,
                (latest.c.shop_id == AuthRequestSend.shop_id) & (latest.c.at == AuthRequestSend.sent_at),
            )
        )
    }
    states = {}
    for shop_id in ids:
        ack, snoozed, request = acks.get(shop_id), snoozes.get(shop_id), requests.get(shop_id)
        states[shop_id] = TeamState(
            owner=owners.get(shop_id),
            acknowledged_by=ack.user_id if ack else None,
            acknowledged_at=ack.acknowledged_at if ack else None,
            snoozed_by=snoozed.user_id if snoozed else None,
            snoozed=snoozed is not None,
            snoozed_until=snoozed.until if snoozed else None,
            request_by=request[0] if request else None,
            request_at=request[1] if request else None,
        )
    return states


def with_team(session: Session, rows: Sequence[SellerRow], today: dt.date) -> list[SellerRow]:
    """The rows with their team state, read now (it changes far more often than the scores)."""
    states = team_states(session, [row.shop_id for row in rows], today)
    return [replace(row, team=states.get(row.shop_id)) for row in rows]


def with_team_page(session: Session, page: Page[SellerRow], today: dt.date) -> Page[SellerRow]:
    return replace(page, rows=with_team(session, page.rows, today))
