"""The jobs' tests post without the per-channel wait: the scheduler's pacer spaces one channel's
messages about a second apart (Slack's limit), which would only slow tests that are about what is
posted where. The pacing itself is tested in tests/jobs/test_digests.py (rate limits) and measured
by bench.digest."""

from __future__ import annotations

import pytest

from jobs import digests, dispatch_alerts
from jobs.pacer import ChannelPacer


@pytest.fixture(autouse=True)
def no_channel_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    unpaced = ChannelPacer(interval=0.0)
    monkeypatch.setattr(digests, "PACER", unpaced)
    monkeypatch.setattr(dispatch_alerts, "PACER", unpaced)
