"""Small builders for test data, written through the real importer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Acknowledgement, Shop, Snooze
from bot.ingest.formats import Kind
from bot.ingest.importer import import_source


def load(factory: sessionmaker[Session], kind: Kind, rows: Iterable[Mapping[str, object]]) -> None:
    """Import rows (values turned into CSV strings) and fail the test on any row error."""
    numbered = [
        (i + 2, {k: "" if v is None else str(v) for k, v in row.items()}) for i, row in enumerate(rows)
    ]
    result = import_source(factory, kind, numbered, source=f"test:{kind}")
    assert not result.errors, result.errors


def shop(
    shop_id: str, code: str | None = None, name: str | None = None, **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "shop_id": shop_id,
        "shop_code": code or f"C{shop_id}",
        "shop_name": name or f"Shop {shop_id}",
        "region": "US",
        "authorized": "true",
        "chr_authorized": "true",
    }
    row.update(extra)
    return row


def metric(
    shop_id: str, day: dt.date, ahr: int | None = None, sps: str | None = None, gmv: float | None = None
) -> dict[str, object]:
    return {"date": day.isoformat(), "shop_id": shop_id, "ahr": ahr, "sps": sps, "gmv_7d": gmv}


def account(shop_id: str, day: dt.date, handle: str, chr_: int | None) -> dict[str, object]:
    return {"date": day.isoformat(), "shop_id": shop_id, "tiktok_handle": handle, "chr": chr_}


def violation(violation_id: str, shop_id: str, notified: dt.date, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "violation_id": violation_id,
        "shop_id": shop_id,
        "scope": "shop",
        "tiktok_handle": "",
        "policy": "Late dispatch",
        "notified_at": notified.isoformat(),
        "enforcement_status": "Enforced",
        "appeal_status": "Not appealed",
        "points": 4,
    }
    row.update(extra)
    return row


# ---- what follow-up left in the database ----


def acks(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        return [
            (a.shop_id, a.user_id)
            for a in session.scalars(select(Acknowledgement).order_by(Acknowledgement.id))
        ]


def snoozes(factory: sessionmaker[Session]) -> dict[str, tuple[str, dt.date | None]]:
    with factory() as session:
        return {s.shop_id: (s.user_id, s.until) for s in session.scalars(select(Snooze))}


def owner(factory: sessionmaker[Session], shop_id: str = "S1") -> str | None:
    with factory() as session:
        found = session.get(Shop, shop_id)
        assert found is not None
        return found.owner
