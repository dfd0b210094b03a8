"""The digest's set-based sections (bot.services.digest): SQL puts every seller under the same most
urgent reason as the rule in Python, and only the rows a message can show are read whole."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DigestThread, Shop, ShopHealth
from bot.domain import PointsRules, Window
from bot.ingest.demo import DemoSize, load_demo
from bot.services.attention import Lens, explain, near_milestone, needs, section_of
from bot.services.digest import build_digest
from bot.services.digest_records import SECTION_OF, SECTIONS, Section
from bot.services.filters import seller_row, seller_select

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def demo(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load_demo(factory, DemoSize(shops=300, days=30), TODAY)
    return factory


@pytest.mark.parametrize(
    "lens",
    [
        Lens(TODAY),
        Lens(TODAY, Window.WEEK),
        Lens(TODAY, uk_48_point=True),
        Lens(TODAY, rules=PointsRules(warning=8, critical=12, rise=2)),
    ],
    ids=["day", "week", "uk-48-point", "strict-points"],
)
def test_sql_puts_every_seller_under_its_most_urgent_reason(demo: sessionmaker[Session], lens: Lens) -> None:
    with demo() as session:
        due = or_(needs(lens), near_milestone(lens))
        in_sql = dict(
            session.execute(
                select(Shop.shop_id, section_of(lens))
                .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
                .where(due)
            ).all()
        )
        rows = explain(
            session, [seller_row(v) for v in session.execute(seller_select(lens.window).where(due))], lens
        )
    in_python = {row.shop_id: SECTIONS.index(SECTION_OF[row.why[0]]) for row in rows if row.why}
    assert len(in_python) > 50  # the demo gives every kind of reason
    assert {SECTIONS[p] for p in in_python.values()} >= {
        Section.APPEALS,
        Section.RESTRICTIONS,
        Section.CRITICAL,
    }
    assert in_sql == in_python


def test_only_the_top_rows_and_followed_sellers_are_read_whole(demo: sessionmaker[Session]) -> None:
    lens = Lens(TODAY)
    with demo() as session:
        everything = build_digest(session, lens)
    biggest = max(Section, key=everything.count)
    listed = everything.sections[biggest]
    assert everything.count(biggest) == len(listed) > 6
    followed = listed[-1].shop_id  # far down its section, with a thread in some channel
    with demo() as session, session.begin():
        session.add(
            DigestThread(
                channel_id="C1",
                shop_id=followed,
                thread_ts="1.1",
                first_day=TODAY - dt.timedelta(days=3),
                last_day=TODAY - dt.timedelta(days=1),
            )
        )
    with demo() as session:
        small = build_digest(session, lens, shown_rows=3)
    assert [r.shop_id for r in small.sections[biggest]] == [r.shop_id for r in listed[:3]] + [followed]
    assert small.counts == everything.counts and small.sellers == everything.sellers
    assert small.sections[biggest][-1].reasons == listed[-1].reasons  # read whole, in words
