"""Reading a file into the importer's input: its layout and its rows as (line number, {column: text}).

`.csv` (UTF-8, comma, semicolon or tab separated) and `.xlsx` (the first sheet, or the one named;
openpyxl's read-only mode, so a large workbook streams in bounded memory). A line number is the
CSV's physical line or the spreadsheet's row number, so a reported error points at what the person
sees. The data date of a layout that needs one comes from its date column, else `data_date`
(`--date`), else the file's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bot.ingest.formats import (
    DATE_COLUMN,
    Header,
    ImportFileError,
    Kind,
    Layout,
    cell_text,
    date_in_name,
    recognise,
    row_of,
)

SUFFIXES = (".csv", ".xlsx")
Rows = Iterator[tuple[int, dict[str, str]]]


@dataclass
class Opened:
    """A file ready to import: what it is, its rows (read once), and how far reading has got."""

    name: str
    layout: Layout
    rows: Rows
    date_from: str  # "column", "--date" or "file name"; "" when the layout has no date
    total: int | None = None  # progress units (bytes of a CSV, rows of a sheet), when known
    position: Callable[[], int] = lambda: 0
    newest: dt.date | None = None  # the newest data date seen so far
    close: Callable[[], None] = field(default=lambda: None)

    @property
    def kind(self) -> Kind:
        return self.layout.kind


def open_file(
    path: Path, *, name: str | None = None, sheet: str | None = None, data_date: dt.date | None = None
) -> Opened:
    """Open a .csv or .xlsx file; `name` is its name as the person knows it (an upload's), for the
    type and the date. Raises ImportFileError with a friendly reason."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFileError(f"{name} is not a .csv or .xlsx file")
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise ImportFileError(exc.strerror or str(exc)) from None
    outside = data_date or date_in_name(name)
    if suffix == ".xlsx":
        if not is_zip:
            raise ImportFileError(f"{name} is not an Excel workbook (.xlsx); save it again as .xlsx or .csv")
        opened = _open_xlsx(path, name, sheet, outside)
    else:
        if is_zip:
            raise ImportFileError(f"{name} is a spreadsheet, not CSV text: name it .xlsx, or save it as CSV")
        if sheet:
            raise ImportFileError("--sheet goes with .xlsx files; a CSV file has no sheets")
        opened = _open_csv(path, name, outside)
    opened.date_from = _date_source(opened.layout, opened.date_from, data_date)
    return opened


def _date_source(layout: Layout, header_has_date: str, given: dt.date | None) -> str:
    if DATE_COLUMN not in layout.required:
        return ""
    if header_has_date:
        return "column"
    return "--date" if given else "file name"


def _rows(
    header: Header,
    numbered: Iterator[tuple[int, list[Any]]],
    outside: dt.date | None,
    opened: Opened,
    *,
    texts: bool = False,
) -> Rows:
    """Rows as the importer takes them; blank rows are skipped, a missing date column is filled in.

    `texts`: every cell is text (CSV). Then a row as long as the header (with no blank header
    cell) is one `zip`, only the cells that could read as blank ("-", " ") looked at closely."""
    fill = outside.isoformat() if outside and DATE_COLUMN not in header.columns else None
    dated = DATE_COLUMN in header.layout.required
    names = cast(tuple[str, ...], header.columns) if texts and None not in header.columns else ()
    newest = ""  # the newest data date as ISO text (which compares as dates do): few rows parse one
    for line, values in numbered:
        if len(values) == len(names):
            row = {
                c: v if v[:1] not in _SUSPECT else cell_text(v) for c, v in zip(names, values, strict=True)
            }
            first = values[0] if values else ""
            if (not first or first[:1] in _SUSPECT) and not any(v.strip() for v in row.values()):
                continue
        else:
            if not any(cell_text(v).strip() for v in values):
                continue
            row = row_of(header, values)
        if fill is not None and dated:
            row[DATE_COLUMN] = fill
        when = row.get(DATE_COLUMN)
        if when and (when > newest or not when[:1].isdigit()):
            day = _day(when)
            if day is not None and (opened.newest is None or day > opened.newest):
                opened.newest = day
                newest = when if when == day.isoformat() else newest
        yield line, row


# The first character of a cell that `cell_text` may change ("-", "—", " - "): others pass as they are.
_SUSPECT = frozenset("-\u2014 \t\r\n\x0b\x0c")


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()[:10]) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------- CSV


def _open_csv(path: Path, name: str, outside: dt.date | None) -> Opened:
    handle = path.open("rb")
    # Decoded in chunks (a byte-order mark dropped); a bad byte is then found line by line.
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        try:
            first = text.readline()
        except UnicodeDecodeError:
            raise _undecodable(path) from None
        if not first:
            raise ImportFileError("the file is empty: a header row is needed")
        delimiter = max((",", ";", "\t"), key=first.count)
        reader = csv.reader(itertools.chain((first,), text), delimiter=delimiter)
        try:
            cells = next(reader)
        except csv.Error as exc:
            raise ImportFileError(str(exc), 1) from None
        header = recognise(cells, date_known=outside is not None)
    except BaseException:
        text.close()
        raise

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        with text:
            while True:
                first_line = reader.line_num + 1  # a quoted field may span lines: name the first
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportFileError(str(exc), first_line) from None
                except UnicodeDecodeError:
                    raise _undecodable(path) from None
                yield first_line, values

    size = path.stat().st_size
    opened = Opened(
        name=name,
        layout=header.layout,
        rows=iter(()),
        date_from="column" if DATE_COLUMN in header.columns else "",
        total=size,
        position=lambda: size if handle.closed else handle.tell(),
        close=text.close,
    )
    opened.rows = _rows(header, numbered(), outside, opened, texts=True)
    return opened


def _undecodable(path: Path) -> ImportFileError:
    """The error for a file that is not UTF-8, naming the line of its first bad byte."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return ImportFileError(f"not UTF-8 text ({exc.reason})", number)
    return ImportFileError("not UTF-8 text")


# ---------------------------------------------------------------- XLSX


def _open_xlsx(path: Path, name: str, sheet: str | None, outside: dt.date | None) -> Opened:
    import openpyxl  # imported on demand: most imports are CSV
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportFileError(f"{name} could not be read as an Excel workbook (.xlsx)") from None
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise ImportFileError(
                    f"there is no sheet named {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
                )
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        cells = iter(enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1))
        header_line = 0
        header: Header | None = None
        for line, values in cells:  # the header is the first row with anything in it
            texts = [cell_text(v) for v in values]
            if any(t.strip() for t in texts):
                header_line = line
                header = recognise(texts, date_known=outside is not None)
                break
        if header is None:
            raise ImportFileError(f"the sheet {worksheet.title!r} is empty: a header row is needed")
    except BaseException:
        workbook.close()
        raise
    state = {"row": header_line}

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            for line, values in cells:
                state["row"] = line
                yield line, list(values)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ImportFileError(
                f"the workbook is damaged ({type(exc).__name__})", state["row"] + 1
            ) from None
        finally:
            workbook.close()

    max_row = worksheet.max_row if isinstance(worksheet.max_row, int) else None
    opened = Opened(
        name=name,
        layout=header.layout,
        rows=iter(()),
        date_from="column" if DATE_COLUMN in header.columns else "",
        total=max_row,
        position=lambda: state["row"],
        close=workbook.close,
    )
    opened.rows = _rows(header, numbered(), outside, opened)
    return opened
