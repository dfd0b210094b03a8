"""The `/health` command language (PRODUCT.md "Slash command /health"): each subcommand's grammar."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.commands.grammar import CommandError
from bot.commands.registry import parse
from bot.commands.subcommands.atrisk import AtRisk
from bot.commands.subcommands.digest import Digest
from bot.domain import Score, SortKey, Window
from bot.services.records import ListFilter


def parsed(text: str) -> tuple[str, Any]:
    sub, args = parse(text)
    return sub.name, args


def error_of(text: str) -> str:
    with pytest.raises(CommandError) as caught:
        parse(text)
    message = str(caught.value)
    assert message and "Traceback" not in message
    return message


# ---- help ----


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "help", "HELP", "?", "h", "help me please"])
def test_help(text: str) -> None:
    assert parsed(text) == ("help", None)


# ---- overview ----


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("overview", Window.DAY),
        ("ov", Window.DAY),
        ("summary", Window.DAY),
        ("status", Window.DAY),
        ("Overview VS 7D", Window.WEEK),
        ("overview vs 1d", Window.DAY),
        ("overview vs 7d", Window.WEEK),
        ("overview vs week", Window.WEEK),
        ("overview vs yesterday", Window.DAY),
        ("overview 7d", Window.WEEK),
        ("  overview   vs   7d  ", Window.WEEK),
        ("overview\u00a0vs\u00a07d", Window.WEEK),  # non-breaking spaces from a pasted command
    ],
)
def test_overview(text: str, window: Window) -> None:
    assert parsed(text) == ("overview", window)


@pytest.mark.parametrize("text", ["overview vs", "overview vs 30d", "atrisk vs", "list vs", "list vs month"])
def test_vs_needs_1d_or_7d(text: str) -> None:
    message = error_of(text)
    assert "`1d`" in message and "`7d`" in message


def test_overview_rejects_other_words() -> None:
    assert "overview vs 7d" in error_of("overview ahr")


# ---- shop ----


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("shop US00042", "US00042"),
        ("seller Glow Beauty", "Glow Beauty"),
        ("s @glow.official", "@glow.official"),
        ("card 7000000001", "7000000001"),
        ("SHOP   Café Ünïcode  ", "Café Ünïcode"),  # the query keeps its case and accents
        ("shop 店铺 一号", "店铺 一号"),
    ],
)
def test_shop(text: str, query: str) -> None:
    assert parsed(text) == ("shop", query)


@pytest.mark.parametrize("text", ["shop", "shop   ", "seller"])
def test_shop_needs_a_query(text: str) -> None:
    assert "which shop?" in error_of(text)


# ---- atrisk ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("atrisk", AtRisk(tuple(Score), Window.DAY)),
        ("at-risk", AtRisk(tuple(Score), Window.DAY)),
        ("risk", AtRisk(tuple(Score), Window.DAY)),
        ("action", AtRisk(tuple(Score), Window.DAY)),
        ("atrisk ahr", AtRisk((Score.AHR,), Window.DAY)),
        ("atrisk sps chr vs 7d", AtRisk((Score.SPS, Score.CHR), Window.WEEK)),
        ("atrisk vs 7d chr", AtRisk((Score.CHR,), Window.WEEK)),
        ("atrisk ahr ahr", AtRisk((Score.AHR,), Window.DAY)),
        ("ATRISK SPS 7d", AtRisk((Score.SPS,), Window.WEEK)),
    ],
)
def test_atrisk(text: str, expected: AtRisk) -> None:
    assert parsed(text) == ("atrisk", expected)


def test_atrisk_rejects_other_words() -> None:
    message = error_of("atrisk gmv")
    assert "`gmv`" in message and "`ahr`" in message


# ---- list ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", ListFilter()),
        ("ls", ListFilter()),
        ("health", ListFilter()),
        ("list ahr excellent", ListFilter(ahr="excellent")),
        ("list ahr fair", ListFilter(ahr="fair")),
        ("list ahr poor", ListFilter(ahr="poor")),
        ("list ahr deactivated", ListFilter(ahr="deactivated")),
        ("list sps 0-2.5", ListFilter(sps="0-2.5")),
        ("list sps <2.5", ListFilter(sps="0-2.5")),
        ("list sps low", ListFilter(sps="0-2.5")),
        ("list sps 2.5-3.5", ListFilter(sps="2.5-3.5")),
        ("list sps 3.5-4.5", ListFilter(sps="3.5-4.5")),
        ("list sps 4.5-5", ListFilter(sps="4.5-5")),
        ("list sps 4.5+", ListFilter(sps="4.5-5")),
        ("list sps high", ListFilter(sps="4.5-5")),
        ("list sps unscored", ListFilter(sps="unscored")),
        ("list sps none", ListFilter(sps="unscored")),
        ("list sps not-scored", ListFilter(sps="unscored")),
        ("list chr healthy", ListFilter(chr="healthy")),
        ("list chr careful", ListFilter(chr="careful")),
        ("list chr be-careful", ListFilter(chr="careful")),
        ("list chr critical", ListFilter(chr="critical")),
        ("list chr suspended", ListFilter(chr="suspended")),
        ("list action ahr", ListFilter(action=(Score.AHR,))),
        ("list action sps action chr action sps", ListFilter(action=(Score.SPS, Score.CHR))),
        ("list vs 7d", ListFilter(window=Window.WEEK)),
        ("list sort ahr", ListFilter(sort=SortKey.AHR, descending=False)),  # worst first
        ("list sort gmv", ListFilter(sort=SortKey.GMV, descending=True)),  # most at stake first
        ("list sort sps asc", ListFilter(sort=SortKey.SPS, descending=False)),
        ("list sort chr desc", ListFilter(sort=SortKey.CHR, descending=True)),
        ("list asc", ListFilter(descending=False)),
        (
            "LIST AHR FAIR SPS 2.5-3.5 CHR CRITICAL ACTION AHR VS 7D SORT GMV ASC",
            ListFilter(
                ahr="fair",
                sps="2.5-3.5",
                chr="critical",
                action=(Score.AHR,),
                window=Window.WEEK,
                sort=SortKey.GMV,
                descending=False,
            ),
        ),
    ],
)
def test_list(text: str, expected: ListFilter) -> None:
    assert parsed(text) == ("list", expected)


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("list ahr great", ["`ahr`", "`excellent`", "`fair`", "`poor`", "`deactivated`", "not `great`"]),
        ("list ahr", ["`ahr` takes one of", "`excellent`"]),
        ("list sps 2-3", ["`sps`", "`2.5-3.5`", "`unscored`", "not `2-3`"]),
        ("list chr bad", ["`chr`", "`healthy`", "`careful`", "`suspended`"]),
        ("list action gmv", ["`action`", "`ahr`", "`sps`", "`chr`"]),
        ("list sort name", ["`sort`", "`gmv`"]),
        ("list sort", ["`sort` takes one of"]),
        ("list banana", ["`banana`", "`ahr <band>`"]),
    ],
)
def test_list_errors_are_friendly(text: str, mentions: list[str]) -> None:
    message = error_of(text)
    for piece in mentions:
        assert piece in message


def test_sps_band_options_listed_once_each() -> None:
    message = error_of("list sps x")
    assert message.count("`0-2.5`") == 1 and message.count("`4.5-5`") == 1


# ---- unauthorized and digest ----


@pytest.mark.parametrize("text", ["unauthorized", "unauthorised", "unauth", "auth", "UNAUTHORIZED"])
def test_unauthorized(text: str) -> None:
    assert parsed(text) == ("unauthorized", None)


def test_unauthorized_takes_no_arguments() -> None:
    assert "no arguments" in error_of("unauthorized now")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest subscribe", Digest("subscribe")),
        ("digest subscribe 09:00 Europe/Paris", Digest("subscribe", ("09:00", "Europe/Paris"))),
        ("digest unsubscribe", Digest("unsubscribe")),
        ("DIGEST LIST", Digest("list")),
        ("digest preview", Digest("preview")),
    ],
)
def test_digest(text: str, expected: Digest) -> None:
    assert parsed(text) == ("digest", expected)


@pytest.mark.parametrize("text", ["digest", "digest now", "digest sub"])
def test_digest_needs_an_action(text: str) -> None:
    message = error_of(text)
    assert "`subscribe`" in message and "`preview`" in message


# ---- anything else ----


@pytest.mark.parametrize("text", ["foo", "shops", "overveiw", "💥", "ｏｖｅｒｖｉｅｗ", "--help"])
def test_unknown_subcommand(text: str) -> None:
    message = error_of(text)
    assert message.startswith("I don't know `")


def test_unknown_word_is_clipped_and_code_safe() -> None:
    message = error_of("x" * 100 + "`y")
    assert "x" * 31 not in message
    assert message.count("`") == 2
    assert "`" not in error_of("foo`bar")[len("I don't know `") : -1]


def test_two_thousand_random_characters() -> None:
    rng = random.Random(1)
    alphabet = "abc xyz 0123456789 `*_~<>&@#!?/\\\"' \t\nçé漢字😀"
    text = "".join(rng.choice(alphabet) for _ in range(2000))
    message = error_of(text)
    assert "2000 characters" in message


@pytest.mark.parametrize("seed", range(30))
def test_random_short_text_never_raises_anything_else(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ahrspcvl 17dx-.<>&`@é😀\u200b"
    words = ["list", "atrisk", "overview", "shop", "vs", "sort", "ahr", "sps", "chr", "action", "digest"]
    text = " ".join(
        rng.choice([*words, "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))])
        for _ in range(rng.randint(0, 8))
    )
    try:
        parse(text)
    except CommandError as exc:
        assert str(exc)
