"""Reading files into the importer's input (PRODUCT.md "Data sources"): headers matched through one
alias table, Partner Center's layouts, the data date, CSV and XLSX with their own line numbers."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from bot.ingest.formats import ALIASES, ImportFileError, Kind, canonical_column, date_in_name, recognise
from bot.ingest.readers import open_file
from tests.support.files import ACCOUNT_HEALTH_HEADER, HEALTH_LIST_HEADER, csv_bytes, write, xlsx_bytes


def rows(path: Path, **kwargs: object) -> list[tuple[int, dict[str, str]]]:
    opened = open_file(path, **kwargs)  # type: ignore[arg-type]
    try:
        return list(opened.rows)
    finally:
        opened.close()


def test_every_alias_names_its_own_column_whatever_the_case_spaces_and_punctuation() -> None:
    for column, aliases in ALIASES.items():
        for alias in aliases:
            assert canonical_column(alias) == column
            assert canonical_column(alias.upper().replace(" ", "_")) == column
            assert canonical_column(f"  {alias.lower()}. ") == column
    assert canonical_column("Shop-ID") == "shop_id"
    assert canonical_column("Some Note") == "some note"  # unknown columns pass through, ignored later


def test_partner_center_layouts_are_told_from_ours_by_their_column_names() -> None:
    assert recognise(HEALTH_LIST_HEADER).layout.label == "Health List (Partner Center)"
    assert recognise(HEALTH_LIST_HEADER).layout.kind is Kind.METRICS
    assert recognise(["date", "shop_id", "ahr", "sps", "gmv_7d"]).layout.label == "metrics"
    assert recognise(ACCOUNT_HEALTH_HEADER).layout.label == "TikTok Account Health (Partner Center)"
    assert recognise(["date", "shop_id", "tiktok_handle", "chr"]).layout.label == "accounts"


def test_an_unknown_layout_names_the_columns_found_and_the_closest_expected_ones() -> None:
    with pytest.raises(ImportFileError) as caught:
        recognise(["Shop ID", "Shop Health Rating (AHR)", "Orders"])
    reason = caught.value.reason
    assert "Columns found: Shop ID, Shop Health Rating (AHR), Orders" in reason
    # Partner Center's words for Partner Center's layout.
    assert "Closest: Partner Center's Health List export, which also needs: " in reason
    assert reason.endswith("Shop Performance Score (SPS), Last 7 days GMV")


def test_a_layout_without_a_date_column_needs_the_date_from_elsewhere(tmp_path: Path) -> None:
    data = csv_bytes(HEALTH_LIST_HEADER, ["Glow", "GLOW1", "100", "850", "4.5", "1200", "0", "1", "1"])
    with pytest.raises(ImportFileError, match="no data date"):
        open_file(write(tmp_path / "health list.csv", data))
    named = rows(write(tmp_path / "Health_List_2026_11_20.csv", data))
    assert named[0][1]["date"] == "2026-11-20"
    given = rows(write(tmp_path / "health list.csv", data), data_date=dt.date(2026, 11, 21))
    assert given[0][1]["date"] == "2026-11-21"
    dated = csv_bytes(
        ("Date", *HEALTH_LIST_HEADER),
        ["2026-11-22", "Glow", "GLOW1", "100", "850", "4.5", "1", "0", "1", "1"],
    )
    from_column = open_file(write(tmp_path / "hl-2026-11-01.csv", dated), data_date=dt.date(2026, 1, 1))
    assert [r["date"] for _, r in from_column.rows] == ["2026-11-22"]  # a date column wins
    assert from_column.date_from == "column" and from_column.newest == dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("health-list-2026-11-24.xlsx", dt.date(2026, 11, 24)),
        ("HealthList_20261124.csv", dt.date(2026, 11, 24)),
        ("export 2026.11.24 (1).csv", dt.date(2026, 11, 24)),
        ("from-2026-11-01-to-2026-11-07.csv", dt.date(2026, 11, 7)),  # the last date: the data day
        ("health-list-2026-13-40.csv", None),
        ("shops.csv", None),
    ],
)
def test_date_in_file_name(name: str, expected: dt.date | None) -> None:
    assert date_in_name(name) == expected


def test_xlsx_rows_carry_their_spreadsheet_row_numbers_and_cells_read_as_text(tmp_path: Path) -> None:
    data = xlsx_bytes(
        ("Date", "Shop ID", "AHR score", "SPS score", "GMV 7d"),
        [dt.datetime(2026, 11, 24), 100, 850.0, 4.5, 1234.5],
        [None, None, None, None, None],  # a blank row: skipped, but it still counts for numbering
        ["2026-11-24", "200", "-", 0, None],
    )
    found = rows(write(tmp_path / "metrics.xlsx", data))
    assert [line for line, _ in found] == [2, 4]
    assert found[0][1] == {
        "date": "2026-11-24",
        "shop_id": "100",
        "ahr": "850",
        "sps": "4.5",
        "gmv_7d": "1234.5",
    }
    assert found[1][1]["ahr"] == "" and found[1][1]["sps"] == "0"  # Partner Center's "-" is no data


def test_xlsx_reads_the_first_sheet_or_the_one_named(tmp_path: Path) -> None:
    header = ("shop_id", "shop_code", "shop_name", "region", "authorized", "chr_authorized")
    path = write(
        tmp_path / "book.xlsx",
        xlsx_bytes(header, ["1", "A1", "A", "US", "yes", "yes"], sheet="Shops", before=("Notes",)),
    )
    with pytest.raises(ImportFileError, match="the sheet 'Notes' is empty"):
        open_file(path)
    assert rows(path, sheet="Shops")[0] == (
        2,
        {c: v for c, v in zip(header, ["1", "A1", "A", "US", "yes", "yes"], strict=True)},
    )
    with pytest.raises(ImportFileError, match=r"no sheet named 'Health'; sheets: Notes, Shops"):
        open_file(path, sheet="Health")


def test_csv_cells_read_as_the_spreadsheet_reader_reads_them(tmp_path: Path) -> None:
    """A CSV row goes the quick way (one zip); what it gives must equal the cell-by-cell reading."""
    header = ("date", "shop_id", "ahr", "sps", "gmv_7d")
    data = (
        "\ufeff"  # a byte-order mark before the header
        + ",".join(header)
        + "\n2026-11-24,1, - ,\u2014,-5\n"  # dashes with or without spaces are "no data"; -5 is not
        + " , -,--,\t,\n"  # nothing but blanks and dashes: a blank row, skipped
        + "20261201,2,10,1,2\n"  # a later day in ISO's basic form
        + "2026-11-30,3,10,1\n"  # a short row: the missing cell is blank
        + "2026-11-29,4,10,1,2,extra\n"  # cells past the header are ignored
        + "-,5,10,1,2\n"  # a dash for a date
    )
    opened = open_file(write(tmp_path / "metrics.csv", data.encode()))
    found = list(opened.rows)
    assert [line for line, _ in found] == [2, 4, 5, 6, 7]
    assert found[0][1] == {"date": "2026-11-24", "shop_id": "1", "ahr": "", "sps": "", "gmv_7d": "-5"}
    assert found[2][1]["gmv_7d"] == "" and found[3][1]["gmv_7d"] == "2" and found[4][1]["date"] == ""
    assert opened.newest == dt.date(2026, 12, 1)  # the newest day whatever its spelling
    opened.close()
    assert opened.position() == opened.total  # progress after the end: all of it


def test_a_bad_byte_is_reported_on_its_own_line_wherever_it_is(tmp_path: Path) -> None:
    in_header = write(tmp_path / "h.csv", b"date,shop_id,ahr,sps,gmv_\xff7d\n")
    with pytest.raises(ImportFileError, match=r"not UTF-8 text") as caught:
        open_file(in_header)
    assert caught.value.line == 1
    lines = b"".join(b"2026-11-24,%d,1,1,1\n" % n for n in range(3000))  # past the decoder's first chunk
    late = write(tmp_path / "l.csv", b"date,shop_id,ahr,sps,gmv_7d\n" + lines + b"2026-11-24,9,\xe9,1,1\n")
    with pytest.raises(ImportFileError, match=r"not UTF-8 text") as caught:
        list(open_file(late).rows)
    assert caught.value.line == 3002


def test_csv_line_numbers_separators_and_the_wrong_kind_of_file(tmp_path: Path) -> None:
    semicolons = write(
        tmp_path / "accounts.csv", b"date;shop_id;tiktok_handle;chr\n\n2026-11-24;1;@glow;180\n"
    )
    assert rows(semicolons) == [
        (3, {"date": "2026-11-24", "shop_id": "1", "tiktok_handle": "@glow", "chr": "180"})
    ]
    sheet = xlsx_bytes(("date", "shop_id", "tiktok_handle", "chr"))
    with pytest.raises(ImportFileError, match="is a spreadsheet, not CSV text"):
        open_file(write(tmp_path / "renamed.csv", sheet))
    with pytest.raises(ImportFileError, match="is not an Excel workbook"):
        open_file(write(tmp_path / "renamed.xlsx", b"date,shop_id\n"))
    with pytest.raises(ImportFileError, match=r"report\.pdf is not a \.csv or \.xlsx file"):
        open_file(write(tmp_path / "report.pdf", b"%PDF-1.4"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "not a workbook")
    with pytest.raises(ImportFileError, match="could not be read as an Excel workbook"):
        open_file(write(tmp_path / "other.xlsx", archive.getvalue()))


def test_the_readme_documents_the_alias_table_as_it_is() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- aliases:", 1)[1].split("<!-- /aliases -->", 1)[0]
    documented = dict(re.findall(r"^\| `([a-z0-9_]+)` \| (.+) \|$", table, re.M))
    assert documented == {column: ", ".join(aliases) for column, aliases in ALIASES.items()}
