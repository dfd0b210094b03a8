"""What goes in a daily digest: sellers who need action since yesterday, by section. No Slack.

Highest GMV first in each section; snoozed sellers are left out unless they got worse; shops in
48-point regions never get AHR advice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import Shop, ShopHealth, Violation
from bot.domain import Score, Window
from bot.services import followup, security
from bot.services.filters import needs_action, seller_row, seller_select
from bot.services.records import Digest, Section, SellerRow
from bot.services.shop_card import violation_facts

APPEAL_SOON_DAYS = 7


GROUP_MIN_SELLERS = 3  # "several" sellers hit by one policy within a day make an incident


def _forecast(row: SellerRow) -> str:
    """How far the score is from the next milestone, e.g. '15 above 150 (7 days without ...)'."""
    if row.ahr is None:
        return ""
    milestone = domain.next_milestone(row.ahr, row.region)
    if milestone is None:
        return ""
    warn = ":warning: " if domain.milestone_warning(row.ahr, row.region) else ""
    return f" · {warn}{row.ahr - milestone.score} above {milestone.score}"


def build_digest(
    session: Session, *, day: dt.date, since: dt.datetime | None = None, uk_48_point: bool = False
) -> Digest:
    """What changed since yesterday that a manager must act on, highest GMV first in each section.

    Snoozed sellers are left out unless they got worse since they were snoozed.
    """
    # Access lost since the previous daily digest (24 hours ago), so no loss is reported twice.
    since = since or dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
    window = Window.DAY
    query = seller_select(window).where(
        needs_action(tuple(Score), window)
        | (ShopHealth.ahr < ShopHealth.ahr_1d)  # any fall may cross a milestone, however small
        | (Shop.authorization_lost_at.is_not(None))
    )
    rows = [seller_row(values, Window.DAY) for values in session.execute(query)]
    digest = Digest(day=day, sections={name: [] for name in Section.ORDER})
    for row in rows:
        # 48-point regions collect penalty points: never AHR milestones or AHR advice (DOMAIN.md).
        if row.authorized and not domain.uses_penalty_points(row.region, uk_48_point=uk_48_point):
            crossed = domain.crossed_milestones(row.ahr_then, row.ahr, row.region)
            if crossed:
                text = (
                    f"AHR {row.ahr_then} → {row.ahr}: reached {crossed[-1].score}, {crossed[-1].restriction}"
                )
                digest.sections[Section.MILESTONE].append(_with(row, text))
            elif domain.action_required(Score.AHR, row.ahr, row.ahr_then):
                text = f"AHR {row.ahr_then} → {row.ahr}{_forecast(row)}"
                digest.sections[Section.AHR_DROP].append(_with(row, text))
        if row.authorized and domain.action_required(Score.SPS, row.sps_tenths, row.sps_tenths_then):
            text = f"SPS {domain.format_sps(row.sps_tenths_then)} → {domain.format_sps(row.sps_tenths)}"
            digest.sections[Section.SPS_DROP].append(_with(row, text))
        if row.authorized and row.chr_authorized and domain.action_required(Score.CHR, row.chr, row.chr_then):
            change = domain.delta(row.chr, row.chr_then) or 0
            text = f"CHR fell {-change} (lowest account now {row.chr})"
            digest.sections[Section.CHR_DROP].append(_with(row, text))
    lost = session.execute(
        seller_select(window)
        .add_columns(Shop.authorization_lost_at)
        .where(Shop.authorization_lost_at >= since)
    )
    for *values, _lost_at in lost:
        digest.sections[Section.AUTH_LOST].append(
            _with(seller_row(values, Window.DAY), "shop data access was revoked")
        )
    for row, text in _appeals_closing(session, day):
        digest.sections[Section.APPEALS].append(_with(row, text))
    snoozed = followup.active_snoozes(session, day)
    before = digest.shop_ids
    for name in Section.ORDER:
        kept = [r for r in digest.sections[name] if r.shop_id not in snoozed]
        digest.sections[name] = sorted(kept, key=lambda r: (-(r.gmv_7d or 0), r.shop_code))
    digest.snoozed = len(before - digest.shop_ids)
    seen: set[str] = set()
    for rows_in_section in digest.sections.values():
        for row in rows_in_section:
            if row.shop_id not in seen and row.authorized:
                seen.add(row.shop_id)
                digest.gmv_at_risk += row.gmv_7d or 0
    for shop_id, ack in followup.latest_acknowledgements(session, sorted(digest.shop_ids)).items():
        digest.notes[shop_id] = (
            f":white_check_mark: acknowledged by <@{ack.user_id}> {ack.acknowledged_at:%b %-d}"
        )
    digest.groups = _incidents(session, day)
    digest.security = security.shops_with_open_items(session)
    return digest


def _incidents(session: Session, day: dt.date) -> list[tuple[str, int]]:
    """Policies that hit several sellers within the day (notices dated the digest day or the day before)."""
    counts = session.execute(
        select(Violation.policy, func.count(func.distinct(Violation.shop_id)))
        .join(Shop, Shop.shop_id == Violation.shop_id)
        .where(
            Shop.authorized.is_(True),
            Violation.notified_at >= day - dt.timedelta(days=1),
            Violation.notified_at <= day,
        )
        .group_by(Violation.policy)
    )
    groups = [(policy, int(n)) for policy, n in counts if n >= GROUP_MIN_SELLERS]
    return sorted(groups, key=lambda g: (-g[1], g[0]))


def _with(row: SellerRow, reason: str) -> SellerRow:
    return replace(row, reasons=(reason,))


def _appeals_closing(session: Session, day: dt.date) -> list[tuple[SellerRow, str]]:
    """Appealable violations whose deadline falls within the next 7 days (deadline day included)."""
    # Shop violations stay appealable for 60 days after notice (a second appeal after a rejection).
    candidates = session.scalars(
        select(Violation)
        .join(Shop, Shop.shop_id == Violation.shop_id)
        .where(Shop.authorized.is_(True), Violation.notified_at >= day - dt.timedelta(days=60))
    )
    nearest: dict[str, tuple[dt.date, Violation]] = {}
    for violation in candidates:
        facts = violation_facts(violation)
        if not domain.appealable(facts, day):
            continue
        deadline = domain.appeal_deadline(facts)
        if (deadline - day).days <= APPEAL_SOON_DAYS and (
            violation.shop_id not in nearest or deadline < nearest[violation.shop_id][0]
        ):
            nearest[violation.shop_id] = (deadline, violation)
    if not nearest:
        return []
    rows = {
        values[0]: seller_row(values, Window.DAY)
        for values in session.execute(seller_select(Window.DAY).where(Shop.shop_id.in_(list(nearest))))
    }
    out = []
    for shop_id, (deadline, violation) in nearest.items():
        left = (deadline - day).days
        text = f"{violation.policy}: appeal by {deadline:%b %-d} ({left} day{'s' if left != 1 else ''} left)"
        out.append((rows[shop_id], text))
    return out
