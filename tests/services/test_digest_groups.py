"""Grouped incidents in the digest: one policy hitting several sellers within the day is one line.

Moved from tests/handlers/test_followup.py. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply
from bot.ingest.formats import Kind
from bot.services.attention import Lens
from bot.services.digest import GROUP_MIN_SELLERS, build_digest
from tests.support.data import load, metric, shop, violation
from tests.support.slack import text_of

DAY = dt.timedelta(days=1)
D = dt.date(2026, 11, 24)


@pytest.mark.parametrize("sellers", [GROUP_MIN_SELLERS, GROUP_MIN_SELLERS - 1])
def test_same_policy_on_several_sellers_is_one_grouped_line(
    factory: sessionmaker[Session], sellers: int
) -> None:
    ids = [f"S{i}" for i in range(sellers)]
    load(factory, Kind.SHOPS, [shop(s, f"LD{s}") for s in ids] + [shop("SX", "UNAUTH", authorized="false")])
    load(factory, Kind.METRICS, [m for s in ids for m in (metric(s, D - DAY, 300), metric(s, D, 270))])
    rows = [violation(f"V{s}", s, D - (i % 2) * DAY) for i, s in enumerate(ids)]  # today and yesterday
    rows.append(violation("VX", "SX", D))  # an unauthorized seller is left out of every count
    rows.append(violation("VOLD", ids[0], D - 2 * DAY, policy="Counterfeit"))
    rows += [violation(f"VC{i}", s, D - 2 * DAY, policy="Counterfeit") for i, s in enumerate(ids[1:])]
    load(factory, Kind.VIOLATIONS, rows)
    with factory() as session:
        digest = build_digest(session, Lens(today=D))
    blocks = digest_reply(digest).blocks
    text = text_of(blocks)
    if sellers >= GROUP_MIN_SELLERS:
        assert digest.groups == [("Late dispatch", sellers)]
        line = f"• *Late dispatch*: {sellers} sellers"
        assert text.count(line) == 1
        where = next(i for i, b in enumerate(blocks) if line in json.dumps(b, ensure_ascii=False))
        first_row = next(i for i, b in enumerate(blocks) if b.get("accessory", {}).get("type") == "button")
        assert where > first_row  # after what must be done today and the drops
    else:
        assert digest.groups == []
        assert "Same policy, several sellers" not in text
    assert "Counterfeit" not in text  # notices two days old are not today's incident
