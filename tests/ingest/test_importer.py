"""CSV import (PRODUCT.md "Data sources"): kinds by header, whole-file rejection, upserts, limits."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.upload import import_report
from bot import cli, db
from bot.db.models import (
    AccountSnapshot,
    ActionClaim,
    Base,
    LinkedAccount,
    MetricSnapshot,
    Shop,
    ShopHealth,
    Violation,
)
from bot.ingest.formats import ImportResult, Kind
from bot.ingest.importer import import_files, import_source
from tests.conftest import TODAY
from tests.support.data import load, shop

SHOPS_HEADER = "shop_id,shop_code,shop_name,region,authorized,chr_authorized"
METRICS_HEADER = "date,shop_id,ahr,sps,gmv_7d"
ACCOUNTS_HEADER = "date,shop_id,tiktok_handle,chr"
VIOLATIONS_HEADER = (
    "violation_id,shop_id,scope,tiktok_handle,policy,notified_at,enforcement_status,appeal_status,points"
)
D = TODAY.isoformat()
D1 = (TODAY - dt.timedelta(days=1)).isoformat()


def dump(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order (refresh stamps and the data version are bookkeeping, left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in (
                "data_version",
                "portfolio_answers",
            ):  # bookkeeping, stamped anew by every write
                continue
            columns = [
                c for c in table.columns if not (table.name == "data_refresh" and c.name.endswith("_at"))
            ]
            keys = list(table.primary_key.columns)
            rows = session.execute(select(*columns).order_by(*keys)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def one(results: list[ImportResult]) -> ImportResult:
    assert len(results) == 1, results
    return results[0]


def errors_of(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in result.errors]


def count(factory: sessionmaker[Session], model: type[Base]) -> int:
    with factory() as session:
        return len(session.scalars(select(model)).all())


@pytest.fixture
def two_shops(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("1", "A1"), shop("2", "B2")])


# ---- kinds known by their header ----


def test_shops_file_imports_with_columns_in_any_order_bom_and_extras(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "shops.csv",
        "\ufeffRegion, Shop_Name ,notes,shop_code,chr_authorized,authorized,shop_id,owner,slack_channel,seller_center_url",
        "us,Glow Beauty,ignore me,GLOW1,no,yes,100,U123,#cs-glow,https://sc.example/100",
        "PH,Kite Goods,,KITE2,1,0,200,,,",
    )
    result = one(import_files(factory, [path]))
    assert result.kind is Kind.SHOPS
    assert result.committed and not result.errors
    assert result.imported == 2
    with factory() as session:
        glow = session.get(Shop, "100")
        kite = session.get(Shop, "200")
    assert glow is not None and kite is not None
    assert (glow.shop_code, glow.shop_name, glow.region) == ("GLOW1", "Glow Beauty", "US")
    assert (glow.authorized, glow.chr_authorized) == (True, False)
    assert glow.owner == "U123"
    assert glow.slack_channel == "cs-glow"
    assert glow.seller_center_url == "https://sc.example/100"
    assert (kite.authorized, kite.chr_authorized, kite.owner, kite.region) == (False, True, None, "PH")


def test_metrics_file_imports_and_is_detected(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "m.csv",
        "\ufeffgmv_7d,extra,sps,ahr,shop_id,date",
        f"1234.5,x,3.1,180,1,{D}",
        f'"1,000",,,,2,{D}',
        f"0,,0,0,2,{D1}",
    )
    result = one(import_files(factory, [path]))
    assert result.kind is Kind.METRICS
    assert result.committed and not result.errors and result.imported == 3
    with factory() as session:
        rows = {
            (r.shop_id, r.date): (r.ahr, r.sps_tenths, r.gmv_7d)
            for r in session.scalars(select(MetricSnapshot))
        }
        health = session.get(ShopHealth, "1")
    assert rows == {
        ("1", TODAY): (180, 31, 1234.5),
        ("2", TODAY): (None, None, 1000.0),  # blank = unknown
        ("2", TODAY - dt.timedelta(days=1)): (0, 0, 0.0),  # sps 0 = not scored, kept as 0
    }
    # the derived table is rebuilt after the import
    assert health is not None and health.ahr == 180 and health.as_of == TODAY


def test_accounts_file_imports_and_is_detected(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.METRICS, [{"date": D, "shop_id": "1", "ahr": 300, "sps": "4.0", "gmv_7d": 1}])
    path = write_csv(
        "a.csv",
        "\ufeffchr,tiktok_handle,comment,shop_id,date",
        f"320,@glow.official,,1,{D}",
        f"140,glow.promo,,1,{D}",
        f",other,,2,{D}",
    )
    result = one(import_files(factory, [path]))
    assert result.kind is Kind.ACCOUNTS
    assert result.committed and not result.errors and result.imported == 3
    with factory() as session:
        rows = {(r.shop_id, r.tiktok_handle): r.chr for r in session.scalars(select(AccountSnapshot))}
        health = session.get(ShopHealth, "1")
    assert rows == {("1", "glow.official"): 320, ("1", "glow.promo"): 140, ("2", "other"): None}
    assert health is not None and health.chr == 140  # worst linked account


def test_violations_file_imports_and_is_detected(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "v.csv",
        "\ufeffpoints,appeal_status,enforcement_status,notified_at,policy,tiktok_handle,scope,shop_id,violation_id,"
        "violation_status,appeal_rejected_at,junk",
        f"4,Not appealed,Enforced,{D},Late dispatch,,shop,1,V1,,,z",
        f"0,not_yet_appealed,ENFORCEMENT-PENDING,{D},Spam,@glow,Account,1,V2,violation - deduction,,",
        f"8,APPEAL_FAILED (can appeal again),no_action,{D1},Counterfeit,,SHOP,2,V3,,{D},",
    )
    result = one(import_files(factory, [path]))
    assert result.kind is Kind.VIOLATIONS
    assert result.committed and not result.errors and result.imported == 3
    with factory() as session:
        rows = {v.violation_id: v for v in session.scalars(select(Violation))}
    assert rows["V1"].scope == "shop" and rows["V1"].tiktok_handle is None and rows["V1"].points == 4
    v2 = rows["V2"]
    assert (v2.scope, v2.tiktok_handle, v2.enforcement_status, v2.appeal_status, v2.violation_status) == (
        "account",
        "glow",
        "Enforcement pending",
        "Not appealed",  # "Not yet appealed" is stored in the bot's words (DOMAIN.md "Status words")
        "Violation - Deduction",
    )
    v3 = rows["V3"]
    assert (v3.enforcement_status, v3.appeal_status, v3.appeal_rejected_at) == (
        "No action",
        "Appeal failed (can appeal again)",
        TODAY,
    )


@pytest.mark.parametrize("short_first", [False, True])
def test_rows_that_omit_trailing_optional_fields_import(factory, write_csv, short_first: bool) -> None:  # type: ignore[no-untyped-def]
    # Hand-written CSV often leaves off trailing empty fields; the row is still complete.
    full, short = "1,A,Glow,US,true,true,U1", "2,B,Kite,US,true,true"
    rows = [short, full] if short_first else [full, short]
    result = one(import_files(factory, [write_csv("s.csv", SHOPS_HEADER + ",owner", *rows)]))
    assert result.committed and not result.errors
    with factory() as session:
        owners = {s.shop_id: s.owner for s in session.scalars(select(Shop))}
    assert owners == {"1": "U1", "2": None}


def test_files_are_imported_shops_first_whatever_the_order_given(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    metrics = write_csv("1.csv", METRICS_HEADER, f"{D},9,200,4.5,10")
    shops = write_csv("2.csv", SHOPS_HEADER, "9,N9,Nine,US,true,true")
    results = import_files(factory, [metrics, shops])
    assert [r.kind for r in results] == [Kind.SHOPS, Kind.METRICS]
    assert all(r.committed and not r.errors for r in results)


# ---- whole-file rejection, naming every bad row ----


def test_bad_metrics_rows_reject_the_whole_file(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "m.csv",
        METRICS_HEADER,
        f"{D},1,200,4.0,100",  # 2 good
        "2026-13-01,1,200,4.0,100",  # 3 bad date
        f"{D1},1,abc,4.0,100",  # 4 non-number
        f"{D1},2,1001,4.0,100",  # 5 AHR above 1000
        f"{D},2,200,5.1,100",  # 6 SPS above 5
        f"{D1},2,200,3.25,100",  # 7 SPS with two decimals
        f"{D},nope,200,4.0,100",  # 8 unknown shop
        ",1,200,4.0,100",  # 9 blank date
        f"{D},1,200.5,4.0,100",  # 10 not whole
        f"{D},2,200,4.0,-5",  # 11 negative GMV
        f"{D},,200,4.0,100",  # 12 blank shop_id
        f"{D},2,200,4.0,100",  # 13 good
    )
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert result.imported == 0
    assert result.rows == 12
    assert errors_of(result) == [
        (3, "date"),
        (4, "ahr"),
        (5, "ahr"),
        (6, "sps"),
        (7, "sps"),
        (8, "shop_id"),
        (9, "date"),
        (10, "ahr"),
        (11, "gmv_7d"),
        (12, "shop_id"),
    ]
    reasons = [e.reason for e in result.errors]
    assert "not a date" in reasons[0]
    assert "not a number" in reasons[1]
    assert "1001" in reasons[2] and "0..1000" in reasons[2]
    assert "5.1" in reasons[3]
    assert "more than one decimal" in reasons[4]
    assert "not a known shop" in reasons[5]
    assert "empty" in reasons[6]
    assert "whole number" in reasons[7]
    assert "empty" in reasons[9]
    assert str(result.errors[0]).startswith("line 3, column date: ")
    assert result.bad_rows == 10
    assert count(factory, MetricSnapshot) == 0


def test_date_with_trailing_junk_is_a_row_error(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "m.csv",
        METRICS_HEADER,
        f"{D}T08:00:00,1,200,4.0,100",  # a timestamp is fine: its date is used
        f"{D1}5,1,200,4.0,100",  # "2026-11-235" is not a date
        f"{D1}xyz,2,200,4.0,100",
    )
    result = one(import_files(factory, [path]))
    assert errors_of(result) == [(3, "date"), (4, "date")]


def test_bad_violation_rows_reject_the_whole_file(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "v.csv",
        VIOLATIONS_HEADER + ",appeal_rejected_at,violation_status",
        f"V1,1,shop,,Late dispatch,{D},Enforced,Not appealed,4,,",  # 2 good
        f"V2,1,shop,,Late dispatch,{D},Suspended,Not appealed,4,,",  # 3 unknown enforcement status
        f"V3,1,store,,Late dispatch,{D},Enforced,Not appealed,4,,",  # 4 bad scope
        f"V4,1,shop,,,{D},Enforced,Not appealed,4,,",  # 5 blank policy
        f"V5,1,account,,Spam,{D},Enforced,Not yet appealed,4,,",  # 6 account without handle
        f"V6,1,shop,,Spam,{D},Enforced,Maybe later,4,,",  # 7 unknown appeal status
        f"V7,1,shop,,Spam,{D},Enforced,Not appealed,,,",  # 8 blank points
        f"V8,1,shop,,Spam,{D},Enforced,Appeal failed,4,{D1},",  # 9 rejected before notice
        f"V9,1,account,h,Spam,{D},Enforced,Not yet appealed,4,,Violation - Maybe",  # 10 bad violation status
        f"V10,1,shop,,Spam,{D},,Not appealed,4,,",  # 11 blank enforcement status
        "V11,1,shop,,Spam,yesterday,Enforced,Not appealed,4,,",  # 12 bad date
    )
    result = one(import_files(factory, [path]))
    assert not result.committed and result.imported == 0
    assert errors_of(result) == [
        (3, "enforcement_status"),
        (4, "scope"),
        (5, "policy"),
        (6, "tiktok_handle"),
        (7, "appeal_status"),
        (8, "points"),
        (9, "appeal_rejected_at"),
        (10, "violation_status"),
        (11, "enforcement_status"),
        (12, "notified_at"),
    ]
    assert "'Suspended' is not one of" in result.errors[0].reason
    assert "Enforced" in result.errors[0].reason
    assert count(factory, Violation) == 0


def test_bad_shop_rows_reject_the_whole_file(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "s.csv",
        SHOPS_HEADER + ",owner,auth_request_url",
        "3,C3,Three,US,true,true,,",  # 2 good
        "4,A1,Four,US,true,true,,",  # 3 code already used by shop 1
        "5,E5,,US,true,true,,",  # 4 blank name
        "6,F6,Six,US,maybe,true,,",  # 5 not a boolean
        "7,G7,Seven,US,true,true,bob,",  # 6 owner not a Slack user ID
        "8,H8,Eight,US,true,true,,ftp://x",  # 7 not an http(s) URL
        "9,C3,Nine,US,true,true,,",  # 8 code used by shop 3 earlier in this file
    )
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert errors_of(result) == [
        (3, "shop_code"),
        (4, "shop_name"),
        (5, "authorized"),
        (6, "owner"),
        (7, "auth_request_url"),
        (8, "shop_code"),
    ]
    assert "already belongs to shop 1" in result.errors[0].reason
    with factory() as session:
        assert sorted(session.scalars(select(Shop.shop_id))) == ["1", "2"]


def test_a_shop_code_given_to_two_shops_in_different_batches_is_a_row_error(factory, two_shops) -> None:  # type: ignore[no-untyped-def]
    columns = SHOPS_HEADER.split(",")
    lines = [
        ("3", "C3"),  # 2
        ("4", "D4"),  # 3
        ("5", "C3"),  # 4: shop 3's code, a batch later
        ("3", "C3"),  # 5: shop 3 again, same values: fine
        ("6", "E6"),  # 6
        ("7", "C3"),  # 7: shop 3's code again
    ]

    def rows():  # type: ignore[no-untyped-def]
        for n, (shop_id, code) in enumerate(lines, start=2):
            yield n, dict(zip(columns, [shop_id, code, f"Shop {shop_id}", "US", "true", "true"], strict=True))

    rejected = import_source(factory, Kind.SHOPS, rows(), source="s.csv", batch_size=2)
    assert not rejected.committed
    assert errors_of(rejected) == [(4, "shop_code"), (7, "shop_code")]
    assert "'C3' already belongs to shop 3" in rejected.errors[0].reason
    skipped = import_source(factory, Kind.SHOPS, rows(), source="s.csv", batch_size=2, skip_invalid=True)
    assert skipped.committed and skipped.imported == 4  # shop 3 twice, 4 and 6
    with factory() as session:
        codes = dict(session.execute(select(Shop.shop_id, Shop.shop_code)).all())
    assert codes == {"1": "A1", "2": "B2", "3": "C3", "4": "D4", "6": "E6"}


def test_sixth_tiktok_account_for_one_shop_is_a_row_error(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    first = write_csv("a1.csv", ACCOUNTS_HEADER, *(f"{D1},1,h{n},300" for n in range(4)))
    assert one(import_files(factory, [first])).committed
    second = write_csv(
        "a2.csv",
        ACCOUNTS_HEADER,
        f"{D},1,h0,300",  # known account, new day: fine
        f"{D},1,h4,300",  # fifth account: fine
        f"{D},1,h5,300",  # sixth: refused
        f"{D},2,h5,300",  # another shop may use five of its own
    )
    result = one(import_files(factory, [second]))
    assert errors_of(result) == [(4, "tiktok_handle")]
    assert "5 linked accounts" in result.errors[0].reason
    assert not result.committed


def test_accounts_past_the_fifth_are_refused_on_every_line_whichever_batch_they_are_in(
    factory, two_shops
) -> None:  # type: ignore[no-untyped-def]
    load(factory, Kind.ACCOUNTS, [{"date": D1, "shop_id": "1", "tiktok_handle": "h0", "chr": 300}])
    columns = ACCOUNTS_HEADER.split(",")
    named = ["h1", "h2", "h0", "h3", "h5", "h4", "h6", "h5", "h1", "@h6"]  # h0 is linked already
    lines = [(D, "1", handle) for handle in named] + [(D, "2", f"x{n}") for n in range(5)]

    def rows():  # type: ignore[no-untyped-def]
        for n, (day, shop_id, handle) in enumerate(lines, start=2):
            yield n, dict(zip(columns, [day, shop_id, handle, "300"], strict=True))

    rejected = import_source(factory, Kind.ACCOUNTS, rows(), source="a.csv", batch_size=3)
    assert not rejected.committed and _linked(factory, "1") == {"h0"}
    # h0-h3 and h5 are shop 1's five; h4 and h6 (also as @h6) are refused on each of their lines.
    assert errors_of(rejected) == [(7, "tiktok_handle"), (8, "tiktok_handle"), (11, "tiktok_handle")]
    assert "shop 1 already has 5 linked accounts" in rejected.errors[0].reason
    skipped = import_source(factory, Kind.ACCOUNTS, rows(), source="a.csv", batch_size=3, skip_invalid=True)
    assert skipped.committed and skipped.imported == len(lines) - 3
    with factory() as session:
        handles = set(
            session.scalars(select(AccountSnapshot.tiktok_handle).where(AccountSnapshot.shop_id == "1"))
        )
    assert handles == {"h0", "h1", "h2", "h3", "h5"}
    assert _linked(factory, "1") == handles  # each once: h0 and h1 were on several lines


def _linked(factory, shop_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return set(
            session.scalars(select(LinkedAccount.tiktok_handle).where(LinkedAccount.shop_id == shop_id))
        )


def test_quoted_multiline_field_keeps_line_numbers_of_later_rows(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "s.csv",
        SHOPS_HEADER,
        '1,A,"Glow\nBeauty",US,true,true',  # lines 2-3
        "2,B,Kite,US,maybe,true",  # line 4
    )
    result = one(import_files(factory, [path]))
    assert errors_of(result) == [(4, "authorized")]


def test_bad_multiline_row_is_named_by_the_line_it_starts_on(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "s.csv",
        SHOPS_HEADER,
        "1,A,Glow,US,true,true",  # line 2
        '2,B,"Kite\n\nGoods",US,maybe,true',  # lines 3-5
        "3,C,Cedar,US,true,nope",  # line 6
    )
    result = one(import_files(factory, [path]))
    # The row begins on line 3: that is where a person opening the file must look.
    assert errors_of(result) == [(3, "authorized"), (6, "chr_authorized")]


def test_blank_lines_are_skipped_and_counted_in_line_numbers(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true", "", ",,,,,", "2,B,Kite,US,maybe,true")
    result = one(import_files(factory, [path]))
    assert result.rows == 2
    assert errors_of(result) == [(5, "authorized")]


def test_skip_invalid_imports_good_rows_and_reports_bad(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "m.csv",
        METRICS_HEADER,
        f"{D},1,200,4.0,100",
        f"{D},1,1001,4.0,100",
        f"{D},2,150,3.0,50",
        f"{D},x,150,3.0,50",
    )
    result = one(import_files(factory, [path], skip_invalid=True))
    assert result.committed
    assert result.imported == 2
    assert errors_of(result) == [(3, "ahr"), (5, "shop_id")]
    with factory() as session:
        rows = {(m.shop_id, m.ahr) for m in session.scalars(select(MetricSnapshot))}
    assert rows == {("1", 200), ("2", 150)}


def test_bad_row_after_a_full_batch_still_rejects_everything(factory, tmp_path: Path, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    start = TODAY - dt.timedelta(days=6000)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(METRICS_HEADER.split(","))
        for n in range(5200):  # more than one batch of upserts
            writer.writerow([(start + dt.timedelta(days=n)).isoformat(), "1", 200, "4.0", 10])
        writer.writerow([D, "1", 2000, "4.0", 10])
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert errors_of(result) == [(5202, "ahr")]
    assert count(factory, MetricSnapshot) == 0


# ---- idempotency and upserts ----


def test_importing_the_same_files_twice_changes_nothing(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    files = [
        write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true", "2,B,Kite,PH,false,false"),
        write_csv("m.csv", METRICS_HEADER, f"{D},1,180,3.1,100", f"{D1},1,210,3.9,90", f"{D},2,,0,"),
        write_csv("a.csv", ACCOUNTS_HEADER, f"{D},1,glow,140", f"{D1},1,glow,190"),
        write_csv(
            "v.csv",
            VIOLATIONS_HEADER,
            f"V1,1,shop,,Late dispatch,{D},Enforced,Not appealed,4",
            f"V2,1,account,glow,Spam,{D1},Enforced,Not yet appealed,8",
        ),
    ]
    assert all(r.committed for r in import_files(factory, files))
    before = dump(factory)
    assert all(r.committed for r in import_files(factory, files))
    after = dump(factory)
    assert before == after
    assert len(after["shops"]) == 2 and len(after["metric_snapshots"]) == 3
    assert len(after["account_snapshots"]) == 2 and len(after["violations"]) == 2
    assert len(after["shop_health"]) == 2


def test_reimport_with_changed_rows_updates_them(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    import_files(
        factory,
        [
            write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true"),
            write_csv("m.csv", METRICS_HEADER, f"{D},1,180,3.1,100"),
            write_csv("v.csv", VIOLATIONS_HEADER, f"V1,1,shop,,Late dispatch,{D},Pending,Not appealed,4"),
        ],
    )
    results = import_files(
        factory,
        [
            write_csv("s2.csv", SHOPS_HEADER, "1,A,Glow Beauty,US,false,true"),
            write_csv("m2.csv", METRICS_HEADER, f"{D},1,150,2.9,120"),
            write_csv(
                "v2.csv", VIOLATIONS_HEADER, f"V1,1,shop,,Late dispatch,{D},Revoked,Appeal succeeded,0"
            ),
        ],
    )
    assert all(r.committed for r in results)
    with factory() as session:
        s = session.get(Shop, "1")
        m = session.scalars(select(MetricSnapshot)).all()
        v = session.get(Violation, "V1")
        h = session.get(ShopHealth, "1")
    assert s is not None and (s.shop_name, s.authorized) == ("Glow Beauty", False)
    assert [(x.ahr, x.sps_tenths, x.gmv_7d) for x in m] == [(150, 29, 120.0)]
    assert v is not None and (v.enforcement_status, v.appeal_status, v.points) == (
        "Revoked",
        "Appeal succeeded",
        0,
    )
    assert h is not None and h.ahr == 150


def test_a_key_repeated_with_different_values_is_a_bad_row_on_both_lines(
    factory, write_csv, two_shops
) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("m.csv", METRICS_HEADER, f"{D},1,180,3.1,100", f"{D},2,150,4.0,10", f"{D},1,170,3.0,90")
    result = one(import_files(factory, [path]))
    assert not result.committed and result.imported == 0
    assert errors_of(result) == [(2, "shop_id, date"), (4, "shop_id, date")]
    assert "also on line 4, with different values" in result.errors[0].reason
    assert "also on line 2" in result.errors[1].reason
    assert count(factory, MetricSnapshot) == 0


def test_a_key_repeated_with_the_same_values_is_fine(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    # The same values written differently (3.0 and 3, 90 and 90.00) are the same values.
    path = write_csv(
        "m.csv", METRICS_HEADER, f"{D},1,170,3.0,90", f"{D},2,,,", f"{D},1,170,3,90.00", f"{D},2,,,"
    )
    result = one(import_files(factory, [path]))
    assert result.committed and not result.errors
    with factory() as session:
        assert [
            (m.shop_id, m.ahr)
            for m in session.scalars(select(MetricSnapshot).order_by(MetricSnapshot.shop_id))
        ] == [
            ("1", 170),
            ("2", None),
        ]


def test_skip_invalid_leaves_out_both_lines_of_a_disagreeing_key(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("m.csv", METRICS_HEADER, f"{D},1,180,3.1,100", f"{D},2,150,4.0,10", f"{D},1,170,3.0,90")
    result = one(import_files(factory, [path], skip_invalid=True))
    assert result.committed and result.imported == 1
    assert errors_of(result) == [(2, "shop_id, date"), (4, "shop_id, date")]
    with factory() as session:
        assert [m.shop_id for m in session.scalars(select(MetricSnapshot))] == ["2"]


def test_a_shop_repeated_with_another_name_is_a_bad_row(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "s.csv", SHOPS_HEADER, "1,A1,Glow,US,yes,yes", "1,A1,Glow,US,yes,yes", "1,A1,Kite,US,yes,yes"
    )
    result = one(import_files(factory, [path]))
    assert errors_of(result) == [(2, "shop_id"), (4, "shop_id")]
    assert count(factory, Shop) == 0


def test_a_duplicated_header_column_is_a_file_error_naming_it(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("m.csv", "date,shop_id,ahr,sps,gmv_7d,AHR", f"{D},1,180,3.1,100,170")
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert len(result.errors) == 1 and "ahr" in result.errors[0].reason
    assert "repeats column" in result.errors[0].reason
    assert count(factory, MetricSnapshot) == 0


def test_status_words_match_loosely(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        "v.csv",
        VIOLATIONS_HEADER + ",violation_status",
        f"V1,1,shop,,P,{D},ENFORCED,APPEAL_FAILED (can appeal again),4,",
        f"V2,1,shop,,P,{D},No-Action,appeal-succeeded,4,",
        f"V3,1,account,h,P,{D},enforcement_pending,NOT YET APPEALED,4,Violation_-_Deduction",
        f"V4,1,account,h,P,{D},Violation  Warning,appeal   failed,4,VIOLATION - WARNING",
    )
    result = one(import_files(factory, [path]))
    assert result.committed, result.errors
    with factory() as session:
        rows = {
            v.violation_id: (v.enforcement_status, v.appeal_status, v.violation_status)
            for v in session.scalars(select(Violation))
        }
    assert rows == {
        "V1": ("Enforced", "Appeal failed (can appeal again)", None),
        "V2": ("No action", "Appeal succeeded", None),
        "V3": ("Enforcement pending", "Not appealed", "Violation - Deduction"),
        "V4": ("Violation warning", "Appeal failed", "Violation - Warning"),
    }


# ---- file-level errors ----


def test_unknown_header_names_the_missing_columns(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("x.csv", "date,shop_id,ahr,gmv", f"{D},1,200,10")
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert len(result.errors) == 1
    reason = result.errors[0].reason
    assert "metrics" in reason
    assert "sps" in reason and "gmv_7d" in reason
    found, needed = reason.split("also needs:")
    assert "Columns found: date, shop_id, ahr, gmv" in found
    assert "ahr" not in needed


def test_empty_file_is_a_file_level_error(factory, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert "empty" in result.errors[0].reason


def test_header_only_file_imports_nothing_cleanly(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    result = one(import_files(factory, [write_csv("s.csv", SHOPS_HEADER)]))
    assert result.committed and result.rows == 0 and not result.errors


def test_non_utf8_file_is_rejected(factory, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((SHOPS_HEADER + "\n1,A,Caf\xe9,US,true,true\n").encode("latin-1"))
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert "UTF-8" in result.errors[0].reason
    assert count(factory, Shop) == 0


def test_non_utf8_byte_deep_in_a_file_rejects_it_naming_the_right_line(factory, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    good = "".join(f"{n},C{n},Shop {n},US,true,true\n" for n in range(1, 1001))
    path.write_bytes((SHOPS_HEADER + "\n" + good).encode() + b"2000,Z,Caf\xe9,US,true,true\n")
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert count(factory, Shop) == 0
    assert "UTF-8" in result.errors[0].reason
    # the bad byte is on line 1002 (header + 1000 good rows)
    assert "line 1002" in result.errors[0].reason or result.errors[0].line == 1002, result.errors


def test_oversized_field_is_reported_not_raised(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    # An unbalanced quote makes the rest of a file one huge field; the csv module then raises.
    path = write_csv("s.csv", SHOPS_HEADER, '1,A,"' + "x" * 200_000 + '",US,true,true')
    results = import_files(factory, [path])
    assert not one(results).committed
    assert one(results).errors


def test_missing_file_is_reported(factory, tmp_path: Path) -> None:
    result = one(import_files(factory, [tmp_path / "nope.csv"]))
    assert not result.committed
    assert result.errors and "No such file" in result.errors[0].reason


def test_bad_file_does_not_block_a_good_one(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    good = write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true")
    bad = write_csv("m.csv", METRICS_HEADER, f"{D},1,9999,4.0,1")
    results = import_files(factory, [bad, good])
    assert [r.committed for r in results] == [True, False]
    assert count(factory, Shop) == 1


# ---- size ----


def test_large_file_imports_with_bounded_memory(factory, tmp_path: Path) -> None:
    shops_path = tmp_path / "shops.csv"
    metrics_path = tmp_path / "metrics.csv"
    n_shops, n_days = 600, 100
    with shops_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHOPS_HEADER.split(","))
        writer.writerows([f"S{i}", f"K{i}", f"Shop {i}", "US", "true", "true"] for i in range(n_shops))
    with metrics_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(METRICS_HEADER.split(","))
        for d in range(n_days):
            day = (TODAY - dt.timedelta(days=d)).isoformat()
            writer.writerows([day, f"S{i}", 200 + (i + d) % 300, "4.1", 100 + i] for i in range(n_shops))
    assert one(import_files(factory, [shops_path])).committed
    tracemalloc.start()
    try:
        result = one(import_files(factory, [metrics_path]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.committed and result.imported == n_shops * n_days
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert count(factory, ShopHealth) == n_shops


def test_a_large_import_spares_the_collector_the_objects_it_found_and_a_small_one_changes_nothing(
    factory,
) -> None:  # type: ignore[no-untyped-def]
    frozen: list[int] = []
    columns = SHOPS_HEADER.split(",")

    def rows(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            frozen.append(gc.get_freeze_count())
            yield i + 2, dict(zip(columns, [f"{i}", f"C{i}", f"Shop {i}", "US", "true", "true"], strict=True))

    assert import_source(factory, Kind.SHOPS, rows(1), source="one").committed
    assert frozen == [0]  # a small file: the collector as it was
    frozen.clear()
    assert import_source(factory, Kind.SHOPS, rows(5), source="large", batch_size=2).committed
    assert frozen[:2] == [0, 0] and min(frozen[2:]) > 1000  # frozen once a batch was full
    assert gc.get_freeze_count() == 0  # and handed back after it


# ---- the CLI ----


def test_cli_import_rejects_a_bad_file(factory, write_csv, cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    shops = write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true")
    bad = write_csv("m.csv", METRICS_HEADER, f"{D},1,200,4.0,1", f"{D1},1,abc,4.0,1")
    assert cli.main(["import", str(shops)]) == 0
    assert "imported 1 shops row" in capsys.readouterr().out
    assert cli.main(["import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "REJECTED" in out
    assert "line 3, column ahr" in out
    assert count(factory, MetricSnapshot) == 0


def test_cli_import_skip_invalid(factory, write_csv, cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    shops = write_csv("s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true", "2,B,Kite,US,maybe,true")
    assert cli.main(["import", "--skip-invalid", str(shops)]) == 0
    out = capsys.readouterr().out
    assert "imported 1 shops row, skipped 1 bad row" in out
    assert "line 3, column authorized" in out


def test_cli_import_oversized_field_is_rejected_without_a_traceback(  # type: ignore[no-untyped-def]
    factory, write_csv, cli_env, capsys
) -> None:
    path = write_csv("s.csv", SHOPS_HEADER, '1,A,"' + "x" * 200_000 + '",US,true,true')
    assert cli.main(["import", str(path)]) == 1
    assert "REJECTED" in capsys.readouterr().out


def test_ids_and_links_that_would_break_slack_messages_are_row_errors(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    # Owners end up in <@…>, channels in <#…>, links in <url|text>: anything else could ping
    # @channel or disguise a link in a seller's channel.
    path = write_csv(
        "shops.csv",
        "shop_id,shop_code,shop_name,region,authorized,chr_authorized,owner,slack_channel,auth_request_url",
        "1,A,Alpha,US,true,true,U1><!channel,C123,https://x.example/ok",
        "2,B,Beta,US,true,true,U2,C1> <!here,https://x.example/ok",
        "3,C,Gamma,US,true,true,U3,#seller-gamma,https://x.example/a|<!channel>",
        "4,D,Delta,US,true,true,U4,G0ABC,javascript:alert(1)",
        "5,E,Eps,US,true,true,W5,seller-eps,https://partner.example/req?shop=5&x=1",
    )
    (result,) = import_files(factory, [path])
    assert not result.committed
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "owner"),
        (3, "slack_channel"),
        (4, "auth_request_url"),
        (5, "auth_request_url"),
    ]


def test_settings_reject_a_link_template_with_an_unknown_placeholder() -> None:
    from pydantic import ValidationError

    from bot.settings import Settings

    with pytest.raises(ValidationError, match="shopid"):
        Settings(_env_file=None, healthbot_seller_center_url="https://x.example/{shopid}")  # type: ignore[call-arg]
    ok = Settings(_env_file=None, healthbot_auth_request_url="https://x.example/{shop_id}/{service_id}")  # type: ignore[call-arg]
    assert "{service_id}" in ok.healthbot_auth_request_url


# ---- staging: requests keep writing while a file is read ----


def test_requests_write_while_a_file_is_staged(factory, two_shops) -> None:  # type: ignore[no-untyped-def]
    # Rows are validated and staged (SQLite: in the connection's TEMP database) before one merge;
    # a request that writes meanwhile is not kept waiting (a short busy timeout would fail it).
    engine = factory.kw["bind"]

    def rows():  # type: ignore[no-untyped-def]
        for i in range(6):
            yield (
                i + 2,
                {
                    "date": (TODAY - dt.timedelta(days=i // 2)).isoformat(),
                    "shop_id": str(i % 2 + 1),
                    "ahr": str(200 + i),
                    "sps": "",
                    "gmv_7d": "",
                },
            )
            if i == 4:  # two batches of two are staged by now
                with engine.connect() as conn:
                    if engine.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA busy_timeout = 100")
                    conn.execute(
                        ActionClaim.__table__.insert(),  # type: ignore[attr-defined]
                        {"key": "during-import", "user_id": "U1", "created_at": dt.datetime.now(dt.UTC)},
                    )
                    conn.commit()

    result = import_source(factory, Kind.METRICS, rows(), source="test", batch_size=2)
    assert result.committed, result.errors
    assert count(factory, ActionClaim) == 1
    with factory() as session:
        assert sorted(m.ahr for m in session.scalars(select(MetricSnapshot))) == list(range(200, 206))


def test_an_import_leaves_sqlite_the_planner_statistics(tmp_path, write_csv) -> None:  # type: ignore[no-untyped-def]
    # Without them SQLite recomputes one shop's health by reading a whole day (the date index).
    # (PostgreSQL's autovacuum analyses by itself; the importer only hurries it after large files.)
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    shops = write_csv("s.csv", SHOPS_HEADER, "1,A1,Glow,US,yes,yes")
    assert all(
        r.committed
        for r in import_files(factory, [shops, write_csv("m.csv", METRICS_HEADER, f"{D},1,200,4.0,1")])
    )
    with engine.connect() as conn:
        tables = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
    engine.dispose()
    assert {"shops", "metric_snapshots", "shop_health"} <= tables


def test_a_rejected_file_names_its_repeated_keys_too(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("m.csv", METRICS_HEADER, f"{D},1,abc,3.1,100", f"{D},2,150,4.0,10", f"{D},2,140,4.0,10")
    result = one(import_files(factory, [path]))
    assert not result.committed
    assert errors_of(result) == [(2, "ahr"), (3, "shop_id, date"), (4, "shop_id, date")]


def test_an_ahr_given_to_48_point_shops_is_noted_once_per_import(factory, write_csv, cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    shops = write_csv(
        "s.csv", SHOPS_HEADER, "1,A,Glow,US,true,true", "2,B,Kite,PH,true,true", "3,C,Mo,my,true,true"
    )
    metrics = write_csv(
        "m.csv",
        METRICS_HEADER,
        f"{D},1,200,4.0,1",
        f"{D},2,200,4.0,1",
        f"{D1},2,210,4.0,1",
        f"{D},3,,4.0,1",  # no AHR given: nothing ignored
    )
    assert cli.main(["import", str(shops), str(metrics)]) == 0
    out = capsys.readouterr().out
    assert out.count("note: AHR ignored for 1 shop on the 48-point system") == 1
    assert count(factory, MetricSnapshot) == 4  # kept as given, only not used
    (again,) = import_files(factory, [metrics])
    reply = import_report([again])
    assert ":information_source: AHR ignored for 1 shop" in reply.blocks[0]["text"]["text"]
    (shops_only,) = import_files(factory, [shops])
    assert shops_only.notes == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("batch_size", [2, 1000], ids=["large file", "small file"])
def test_no_staging_table_outlives_its_import(factory, two_shops, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    # A small file's staging table is dropped; a large one's connection is closed instead (its TEMP
    # database goes with it at once), and the pool hands out a fresh one.
    columns = METRICS_HEADER.split(",")
    lines = [[day, shop_id, "300", "4.0", "1"] for day in (D1, D) for shop_id in ("1", "2")]
    rows = ((n, dict(zip(columns, line, strict=True))) for n, line in enumerate(lines, start=2))
    result = import_source(factory, Kind.METRICS, rows, source="m.csv", batch_size=batch_size)
    assert result.committed and result.imported == 4
    with factory.kw["bind"].connect() as conn:  # the import's own connection, when it is kept
        assert conn.exec_driver_sql("SELECT name FROM sqlite_temp_master").all() == []
    assert count(factory, MetricSnapshot) == 4


# ---- several files: the next one is read while the one before is merged ----


def _on_statement(engine: Any, starts: str, action: Any) -> Any:
    """Calls `action()` before any statement of `engine` that starts with `starts`; the listener
    is returned, for `event.remove`."""

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(starts):
            action()

    event.listen(engine, "before_cursor_execute", listener)
    return listener


def test_the_next_file_is_read_while_the_one_before_is_merged(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    metrics = write_csv("m.csv", METRICS_HEADER, f"{D},1,300,4.0,1", f"{D},2,120,3.0,1")
    accounts = write_csv("a.csv", ACCOUNTS_HEADER, f"{D},1,@one,40", f"{D},2,@two,90")
    engine = factory.kw["bind"]
    accounts_staged = threading.Event()
    waited: list[bool] = []
    listeners = [
        _on_statement(engine, "DROP TABLE IF EXISTS STAGING_ACCOUNTS", accounts_staged.set),
        # The scores' merge goes on only once the accounts file is being staged: done one after the
        # other, it would wait here in vain.
        _on_statement(
            engine, "INSERT INTO METRIC_SNAPSHOTS", lambda: waited.append(accounts_staged.wait(10))
        ),
    ]
    try:
        results = import_files(factory, [accounts, metrics])
    finally:
        for listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    assert waited and all(waited)
    assert [(r.kind, r.committed, r.imported) for r in results] == [
        (Kind.METRICS, True, 2),
        (Kind.ACCOUNTS, True, 2),
    ]
    with factory() as session:
        assert session.get(ShopHealth, "2").chr == 90  # type: ignore[union-attr]
    assert engine.pool.checkedout() == 0


def test_a_second_shops_file_is_read_once_the_first_is_merged(factory, write_csv) -> None:  # type: ignore[no-untyped-def]
    # Its validation reads the shops table: the code the first file gave is taken.
    first = write_csv("s1.csv", SHOPS_HEADER, "1,A1,Glow,US,true,true")
    second = write_csv("s2.csv", SHOPS_HEADER, "2,A1,Other,US,true,true", "3,C3,Third,US,true,true")
    results = import_files(factory, [first, second], skip_invalid=True)
    assert [r.committed for r in results] == [True, True]
    assert errors_of(results[1]) == [(2, "shop_code")]
    with factory() as session:
        assert session.scalars(select(Shop.shop_id).order_by(Shop.shop_id)).all() == ["1", "3"]


def test_a_failed_merge_leaves_no_file_staged_and_no_connection_held(factory, write_csv, two_shops) -> None:  # type: ignore[no-untyped-def]
    metrics = write_csv("m.csv", METRICS_HEADER, f"{D},1,300,4.0,1")
    accounts = write_csv("a.csv", ACCOUNTS_HEADER, f"{D},1,@one,40")
    engine = factory.kw["bind"]
    accounts_staged = threading.Event()

    def fail() -> None:
        accounts_staged.wait(10)  # the accounts file is staged by the time the scores' merge fails
        raise RuntimeError("the database went away")

    listeners = [
        _on_statement(engine, "DROP TABLE IF EXISTS STAGING_ACCOUNTS", accounts_staged.set),
        _on_statement(engine, "INSERT INTO METRIC_SNAPSHOTS", fail),
    ]
    try:
        with pytest.raises(RuntimeError, match="went away"):
            import_files(factory, [metrics, accounts])
    finally:
        for listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    assert engine.pool.checkedout() == 0
    # Every connection the pool holds, each asked of its own temporary tables (other tests'
    # imports may be staging on the same PostgreSQL server meanwhile).
    own = (
        "SELECT count(*) FROM sqlite_temp_master"
        if engine.dialect.name == "sqlite"
        else "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname ~ '^staging_'"
    )
    pooled = [engine.connect() for _ in range(max(1, engine.pool.checkedin()))]  # type: ignore[attr-defined]
    try:
        assert [conn.exec_driver_sql(own).scalar() for conn in pooled] == [0] * len(pooled)
    finally:
        for conn in pooled:
            conn.close()
    assert count(factory, MetricSnapshot) == count(factory, AccountSnapshot) == 0
    assert gc.get_freeze_count() == 0
