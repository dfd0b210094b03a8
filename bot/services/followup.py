"""Team follow-up on sellers: owners, acknowledgements, snoozes and milestone DMs. No Slack here.

Functions write through the caller's session; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Acknowledgement, OwnerPreference, Shop, ShopHealth, Snooze
from bot.services.portfolio import data_changed


class SnoozeMode(StrEnum):
    DAY = "1d"
    WEEK = "7d"
    CHANGE = "change"

    @property
    def label(self) -> str:
        return {"1d": "for 1 day", "7d": "for 7 days", "change": "until its scores change"}[self.value]


def acknowledge(session: Session, shop_id: str, user_id: str, *, now: dt.datetime | None = None) -> None:
    session.add(
        Acknowledgement(shop_id=shop_id, user_id=user_id, acknowledged_at=now or dt.datetime.now(dt.UTC))
    )


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


def unsnooze(session: Session, shop_id: str) -> None:
    row = session.get(Snooze, shop_id)
    if row is not None:
        session.delete(row)


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
