"""Seller Security Center: the import, `/health security <shop>`, the digest line, and blocking a
buyer through the two-step modal within the platform's limits (DOMAIN.md "Seller Security Center").

Clicks and modal submissions are signed requests handed to `app.dispatch`; Slack is the local fake.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply
from blocks.ids import ActionId, BlockRef, CallbackId
from blocks.kit import Reply
from bot.commands.registry import answer
from bot.db.models import BuyerBlock, SecuritySignal
from bot.ingest.formats import Kind
from bot.ingest.importer import import_files
from bot.services import security
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.settings import Settings
from tests.support.data import load, shop
from tests.support.slack import Env, find_buttons, running_app, text_of

DAY = dt.timedelta(days=1)
HEADER = "signal_id,shop_id,kind,order_id,occurred_at,state,amount"
BLOCK_LIST = "Seller Center &gt; Account Health &gt; Security Center &gt; Block List"
BLOCK_LIST_URL = "https://seller-us.tiktok.com/account/security-center/block-list?shop_id=S1"


def shops(factory: sessionmaker[Session]) -> None:
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "US1", "Alpha Goods"),
            shop("S2", "US2", "Beta Home"),
            shop("S3", "US3", "Quiet Shop"),
            shop("S4", "US4", "Hidden Shop", authorized="false"),
        ],
    )


def signals_file(write_csv: Any, today: dt.date) -> Path:
    def ago(n: int) -> str:
        return (today - n * DAY).isoformat()

    return write_csv(  # type: ignore[no-any-return]
        "security.csv",
        HEADER,
        f"A1,S1,Security Alert Order,O-1001,{ago(2)},Pending,19.99",
        f"A2,S1,alert_order,O-1002,{ago(1)},OPEN,5",
        f"R1,S1,Risk-Refund,O-2001,{ago(3)},action needed,42.50",
        f"R2,S1,risk refund,O-2002,{ago(40)},Resolved,",
        f"F1,S1,Confirmed fraud,O-3001,{ago(5)},blocked,100",
        f"F2,S1,FRAUD_BLOCKED,O-3002,{ago(45)},open,",  # blocked fraud is never an open item
        f"A3,S2,security alert,O-4001,{ago(1)},new,",
        f"A4,S4,alert order,O-5001,{ago(1)},open,",  # not authorized: hidden
    )


@pytest.fixture
def imported(factory: sessionmaker[Session], write_csv: Any) -> dt.date:
    today = dt.date(2026, 11, 24)
    shops(factory)
    (result,) = import_files(factory, [signals_file(write_csv, today)])
    assert result.committed and not result.errors, result.errors
    return today


# ---- import ----


def test_security_import_understands_loose_words(factory: sessionmaker[Session], imported: dt.date) -> None:
    with factory() as session:
        rows = {
            s.signal_id: (s.kind, s.state, s.order_id, s.amount)
            for s in session.scalars(select(SecuritySignal))
        }
    assert rows == {
        "A1": ("alert_order", "open", "O-1001", 19.99),
        "A2": ("alert_order", "open", "O-1002", 5.0),
        "R1": ("risk_refund", "open", "O-2001", 42.5),
        "R2": ("risk_refund", "resolved", "O-2002", None),
        "F1": ("fraud_blocked", "resolved", "O-3001", 100.0),
        "F2": ("fraud_blocked", "resolved", "O-3002", None),
        "A3": ("alert_order", "open", "O-4001", None),
        "A4": ("alert_order", "open", "O-5001", None),
    }


def test_security_import_names_bad_rows_and_imports_nothing(
    factory: sessionmaker[Session], write_csv: Any
) -> None:
    shops(factory)
    path = write_csv(
        "security.csv",
        HEADER,
        "A1,S1,alert order,O-1,2026-11-20,open,1",
        "A2,S1,phishing,O-2,2026-11-20,open,1",
        "A3,S1,risk refund,O-3,2026-11-20,maybe,1",
        "A4,NOPE,risk refund,O-4,2026-11-20,open,1",
        "A5,S1,risk refund,O-5,yesterday,open,-3",
    )
    (result,) = import_files(factory, [path])
    assert not result.committed and result.imported == 0
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "kind"),
        (4, "state"),
        (5, "shop_id"),
        (6, "occurred_at"),
    ]
    assert "'phishing' is not one of: security alert order, risk refund, fraud blocked" in str(
        result.errors[0]
    )
    assert str(result.errors[0]).startswith("line 3, column kind")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SecuritySignal)) == 0


# ---- `/health security <shop>` and the digest ----


def security_reply(factory: sessionmaker[Session], settings: Settings, query: str, today: dt.date) -> Reply:
    with factory() as session:
        return answer(session, f"security {query}", settings=settings, today=today)


def security_text(factory: sessionmaker[Session], settings: Settings, query: str, today: dt.date) -> str:
    return text_of(security_reply(factory, settings, query, today).blocks)


def test_security_card_lists_what_to_do_and_what_is_done(
    factory: sessionmaker[Session], settings: Settings, imported: dt.date
) -> None:
    reply = security_reply(factory, settings, "US1", imported)
    text = text_of(reply.blocks)
    assert "*Security alert orders* (2): each may be cancelled without penalty" in text
    assert "Order `O-1002` · " in text and "Order `O-1001` · " in text and "$20" in text
    assert "*Risk refunds* (1): each refund may be rejected without penalty" in text
    assert "O-2001" in text and "O-2002" not in text  # a resolved refund is done
    assert "*Blocked by the platform* (last 30 days): 1 confirmed fraud order. Nothing to do." in text
    assert "O-3001" not in text and "O-3002" not in text  # an outcome, not a to-do list
    assert "Blocked buyers 0/100 · new blocks today 0/10" in text
    assert find_buttons(reply.blocks, ActionId.BLOCK_BUYER.value)
    quiet = security_text(factory, settings, "Quiet Shop", imported)
    assert "No open security alert orders or risk refunds" in quiet and "Blocked by the platform" not in quiet
    hidden = security_text(factory, settings, "US4", imported)
    assert "has not authorized the partner" in hidden and "O-5001" not in hidden
    assert "No seller matches" in security_text(factory, settings, "qqqqqqqqqqqq", imported)


def test_digest_mentions_shops_with_open_security_items(
    factory: sessionmaker[Session], imported: dt.date
) -> None:
    with factory() as session:
        digest = build_digest(session, Lens(today=imported))
    assert [(code, n) for _, code, _, n in digest.security] == [("US1", 3), ("US2", 1)]
    assert not digest.quiet  # open security items make a day worth posting
    text = text_of(digest_reply(digest).blocks)
    assert "Security Center: alert orders and risk refunds to handle" in text
    assert "*Alpha Goods* `US1`: 3 open items" in text and "*Beta Home* `US2`: 1 open item" in text
    assert "US3" not in text and "US4" not in text
    assert "/health security &lt;shop&gt;" in text


# ---- blocking a buyer through signed requests ----


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    with running_app(factory, settings, healthbot_admins=["UADMIN"]) as running:
        shops(factory)
        yield running


def form(
    username: str = "buyer_99",
    reason: str | None = "Abusive refund claims",
    scope: str = "user",
    duration: str = "90d",
) -> dict[str, Any]:
    return {
        "username": {"value": {"type": "plain_text_input", "value": username}},
        "reason": {"value": {"type": "plain_text_input", "value": reason}},
        "scope": {"value": {"type": "radio_buttons", "selected_option": {"value": scope}}},
        "duration": {"value": {"type": "radio_buttons", "selected_option": {"value": duration}}},
    }


def confirm(username: str) -> dict[str, Any]:
    return {"confirm": {"value": {"type": "plain_text_input", "value": username}}}


def click(env: Env, button: dict[str, Any], *, user_id: str, name: str | None = None) -> None:
    """Click a button of a card, as that user, in channel C1."""
    response = env.sender.action(button["action_id"], button["value"], user_id=user_id, name=name)
    assert response.status_code == 200


def open_form(env: Env, user_id: str = "UADMIN") -> str:
    """Click "Block a buyer" on the Security Center card; the form's private_metadata."""
    blocks = env.sender.command("security US1", user_id=user_id).json()["blocks"]
    (block_button,) = find_buttons(blocks, ActionId.BLOCK_BUYER.value)
    click(env, block_button, user_id=user_id)
    view = env.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == CallbackId.BLOCK_BUYER.value
    return str(view["private_metadata"])


def submit_form(env: Env, metadata: str, values: dict[str, Any]) -> dict[str, Any]:
    response = env.sender.view_submission(CallbackId.BLOCK_BUYER.value, metadata, values, user_id="UADMIN")
    assert response.status_code == 200
    return dict(response.json())


def submit_confirm(env: Env, metadata: str, typed: str, view_id: str = "VCONF1") -> dict[str, Any] | None:
    response = env.sender.view_submission(
        CallbackId.BLOCK_BUYER_CONFIRM.value,
        metadata,
        confirm(typed),
        user_id="UADMIN",
        view_id=view_id,
        view_hash=f"hash-{view_id}",
    )
    assert response.status_code == 200
    return dict(response.json()) if response.text else None


def block_buyer(env: Env, username: str, view_id: str, **values: Any) -> dict[str, Any] | None:
    """The whole flow: button, form, confirmation; the confirmation's HTTP answer (None = closed)."""
    step = submit_form(env, open_form(env), form(username, **values))
    assert step["response_action"] == "update", step
    return submit_confirm(env, step["view"]["private_metadata"], username, view_id)


def done(env: Env, username: str, *, user_id: str = "UADMIN", name: str = "done") -> dict[str, Any]:
    """Press "Done in Seller Center" beside a pending request on the card; what the click answered."""
    blocks = env.sender.command("security US1", user_id=user_id).json()["blocks"]
    (row,) = [b for b in blocks if b.get("accessory") and f"*{username}*" in b["text"]["text"]]
    assert row["accessory"]["text"]["text"] == "Done in Seller Center"
    click(env, row["accessory"], user_id=user_id, name=name)
    return dict(env.slack.responses)[name]


def card_text(env: Env) -> str:
    return text_of(env.sender.command("security US1").json()["blocks"])


def blocks_of(factory: sessionmaker[Session]) -> list[BuyerBlock]:
    with factory() as session:
        return list(session.scalars(select(BuyerBlock).order_by(BuyerBlock.id)))


def test_only_admins_may_open_the_block_form(env: Env) -> None:
    blocks = env.sender.command("security US1", user_id="UNOBODY").json()["blocks"]
    (block_button,) = find_buttons(blocks, ActionId.BLOCK_BUYER.value)
    click(env, block_button, user_id="UNOBODY", name="refused")
    assert "Only the bot's admins (HEALTHBOT_ADMINS) may block buyers." in text_of(
        dict(env.slack.responses)["refused"]["blocks"]
    )
    assert env.slack.calls_to("views.open") == []
    # A forged submission from a non-admin is refused too.
    metadata = open_form(env)
    response = env.sender.view_submission(CallbackId.BLOCK_BUYER.value, metadata, form(), user_id="UNOBODY")
    assert response.json()["response_action"] == "errors"
    assert blocks_of(env.factory) == []


def test_block_a_buyer_end_to_end(env: Env) -> None:
    metadata = open_form(env)
    assert json.loads(metadata) == {"shop_id": "S1", "channel_id": "C1"}

    step = submit_form(env, metadata, form(reason="   "))
    assert step["response_action"] == "errors" and set(step["errors"]) == {"reason"}
    step = submit_form(env, metadata, form(reason=None))
    assert step["response_action"] == "errors" and set(step["errors"]) == {"reason"}
    step = submit_form(env, metadata, form(username="buyer 99"))
    assert step["response_action"] == "errors" and set(step["errors"]) == {"username"}

    step = submit_form(env, metadata, form(scope="linked", duration="90d"))
    assert step["response_action"] == "update"
    view = step["view"]
    assert view["callback_id"] == CallbackId.BLOCK_BUYER_CONFIRM.value
    assert "Block *buyer_99* (all linked user IDs) for 90 days at *Alpha Goods*?" in text_of(view["blocks"])
    assert "Abusive refund claims" in text_of(view["blocks"])

    wrong = submit_confirm(env, view["private_metadata"], "Buyer_99", "VWRONG")
    assert wrong is not None and wrong["response_action"] == "errors" and set(wrong["errors"]) == {"confirm"}
    assert blocks_of(env.factory) == [] and env.slack.calls_to("chat.postEphemeral") == []

    assert submit_confirm(env, view["private_metadata"], "buyer_99") is None  # closes the modal
    (block,) = blocks_of(env.factory)
    assert (block.shop_id, block.buyer_username, block.scope, block.permanent) == (
        "S1",
        "buyer_99",
        "linked",
        False,
    )
    assert (block.reason, block.requested_by, block.local_day) == (
        "Abusive refund claims",
        "UADMIN",
        env.today,
    )
    # Recorded, not done: no API performs a block, so it is pending and counts nowhere yet.
    assert block.confirmed_at is None and block.expires_on is None
    (note,) = env.slack.calls_to("chat.postEphemeral")
    assert note.params["channel"] == "C1" and note.params["user"] == "UADMIN"
    shown = text_of(note.params["blocks"])
    assert f"<{BLOCK_LIST_URL}|" in shown and "Block List" in shown
    assert (
        "recorded as *pending*" in shown
        and "press *Done in Seller Center* on `/health security US1`" in shown
    )
    card = card_text(env)
    assert "Blocked buyers 0/100 · new blocks today 0/10 · 1 request pending" in card
    assert "*Block requests waiting for Seller Center* (1)" in card
    assert "*buyer_99* (all linked user IDs, for 90 days) · recorded by <@UADMIN>" in card

    # Only admins may say it is done.
    refused = done(env, "buyer_99", user_id="UNOBODY", name="not-admin")
    assert "Only the bot's admins" in text_of(refused["blocks"])
    assert blocks_of(env.factory)[0].confirmed_at is None

    redrawn = done(env, "buyer_99")
    assert redrawn["replace_original"] is True
    until = f"{env.today + 90 * DAY:%b %-d, %Y}"
    assert f"*buyer_99* is blocked until {until}: it counts against the limits from today" in text_of(
        redrawn["blocks"]
    )
    assert "Blocked buyers 1/100 · new blocks today 1/10" in text_of(redrawn["blocks"])
    assert "pending" not in text_of(redrawn["blocks"])
    (block,) = blocks_of(env.factory)
    assert (block.confirmed_by, block.confirmed_day, block.expires_on) == (
        "UADMIN",
        env.today,
        env.today + 90 * DAY,
    )

    # A second press (a double click, or the old card) changes nothing.
    again = BlockRef(block_id=block.id).encode()
    env.sender.action(f"{ActionId.BLOCK_DONE.value}:{block.id}", again, user_id="UADMIN", name="again")
    assert "was already marked done in Seller Center" in text_of(dict(env.slack.responses)["again"]["blocks"])
    assert "Blocked buyers 1/100 · new blocks today 1/10" in card_text(env)
    assert blocks_of(env.factory)[0].confirmed_day == env.today


def test_block_list_link_label_is_escaped(env: Env) -> None:
    # Regression guard (blocks/security.py block_recorded, fixed): the link label BLOCK_LIST_PATH contains raw
    # ">" ("Seller Center > Account Health > ..."). In Slack mrkdwn a ">" ends the <url|label>
    # link, so the message shows a link labelled "Seller Center " followed by stray text and a
    # dangling ">". Fix: use escape(BLOCK_LIST_PATH) in the link label (Slack: &, <, > must be
    # escaped in mrkdwn, link labels included), or separate the steps with "›".
    assert block_buyer(env, "buyer_99", "VLINK") is None
    (note,) = env.slack.calls_to("chat.postEphemeral")
    (text,) = [b["text"]["text"] for b in note.params["blocks"] if b["type"] == "section"]
    assert f"<{BLOCK_LIST_URL}|{BLOCK_LIST}>" in text
    label = text.split(f"<{BLOCK_LIST_URL}|", 1)[1].split(">", 1)[0]
    assert label.endswith("Block List")  # the first ">" closes the link only after the whole label


def test_permanent_block(env: Env) -> None:
    assert block_buyer(env, "forever_buyer", "VPERM", duration="permanent") is None
    (block,) = blocks_of(env.factory)
    assert block.permanent and block.expires_on is None
    assert "permanently" in text_of(env.slack.calls_to("chat.postEphemeral")[0].params["blocks"])


def test_double_submit_of_the_confirmation_records_one_block(env: Env) -> None:
    step = submit_form(env, open_form(env), form())
    metadata = step["view"]["private_metadata"]
    assert submit_confirm(env, metadata, "buyer_99", "VSAME") is None
    assert submit_confirm(env, metadata, "buyer_99", "VSAME") is None  # a retry or a double click
    assert len(blocks_of(env.factory)) == 1
    assert len(env.slack.calls_to("chat.postEphemeral")) == 1


def add_blocks(
    factory: sessionmaker[Session], count: int, *, day: dt.date, expires_on: dt.date | None
) -> None:
    with factory() as session, session.begin():
        session.add_all(
            BuyerBlock(
                shop_id="S1",
                buyer_username=f"old_{i}",
                scope="user",
                permanent=expires_on is None,
                reason="seeded",
                requested_by="UADMIN",
                requested_at=dt.datetime.now(dt.UTC),
                local_day=day,
                expires_on=expires_on,
                confirmed_at=dt.datetime.now(dt.UTC),  # done in Seller Center that day
                confirmed_by="UADMIN",
                confirmed_day=day,
            )
            for i in range(count)
        )


def test_the_100th_block_is_accepted_and_the_101st_refused(env: Env) -> None:
    long_ago = env.today - 5 * DAY  # outside today's daily limit
    add_blocks(env.factory, 99, day=long_ago, expires_on=long_ago + 90 * DAY)
    # At 99 done, two requests are recorded (pending requests do not count against the limits).
    assert block_buyer(env, "buyer_100", "V100") is None
    assert block_buyer(env, "buyer_101", "V101") is None
    assert "Blocked buyers 99/100 · new blocks today 0/10 · 2 requests pending" in card_text(env)
    # The first done in Seller Center takes the 100th place; Seller Center refuses the next one.
    assert "Blocked buyers 100/100" in text_of(done(env, "buyer_100", name="first")["blocks"])
    refused = text_of(done(env, "buyer_101", name="second")["blocks"])
    frees = f"{long_ago + 90 * DAY:%b %-d, %Y}"
    assert "Seller Center allows no more: This shop already blocks 100 buyers, the limit of 100" in refused
    assert f"the next 90-day block expires on {frees}" in refused
    # A new request is refused up front, on the username field.
    again = submit_form(env, open_form(env), form("buyer_102"))
    assert again["response_action"] == "errors" and "limit of 100" in again["errors"]["username"]
    assert frees in again["errors"]["username"]
    assert [b.buyer_username for b in blocks_of(env.factory) if b.confirmed_at is None] == ["buyer_101"]
    # Once a place frees up, the pending one can be done.
    with env.factory() as session, session.begin():
        session.delete(session.scalars(select(BuyerBlock).where(BuyerBlock.buyer_username == "old_0")).one())
    assert "Blocked buyers 100/100" in text_of(done(env, "buyer_101", name="third")["blocks"])


def test_a_confirmation_submitted_after_the_limit_was_reached_is_refused(env: Env) -> None:
    long_ago = env.today - 5 * DAY
    add_blocks(env.factory, 99, day=long_ago, expires_on=long_ago + 90 * DAY)
    first = submit_form(env, open_form(env), form("buyer_100"))
    second = submit_form(env, open_form(env), form("buyer_101"))
    assert submit_confirm(env, first["view"]["private_metadata"], "buyer_100", "V100") is None
    add_blocks(env.factory, 1, day=long_ago, expires_on=None)  # done meanwhile: 100 in force
    refused = submit_confirm(env, second["view"]["private_metadata"], "buyer_101", "V101")
    assert refused is not None and refused["response_action"] == "errors"
    assert "already blocks 100 buyers, the limit of 100" in refused["errors"]["confirm"]


def test_the_limit_message_when_every_block_is_permanent(env: Env) -> None:
    add_blocks(env.factory, 100, day=env.today - 3 * DAY, expires_on=None)
    refused = submit_form(env, open_form(env), form())
    assert "every block is permanent: remove one in Seller Center first" in refused["errors"]["username"]


def test_the_10th_block_of_a_day_is_accepted_and_the_11th_refused(env: Env) -> None:
    add_blocks(env.factory, 9, day=env.today, expires_on=env.today + 90 * DAY)
    assert block_buyer(env, "tenth", "V10") is None
    assert "new blocks today 9/10 · 1 request pending" in card_text(env)
    assert "new blocks today 10/10" in text_of(done(env, "tenth")["blocks"])
    refused = submit_form(env, open_form(env), form("eleventh"))
    assert refused["response_action"] == "errors"
    message = refused["errors"]["username"]
    assert "made 10 new blocks today, the limit of 10 a day" in message
    assert f"it frees up tomorrow ({env.today + DAY:%b %-d})" in message
    names = [b.buyer_username for b in blocks_of(env.factory)]
    assert len(names) == 10 and names[-1] == "tenth"


# ---- the limits in the service, across days ----


def draft(username: str, *, permanent: bool = False) -> security.BlockDraft:
    return security.BlockDraft(
        shop_id="S1", buyer_username=username, scope="user", permanent=permanent, reason="abuse"
    )


def block(session: Session, username: str, *, today: dt.date, permanent: bool = False) -> None:
    """Record a block and say it is done in Seller Center the same day."""
    block_id = security.record_block(session, draft(username, permanent=permanent), user_id="U1", today=today)
    security.confirm_block(session, block_id, user_id="U1", today=today)


def test_only_blocks_done_in_seller_center_count(factory: sessionmaker[Session]) -> None:
    shops(factory)
    day = dt.date(2026, 3, 1)
    with factory() as session, session.begin():
        pending = security.record_block(session, draft("pending"), user_id="U1", today=day)
        block(session, "done", today=day)
    with factory() as session:
        assert security.count_active_blocks(session, "S1", day) == 1
        assert security.count_blocks_on(session, "S1", day) == 1
        assert [p.buyer_username for p in security.pending_blocks(session, "S1")] == ["pending"]
    # Done two days later: it counts on that day, and its 90 days run from then.
    with factory() as session, session.begin():
        confirmed = security.confirm_block(session, pending, user_id="U2", today=day + 2 * DAY)
    assert confirmed.expires_on == day + 92 * DAY and not confirmed.already
    with factory() as session:
        assert security.count_blocks_on(session, "S1", day) == 1
        assert security.count_blocks_on(session, "S1", day + 2 * DAY) == 1
        assert security.count_active_blocks(session, "S1", day + 91 * DAY) == 1
        assert security.pending_blocks(session, "S1") == []


def test_a_90_day_block_expires_on_its_own(factory: sessionmaker[Session]) -> None:
    shops(factory)
    day = dt.date(2026, 3, 1)
    with factory() as session, session.begin():
        block(session, "ninety", today=day)
        block(session, "forever", today=day, permanent=True)
    with factory() as session:
        assert security.count_active_blocks(session, "S1", day + 89 * DAY) == 2
        assert security.count_active_blocks(session, "S1", day + 90 * DAY) == 1
        assert security.count_active_blocks(session, "S1", day + 1000 * DAY) == 1


def test_an_expired_block_frees_a_place_under_the_100_limit(factory: sessionmaker[Session]) -> None:
    shops(factory)
    start = dt.date(2026, 1, 1)
    add_blocks(factory, 90, day=start - 30 * DAY, expires_on=None)
    for n in range(10):  # ten 90-day blocks on ten days, within each day's limit
        with factory() as session, session.begin():
            block(session, f"b{n}", today=start + n * DAY)
    day = start + 20 * DAY
    with factory() as session, pytest.raises(security.BlockRefused, match="limit of 100"):
        security.record_block(session, draft("late"), user_id="U1", today=day)
    frees = start + 90 * DAY  # the first 90-day block ends
    with factory() as session, pytest.raises(security.BlockRefused, match=f"expires on {frees:%b %-d, %Y}"):
        security.record_block(session, draft("late"), user_id="U1", today=frees - DAY)
    with factory() as session, session.begin():
        block(session, "late", today=frees)
    with factory() as session:
        assert security.count_active_blocks(session, "S1", frees) == 100


def test_the_daily_limit_resets_the_next_day(factory: sessionmaker[Session]) -> None:
    shops(factory)
    day = dt.date(2026, 5, 5)
    with factory() as session, session.begin():
        for n in range(10):
            block(session, f"d{n}", today=day)
    with factory() as session, pytest.raises(security.BlockRefused, match="10 a day"):
        security.record_block(session, draft("d10"), user_id="U1", today=day)
    with factory() as session, session.begin():
        block(session, "d10", today=day + DAY)
