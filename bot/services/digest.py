"""What goes in a daily digest: the sellers that need action, each once under its most urgent
reason (DOMAIN.md "One definition of needs action"), and the overview's own headline numbers.

Sections: appeals nearest first; every other one highest GMV first. Snoozed sellers are left out
(and counted) unless they got worse since. Sellers within 10 points of a milestone are shown as a
warning but not counted as needing action. No Slack here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from bot.db.models import Shop, ShopHealth, Violation
from bot.services import digest_runs, followup, security
from bot.services.attention import (
    ALL_SCORES,
    MAX_IN_LIST,
    Lens,
    explain,
    nearest_appeals,
    needs,
    section_of,
)
from bot.services.digest_records import SECTIONS, Digest, Section
from bot.services.filters import seller_row, seller_select
from bot.services.portfolio import needs_key, portfolio_totals
from bot.services.records import SellerRow

GROUP_MIN_SELLERS = 3  # "several" sellers hit by one policy within a day make an incident
SHOWN_ROWS = 60  # at most the rows of a section the message and its thread list show


def build_digest(session: Session, lens: Lens, *, shown_rows: int = SHOWN_ROWS) -> Digest:
    """The digest of `lens.today` (its window is the day before).

    Set-based at any size: one light read gives every seller due its section (its most urgent
    reason, in SQL) and GMV; only the rows a message or its thread can show, and every seller with
    a digest thread of the last week (their updates), are read whole and put into words."""
    totals = portfolio_totals(session, lens)
    digest = Digest(
        day=lens.today,
        sections={section: [] for section in Section},
        needs_action=totals[needs_key(ALL_SCORES)],
        gmv_at_risk=float(totals["gmv at risk"]),
    )
    snoozed = followup.active_snoozes(session, lens.today)
    ranked: dict[Section, list[tuple[str, float, str]]] = {section: [] for section in Section}
    # A seller has a section exactly when it needs action or is near a milestone; every section but
    # the milestone warning means it needs action, so `needs` is worked out only there.
    position = section_of(lens)
    near = SECTIONS.index(Section.NEAR_MILESTONE)
    light = (
        select(
            Shop.shop_id,
            position,
            case((position == near, needs(lens)), else_=true()),
            ShopHealth.gmv_7d,
            Shop.shop_code,
        )
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .where(position.is_not(None))
    )
    for shop_id, at, counted, gmv, code in session.execute(light):
        if shop_id in snoozed:
            digest.snoozed += bool(counted)
        else:
            ranked[SECTIONS[at]].append((shop_id, float(gmv or 0), code))
    appeals = nearest_appeals(session, [shop_id for shop_id, _, _ in ranked[Section.APPEALS]], lens)
    for section, listed in ranked.items():
        if section is Section.APPEALS:
            listed.sort(key=lambda r: (appeals[r[0]].until, -r[1], r[2]))
        else:
            listed.sort(key=lambda r: (-r[1], r[2]))
        digest.counts[section] = len(listed)
    # The top rows of each section, and every seller a channel may follow in a thread (its update;
    # the top rows then stay whole in any channel, whichever sellers it follows).
    followed = digest_runs.threads_since(session, lens.today)
    wanted: dict[Section, list[str]] = {}
    for section, listed in ranked.items():
        others = 0
        wanted[section] = []
        for shop_id, _, _ in listed:
            if shop_id in followed or others < shown_rows:
                wanted[section].append(shop_id)
                others += shop_id not in followed
    whole = _rows(session, lens, [shop_id for ids in wanted.values() for shop_id in ids])
    for section, ids in wanted.items():
        rows = [whole[shop_id] for shop_id in ids if shop_id in whole]
        digest.sections[section] = followup.with_team(session, rows, lens.today)
    digest.groups = _incidents(session, lens.today)
    digest.security = security.shops_with_open_items(session)
    return digest


def _rows(session: Session, lens: Lens, shop_ids: list[str]) -> dict[str, SellerRow]:
    """The sellers' rows with their reasons, read by shop ID in chunks (no IN list past a
    database's limit on parameters)."""
    rows: list[SellerRow] = []
    for start in range(0, len(shop_ids), MAX_IN_LIST):
        chunk = shop_ids[start : start + MAX_IN_LIST]
        query = seller_select(lens.window).where(Shop.shop_id.in_(chunk))
        rows += [seller_row(values) for values in session.execute(query)]
    return {row.shop_id: row for row in explain(session, rows, lens)}


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
