"""The rules of shop health (DOMAIN.md), as pure functions over plain values.

No Slack, no SQL, no HTTP (an import-linter contract checks it). The package namespace carries the
whole vocabulary, so callers write `domain.ahr_band(...)`, `domain.appeal_deadline(...)`.
"""

from bot.domain.attention import *  # noqa: F403
from bot.domain.dispatch import *  # noqa: F403
from bot.domain.regions import *  # noqa: F403
from bot.domain.scores import *  # noqa: F403
from bot.domain.security import *  # noqa: F403
from bot.domain.violations import *  # noqa: F403
