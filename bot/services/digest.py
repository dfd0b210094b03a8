"""What goes in a daily digest: the sellers that need action, each once under its most urgent
reason (DOMAIN.md "One definition of needs action"), and the overview's own headline numbers.

Sections: appeals nearest first; every other one highest GMV first. Snoozed sellers are left out
(and counted) unless they got worse since. Sellers within 10 points of a milestone are shown as a
warning but not counted as needing action. No Slack here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Shop, Violation
from bot.services import followup, security
from bot.services.attention import ALL_SCORES, Lens, explain, near_milestone, nearest_appeals, needs
from bot.services.filters import seller_row, seller_select
from bot.services.portfolio import needs_key, portfolio_totals
from bot.services.records import SECTION_OF, Digest, Section, SellerRow

GROUP_MIN_SELLERS = 3  # "several" sellers hit by one policy within a day make an incident
SHOWN_ROWS = 60  # at most the rows of a section the message and its thread list show


def build_digest(session: Session, lens: Lens) -> Digest:
    """The digest of `lens.today` (its window is the day before)."""
    totals = portfolio_totals(session, lens)
    digest = Digest(
        day=lens.today,
        sections={section: [] for section in Section},
        needs_action=totals[needs_key(ALL_SCORES)],
        gmv_at_risk=float(totals["gmv at risk"]),
    )
    query = seller_select(lens.window).where(or_(needs(lens), near_milestone(lens)))
    rows = explain(session, [seller_row(values) for values in session.execute(query)], lens)
    snoozed = followup.active_snoozes(session, lens.today)
    digest.snoozed = sum(1 for row in rows if row.shop_id in snoozed and _counted(row))
    for row in rows:
        if row.why and row.shop_id not in snoozed:
            digest.sections[SECTION_OF[row.why[0]]].append(row)
    appeals = nearest_appeals(session, [r.shop_id for r in digest.sections[Section.APPEALS]], lens)
    for section, listed in digest.sections.items():
        if section is Section.APPEALS:
            listed.sort(key=lambda r: (appeals[r.shop_id].until, -(r.gmv_7d or 0), r.shop_code))
        else:
            listed.sort(key=lambda r: (-(r.gmv_7d or 0), r.shop_code))
        # The rows a message or its thread can show get their team state.
        listed[:SHOWN_ROWS] = followup.with_team(session, listed[:SHOWN_ROWS], lens.today)
    digest.groups = _incidents(session, lens.today)
    digest.security = security.shops_with_open_items(session)
    return digest


def _counted(row: SellerRow) -> bool:
    return any(reason.counted for reason in row.why)


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
