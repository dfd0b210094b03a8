"""The kinds of file the importer takes, and how a file's header says which one it is.

A header cell is matched case-, space- and punctuation-insensitively ("Shop ID", "shop_id" and
"SHOP-ID" are one column) through one alias table, `ALIASES`: our own column names, and Partner
Center's words for the same thing. A file is one of `LAYOUTS`: our six CSV kinds, Partner Center's
Health List export (one row per shop, with its 7d / 60d / appealable violation counts as Partner
Center gives them), or its TikTok Account Health export (one row per TikTok handle); an export is
told from our file of the same kind by its column names. Partner Center's exports carry no
date column: the data date then comes from the file name (`health-list-2026-11-24.xlsx`) or
`--date`. An unknown layout is refused with the columns found and the closest layout's missing ones.

Reading the bytes (CSV or XLSX, streamed) is `readers.py`; validating and writing rows is the
importer. Errors carry line and column, as the import report shows them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    SHOPS = "shops"
    METRICS = "metrics"
    ACCOUNTS = "accounts"
    VIOLATIONS = "violations"
    SECURITY = "security"
    ORDERS = "orders"


REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.SHOPS: ("shop_id", "shop_code", "shop_name", "region", "authorized", "chr_authorized"),
    Kind.METRICS: ("date", "shop_id", "ahr", "sps", "gmv_7d"),
    Kind.ACCOUNTS: ("date", "shop_id", "tiktok_handle", "chr"),
    Kind.VIOLATIONS: (
        "violation_id",
        "shop_id",
        "scope",
        "tiktok_handle",
        "policy",
        "notified_at",
        "enforcement_status",
        "appeal_status",
        "points",
    ),
    Kind.SECURITY: ("signal_id", "shop_id", "kind", "occurred_at", "state"),
    Kind.ORDERS: ("order_id", "shop_id", "created_at", "status"),
}
# Files are imported in this order so that shops exist before their data.
KIND_ORDER = (Kind.SHOPS, Kind.METRICS, Kind.ACCOUNTS, Kind.VIOLATIONS, Kind.SECURITY, Kind.ORDERS)
# The one column that may come from outside the file (its name, or --date) instead of a cell.
DATE_COLUMN = "date"
VIOLATION_COUNTS = ("violations_7d", "violations_60d", "violations_appealable")

# Every other spelling of a column, by its canonical name. Our own names are always accepted too.
# Matching ignores case, spaces and punctuation, so "Shop Health Rating (AHR)" also matches
# "shop health rating ahr". The first alias is how a missing column is named in a refusal.
ALIASES: dict[str, tuple[str, ...]] = {
    "shop_id": ("Shop ID", "Seller ID"),
    "shop_code": ("Shop code", "Seller code"),
    "shop_name": ("Shop name", "Seller name"),
    DATE_COLUMN: ("Date", "Data date", "Snapshot date", "Report date", "Stat date", "As of"),
    "ahr": (
        "Shop Health Rating (AHR)",
        "Shop Health Rating",
        "Account Health Rating (AHR)",
        "AHR score",
    ),
    "sps": ("Shop Performance Score (SPS)", "Shop Performance Score", "SPS score"),
    "gmv_7d": ("Last 7 days GMV", "GMV (last 7 days)", "GMV last 7 days", "L7D GMV", "7-day GMV", "GMV 7d"),
    "violations_7d": (
        "Last 7 days violations",
        "Violations (last 7 days)",
        "Violations last 7 days",
        "Last 7 days",
    ),
    "violations_60d": (
        "Last 60 days violations",
        "Violations (last 60 days)",
        "Violations last 60 days",
        "Last 60 days",
    ),
    "violations_appealable": ("Appealable violations", "Violations appealable", "Appealable"),
    "tiktok_handle": ("TikTok handle", "TikTok account", "TikTok username", "Handle"),
    "chr": (
        "Account Health Rating (CHR)",
        "TikTok account health rating",
        "TikTok account health",
        "CHR score",
    ),
}


def normalize_header(text: str) -> str:
    """The matching key of a header cell: lower case, letters and digits only."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    canonical = {c for columns in REQUIRED.values() for c in columns} | set(ALIASES)
    for name in sorted(canonical):
        index[normalize_header(name)] = name
    for name, aliases in ALIASES.items():
        for alias in aliases:
            key = normalize_header(alias)
            if index.setdefault(key, name) != name:  # a test keeps the table unambiguous
                raise ValueError(f"alias {alias!r} names both {index[key]} and {name}")
    return index


_INDEX = _alias_index()


def canonical_column(header: str) -> str:
    """The column a header cell names: a canonical name, or (unknown) the cell stripped and lower-cased,
    so optional columns and extra ones keep working as before."""
    return _INDEX.get(normalize_header(header)) or header.strip().lower()


def display_name(column: str, *, partner: bool) -> str:
    """How a refusal names a column: Partner Center's words for its layouts, ours for our files."""
    return ALIASES[column][0] if partner and column in ALIASES else column


@dataclass(frozen=True)
class Layout:
    """One file layout: which importer kind its rows are, and the columns that identify it."""

    name: str  # "shops", "Health List"
    kind: Kind
    required: tuple[str, ...]
    partner: bool = False  # Partner Center's export (columns named its way)

    @property
    def label(self) -> str:
        """As a reply names it: "metrics", "Health List (Partner Center)"."""
        return f"{self.name} (Partner Center)" if self.partner else self.name

    @property
    def noun(self) -> str:
        return f"Partner Center's {self.name} export" if self.partner else f"a {self.name} file"


LAYOUTS = (
    Layout("orders", Kind.ORDERS, REQUIRED[Kind.ORDERS]),
    Layout("security", Kind.SECURITY, REQUIRED[Kind.SECURITY]),
    Layout("violations", Kind.VIOLATIONS, REQUIRED[Kind.VIOLATIONS]),
    Layout("Health List", Kind.METRICS, REQUIRED[Kind.METRICS], partner=True),
    Layout("metrics", Kind.METRICS, REQUIRED[Kind.METRICS]),
    Layout("TikTok Account Health", Kind.ACCOUNTS, REQUIRED[Kind.ACCOUNTS], partner=True),
    Layout("accounts", Kind.ACCOUNTS, REQUIRED[Kind.ACCOUNTS]),
    Layout("shops", Kind.SHOPS, REQUIRED[Kind.SHOPS]),
)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unknown kind, missing columns, unreadable)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


@dataclass
class ImportResult:
    source: str
    kind: Kind
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    layout: str = ""  # the layout's name, when known ("Health List (Partner Center)")
    data_date: dt.date | None = None  # the newest data day in the file, when it has one
    notes: list[str] = field(default_factory=list)  # what was imported but is not used, said once

    @property
    def bad_rows(self) -> int:
        return len({e.line for e in self.errors})

    @classmethod
    def unreadable(cls, source: str, kind: Kind, error: ImportFileError) -> ImportResult:
        """A file that could not be read to its end: nothing imported, one error naming the line."""
        return cls(source, kind, errors=[RowError(error.line, "-", error.reason)])


@dataclass(frozen=True)
class Header:
    """A header row, understood: the layout, and the canonical column of each position (None: blank)."""

    layout: Layout
    columns: tuple[str | None, ...]


def recognise(cells: Iterable[str], *, date_known: bool = True) -> Header:
    """The layout a header row names. `date_known`: a data date comes from outside the file, so a
    layout's date column may be missing. Raises ImportFileError naming what is missing."""
    raw = [c.strip() for c in cells]
    columns: list[str | None] = []
    taken: set[str] = set()
    ours = True  # every identifying column spelled our way
    for position, cell in enumerate(raw, start=1):
        column = canonical_column(cell) if cell else None
        if column is not None and column in taken:  # which of the two holds the data? Say so.
            first = next(i for i, c in enumerate(columns, start=1) if c == column)
            raise ImportFileError(
                f"the column {cell!r} (column {position}) repeats column {first} ({column}): "
                "keep one of them",
                1,
            )
        if column is not None:
            taken.add(column)
            ours = ours and (cell.lower() == column or column not in ALIASES)
        columns.append(column)
    found = taken | ({DATE_COLUMN} if date_known else set())
    matches = [layout for layout in LAYOUTS if set(layout.required) <= found]
    if not matches:
        raise ImportFileError(_unknown(raw, taken, date_known=date_known, ours=ours))
    most = max(len(m.required) for m in matches)
    best = [m for m in matches if len(m.required) == most]
    layout = next((m for m in best if m.partner != ours), best[0])
    return Header(layout, tuple(columns))


def _unknown(raw: list[str], found: set[str], *, date_known: bool, ours: bool) -> str:
    shown = ", ".join(c for c in raw if c) or "none"
    if DATE_COLUMN in found or date_known:
        found = found | {DATE_COLUMN}

    def missing(layout: Layout) -> list[str]:
        return [c for c in layout.required if c not in found]

    def distance(layout: Layout) -> tuple[float, bool, int]:
        # The fewest missing, then the layout spelled the way the file is, then the table's order.
        return len(missing(layout)) / len(layout.required), layout.partner == ours, LAYOUTS.index(layout)

    closest = min(LAYOUTS, key=distance)
    needed = ", ".join(display_name(c, partner=closest.partner) for c in missing(closest))
    if missing(closest) == [DATE_COLUMN]:
        return (
            f"this looks like {closest.noun} but it has no data date: add a date column, "
            "put the date in the file name (e.g. health-list-2026-11-24.xlsx), or give the date"
        )
    return (
        f"cannot tell what kind of file this is. Columns found: {shown}. "
        f"Closest: {closest.noun}, which also needs: {needed}"
    )


_NAME_DATE = re.compile(r"(?<!\d)(20\d\d)([-_. ]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")


def date_in_name(name: str) -> dt.date | None:
    """The last date written in a file name (2026-11-24, 2026_11_24, 20261124), if any."""
    found = None
    for match in _NAME_DATE.finditer(name):
        try:
            found = dt.date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            continue
    return found


def row_of(header: Header, values: Iterable[object]) -> dict[str, str]:
    """One data row as {canonical column: text}; cells past the header's end are ignored."""
    row: dict[str, str] = {}
    for column, value in zip(header.columns, values, strict=False):
        if column is not None:
            row[column] = cell_text(value)
    for column in header.columns:  # a row that stops early gets its trailing cells back as blanks
        if column is not None:
            row.setdefault(column, "")
    return row


def cell_text(value: object) -> str:
    """A cell as text: Partner Center's "-" (no data) is blank; spreadsheet numbers and dates are
    written the way a CSV would have them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return "" if text.strip() in ("-", "--", "—") else text
