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


def _first_bad_line(path: Path) -> tuple[int, str]:
    """The first line that is not UTF-8, and why (read again line by line: the rare, slow path)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.reason
    return 1, "invalid byte"


def read_csv(path: Path) -> tuple[Kind, Iterator[tuple[int, dict[str, str]]]]:
    """The file's kind and its rows as (line number, {column: value}), streamed.

    The file is decoded in chunks (fast); a bad byte is then reported on its own line by reading
    the file again line by line."""
    handle = path.open("r", encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)

    def not_utf8() -> ImportFileError:
        line, reason = _first_bad_line(path)
        return ImportFileError(f"not UTF-8 text ({reason})", line)

    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError("the file is empty: a header row is needed") from None
    except UnicodeDecodeError:
        handle.close()
        raise not_utf8() from None
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
    width = len(columns)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            while True:
                first_line = reader.line_num + 1  # a quoted field may span lines: name the first
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise not_utf8() from None
                except csv.Error as exc:
                    raise ImportFileError(str(exc), first_line) from None
                if not "".join(values).strip():
                    continue
                if len(values) < width:  # trailing empty fields left off come back as empty strings
                    values += [""] * (width - len(values))
                yield first_line, dict(zip(columns, values, strict=False))

    return kind, rows()
