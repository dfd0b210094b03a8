"""The APScheduler inside `healthbot serve`: stable job ids, UTC, replace_existing, and jobs wired
to the real digest and sync functions. The scheduler is only started paused, never left running."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DigestRun
from bot.playground.fakeslack import FakeSlack
from bot.services import subscriptions
from bot.settings import Settings
from jobs.digests import run_due
from jobs.dispatch_alerts import run_dispatch_alerts
from jobs.scheduler import (
    DIGEST_JOB_ID,
    DISPATCH_ALERTS_JOB_ID,
    MILESTONE_DM_JOB_ID,
    SYNC_JOB_ID,
    build_scheduler,
)
from jobs.sync import run_sync


@pytest.fixture
def paused() -> Iterator[list[BackgroundScheduler]]:
    """Schedulers started paused by a test; always shut down afterwards."""
    started: list[BackgroundScheduler] = []
    yield started
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def start_paused(scheduler: BackgroundScheduler, started: list[BackgroundScheduler]) -> BackgroundScheduler:
    scheduler.start(paused=True)
    started.append(scheduler)
    return scheduler


def test_digest_job_only_without_sources(
    factory: sessionmaker[Session],
    settings: Settings,
    client: WebClient,
    paused: list[BackgroundScheduler],
) -> None:
    scheduler = build_scheduler(settings, factory, client)
    assert str(scheduler.timezone) == "UTC"
    pending = scheduler._pending_jobs  # (job, jobstore, replace_existing) until the scheduler starts
    assert [(job.id, replace) for job, _store, replace in pending] == [
        (DIGEST_JOB_ID, True),
        (MILESTONE_DM_JOB_ID, True),
        (DISPATCH_ALERTS_JOB_ID, True),
    ]
    start_paused(scheduler, paused)
    job, alerts, dms = sorted(scheduler.get_jobs(), key=lambda j: j.id)
    assert alerts.id == DISPATCH_ALERTS_JOB_ID == "healthbot.dispatch-alerts"
    assert alerts.func is run_dispatch_alerts and list(alerts.args) == [factory, client, settings]
    assert alerts.trigger.interval == dt.timedelta(minutes=5)
    assert dms.id == MILESTONE_DM_JOB_ID == "healthbot.milestone-dms"
    assert dms.trigger.interval == dt.timedelta(minutes=5)
    assert job.id == DIGEST_JOB_ID == "healthbot.digests"
    assert job.func is run_due
    assert list(job.args) == [factory, client]
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == dt.timedelta(minutes=1)
    assert str(job.trigger.timezone) == "UTC"
    assert job.coalesce is True and job.max_instances == 1
    assert job.next_run_time is not None and job.next_run_time.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "update",
    [{"healthbot_import_dir": "/srv/drop"}, {"tiktok_app_key": "app-key"}],
    ids=["import-dir", "tiktok"],
)
def test_sync_job_when_a_source_is_configured(
    factory: sessionmaker[Session],
    settings: Settings,
    client: WebClient,
    paused: list[BackgroundScheduler],
    update: dict[str, str],
) -> None:
    configured = settings.model_copy(update={**update, "healthbot_sync_minutes": 15})
    scheduler = build_scheduler(configured, factory, client)
    assert [(job.id, replace) for job, _store, replace in scheduler._pending_jobs] == [
        (DIGEST_JOB_ID, True),
        (MILESTONE_DM_JOB_ID, True),
        (DISPATCH_ALERTS_JOB_ID, True),
        (SYNC_JOB_ID, True),
    ]
    start_paused(scheduler, paused)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "healthbot.digests",
        "healthbot.milestone-dms",
        "healthbot.dispatch-alerts",
        "healthbot.sync",
    }
    sync = jobs[SYNC_JOB_ID]
    assert sync.func is run_sync and list(sync.args) == [configured, factory]
    assert sync.trigger.interval == dt.timedelta(minutes=15)
    assert str(sync.trigger.timezone) == "UTC"


def test_building_twice_gives_the_same_ids_and_re_adding_replaces(
    factory: sessionmaker[Session],
    settings: Settings,
    client: WebClient,
    paused: list[BackgroundScheduler],
) -> None:
    configured = settings.model_copy(update={"healthbot_import_dir": "/srv/drop"})
    first = build_scheduler(configured, factory, client)
    second = build_scheduler(configured, factory, client)
    ids = [[job.id for job, *_ in s._pending_jobs] for s in (first, second)]
    assert ids[0] == ids[1] == [DIGEST_JOB_ID, MILESTONE_DM_JOB_ID, DISPATCH_ALERTS_JOB_ID, SYNC_JOB_ID]
    scheduler = start_paused(second, paused)
    # A replica (or a restart) adding the same job again replaces it instead of failing or doubling.
    scheduler.add_job(
        run_due, "interval", minutes=1, id=DIGEST_JOB_ID, replace_existing=True, args=[factory, client]
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(
        [DIGEST_JOB_ID, MILESTONE_DM_JOB_ID, DISPATCH_ALERTS_JOB_ID, SYNC_JOB_ID]
    )


def test_the_scheduled_jobs_do_their_work(
    factory: sessionmaker[Session],
    settings: Settings,
    client: WebClient,
    slack: FakeSlack,
    tmp_path: Path,
    paused: list[BackgroundScheduler],
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "shops.csv").write_text(
        "shop_id,shop_code,shop_name,region,authorized,chr_authorized\n1,C1,Shop 1,US,true,true\n",
        encoding="utf-8",
    )
    with factory() as session:
        subscriptions.subscribe(session, "CSCHED", "00:00", "UTC", False, "U1")
    configured = settings.model_copy(update={"healthbot_import_dir": str(inbox)})
    scheduler = start_paused(build_scheduler(configured, factory, client), paused)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # Run each job's own callable with its own arguments, as the scheduler's executor would.
    for job_id in (SYNC_JOB_ID, DIGEST_JOB_ID, DIGEST_JOB_ID):
        job = jobs[job_id]
        job.func(*job.args, **job.kwargs)
    assert [p.name.split("-", 1)[1] for p in (inbox / "imported").iterdir()] == ["shops.csv"]
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["CSCHED"]
    with factory() as session:
        (run,) = session.scalars(select(DigestRun))
        assert run.message_ts is not None
