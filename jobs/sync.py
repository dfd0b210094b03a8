"""Scheduled sync: CSV files dropped in a folder, and the TikTok Shop Open API.

Each source runs in its own transaction and records its own freshness, so a failure of one never
wipes or blocks data from another; the cards' freshness stamp names a failing or stale source.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.db.models import ApiToken, MetricSnapshot, Shop, ShopHealth
from bot.ingest.importer import import_files
from bot.ingest.tiktok.client import TikTokClient
from bot.ingest.tiktok.errors import TikTokError
from bot.services.access import set_authorization
from bot.services.health import record_refresh, refresh_shop_health
from bot.services.portfolio import data_changed
from bot.settings import Settings

log = logging.getLogger(__name__)
FOLDER_SOURCE = "csv-folder"
TIKTOK_SOURCE = "tiktok"


@dataclass
class SyncReport:
    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    shops_authorized: int = 0
    shops_deauthorized: int = 0
    gmv_updated: int = 0


def sync_folder(factory: sessionmaker[Session], folder: Path, report: SyncReport) -> None:
    """Import every CSV in the folder; move each aside to imported/ or rejected/ with an error report."""
    if not folder.is_dir():
        raise FileNotFoundError(2, "no such folder", str(folder))
    files = sorted(p for p in folder.glob("*.csv") if p.is_file())
    if not files:
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    for result in import_files(factory, files):
        path = Path(result.source)
        ok = result.committed and not result.errors
        target = folder / ("imported" if ok else "rejected")
        target.mkdir(exist_ok=True)
        moved = target / f"{stamp}-{path.name}"
        copies = 1
        while moved.exists():  # the same name synced twice in one instant keeps both copies
            copies += 1
            moved = target / f"{stamp}-{copies}-{path.name}"
        shutil.move(str(path), moved)
        if ok:
            report.imported.append(path.name)
        else:
            report.rejected.append(path.name)
            lines = [
                f"{path.name}: rejected, nothing imported ({result.bad_rows} bad row(s))",
                *map(str, result.errors),
            ]
            moved.with_suffix(".errors.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if report.rejected:
        with transaction(factory) as session:
            record_refresh(session, FOLDER_SOURCE, error=f"rejected: {', '.join(report.rejected)}")
    elif report.imported:
        with transaction(factory) as session:
            record_refresh(session, FOLDER_SOURCE)


def sync_tiktok(
    factory: sessionmaker[Session], client: TikTokClient, report: SyncReport, *, today: dt.date
) -> None:
    """Mark shops authorized or not by the API's list, and refresh their last-7-days GMV."""
    listed = client.authorized_shops()
    now = dt.datetime.now(dt.UTC)
    by_id = {s.shop_id: s for s in listed}
    with transaction(factory) as session:
        for shop in session.scalars(select(Shop)):
            if set_authorization(session, shop.shop_id, shop.shop_id in by_id, now):
                if shop.shop_id in by_id:
                    report.shops_authorized += 1
                else:
                    report.shops_deauthorized += 1
        known = set(session.scalars(select(Shop.shop_id)))
        new = [api_shop for api_shop in listed if api_shop.shop_id not in known]
        for api_shop in new:
            session.add(
                Shop(
                    shop_id=api_shop.shop_id,
                    shop_code=api_shop.code or api_shop.shop_id,
                    shop_name=api_shop.name,
                    region=api_shop.region.upper(),
                    authorized=True,
                    chr_authorized=False,
                )
            )
        session.flush()
        if new:  # new shops get their (empty) health row, so the lists count them
            refresh_shop_health(
                session, select(Shop.shop_id).where(Shop.shop_id.in_([s.shop_id for s in new]))
            )
        data_changed(session)  # new shops change the counts even when no access changed
    gmv: dict[str, float] = {}
    for api_shop in listed:
        value = client.shop_gmv_last_7_days(api_shop.cipher, today=today)
        if value is not None:
            gmv[api_shop.shop_id] = value
    with transaction(factory) as session:
        # GMV updates the newest snapshot in place: a new day's row without scores would hide them.
        for shop_id, value in gmv.items():
            health = session.get(ShopHealth, shop_id)
            if health is None or health.as_of is None:
                continue
            updated = session.execute(
                update(MetricSnapshot)
                .where(MetricSnapshot.shop_id == shop_id, MetricSnapshot.date == health.as_of)
                .values(gmv_7d=value)
            )
            if not updated.rowcount:  # type: ignore[attr-defined]
                continue  # no scores that day (a shop new to us): nothing to attach the GMV to
            health.gmv_7d = value
            report.gmv_updated += 1
        data_changed(session)
        record_refresh(session, TIKTOK_SOURCE)


def tiktok_client(settings: Settings, factory: sessionmaker[Session]) -> TikTokClient:
    """A client that starts from the newest stored tokens (TikTok rotates them on refresh) and
    stores every refreshed pair, so a restart or another replica never reuses a revoked token."""
    with factory() as session:
        stored = session.get(ApiToken, TIKTOK_SOURCE)
    if stored is not None:
        settings = settings.model_copy(
            update={
                "tiktok_access_token": SecretStr(stored.access_token),
                "tiktok_refresh_token": SecretStr(stored.refresh_token),
            }
        )

    def save(access: str, refresh: str, expires_at: dt.datetime | None) -> None:
        with transaction(factory) as session:
            row = session.get(ApiToken, TIKTOK_SOURCE) or ApiToken(source=TIKTOK_SOURCE)
            row.access_token, row.refresh_token, row.expires_at = access, refresh, expires_at
            row.updated_at = dt.datetime.now(dt.UTC)
            session.add(row)

    return TikTokClient.from_settings(
        settings, access_token_expires_at=stored.expires_at if stored else None, on_tokens=save
    )


def run_sync(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    client: TikTokClient | None = None,
    today: dt.date | None = None,
) -> SyncReport:
    """Pull every configured source now. One source failing is recorded and does not stop the others."""
    report = SyncReport()
    today = today or dt.datetime.now(settings.tz).date()
    if settings.healthbot_import_dir:
        try:
            sync_folder(factory, Path(settings.healthbot_import_dir), report)
        except OSError as exc:
            report.errors[FOLDER_SOURCE] = f"cannot read {settings.healthbot_import_dir}: {exc.strerror}"
    owned = client is None
    if owned and settings.tiktok_app_key:
        try:
            client = tiktok_client(settings, factory)
        except TikTokError as exc:
            report.errors[TIKTOK_SOURCE] = str(exc)
    if client is not None:
        try:
            sync_tiktok(factory, client, report, today=today)
        except TikTokError as exc:
            report.errors[TIKTOK_SOURCE] = str(exc)
        finally:
            if owned:
                client.close()
    for source, error in report.errors.items():
        log.warning("sync of %s failed: %s", source, error)
        with transaction(factory) as session:
            record_refresh(session, source, error=error)
    return report
