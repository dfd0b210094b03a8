"""The APScheduler that runs due digests, dispatch alerts and the scheduled sync inside `healthbot serve`.

Jobs have stable IDs and `replace_existing=True`, and run in UTC; each subscription's own time zone
is applied inside `run_due`. Several replicas may each run a scheduler: digest claims in the
database make every digest post once.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.services.attention import points_rules
from bot.settings import Settings
from jobs.digests import notify_milestones, run_due
from jobs.dispatch_alerts import run_dispatch_alerts
from jobs.sync import run_sync

log = logging.getLogger(__name__)
DIGEST_JOB_ID = "healthbot.digests"
MILESTONE_DM_JOB_ID = "healthbot.milestone-dms"
SYNC_JOB_ID = "healthbot.sync"
DISPATCH_ALERTS_JOB_ID = "healthbot.dispatch-alerts"


def build_scheduler(
    settings: Settings, factory: sessionmaker[Session], client: WebClient
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        run_due, "interval", minutes=1, id=DIGEST_JOB_ID, replace_existing=True, args=[factory, client],
        kwargs={"uk_48_point": settings.healthbot_uk_48_point, "rules": points_rules(settings)},
        misfire_grace_time=300,
    )  # fmt: skip
    scheduler.add_job(
        notify_milestones, "interval", minutes=5, id=MILESTONE_DM_JOB_ID, replace_existing=True,
        args=[factory, client], kwargs={"uk_48_point": settings.healthbot_uk_48_point}, misfire_grace_time=300,
    )  # fmt: skip
    scheduler.add_job(
        run_dispatch_alerts, "interval", minutes=5, id=DISPATCH_ALERTS_JOB_ID, replace_existing=True,
        args=[factory, client, settings], misfire_grace_time=300,
    )  # fmt: skip
    if settings.healthbot_import_dir or settings.tiktok_app_key:
        scheduler.add_job(
            run_sync, "interval", minutes=settings.healthbot_sync_minutes, id=SYNC_JOB_ID, replace_existing=True,
            args=[settings, factory], misfire_grace_time=600,
        )  # fmt: skip
    return scheduler


def start_scheduler(
    settings: Settings, factory: sessionmaker[Session], client: WebClient
) -> BackgroundScheduler:
    scheduler = build_scheduler(settings, factory, client)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return scheduler
