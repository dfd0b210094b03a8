"""Seller Security Center (DOMAIN.md): the platform's limits on buyer blocks."""

from __future__ import annotations

MAX_BLOCKED_BUYERS = 100  # per shop
MAX_NEW_BLOCKS_PER_DAY = 10  # per shop
BLOCK_DAYS = 90  # a block lasts 90 days, or is permanent
OUTCOME_DAYS = 30  # blocked fraud is shown as an outcome for 30 days
