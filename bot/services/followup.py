"""Team follow-up on sellers: owners, acknowledgements, snoozes and milestone DMs. No Slack here.

Functions write through the caller's session; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, aliased

from bot.db.models import Acknowledgement, AuthRequestSend, OwnerPreference, Shop, ShopHealth, Snooze
from bot.services.portfolio import NONE_MOVED, data_changed
from bot.services.records import Page, SellerRow, TeamState
from bot.settings import Settings


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


Scores = tuple[int | None, int | None, int | None]  # AHR, SPS in tenths, CHR


def scores_of(health: ShopHealth | None) -> Scores:
    return (health.ahr, health.sps_tenths, health.chr) if health else (None, None, None)


def snooze_state(snooze: Snooze, scores: Scores, today: dt.date) -> SnoozeState:
    """A snooze holds until its day passes, its scores change (change mode), or the seller worsens."""
    baseline = (snooze.ahr, snooze.sps_tenths, snooze.chr)
    return SnoozeState(snooze, *_snooze_holds(snooze.until, baseline, scores, today))


def _snooze_holds(
    until: dt.date | None, baseline: Scores, scores: Scores, today: dt.date
) -> tuple[bool, str]:
    """Whether a snooze until `until` (None: until the scores change) from `baseline` still
    holds, and why (or why not)."""
    if any(_worse(now, then) for now, then in zip(scores, baseline, strict=True)):
        return False, "worsened since it was snoozed"
    if until is None:
        if scores != baseline:
            return False, "scores changed"
        return True, "until its scores change"
    if today > until:
        return False, "snooze ended"
    return True, f"until {until:%b %-d}"


def active_snoozes(session: Session, today: dt.date) -> dict[str, SnoozeState]:
    states = {}
    for snooze_row, health in session.execute(
        select(Snooze, ShopHealth).join(ShopHealth, ShopHealth.shop_id == Snooze.shop_id, isouter=True)
    ):
        state = snooze_state(snooze_row, scores_of(health), today)
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
        if not snooze_state(snooze_row, scores_of(health), today).active:
            session.delete(snooze_row)
            ended += 1
    return ended


def assign_owner(session: Session, shop_id: str, owner: str | None, settings: Settings | None = None) -> bool:
    shop = session.get(Shop, shop_id)
    if shop is None:
        return False
    shop.owner = owner
    # Lists show owners, so cached answers are stale now; no shop moved between the groups.
    data_changed(session, settings, moved=NONE_MOVED)
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


def _latest(model: Any, at: str) -> Any:
    """The ID of a shop's newest row of `model` by its column `at` (an indexed probe per shop)."""
    row = aliased(model)
    return (
        select(row.id)
        .where(row.shop_id == Shop.shop_id)
        .order_by(getattr(row, at).desc(), row.id.desc())
        .limit(1)
        .correlate(Shop)
        .scalar_subquery()
    )


# Built once (building a statement costs more than running it): every list page and card asks
# (a card with its other reads: `shop_card.shop_detail`). Its rows make `team_state`s.
TEAM = (
    select(
        Shop.shop_id,
        Shop.owner,
        Acknowledgement.user_id,
        Acknowledgement.acknowledged_at,
        Snooze.user_id,
        Snooze.until,
        Snooze.ahr,
        Snooze.sps_tenths,
        Snooze.chr,
        ShopHealth.ahr,
        ShopHealth.sps_tenths,
        ShopHealth.chr,
        AuthRequestSend.sent_by,
        AuthRequestSend.sent_at,
    )
    .select_from(Shop)
    .outerjoin(
        Acknowledgement,
        Acknowledgement.id == _latest(Acknowledgement, "acknowledged_at"),
    )
    .outerjoin(Snooze, Snooze.shop_id == Shop.shop_id)
    .outerjoin(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
    .outerjoin(
        AuthRequestSend,
        AuthRequestSend.id == _latest(AuthRequestSend, "sent_at"),
    )
    .where(Shop.shop_id.in_(bindparam("ids", expanding=True)))
)


def team_states(session: Session, shop_ids: Sequence[str], today: dt.date) -> dict[str, TeamState]:
    """Each seller's team state (owner, newest acknowledgement, snooze in force, newest request
    link) in one statement whatever the number of sellers (one page's worth)."""
    ids = sorted(set(shop_ids))
    if not ids:
        return {}
    states = {shop_id: TeamState() for shop_id in ids}  # a seller gone since: nothing to show
    # On the connection: plain values, without the ORM's per-statement work (this statement was
    # a quarter of `/health atrisk` in process; the ORM's part of it a quarter of that).
    for row in session.connection().execute(TEAM, {"ids": ids}):
        states[row[0]] = team_state(row, today)
    return states


def team_state(row: Sequence[Any], today: dt.date) -> TeamState:
    """A seller's team state from its row of `TEAM`."""
    _, owner, acked_by, acked_at, snoozed_by, until, was_ahr, was_sps, was_chr = row[:9]
    ahr, sps, chr_, request_by, request_at = row[9:]
    # an ended snooze is not shown
    baseline = (was_ahr, was_sps, was_chr)
    snoozed = snoozed_by is not None and _snooze_holds(until, baseline, (ahr, sps, chr_), today)[0]
    return TeamState(
        owner=owner,
        acknowledged_by=acked_by,
        acknowledged_at=acked_at,
        snoozed_by=snoozed_by if snoozed else None,
        snoozed=snoozed,
        snoozed_until=until if snoozed else None,
        request_by=request_by,
        request_at=request_at,
    )


def with_team(session: Session, rows: Sequence[SellerRow], today: dt.date) -> list[SellerRow]:
    """The rows with their team state, read now (it changes far more often than the scores)."""
    states = team_states(session, [row.shop_id for row in rows], today)
    return [replace(row, team=states.get(row.shop_id)) for row in rows]


def with_team_page(session: Session, page: Page[SellerRow], today: dt.date) -> Page[SellerRow]:
    return replace(page, rows=with_team(session, page.rows, today))
