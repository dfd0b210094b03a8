"""Partner Center's own exports through the whole import: a Health List (built here with its column
names) lands on the cards with its violation counts as given; an Account Health export gives CHR;
`healthbot import --dry-run` checks without writing; long imports draw a progress bar on a terminal."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.shop_card import shop_card
from bot import cli
from bot.cli.progress import ImportBar
from bot.db.models import AccountSnapshot, MetricSnapshot, ShopHealth
from bot.ingest.formats import Kind
from bot.ingest.loader import import_paths
from bot.services.shop_card import shop_detail
from tests.conftest import TODAY
from tests.ingest.test_importer import SHOPS_HEADER, count, dump
from tests.support.data import load, metric, shop, violation
from tests.support.files import ACCOUNT_HEALTH_HEADER, HEALTH_LIST_HEADER, csv_bytes, write, xlsx_bytes
from tests.support.slack import text_of

DAY = TODAY.isoformat()
HEALTH_LIST_ROWS = (
    ["Glow Beauty", "GLOW1", "100", 850, 4.5, "$1,200.50", 0, 2, 1],
    ["Kite Goods", "KITE2", "200", 40, "-", 300, 3, 5, 0],
)


def card_text(factory: sessionmaker[Session], shop_id: str) -> str:
    with factory() as session:
        detail = shop_detail(session, shop_id, today=TODAY)
        assert detail is not None
    return text_of(shop_card(detail, seller_center_url="https://seller.example", command="shop").blocks)


def test_a_health_list_export_imports_and_shows_on_the_cards(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.SHOPS, [shop("100", "GLOW1", "Glow Beauty"), shop("200", "KITE2", "Kite Goods")])
    path = write(tmp_path / f"Health List {DAY}.xlsx", xlsx_bytes(HEALTH_LIST_HEADER, *HEALTH_LIST_ROWS))
    (result,) = import_paths(factory, [path])
    assert result.committed and not result.errors, result.errors
    assert (result.kind, result.layout, result.imported, result.data_date) == (
        Kind.METRICS,
        "Health List (Partner Center)",
        2,
        TODAY,
    )
    with factory() as session:
        glow = session.get(ShopHealth, "100")
        assert glow is not None and (glow.ahr, glow.sps_tenths, glow.gmv_7d) == (850, 45, 1200.5)
        kite = session.get(MetricSnapshot, ("200", TODAY))
        assert kite is not None and kite.sps_tenths is None  # "-": no data
        assert (kite.violations_7d, kite.violations_60d, kite.violations_appealable) == (3, 5, 0)

    glow_card = card_text(factory, "100")
    assert "850" in glow_card and "4.5" in glow_card
    assert f"Violations* (Partner Center, {TODAY:%d %b})\n7d 0 | 60d 2\nAppealable 1" in glow_card
    assert "7d 3 | 60d 5\nAppealable 0" in card_text(factory, "200")

    # Once violation rows are imported for a shop, its card counts them instead.
    load(factory, Kind.VIOLATIONS, [violation("v1", "100", TODAY - dt.timedelta(days=2))])
    counted = card_text(factory, "100")
    assert "Partner Center," not in counted and "7d 1 · 0 | 60d 1 · 0" in counted
    # Even when the only rows are older than the card's 180 days.
    load(factory, Kind.VIOLATIONS, [violation("v2", "200", TODAY - dt.timedelta(days=200))])
    assert "Partner Center," not in card_text(factory, "200")

    # The same export again changes nothing.
    before = dump(factory)
    (again,) = import_paths(factory, [path])
    assert again.committed and dump(factory) == before


def test_a_tiktok_account_health_export_gives_chr_per_handle(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.SHOPS, [shop("100", "GLOW1", "Glow Beauty")])
    load(factory, Kind.METRICS, [metric("100", TODAY, 850, "4.5", 1000)])
    data = csv_bytes(
        ACCOUNT_HEALTH_HEADER,
        ["@glowbeauty", "100", "Glow Beauty", 180],
        ["glow.live", "100", "Glow Beauty", 90],
    )
    (result,) = import_paths(factory, [write(tmp_path / "account-health.csv", data)], data_date=TODAY)
    assert result.committed and result.layout == "TikTok Account Health (Partner Center)"
    with factory() as session:
        chr_by_handle = dict(
            session.execute(select(AccountSnapshot.tiktok_handle, AccountSnapshot.chr)).all()
        )
        health = session.get(ShopHealth, "100")
    assert chr_by_handle == {"glowbeauty": 180, "glow.live": 90}
    assert health is not None and health.chr == 90


def test_bad_rows_in_an_xlsx_are_named_by_spreadsheet_row_and_column(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.SHOPS, [shop("100", "GLOW1")])
    rows = [HEALTH_LIST_ROWS[0], [None] * 9, ["Kite", "KITE2", "999", 1200, 4.5, 1, 0, 0, 0]]
    path = write(tmp_path / f"hl-{DAY}.xlsx", xlsx_bytes(HEALTH_LIST_HEADER, *rows))
    (result,) = import_paths(factory, [path])
    assert not result.committed and result.imported == 0
    # Its AHR is out of range (its unknown shop is named once the row is otherwise good).
    assert [(e.line, e.column) for e in result.errors] == [(4, "ahr")]
    assert count(factory, MetricSnapshot) == 0


def test_dry_run_checks_everything_and_writes_nothing(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shops = write(tmp_path / "shops.csv", f"{SHOPS_HEADER}\n100,GLOW1,Glow,US,yes,yes\n".encode())
    health = write(tmp_path / f"hl-{DAY}.csv", csv_bytes(HEALTH_LIST_HEADER, HEALTH_LIST_ROWS[0]))
    bad = write(
        tmp_path / f"bad-{DAY}.csv",
        csv_bytes(HEALTH_LIST_HEADER, ["X", "X1", "100", "lots", 4.5, 1, 0, 0, 0]),
    )
    before = dump(factory)
    results = import_paths(factory, [health, bad, shops], dry_run=True)
    # The metrics are checked against the shops file of the same run, as a real import would.
    assert [(r.source, r.imported, [(e.line, e.column) for e in r.errors]) for r in results] == [
        (str(shops), 1, []),
        (str(health), 1, []),
        (str(bad), 0, [(2, "ahr")]),
    ]
    assert not any(r.committed for r in results)
    assert dump(factory) == before


def test_cli_import_dry_run_date_and_sheet(factory, tmp_path: Path, cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.SHOPS, [shop("100", "GLOW1")])
    path = write(
        tmp_path / "export.xlsx",
        xlsx_bytes(HEALTH_LIST_HEADER, HEALTH_LIST_ROWS[0], sheet="Health", before=("Read me",)),
    )
    assert cli.main(["import", "--dry-run", "--sheet", "Health", "--date", DAY, str(path)]) == 0
    out = capsys.readouterr().out
    assert f"would import 1 metrics row from a Health List (Partner Center), data date {DAY}." in out
    assert "Dry run: nothing was written." in out
    assert count(factory, MetricSnapshot) == 0
    assert cli.main(["import", str(path)]) == 1  # the first sheet is empty
    assert "the sheet 'Read me' is empty" in capsys.readouterr().out
    assert cli.main(["import", "--sheet", "Health", str(path)]) == 1  # no date anywhere
    assert "no data date" in capsys.readouterr().out
    assert cli.main(["import", "--sheet", "Health", "--date", DAY, str(path)]) == 0
    assert count(factory, MetricSnapshot) == 1


def test_the_progress_bar_shows_rows_rate_and_time_left_on_a_terminal_only(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.SHOPS, [shop(str(n), f"C{n}") for n in range(1200)])
    lines = "".join(f"{TODAY.isoformat()},{n},500,4.0,10\n" for n in range(1200))
    path = write(tmp_path / "metrics.csv", ("date,shop_id,ahr,sps,gmv_7d\n" + lines).encode())

    terminal = io.StringIO()
    bar = ImportBar(Console(file=terminal, force_terminal=True, width=120), show_after=0)
    (result,) = import_paths(factory, [path], progress=bar)
    bar.close()
    assert result.committed and result.imported == 1200
    drawn = terminal.getvalue()
    assert "metrics.csv" in drawn and "1,200 rows" in drawn and "rows/s" in drawn

    piped = io.StringIO()
    quiet = ImportBar(Console(file=piped, force_terminal=False), show_after=0)
    import_paths(factory, [path], progress=quiet)
    quiet.close()
    assert piped.getvalue() == ""

    short = io.StringIO()
    fast = ImportBar(Console(file=short, force_terminal=True))  # the default: only after a second
    import_paths(factory, [path], progress=fast)
    fast.close()
    assert short.getvalue() == ""
