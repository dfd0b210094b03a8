"""Scheduled sync: files (.csv, .xlsx) dropped in a folder, and the TikTok Shop Open API (every
connected seller, `jobs.tiktok_sync`).

Each source runs in its own transaction and records its own freshness, so a failure of one never
wipes or blocks data from another; the cards' freshness stamp names a failing or stale source.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from blocks.text import plural
from bot.db import transaction
from bot.ingest.loader import import_paths
from bot.ingest.tiktok.errors import TikTokError
from bot.ingest.tiktok.transport import TikTokHttp
from bot.services import dispatch
from bot.services.health import record_refresh
from bot.services.vault import VaultError
from bot.settings import Settings
from jobs.tiktok_sync import TikTokSyncResult, app_http, sync_sellers

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
    tiktok: TikTokSyncResult | None = None


def sync_folder(
    factory: sessionmaker[Session], folder: Path, report: SyncReport, settings: Settings | None = None
) -> None:
    """Import every .csv and .xlsx file in the folder; move each aside to imported/ or rejected/ with an
    error report."""
    if not folder.is_dir():
        raise FileNotFoundError(2, "no such folder", str(folder))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx") and p.is_file())
    if not files:
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    for result in import_paths(factory, files, settings=settings):
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
                f"{path.name}: rejected, nothing imported ({plural(result.bad_rows, 'bad row')})",
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
    settings: Settings,
    factory: sessionmaker[Session],
    report: SyncReport,
    *,
    today: dt.date,
    http: TikTokHttp,
) -> None:
    """Every connected seller (`jobs.tiktok_sync`); one failing seller is named, the others count."""
    result = sync_sellers(settings, factory, http, today=today)
    report.tiktok = result
    report.shops_authorized += result.shops_authorized
    report.shops_deauthorized += result.shops_deauthorized
    report.gmv_updated += result.gmv_updated
    with transaction(factory) as session:
        if result.sellers:
            record_refresh(session, TIKTOK_SOURCE)
    if result.failed_sellers:
        report.errors[TIKTOK_SOURCE] = (
            f"{len(result.failed_sellers)} of {plural(result.sellers, 'seller')} failing: "
            + "; ".join(f"{name}: {error}" for name, error in sorted(result.failed_sellers.items()))
        )


def run_sync(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    today: dt.date | None = None,
    http: TikTokHttp | None = None,
) -> SyncReport:
    """Pull every configured source now. One source failing is recorded and does not stop the others."""
    report = SyncReport()
    today = today or dt.datetime.now(settings.tz).date()
    if settings.healthbot_import_dir:
        try:
            sync_folder(factory, Path(settings.healthbot_import_dir), report, settings)
        except OSError as exc:
            report.errors[FOLDER_SOURCE] = f"cannot read {settings.healthbot_import_dir}: {exc.strerror}"
    with transaction(factory) as session:  # orders from the folder get their deadlines too
        dispatch.settle_deadlines(session, settings.healthbot_timezone)
    if http is not None or settings.tiktok_app_key:
        owned = http is None
        try:
            http = http or app_http(settings)
            sync_tiktok(settings, factory, report, today=today, http=http)
        except (TikTokError, VaultError) as exc:
            report.errors[TIKTOK_SOURCE] = str(exc)
        finally:
            if owned and http is not None:
                http.close()
    for source, error in report.errors.items():
        log.warning("sync of %s failed: %s", source, error)
        with transaction(factory) as session:
            record_refresh(session, source, error=error)
    return report
