"""Files as people hand them to the bot: CSV text, .xlsx workbooks (openpyxl), and Partner Center's
own exports built with its column names."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl

Cell = object
HEALTH_LIST_HEADER = (
    "Shop name",
    "Shop code",
    "Shop ID",
    "Shop Health Rating (AHR)",
    "Shop Performance Score (SPS)",
    "Last 7 days GMV",
    "Last 7 days violations",
    "Last 60 days violations",
    "Appealable violations",
)
ACCOUNT_HEALTH_HEADER = ("TikTok handle", "Shop ID", "Shop name", "Account Health Rating (CHR)")


def csv_bytes(header: Sequence[Cell], *rows: Sequence[Cell]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(
    header: Sequence[Cell], *rows: Sequence[Cell], sheet: str = "Sheet1", before: Sequence[str] = ()
) -> bytes:
    """A workbook whose sheets `before` (empty) come first, then `sheet` with the header and rows."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    for name in before:
        workbook.create_sheet(name)
    target = workbook.create_sheet(sheet) if before else first
    if before:
        workbook.remove(first)
    else:
        target.title = sheet
    target.append(list(header))
    for row in rows:
        target.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
