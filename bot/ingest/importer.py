"""CSV import for the kinds of file in PRODUCT.md, known by their header.

One code path for files and for the demo generator: rows are validated one by one and written in
batches to a staging table (`bot.ingest.staging`); when the whole file is good (or `skip_invalid`
is set) one upsert keyed on the natural keys merges it into the real table (so importing the same
file twice changes nothing), and the derived health of the shops it touched is recomputed in the
same transaction. A key on two lines with different values is a bad row on both lines. Memory
stays bounded: only the current batch, what the rows need from the database (looked up once per
batch) and the list of errors are held.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db.models import AccountSnapshot, Base, MetricSnapshot, SecuritySignal, Shop, ShopHealth, Violation
from bot.ingest import fields
from bot.ingest.fields import BadValue
from bot.ingest.formats import (
    KIND_ORDER,
    REQUIRED,
    ImportFileError,
    ImportResult,
    Kind,
    RowError,
    read_csv,
)
from bot.ingest.staging import Duplicate, Staging
from bot.services.health import record_refresh, refresh_shop_health
from bot.services.portfolio import data_changed

BATCH_SIZE = 5000
MAX_ACCOUNTS_PER_SHOP = 5
MODELS: dict[Kind, type[Base]] = {
    Kind.SHOPS: Shop,
    Kind.METRICS: MetricSnapshot,
    Kind.ACCOUNTS: AccountSnapshot,
    Kind.VIOLATIONS: Violation,
    Kind.SECURITY: SecuritySignal,
}


class _Validator:
    """Turns raw rows into database rows, remembering what it needs across rows. What a batch needs
    from the database (known shops, owners of shop codes, linked accounts) is looked up once per
    batch, for that batch's rows only, so a one-row file costs one small query whatever the size."""

    def __init__(self, conn: Connection, kind: Kind) -> None:
        self.conn = conn
        self.kind = kind
        self.shop_ids: set[str] = set()  # known to exist
        self.looked_up: set[str] = set()
        self.code_owner: dict[str, str] = {}
        self.accounts: dict[str, tuple[str, ...]] = {}  # linked handles (at most 5: a tuple is smallest)
        self._parse: Callable[[dict[str, str]], dict[str, Any]] = getattr(self, f"_{kind.value}")
        self._fast: Callable[[dict[str, str]], dict[str, Any] | None] | None = getattr(
            self, f"_{kind.value}_fast", None
        )

    def parse(self, row: dict[str, str]) -> dict[str, Any]:
        if self._fast is not None:
            parsed = self._fast(row)
            if parsed is not None:
                return parsed
        return self._parse(row)

    def prefetch(self, raws: Sequence[dict[str, str]]) -> None:
        if self.kind is Kind.SHOPS:
            codes = {(r.get("shop_code") or "").strip() for r in raws} - self.code_owner.keys() - {""}
            if codes:
                query = select(Shop.shop_code, Shop.shop_id).where(Shop.shop_code.in_(codes))
                for code, shop_id in self.conn.execute(query):
                    self.code_owner.setdefault(code, shop_id)
            return
        new = {(r.get("shop_id") or "").strip() for r in raws} - self.looked_up - {""}
        if not new:
            return
        self.looked_up |= new
        self.shop_ids.update(self.conn.scalars(select(Shop.shop_id).where(Shop.shop_id.in_(new))))
        if self.kind is Kind.ACCOUNTS:
            query = (
                select(AccountSnapshot.shop_id, AccountSnapshot.tiktok_handle)
                .where(AccountSnapshot.shop_id.in_(new))
                .distinct()
            )
            for shop_id, handle in self.conn.execute(query):
                self.accounts[shop_id] = (*self.accounts.get(shop_id, ()), handle)

    def _known_shop(self, row: dict[str, str]) -> str:
        shop_id = fields.text(row, "shop_id", max_len=64)
        assert shop_id is not None
        if shop_id not in self.shop_ids:
            raise BadValue("shop_id", f"{shop_id!r} is not a known shop (import the shops file first)")
        return shop_id

    def _shops(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = fields.text(row, "shop_id", max_len=64)
        code = fields.text(row, "shop_code", max_len=64)
        assert shop_id is not None and code is not None
        if self.code_owner.setdefault(code, shop_id) != shop_id:
            raise BadValue("shop_code", f"{code!r} already belongs to shop {self.code_owner[code]}")
        region = fields.text(row, "region", max_len=8)
        assert region is not None
        # IDs end up inside <@…> and <#…> in messages: only Slack's own ID shapes are accepted.
        owner = fields.text(row, "owner", required=False, max_len=32)
        if owner and not fields.USER_ID.fullmatch(owner):
            raise BadValue("owner", f"{owner[:40]!r} is not a Slack user ID (U…)")
        channel = fields.text(row, "slack_channel", required=False, max_len=64)
        if channel and not fields.CHANNEL_ID.fullmatch(channel.lstrip("#")):
            raise BadValue(
                "slack_channel", f"{channel[:40]!r} is not a Slack channel ID (C…) or name (#seller-glow)"
            )
        parsed = {
            "shop_id": shop_id,
            "shop_code": code,
            "shop_name": fields.text(row, "shop_name"),
            "region": region.upper(),
            "authorized": fields.boolean(row, "authorized"),
            "chr_authorized": fields.boolean(row, "chr_authorized"),
            "owner": owner,
            "seller_center_url": fields.url(row, "seller_center_url"),
            "auth_request_url": fields.url(row, "auth_request_url"),
            "slack_channel": channel.lstrip("#") if channel else None,
        }
        # An optional column the file does not have leaves the stored value alone (e.g. an owner
        # assigned from Slack survives a shops file without an owner column).
        return {k: v for k, v in parsed.items() if k in REQUIRED[Kind.SHOPS] or k in row}

    def _metrics(self, row: dict[str, str]) -> dict[str, Any]:
        parsed = {
            "date": fields.date(row, "date"),
            "shop_id": self._known_shop(row),
            "ahr": fields.integer(row, "ahr", 0, 1000),
            "sps_tenths": fields.sps(row),
            "gmv_7d": fields.money(row, "gmv_7d"),
        }
        if "completed_orders_7d" in row:  # optional column: absent leaves stored values alone
            parsed["completed_orders_7d"] = fields.integer(row, "completed_orders_7d", 0, 100_000_000)
        return parsed

    # The two kinds with millions of rows get a fast path for rows whose every cell is plainly
    # valid (no spaces to strip, numbers in range, a known shop, an account already linked). Any
    # other row goes through the general path, which gives the same values or the exact error.

    def _metrics_fast(self, row: dict[str, str]) -> dict[str, Any] | None:
        try:
            shop_id = row["shop_id"]
            if shop_id not in self.shop_ids:
                return None
            ahr_text, sps_text, gmv_text = row["ahr"], row["sps"], row["gmv_7d"]
            ahr = int(ahr_text) if ahr_text else None
            if ahr is not None and not 0 <= ahr <= 1000:
                return None
            sps = None
            if sps_text:
                number = float(sps_text)
                sps = round(number * 10)
                if not 0 <= number <= 5 or abs(number * 10 - sps) > 1e-6:
                    return None
            gmv = float(gmv_text) if gmv_text else None
            if gmv is not None and not 0 <= gmv < math.inf:
                return None
            parsed = {
                "date": dt.date.fromisoformat(row["date"]),
                "shop_id": shop_id,
                "ahr": ahr,
                "sps_tenths": sps,
                "gmv_7d": gmv,
            }
            orders = row.get("completed_orders_7d")
            if orders is not None:
                count = int(orders) if orders else None
                if count is not None and not 0 <= count <= 100_000_000:
                    return None
                parsed["completed_orders_7d"] = count
            return parsed
        except (KeyError, ValueError):
            return None

    def _accounts_fast(self, row: dict[str, str]) -> dict[str, Any] | None:
        try:
            shop_id, handle, chr_text = row["shop_id"], row["tiktok_handle"], row["chr"]
            if shop_id not in self.shop_ids or handle not in self.accounts.get(shop_id, ()):
                return None
            chr_ = int(chr_text) if chr_text else None
            if chr_ is not None and not 0 <= chr_ <= 1000:
                return None
            return {
                "date": dt.date.fromisoformat(row["date"]),
                "shop_id": shop_id,
                "tiktok_handle": handle,
                "chr": chr_,
            }
        except (KeyError, ValueError):
            return None

    def _accounts(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = self._known_shop(row)
        handle = fields.handle(row)
        assert handle is not None
        linked = self.accounts.get(shop_id, ())
        if handle not in linked:
            if len(linked) >= MAX_ACCOUNTS_PER_SHOP:
                raise BadValue(
                    "tiktok_handle", f"shop {shop_id} already has {MAX_ACCOUNTS_PER_SHOP} linked accounts"
                )
            self.accounts[shop_id] = (*linked, handle)
        return {
            "date": fields.date(row, "date"),
            "shop_id": shop_id,
            "tiktok_handle": handle,
            "chr": fields.integer(row, "chr", 0, 1000),
        }

    def _violations(self, row: dict[str, str]) -> dict[str, Any]:
        scope = (row.get("scope") or "").strip().lower()
        if scope not in {"shop", "account"}:
            raise BadValue("scope", f"{scope!r} is not shop or account")
        notified = fields.date(row, "notified_at")
        rejected = fields.date(row, "appeal_rejected_at", required=False)
        if rejected and notified and rejected < notified:
            raise BadValue("appeal_rejected_at", "is before notified_at")
        return {
            "violation_id": fields.text(row, "violation_id", max_len=64),
            "shop_id": self._known_shop(row),
            "scope": scope,
            "tiktok_handle": fields.handle(row, required=scope == "account"),
            "policy": fields.text(row, "policy"),
            "notified_at": notified,
            "enforcement_status": fields.status(row, "enforcement_status", domain.ENFORCEMENT_STATUSES),
            "appeal_status": fields.status(row, "appeal_status", domain.APPEAL_STATUSES),
            "points": fields.integer(row, "points", 0, 1000, required=True),
            "appeal_rejected_at": rejected,
            "violation_status": fields.status(
                row, "violation_status", domain.VIOLATION_STATUSES, required=False
            ),
        }

    def _security(self, row: dict[str, str]) -> dict[str, Any]:
        kind = fields.SECURITY_KINDS.get(domain.normalize_status(row.get("kind") or ""))
        if kind is None:
            raise BadValue(
                "kind",
                f"{(row.get('kind') or '')[:40]!r} is not one of: security alert order, risk refund, fraud blocked",
            )
        state = fields.SECURITY_STATES.get(domain.normalize_status(row.get("state") or ""))
        if state is None:
            raise BadValue("state", f"{(row.get('state') or '')[:40]!r} is not one of: open, resolved")
        parsed: dict[str, Any] = {
            "signal_id": fields.text(row, "signal_id", max_len=64),
            "shop_id": self._known_shop(row),
            "kind": kind,
            "occurred_at": fields.date(row, "occurred_at"),
            "state": "resolved" if kind == "fraud_blocked" else state,  # blocked fraud has nothing left to do
        }
        if "order_id" in row:
            parsed["order_id"] = fields.text(row, "order_id", required=False, max_len=64)
        if "amount" in row:
            parsed["amount"] = fields.money(row, "amount")
        return parsed


# Columns a file of the kind may leave out (then the stored values stay as they are).
OPTIONAL: dict[Kind, tuple[str, ...]] = {
    Kind.SHOPS: ("owner", "seller_center_url", "auth_request_url", "slack_channel"),
    Kind.METRICS: ("completed_orders_7d",),
    Kind.ACCOUNTS: (),
    Kind.VIOLATIONS: (),
    Kind.SECURITY: ("order_id", "amount"),
}
HEALTH_KINDS = (Kind.SHOPS, Kind.METRICS, Kind.ACCOUNTS)  # what `shop_health` is derived from


def _stage(
    staging: Staging,
    validator: _Validator,
    rows: Iterable[tuple[int, dict[str, str]]],
    result: ImportResult,
    *,
    skip_invalid: bool,
    batch_size: int,
) -> None:
    """Validate every row; stage the good ones (all of them are checked even once one is bad)."""
    raws: list[tuple[int, dict[str, str]]] = []

    def flush() -> None:
        validator.prefetch([raw for _, raw in raws])
        good: list[tuple[int, dict[str, Any]]] = []
        for line, raw in raws:
            try:
                good.append((line, validator.parse(raw)))
            except BadValue as bad:
                result.errors.append(RowError(line, bad.column, str(bad)))
        result.imported += len(good)
        if skip_invalid or not result.errors:  # else the file will be rejected: stop writing
            staging.write(good)
        raws.clear()

    for line, raw in rows:
        result.rows += 1
        raws.append((line, raw))
        if len(raws) >= batch_size:
            flush()
    flush()


def _duplicate_errors(staging: Staging, result: ImportResult, kind: Kind) -> list[Duplicate]:
    """A key on several lines is fine when the lines agree; when they differ both lines are bad."""
    duplicates = staging.duplicates()
    conflicting = [d for d in duplicates if d.conflicting]
    column = ", ".join(staging.keys)
    for d in conflicting:
        key = ", ".join(str(v) for v in d.key)
        for line, other in ((d.first_line, d.last_line), (d.last_line, d.first_line)):
            reason = f"{column} {key} is also on line {other}, with different values"
            result.errors.append(RowError(line, column, reason))
    result.errors.sort(key=lambda e: e.line)
    return duplicates


def _analyze(conn: Connection, table: Table, *, rows: int) -> None:
    """Keep the planner's statistics current, so that e.g. recomputing one shop's health reads
    that shop's rows by primary key rather than a whole day by the date index. SQLite samples
    (`analysis_limit`): a few milliseconds at any size; PostgreSQL's autovacuum catches up by
    itself, so only a large import is analysed at once."""
    names = [table.name, ShopHealth.__tablename__]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit = 400")
        for name in names:
            conn.exec_driver_sql(f"ANALYZE {name}")
    elif rows >= 50_000:
        for name in names:
            conn.exec_driver_sql(f"ANALYZE {name}")


def import_rows(
    conn: Connection,
    kind: Kind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    skip_invalid: bool = False,
    rebuild: bool = True,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Validate, stage and merge one file on `conn`, committing when it is accepted.

    SQLite: staging writes only the connection's TEMP database, so the main database's write lock
    is held only by the merge transaction at the end."""
    result = ImportResult(source=source, kind=kind)
    table = cast(Table, MODELS[kind].__table__)
    staging = Staging(conn, table, optional=OPTIONAL[kind], name=f"staging_{kind.value}")
    try:
        _stage(
            staging,
            _Validator(conn, kind),
            rows,
            result,
            skip_invalid=skip_invalid,
            batch_size=batch_size,
        )
        now = dt.datetime.now(dt.UTC)
        conn.commit()  # the staged rows; the merge starts a fresh transaction (no stale snapshot)
        # PostgreSQL refuses to upsert one key twice in a statement, which tells us at no cost
        # whether any key is repeated; SQLite finds that out with a count over the ordered staging.
        if result.errors or not staging.merge_unless_repeated(now):
            duplicates = _duplicate_errors(staging, result, kind)
            if result.errors and not skip_invalid:
                result.imported = 0
                return result
            conflicting = [d for d in duplicates if d.conflicting]
            if conflicting:
                staging.discard(conflicting)
                result.imported -= sum(d.lines for d in conflicting)
            staging.merge(deduplicate=bool(duplicates), now=now)
        with Session(bind=conn) as session:  # joins the merge's transaction
            if rebuild and kind in HEALTH_KINDS:
                refresh_shop_health(session, staging.shop_ids())
                data_changed(session)
            record_refresh(session, "csv")
            session.flush()
        _analyze(conn, table, rows=result.imported)
        conn.commit()
        result.committed = True
        return result
    finally:
        conn.rollback()
        staging.drop()
        conn.commit()


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
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import one source's rows in its own transaction; nothing is written when it is rejected."""
    engine = factory.kw["bind"]
    with engine.connect() as conn:
        try:
            return import_rows(
                conn,
                kind,
                rows,
                source=source,
                skip_invalid=skip_invalid,
                rebuild=rebuild,
                batch_size=batch_size,
            )
        except ImportFileError as exc:
            return ImportResult(source, kind, errors=[RowError(exc.line, "-", exc.reason)])
