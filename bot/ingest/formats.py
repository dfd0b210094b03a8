"""The kinds of file the importer takes, known by their header, and reading them as a stream.

A CSV file's rows come out one at a time as (line number, {column: value}); a bad byte or a broken
quote is reported on its own line. Errors carry line and column, as the import report shows them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    SHOPS = "shops"
    METRICS = "metrics"
    ACCOUNTS = "accounts"
    VIOLATIONS = "violations"
    SECURITY = "security"


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
}
# Files are imported in this order so that shops exist before their data.
KIND_ORDER = (Kind.SHOPS, Kind.METRICS, Kind.ACCOUNTS, Kind.VIOLATIONS, Kind.SECURITY)


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

    @property
    def bad_rows(self) -> int:
        return len({e.line for e in self.errors})


def detect_kind(header: Iterable[str]) -> Kind:
    columns = {c.strip().lower() for c in header}
    for kind in (Kind.SECURITY, Kind.VIOLATIONS, Kind.ACCOUNTS, Kind.METRICS, Kind.SHOPS):
        if set(REQUIRED[kind]) <= columns:
            return kind
    best = max(KIND_ORDER, key=lambda k: len(set(REQUIRED[k]) & columns))
    missing = [c for c in REQUIRED[best] if c not in columns]
    raise ImportFileError(
        f"cannot tell what kind of file this is; closest is a {best} file, "
        f"which also needs the column(s) {', '.join(missing)}"
    )


def _no_repeated_column(columns: list[str]) -> None:
    """Two columns of one name: which one holds the value is anyone's guess, so the file is refused."""
    first: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if name and name in first:
            raise ImportFileError(
                f"the column {name!r} appears twice in the header (columns {first[name]} and {position})", 1
            )
        first.setdefault(name, position)


def read_csv(path: Path) -> tuple[Kind, Iterator[tuple[int, dict[str, str]]]]:
    """The file's kind and its rows as (line number, {column: value}), streamed."""
    handle = path.open("rb")
    physical = 0  # physical lines read so far, for exact error positions

    def lines() -> Iterator[str]:
        # Decode line by line so a bad byte is reported on its own line, not a chunk later.
        nonlocal physical
        for raw in handle:
            physical += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFileError(f"not UTF-8 text ({exc.reason})", physical) from None
            yield text.removeprefix("\ufeff") if physical == 1 else text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError("the file is empty: a header row is needed") from None
    except ImportFileError:
        handle.close()
        raise
    except csv.Error as exc:
        handle.close()
        raise ImportFileError(str(exc), 1) from None
    columns = [c.strip().lower() for c in header]
    try:
        _no_repeated_column(columns)
        kind = detect_kind(columns)
    except ImportFileError:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            while True:
                first_line = physical + 1  # a quoted field may span lines: name the first
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportFileError(str(exc), first_line) from None
                if not any(v.strip() for v in values):
                    continue
                # Rows that leave off trailing empty fields get them back as empty strings.
                values += [""] * (len(columns) - len(values))
                yield first_line, dict(zip(columns, values, strict=False))

    return kind, rows()
