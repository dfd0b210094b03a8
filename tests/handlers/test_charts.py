"""Trend charts: the PNG itself, the series behind it, and the Trend buttons end to end.

Button clicks are signed requests handed to `app.dispatch`; the chart is drawn and uploaded after
the ack (`app.deps.later`, awaited with `Env.settle`). Slack is the local fake
(bot.playground.fakeslack), which records the three upload steps of `files_upload_v2`.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, PeriodRef, TrendRef
from blocks.trend import trend_buttons
from bot import domain
from bot.db.models import Shop, ShopHealth
from bot.ingest.demo import DemoSize, load_demo
from bot.ingest.formats import Kind
from bot.services.trend import chart_title, clamp_days, trend_png, trend_series
from tests.support.data import load, metric, shop
from tests.support.slack import Env, text_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MESSAGE_TS = "1700000123.000200"
D0 = dt.date(2026, 5, 1)


# ---- the chart and its data ----


def _series(
    n: int, gaps: set[int]
) -> tuple[list[tuple[dt.date, int | None]], list[tuple[dt.date, int | None]]]:
    days = [D0 + dt.timedelta(days=i) for i in range(n)]
    ahr = [(d, None if i in gaps else 190 - 2 * i) for i, d in enumerate(days)]
    sps = [(d, None if i in gaps else (0 if i < 3 else 42 - i // 5)) for i, d in enumerate(days)]
    return ahr, sps


def _decode(png: bytes) -> Any:
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_trend_png_with_gaps_is_a_decodable_png() -> None:
    ahr, sps = _series(30, gaps={4, 5, 6, 15, 17})
    png = trend_png(
        ahr, sps, title="Glow Beauty (US00001): AHR and SPS, last 30 days", milestones=[150, 100, 50]
    )
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 1024
    pixels = _decode(png)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 600


def test_trend_png_sps_only_and_empty_still_draw() -> None:
    _, sps = _series(180, gaps=set(range(40, 60)))
    for ahr_points, sps_points in (([], sps), ([], [])):
        png = trend_png(ahr_points, sps_points, title="SPS only", milestones=[])
        assert png.startswith(PNG_SIGNATURE) and len(png) > 1024
        _decode(png)


def test_trend_buttons_offer_30_90_180_days() -> None:
    block = trend_buttons("7000000001").to_dict()
    assert [e["action_id"] for e in block["elements"]] == [
        "trend_chart:30",
        "trend_chart:90",
        "trend_chart:180",
    ]
    assert [e["text"]["text"] for e in block["elements"]] == ["Trend 30d", "Trend 90d", "Trend 180d"]
    refs = [TrendRef.model_validate_json(e["value"]) for e in block["elements"]]
    assert [(r.shop_id, r.days) for r in refs] == [
        ("7000000001", 30),
        ("7000000001", 90),
        ("7000000001", 180),
    ]


def test_days_are_clamped_and_titles_name_the_scores() -> None:
    assert [clamp_days(d) for d in (-5, 0, 30, 180, 10_000)] == [7, 7, 30, 180, 180]
    assert "AHR and SPS" in chart_title("A", "US1", 30, points_region=False)
    assert "SPS (48-point region)" in chart_title("A", "PH1", 30, points_region=True)


def test_trend_series_has_one_point_per_day_with_gaps(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    days = [D0 + dt.timedelta(days=i) for i in range(10) if i not in (3, 4)]
    load(factory, Kind.METRICS, [metric("1", d, ahr=180 + d.day, sps="4.1", gmv=100.0) for d in days])
    with factory() as session:
        as_of = session.get(ShopHealth, "1")
        assert as_of is not None and as_of.as_of == D0 + dt.timedelta(days=9)
        ahr, sps = trend_series(session, "1", 7)
        assert [d for d, _ in ahr] == [D0 + dt.timedelta(days=i) for i in range(3, 10)]
        assert [v for _, v in ahr][:2] == [None, None]  # days 3 and 4 are missing: gaps, not zeros
        assert [v for _, v in sps][2:] == [41] * 5
        assert trend_series(session, "nope", 30) == ([], [])


# ---- end to end ----


@pytest.fixture
def env(bot: Env) -> Env:
    """The app (requests through `app.dispatch`) over a small demo portfolio."""
    load_demo(bot.factory, DemoSize(shops=26, days=20), bot.today)
    return bot


def click(
    env: Env,
    value: str,
    *,
    days: int = 30,
    container: dict[str, Any] | None = None,
    channel_id: str | None = "C1",
    response_url: bool = True,
    name: str = "trend",
    action: ActionId = ActionId.TREND,
) -> None:
    """A Trend button click as Slack sends it; by default from a (non-ephemeral) channel message.

    Returns once the work the app does after the ack (the chart, or a note) is done."""
    payload = env.sender.action_payload(
        f"{action.value}:{days}",
        value,
        channel_id=channel_id or "C1",
        message_ts=MESSAGE_TS,
        name=name,
    )
    payload["actions"][0]["text"] = {"type": "plain_text", "text": f"Trend {days}d"}
    payload["container"] = container or {
        "type": "message",
        "message_ts": MESSAGE_TS,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if not channel_id:
        del payload["channel"]
    if not response_url:
        del payload["response_url"]
    response = env.sender.payload(payload)
    assert response.status_code == 200
    env.settle()


def _shop(env: Env, *, authorized: bool = True, points_region: bool | None = False) -> Shop:
    with env.factory() as session:
        for candidate in session.scalars(
            select(Shop).where(Shop.authorized.is_(authorized)).order_by(Shop.shop_id)
        ):
            if points_region is None or domain.uses_penalty_points(candidate.region) == points_region:
                return candidate
    raise AssertionError("the demo portfolio has no such shop")


def _reply(env: Env, name: str) -> str:
    return text_of(dict(env.slack.responses)[name]["blocks"])


def test_trend_button_uploads_png_into_the_message_thread(env: Env) -> None:
    target = _shop(env)
    click(env, TrendRef(shop_id=target.shop_id, days=90).encode(), days=90)
    (complete,) = env.slack.calls_to("files.completeUploadExternal")
    (get_url,) = env.slack.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == f"{target.shop_code}-trend-90d.png"
    assert env.slack.uploads[0].startswith(PNG_SIGNATURE) and len(env.slack.uploads[0]) > 1024
    assert int(get_url.params["length"]) == len(env.slack.uploads[0])
    assert complete.ok
    assert complete.params["channel_id"] == "C1"
    assert complete.params["thread_ts"] == MESSAGE_TS
    assert "last 90 days" in complete.params["files"][0]["title"]
    comment = complete.params["initial_comment"]
    assert target.shop_code in comment and "AHR *" in comment and "<@U1>" in comment
    assert not env.slack.responses  # success needs no extra note


def test_reply_in_a_thread_and_from_an_ephemeral_card(env: Env) -> None:
    value = TrendRef(shop_id=_shop(env).shop_id).encode()
    threaded = {
        "type": "message",
        "message_ts": MESSAGE_TS,
        "thread_ts": "1700000000.000100",
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    click(env, value, container=threaded)
    (first,) = env.slack.calls_to("files.completeUploadExternal")
    assert first.params["thread_ts"] == "1700000000.000100"
    # A card only the clicker sees stays private: the chart goes to their DM, not the channel.
    click(
        env,
        value,
        container={"type": "message", "message_ts": MESSAGE_TS, "channel_id": "C1", "is_ephemeral": True},
    )
    _, second = env.slack.calls_to("files.completeUploadExternal")
    assert second.params["channel_id"] == "DU1" and "thread_ts" not in second.params


def test_home_tab_click_posts_to_the_users_dm(env: Env) -> None:
    value = TrendRef(shop_id=_shop(env).shop_id, days=180).encode()
    click(
        env, value, days=180, container={"type": "view", "view_id": "V1"}, channel_id=None, response_url=False
    )
    (complete,) = env.slack.calls_to("files.completeUploadExternal")
    assert env.slack.calls_to("conversations.open")[0].params["users"] == "U1"
    assert complete.params["channel_id"] == "DU1"
    assert "thread_ts" not in complete.params


def test_unauthorized_shop_gets_a_friendly_note_and_no_upload(env: Env) -> None:
    target = _shop(env, authorized=False, points_region=None)
    click(env, TrendRef(shop_id=target.shop_id).encode(), name="hidden")
    assert "has not authorized the partner" in _reply(env, "hidden")
    assert not env.slack.calls_to("files.getUploadURLExternal")
    assert not env.slack.uploads


@pytest.mark.parametrize("value", ['{"shop_id": "0000000000"}', '{"shop_id": 5, "evil": true}'])
def test_unknown_or_tampered_shop_is_out_of_date(env: Env, value: str) -> None:
    click(env, value, name="stale")
    assert "out of date" in _reply(env, "stale")
    assert not env.slack.calls_to("files.getUploadURLExternal")


def test_48_point_region_charts_sps_only(env: Env) -> None:
    target = _shop(env, points_region=True)
    click(env, TrendRef(shop_id=target.shop_id).encode())
    (complete,) = env.slack.calls_to("files.completeUploadExternal")
    assert env.slack.uploads[0].startswith(PNG_SIGNATURE)
    assert "SPS (48-point region)" in complete.params["files"][0]["title"]
    comment = complete.params["initial_comment"]
    assert "48-point region" in comment
    assert "AHR" not in comment and "milestone" not in comment  # never AHR advice for a 48-point shop


def test_slack_error_is_named_with_a_hint(env: Env) -> None:
    env.slack.fail_next("files.completeUploadExternal", status=200)  # ok: false, error: internal_error
    click(env, TrendRef(shop_id=_shop(env).shop_id).encode(), name="failed")
    assert "couldn't post the chart here (internal_error)" in _reply(env, "failed")


# ---- the portfolio's chart ----


def test_portfolio_chart_goes_into_an_internal_channels_thread(env: Env) -> None:
    click(env, PeriodRef(days=30).encode(), action=ActionId.PORTFOLIO_TREND)
    (get_url,) = env.slack.calls_to("files.getUploadURLExternal")
    (complete,) = env.slack.calls_to("files.completeUploadExternal")
    assert get_url.params["filename"] == "portfolio-trend-30d.png"
    assert env.slack.uploads[0].startswith(PNG_SIGNATURE)
    assert complete.params["channel_id"] == "C1" and complete.params["thread_ts"] == MESSAGE_TS
    assert "sellers per AHR band and GMV at risk, last 30 days" in complete.params["files"][0]["title"]
    assert "at risk" in complete.params["initial_comment"]


def test_portfolio_chart_never_goes_into_a_shared_channel(env: Env) -> None:
    env.slack.channels["C1"] = {"is_ext_shared": True}
    click(env, PeriodRef(days=30).encode(), action=ActionId.PORTFOLIO_TREND)
    (complete,) = env.slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "DU1" and "thread_ts" not in complete.params
