"""Turning a file's raw rows into database rows: every field checked, with a friendly reason naming
the column when it is bad. What a batch of rows needs from the database is looked up once per batch."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from bot import domain
from bot.db.models import Shop
from bot.ingest import fields
from bot.ingest.fields import BadValue
from bot.ingest.formats import REQUIRED, VIOLATION_COUNTS, Kind

MAX_DAYS_KEPT = 4096  # parsed dates remembered (a file of daily rows has a few hundred)
# The metrics' optional counts and their largest value.
_METRIC_COUNTS = (("completed_orders_7d", 100_000_000), *((c, 1_000_000) for c in VIOLATION_COUNTS))
UNKNOWN_SHOP = "{!r} is not a known shop (import the shops file first)"
CODE_TAKEN = "{!r} already belongs to shop {}"


class Validator:
    """Turns raw rows into database rows, one at a time. What a batch of a shops file needs from
    the database (the owners of its codes) is looked up once per batch, for that batch's rows
    only. What is checked against the whole file or every shop is left to the staging table
    (`bot.ingest.importer`): a shop code given to two shops of the file, a row whose shop is not
    known, a shop's sixth TikTok account. Nothing is held per shop: at 1,000,000 shops a file's
    codes took ~180 MB and its accounts ~250 MB, and at 100,000 the known shop IDs and accounts
    were ~40 MB of a full import's peak."""

    def __init__(self, conn: Connection, kind: Kind) -> None:
        self.conn = conn
        self.kind = kind
        self.code_owner: dict[str, str] = {}  # the batch's codes that the database has
        self._days: dict[str, dt.date] = {}
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
            self.code_owner = {}
            codes = {(r.get("shop_code") or "").strip() for r in raws} - {""}
            if codes:
                query = select(Shop.shop_code, Shop.shop_id).where(Shop.shop_code.in_(codes))
                self.code_owner.update(self.conn.execute(query).all())

    @staticmethod
    def _shop_id(row: dict[str, str]) -> str:
        """The row's shop ID; whether the shop exists is asked of the staging table."""
        shop_id = fields.text(row, "shop_id", max_len=64)
        assert shop_id is not None
        return shop_id

    def _shops(self, row: dict[str, str]) -> dict[str, Any]:
        shop_id = fields.text(row, "shop_id", max_len=64)
        code = fields.text(row, "shop_code", max_len=64)
        assert shop_id is not None and code is not None
        holder = self.code_owner.get(code, shop_id)
        if holder != shop_id:
            raise BadValue("shop_code", CODE_TAKEN.format(code, holder))
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
            "shop_id": self._shop_id(row),
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

    # The two kinds with millions of rows get a fast path for rows whose every cell is plainly
    # valid (no spaces to strip, numbers in range, a known shop, an account already linked). Any
    # other row goes through the general path, which gives the same values or the exact error.

    def _metrics_fast(self, row: dict[str, str]) -> dict[str, Any] | None:
        try:
            shop_id = row["shop_id"]
            if not _plain(shop_id):
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
                "date": self._days.get(row["date"]) or self._day(row["date"]),
                "shop_id": shop_id,
                "ahr": ahr,
                "sps_tenths": sps,
                "gmv_7d": gmv,
            }
            for column, most in _METRIC_COUNTS:
                given = row.get(column)
                if given is not None:  # optional columns: absent leaves stored values alone
                    count = int(given) if given else None
                    if count is not None and not 0 <= count <= most:
                        return None
                    parsed[column] = count
            return parsed
        except (KeyError, ValueError):
            return None

    def _day(self, text: str) -> dt.date:
        """A plain ISO date, remembered (a file has few distinct ones). Raises ValueError."""
        day = dt.date.fromisoformat(text)
        if len(self._days) < MAX_DAYS_KEPT:
            self._days[text] = day
        return day

    def _accounts_fast(self, row: dict[str, str]) -> dict[str, Any] | None:
        try:
            shop_id, handle, chr_text = row["shop_id"], row["tiktok_handle"], row["chr"]
            if not (_plain(shop_id) and _plain(handle)) or handle[0] == "@":
                return None
            chr_ = int(chr_text) if chr_text else None
            if chr_ is not None and not 0 <= chr_ <= 1000:
                return None
            return {
                "date": self._days.get(row["date"]) or self._day(row["date"]),
                "shop_id": shop_id,
                "tiktok_handle": handle,
                "chr": chr_,
            }
        except (KeyError, ValueError):
            return None

    def _accounts(self, row: dict[str, str]) -> dict[str, Any]:
        return {
            "date": fields.date(row, "date"),
            "shop_id": self._shop_id(row),
            "tiktok_handle": fields.handle(row),
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
        parsed: dict[str, Any] = {
            "violation_id": fields.text(row, "violation_id", max_len=64),
            "shop_id": self._shop_id(row),
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
        assert notified is not None
        parsed["appeal_until"] = domain.appeal_until(
            domain.ViolationFacts(
                scope=scope,
                notified_at=notified,
                enforcement_status=parsed["enforcement_status"],
                appeal_status=parsed["appeal_status"],
                appeal_rejected_at=rejected,
                violation_status=parsed["violation_status"],
            )
        )
        return parsed

    def _orders(self, row: dict[str, str]) -> dict[str, Any]:
        status = domain.ORDER_STATUSES.get(domain.normalize_status(row.get("status") or ""))
        if status is None:
            known = ", ".join(dict.fromkeys(domain.ORDER_STATUSES.values()))
            raise BadValue("status", f"{(row.get('status') or '')[:40]!r} is not one of TikTok's: {known}")
        created = fields.timestamp(row, "created_at")
        parsed: dict[str, Any] = {
            "order_id": fields.text(row, "order_id", max_len=64),
            "shop_id": self._shop_id(row),
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
            "shop_id": self._shop_id(row),
            "kind": kind,
            "occurred_at": fields.date(row, "occurred_at"),
            "state": "resolved" if kind == "fraud_blocked" else state,  # blocked fraud has nothing left to do
        }
        if "order_id" in row:
            parsed["order_id"] = fields.text(row, "order_id", required=False, max_len=64)
        if "amount" in row:
            parsed["amount"] = fields.money(row, "amount")
        return parsed


def _plain(value: str) -> bool:
    """An ID the fast paths may take as it is: present, at most 64 characters, nothing to strip."""
    return bool(value) and len(value) <= 64 and value == value.strip()
