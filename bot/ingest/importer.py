"""Import for the kinds of file in PRODUCT.md, known by their header.

One code path for files and for the demo generator: rows are validated one by one, written in
batches of upserts keyed on natural keys (so importing the same file twice changes nothing), inside
one transaction that is rolled back when any row is bad, unless `skip_invalid` is set. Memory stays
bounded: only the current batch and the list of errors are held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db.models import AccountSnapshot, Base, MetricSnapshot, Order, SecuritySignal, Shop, Violation
from bot.ingest import fields
from bot.ingest.fields import BadValue
from bot.ingest.formats import (
    KIND_ORDER,
    REQUIRED,
    VIOLATION_COUNTS,
    ImportFileError,
    ImportResult,
    Kind,
    RowError,
)
from bot.ingest.readers import open_file
from bot.services.health import rebuild_shop_health, record_refresh

BATCH_SIZE = 5000
MAX_ACCOUNTS_PER_SHOP = 5
MODELS: dict[Kind, type[Base]] = {
    Kind.SHOPS: Shop,
    Kind.METRICS: MetricSnapshot,
    Kind.ACCOUNTS: AccountSnapshot,
    Kind.VIOLATIONS: Violation,
    Kind.SECURITY: SecuritySignal,
    Kind.ORDERS: Order,
}


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
            "timezone": fields.timezone(row),
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
        for column in VIOLATION_COUNTS:  # Partner Center's Health List: counts as it gives them
            if column in row:
                parsed[column] = fields.integer(row, column, 0, 1_000_000)
        return parsed

    def _accounts(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = self._known_shop(row)
        handle = fields.handle(row)
        assert handle is not None
        linked = self.accounts.setdefault(shop_id, set())
        if handle not in linked:
            if len(linked) >= MAX_ACCOUNTS_PER_SHOP:
                raise BadValue(
                    "tiktok_handle", f"shop {shop_id} already has {MAX_ACCOUNTS_PER_SHOP} linked accounts"
                )
            linked.add(handle)
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

    def _orders(self, row: dict[str, str]) -> dict[str, Any]:
        status = domain.ORDER_STATUSES.get(domain.normalize_status(row.get("status") or ""))
        if status is None:
            known = ", ".join(dict.fromkeys(domain.ORDER_STATUSES.values()))
            raise BadValue("status", f"{(row.get('status') or '')[:40]!r} is not one of TikTok's: {known}")
        created = fields.timestamp(row, "created_at")
        parsed: dict[str, Any] = {
            "order_id": fields.text(row, "order_id", max_len=64),
            "shop_id": self._known_shop(row),
            "created_at": created,
            "status": status,
            "source": "csv",
            "due_at": None,  # settled again by the dispatch watch, in the shop's zone
            "due_zone": None,
        }
        for column in ("in_transit_at", "sla_deadline"):  # optional: absent leaves stored values alone
            if column in row:
                parsed[column] = fields.timestamp(row, column, required=False)
        if created and parsed.get("in_transit_at") and parsed["in_transit_at"] < created:
            raise BadValue("in_transit_at", "is before created_at")
        return parsed


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
        except BadValue as bad:
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
            readable = open_file(path)
            kind, rows = readable.kind, readable.rows
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
