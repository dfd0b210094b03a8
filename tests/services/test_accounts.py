"""Partner Center's TikTok Account Health list (`/health accounts`): one row per handle, CHR and its
change, the shop's GMV, the account's violations; filters by band, drop and handle; only accounts
whose CHR the partner may see."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.domain import Window
from bot.ingest.formats import Kind
from bot.services.accounts import AccountFilter, accounts
from tests.conftest import TODAY
from tests.support.data import account, load, metric, shop, violation

DAY = dt.timedelta(days=1)


@pytest.fixture
def handles(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "US1", "Alpha"),
            shop("S2", "US2", "Beta"),
            shop("S3", "US3", "Hidden", chr_authorized="false"),  # no Data Compass scope
            shop("S4", "US4", "Closed", authorized="false"),
        ],
    )
    load(
        factory,
        Kind.METRICS,
        [
            metric(s, TODAY, 300, "4.5", g)
            for s, g in (("S1", 900.0), ("S2", 100.0), ("S3", 5.0), ("S4", 1.0))
        ],
    )
    load(
        factory,
        Kind.ACCOUNTS,
        [
            account("S1", TODAY - DAY, "alpha.main", 250), account("S1", TODAY, "alpha.main", 200),
            account("S1", TODAY - DAY, "alpha.ads", 180), account("S1", TODAY, "alpha.ads", 120),
            account("S2", TODAY, "beta", 400), account("S3", TODAY, "hidden", 10), account("S4", TODAY, "closed", 10),
        ],
    )  # fmt: skip
    load(
        factory,
        Kind.VIOLATIONS,
        [violation("V1", "S1", TODAY - 3 * DAY, scope="account", tiktok_handle="alpha.ads")],
    )
    return factory


def run(factory: sessionmaker[Session], **filters: object) -> list[tuple[str, int | None, int | None, int]]:
    with factory() as session:
        page = accounts(session, AccountFilter(**filters), today=TODAY)  # type: ignore[arg-type]
    return [(r.tiktok_handle, r.chr, r.chr_then, r.violations_7d) for r in page.rows]


def test_one_row_per_handle_highest_gmv_first_only_visible_accounts(handles: sessionmaker[Session]) -> None:
    assert run(handles) == [("alpha.ads", 120, 180, 1), ("alpha.main", 200, 250, 0), ("beta", 400, None, 0)]


def test_filters_by_band_drop_and_handle(handles: sessionmaker[Session]) -> None:
    assert [r[0] for r in run(handles, chr="critical")] == ["alpha.ads"]
    assert [r[0] for r in run(handles, action=True)] == ["alpha.ads", "alpha.main"]  # fell 60 and 50
    assert [r[0] for r in run(handles, handle="@ALPHA.MAIN")] == ["alpha.main"]
    assert [r[0] for r in run(handles, handle="alpha")] == ["alpha.ads", "alpha.main"]
    assert run(handles, handle="hidden") == []  # its shop has no Data Compass scope
    assert run(handles, action=True, window=Window.WEEK) == []  # no values a week ago
