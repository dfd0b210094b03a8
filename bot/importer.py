"""CSV import for the four kinds of file in PRODUCT.md, known by their header.

One code path for files and for the demo generator: rows are validated one by one, written in
batches of upserts keyed on natural keys (so importing the same file twice changes nothing), inside
one transaction that is rolled back when any row is bad, unless `skip_invalid` is set. Memory stays
bounded: only the current batch and the list of errors are held.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.health import rebuild_shop_health, record_refresh
from bot.models import AccountSnapshot, Base, MetricSnapshot, SecuritySignal, Shop, Violation

BATCH_SIZE = 5000
MAX_ACCOUNTS_PER_SHOP = 5


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
MODELS: dict[Kind, type[Base]] = {
    Kind.SHOPS: Shop,
    Kind.METRICS: MetricSnapshot,
    Kind.ACCOUNTS: AccountSnapshot,
    Kind.VIOLATIONS: Violation,
    Kind.SECURITY: SecuritySignal,
}


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


# ---- field parsers: return the value or raise ValueError with a friendly reason ----


class _Bad(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def _text(row: dict[str, str], column: str, *, required: bool = True, max_len: int = 255) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise _Bad(column, "is empty")
        return None
    if len(value) > max_len:
        raise _Bad(column, f"is longer than {max_len} characters")
    return value


def _number(row: dict[str, str], column: str, noun: str = "a number") -> tuple[str, float] | None:
    """The cell's text and its value, None when blank; a row error when it is not a number."""
    value = (row.get(column) or "").strip()
    if noun == "an amount":  # thousands separators are fine in money
        value = value.replace(",", "")
    if not value:
        return None
    try:
        return value, float(value)
    except ValueError:
        raise _Bad(column, f"{value!r} is not {noun}") from None


def _int(row: dict[str, str], column: str, low: int, high: int, *, required: bool = False) -> int | None:
    parsed = _number(row, column)
    if parsed is None:
        if required:
            raise _Bad(column, "is empty")
        return None
    value, number = parsed
    if not number.is_integer():
        raise _Bad(column, f"{value!r} is not a whole number")
    if not low <= number <= high:
        raise _Bad(column, f"{value} is outside {low}..{high}")
    return int(number)


def _sps(row: dict[str, str]) -> int | None:
    parsed = _number(row, "sps")
    if parsed is None:
        return None
    value, number = parsed
    if not 0 <= number <= 5:
        raise _Bad("sps", f"{value} is outside 0..5")
    tenths = round(number * 10)
    if abs(number * 10 - tenths) > 1e-6:
        raise _Bad("sps", f"{value} has more than one decimal")
    return tenths


def _money(row: dict[str, str], column: str) -> float | None:
    parsed = _number(row, column, "an amount")
    if parsed is None:
        return None
    value, number = parsed
    if not math.isfinite(number) or number < 0:
        raise _Bad(column, f"{value} is not a non-negative amount")
    return number


def _date(row: dict[str, str], column: str, *, required: bool = True) -> dt.date | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise _Bad(column, "is empty")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value).date()  # a timestamp is fine too
    except ValueError:
        raise _Bad(column, f"{value!r} is not a date (YYYY-MM-DD)") from None


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def _bool(row: dict[str, str], column: str) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Bad(column, f"{value!r} is not true/false (yes/no, 1/0)")


def _status(
    row: dict[str, str], column: str, vocabulary: dict[str, str], *, required: bool = True
) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise _Bad(column, "is empty")
        return None
    known = vocabulary.get(domain.normalize_status(value))
    if known is None:
        raise _Bad(column, f"{value!r} is not one of: {', '.join(vocabulary.values())}")
    return known


def _handle(row: dict[str, str], *, required: bool = True) -> str | None:
    value = _text(row, "tiktok_handle", required=required, max_len=64)
    return value.lstrip("@") if value else None


class _Validator:
    """Turns raw rows into database rows, remembering what it needs across rows."""

    def __init__(self, session: Session, kind: Kind) -> None:
        self.kind = kind
        self.shop_ids: set[str] = set()
        self.code_owner: dict[str, str] = {}
        self.accounts: dict[str, set[str]] = {}
        if kind is Kind.SHOPS:
            self.code_owner = {
                code: shop_id for code, shop_id in session.execute(select(Shop.shop_code, Shop.shop_id))
            }
        else:
            self.shop_ids = set(session.scalars(select(Shop.shop_id)))
        if kind is Kind.ACCOUNTS:
            for shop_id, handle in session.execute(
                select(AccountSnapshot.shop_id, AccountSnapshot.tiktok_handle).distinct()
            ):
                self.accounts.setdefault(shop_id, set()).add(handle)
        self.parse: Callable[[dict[str, str]], dict[str, Any]] = getattr(self, f"_{kind.value}")

    def _known_shop(self, row: dict[str, str]) -> str:
        shop_id = _text(row, "shop_id", max_len=64)
        assert shop_id is not None
        if shop_id not in self.shop_ids:
            raise _Bad("shop_id", f"{shop_id!r} is not a known shop (import the shops file first)")
        return shop_id

    def _shops(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = _text(row, "shop_id", max_len=64)
        code = _text(row, "shop_code", max_len=64)
        assert shop_id is not None and code is not None
        if self.code_owner.setdefault(code, shop_id) != shop_id:
            raise _Bad("shop_code", f"{code!r} already belongs to shop {self.code_owner[code]}")
        region = _text(row, "region", max_len=8)
        assert region is not None
        # IDs end up inside <@…> and <#…> in messages: only Slack's own ID shapes are accepted.
        owner = _text(row, "owner", required=False, max_len=32)
        if owner and not _USER_ID.fullmatch(owner):
            raise _Bad("owner", f"{owner[:40]!r} is not a Slack user ID (U…)")
        channel = _text(row, "slack_channel", required=False, max_len=64)
        if channel and not _CHANNEL_ID.fullmatch(channel.lstrip("#")):
            raise _Bad(
                "slack_channel", f"{channel[:40]!r} is not a Slack channel ID (C…) or name (#seller-glow)"
            )
        parsed = {
            "shop_id": shop_id,
            "shop_code": code,
            "shop_name": _text(row, "shop_name"),
            "region": region.upper(),
            "authorized": _bool(row, "authorized"),
            "chr_authorized": _bool(row, "chr_authorized"),
            "owner": owner,
            "seller_center_url": _url(row, "seller_center_url"),
            "auth_request_url": _url(row, "auth_request_url"),
            "slack_channel": channel.lstrip("#") if channel else None,
        }
        # An optional column the file does not have leaves the stored value alone (e.g. an owner
        # assigned from Slack survives a shops file without an owner column).
        return {k: v for k, v in parsed.items() if k in REQUIRED[Kind.SHOPS] or k in row}

    def _metrics(self, row: dict[str, str]) -> dict[str, Any]:
        parsed = {
            "date": _date(row, "date"),
            "shop_id": self._known_shop(row),
            "ahr": _int(row, "ahr", 0, 1000),
            "sps_tenths": _sps(row),
            "gmv_7d": _money(row, "gmv_7d"),
        }
        if "completed_orders_7d" in row:  # optional column: absent leaves stored values alone
            parsed["completed_orders_7d"] = _int(row, "completed_orders_7d", 0, 100_000_000)
        return parsed

    def _accounts(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = self._known_shop(row)
        handle = _handle(row)
        assert handle is not None
        linked = self.accounts.setdefault(shop_id, set())
        if handle not in linked:
            if len(linked) >= MAX_ACCOUNTS_PER_SHOP:
                raise _Bad(
                    "tiktok_handle", f"shop {shop_id} already has {MAX_ACCOUNTS_PER_SHOP} linked accounts"
                )
            linked.add(handle)
        return {
            "date": _date(row, "date"),
            "shop_id": shop_id,
            "tiktok_handle": handle,
            "chr": _int(row, "chr", 0, 1000),
        }

    def _violations(self, row: dict[str, str]) -> dict[str, Any]:
        scope = (row.get("scope") or "").strip().lower()
        if scope not in {"shop", "account"}:
            raise _Bad("scope", f"{scope!r} is not shop or account")
        notified = _date(row, "notified_at")
        rejected = _date(row, "appeal_rejected_at", required=False)
        if rejected and notified and rejected < notified:
            raise _Bad("appeal_rejected_at", "is before notified_at")
        return {
            "violation_id": _text(row, "violation_id", max_len=64),
            "shop_id": self._known_shop(row),
            "scope": scope,
            "tiktok_handle": _handle(row, required=scope == "account"),
            "policy": _text(row, "policy"),
            "notified_at": notified,
            "enforcement_status": _status(row, "enforcement_status", domain.ENFORCEMENT_STATUSES),
            "appeal_status": _status(row, "appeal_status", domain.APPEAL_STATUSES),
            "points": _int(row, "points", 0, 1000, required=True),
            "appeal_rejected_at": rejected,
            "violation_status": _status(row, "violation_status", domain.VIOLATION_STATUSES, required=False),
        }

    def _security(self, row: dict[str, str]) -> dict[str, Any]:
        kind = SECURITY_KINDS.get(domain.normalize_status(row.get("kind") or ""))
        if kind is None:
            raise _Bad(
                "kind",
                f"{(row.get('kind') or '')[:40]!r} is not one of: security alert order, risk refund, fraud blocked",
            )
        state = SECURITY_STATES.get(domain.normalize_status(row.get("state") or ""))
        if state is None:
            raise _Bad("state", f"{(row.get('state') or '')[:40]!r} is not one of: open, resolved")
        parsed: dict[str, Any] = {
            "signal_id": _text(row, "signal_id", max_len=64),
            "shop_id": self._known_shop(row),
            "kind": kind,
            "occurred_at": _date(row, "occurred_at"),
            "state": "resolved" if kind == "fraud_blocked" else state,  # blocked fraud has nothing left to do
        }
        if "order_id" in row:
            parsed["order_id"] = _text(row, "order_id", required=False, max_len=64)
        if "amount" in row:
            parsed["amount"] = _money(row, "amount")
        return parsed


SECURITY_KINDS = {
    domain.normalize_status(word): kind
    for kind, words in {
        "alert_order": ("alert order", "alert_order", "security alert order", "security alert"),
        "risk_refund": ("risk refund", "risk_refund", "risk refund request"),
        "fraud_blocked": ("fraud blocked", "fraud_blocked", "confirmed fraud", "blocked"),
    }.items()
    for word in words
}
SECURITY_STATES = {
    domain.normalize_status(word): state
    for state, words in {
        "open": ("open", "pending", "new", "action needed"),
        "resolved": (
            "resolved",
            "closed",
            "cancelled",
            "canceled",
            "rejected",
            "accepted",
            "blocked",
            "done",
        ),
    }.items()
    for word in words
}


_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
# A channel ID (C…, G…) or a channel name as Slack allows them.
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,63}|[a-z0-9][a-z0-9_-]{0,79}")


def _url(row: dict[str, str], column: str) -> str | None:
    """An http(s) URL that is safe to put in a Slack message: no spaces and none of <, > or |."""
    value = _text(row, column, required=False, max_len=2000)
    if not value:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"[\s<>|]", value):
        raise _Bad(column, f"{value[:80]!r} is not a plain http(s) URL")
    return value


def _stamp_authorization(session: Session, rows: list[dict[str, Any]]) -> None:
    """Carry `authorization_lost_at` forward, stamping it when access goes from granted to lost."""
    current = {
        shop_id: (authorized, lost_at)
        for shop_id, authorized, lost_at in session.execute(
            select(Shop.shop_id, Shop.authorized, Shop.authorization_lost_at).where(
                Shop.shop_id.in_([r["shop_id"] for r in rows])
            )
        )
    }
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        was_authorized, lost_at = current.get(row["shop_id"], (None, None))
        if row["authorized"]:
            row["authorization_lost_at"] = None
        elif was_authorized:
            row["authorization_lost_at"] = now
        else:
            row["authorization_lost_at"] = lost_at


def _upsert(session: Session, kind: Kind, rows: list[dict[str, Any]]) -> None:
    if kind is Kind.SHOPS:
        _stamp_authorization(session, rows)
    conn = session.connection()
    table = cast(Table, MODELS[kind].__table__)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    # Rows of one file share their columns; rows given in code may not. Each set of columns is
    # written on its own, so an absent optional column never overwrites what is stored.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        updates = {name: stmt.excluded[name] for name in columns if name not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), group)


def import_rows(
    session: Session,
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    skip_invalid: bool = False,
) -> ImportResult:
    """Validate and upsert rows inside the caller's transaction; the caller commits or not."""
    result = ImportResult(source=source, kind=kind)
    validator = _Validator(session, kind)
    batch: list[dict[str, Any]] = []
    # Keyed on the natural key so a key repeated in one batch is written once (last wins).
    keys = [c.name for c in MODELS[kind].__table__.primary_key.columns]  # type: ignore[attr-defined]
    seen: dict[tuple[Any, ...], int] = {}
    for line, raw in rows:
        result.rows += 1
        try:
            parsed = validator.parse(raw)
        except _Bad as bad:
            result.errors.append(RowError(line, bad.column, str(bad)))
            continue
        if result.errors and not skip_invalid:
            continue  # the file will be rejected: keep validating, stop writing
        key = tuple(parsed[k] for k in keys)
        if key in seen:
            batch[seen[key]] = parsed
        else:
            seen[key] = len(batch)
            batch.append(parsed)
        result.imported += 1
        if len(batch) >= BATCH_SIZE:
            _upsert(session, kind, batch)
            batch.clear()
            seen.clear()
    if batch and (skip_invalid or not result.errors):
        _upsert(session, kind, batch)
    if result.errors and not skip_invalid:
        result.imported = 0
    return result


def import_files(
    factory: sessionmaker[Session], paths: Iterable[Path], *, skip_invalid: bool = False
) -> list[ImportResult]:
    """Import each file in its own transaction (shops first), then rebuild the derived health."""
    opened: list[tuple[Path, Kind, Iterator[tuple[int, dict[str, str]]]]] = []
    results: list[ImportResult] = []
    for path in paths:
        try:
            kind, rows = read_csv(path)
        except (ImportFileError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            results.append(ImportResult(str(path), Kind.SHOPS, errors=[RowError(1, "-", reason)]))
            continue
        opened.append((path, kind, rows))
    opened.sort(key=lambda item: KIND_ORDER.index(item[1]))
    for path, kind, rows in opened:
        results.append(import_source(factory, kind, rows, source=str(path), skip_invalid=skip_invalid))
    return results


def import_source(
    factory: sessionmaker[Session],
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    skip_invalid: bool = False,
    rebuild: bool = True,
) -> ImportResult:
    with factory() as session:
        try:
            with session.begin():
                result = import_rows(session, kind, rows, source=source, skip_invalid=skip_invalid)
                if result.errors and not skip_invalid:
                    raise _Rejected(result)
                if rebuild and kind in (Kind.METRICS, Kind.ACCOUNTS, Kind.SHOPS):
                    rebuild_shop_health(session)
                record_refresh(session, "csv")
        except _Rejected as rejected:
            return rejected.result
        except ImportFileError as exc:
            return ImportResult(source, kind, errors=[RowError(exc.line, "-", exc.reason)])
    result.committed = True
    return result


class _Rejected(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__("rejected")
        self.result = result
