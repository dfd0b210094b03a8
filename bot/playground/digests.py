"""The playground's "Run due digests now": no scheduler runs in the playground, so the page asks for
one round of the real `jobs.digests.run_due` against the fake Slack, and is told, per subscribed
channel, what happened and when a digest not yet due will be."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.services import digest_runs
from jobs.digests import run_due

NO_SUBSCRIPTION = (
    "No channel is subscribed to the digest yet: try `/health digest subscribe #playground at 09:00 "
    "tz Europe/Berlin skip-quiet`, then run the due digests again."
)


def run_due_digests(
    factory: sessionmaker[Session],
    client: WebClient,
    channel_names: Mapping[str, str],
    *,
    uk_48_point: bool = False,
    now: dt.datetime | None = None,
) -> list[str]:
    """Post every digest due now (each once per local day, as the scheduler would) and say, per
    subscribed channel, what happened: one line each, plain text."""
    now = now or dt.datetime.now(dt.UTC)
    report = run_due(factory, client, now=now, uk_48_point=uk_48_point, workers=2)
    with factory() as session:
        subscriptions = digest_runs.all_subscriptions(session)
    if not subscriptions:
        return [NO_SUBSCRIPTION]
    lines = []
    for sub_id, sub in subscriptions:
        where = f"#{channel_names.get(sub.channel_id, sub.channel_id)}"
        day, due = digest_runs.local_day(sub, now)
        local = now.astimezone(digest_runs.day_start(sub, day).tzinfo)
        if sub.channel_id in report.posted:
            lines.append(f"{where}: digest posted.")
        elif sub.channel_id in report.failed + report.unsettled + report.refused:
            lines.append(f"{where}: not posted (see the log); it is tried again on the next run.")
        elif not due:
            lines.append(
                f"{where}: due at {sub.post_at} {sub.timezone} (it is {local:%H:%M} there), not yet."
            )
        elif digest_runs.sent_today(factory, sub_id, day):
            lines.append(f"{where}: today's digest was already posted ({day:%b %-d}); one a day.")
        else:
            lines.append(f"{where}: a quiet day, skipped (the subscription says skip-quiet).")
    return lines
