"""The three scores (DOMAIN.md "The three scores", "Comparison and action required"): bands,
levels, comparison windows and the drops that require action.

Pure functions over plain values; no database, no Slack. Each boundary cites DOMAIN.md.
SPS is handled in tenths (integer) so that comparisons at .5 are exact.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class Level(StrEnum):
    """Colour of a band: good (green), warning (yellow), critical (red), unknown (no data)."""

    GOOD = "good"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


class AhrBand(StrEnum):
    EXCELLENT = "Excellent"
    FAIR = "Fair"
    POOR = "Poor"
    DEACTIVATED = "Deactivated"


class ChrBand(StrEnum):
    HEALTHY = "Healthy"
    BE_CAREFUL = "Be careful"
    CRITICAL = "Critical"
    SUSPENDED = "Permanently suspended"


class SpsBand(StrEnum):
    """Partner Center's SPS filter bands, in tenths: [0,2.5) [2.5,3.5) [3.5,4.5) [4.5,5]."""

    BELOW_2_5 = "0-2.5"
    FROM_2_5 = "2.5-3.5"
    FROM_3_5 = "3.5-4.5"
    FROM_4_5 = "4.5-5"
    UNSCORED = "not scored"


class Score(StrEnum):
    AHR = "ahr"
    SPS = "sps"
    CHR = "chr"


class Window(StrEnum):
    """Comparison window: yesterday (1d) or last 7 days (7d)."""

    DAY = "1d"
    WEEK = "7d"

    @property
    def label(self) -> str:
        return "vs yesterday" if self is Window.DAY else "vs 7 days ago"


class SortKey(StrEnum):
    GMV = "gmv"
    AHR = "ahr"
    SPS = "sps"
    CHR = "chr"


# DOMAIN.md "Comparison and action required": strictly more than these drops.
AHR_DROP_LIMIT = 20
SPS_DROP_LIMIT_TENTHS = 5
CHR_DROP_LIMIT = 20
DROP_LIMITS = {Score.AHR: AHR_DROP_LIMIT, Score.SPS: SPS_DROP_LIMIT_TENTHS, Score.CHR: CHR_DROP_LIMIT}

AHR_START = 200


# Every band as an inclusive range in the stored unit (SPS in tenths): the one place thresholds
# live. The SQL filters in bot.services read these same tables.
Range = tuple[int, int]
AHR_BANDS: dict[AhrBand, Range] = {
    AhrBand.EXCELLENT: (200, 1000),  # Excellent >= 200
    AhrBand.FAIR: (51, 199),  # Fair 51..199
    AhrBand.POOR: (1, 50),  # Poor 1..50
    AhrBand.DEACTIVATED: (0, 0),  # Deactivated 0
}
SPS_BANDS: dict[SpsBand, Range] = {
    SpsBand.BELOW_2_5: (1, 24),  # [0, 2.5) among scored shops
    SpsBand.FROM_2_5: (25, 34),
    SpsBand.FROM_3_5: (35, 44),
    SpsBand.FROM_4_5: (45, 50),
    SpsBand.UNSCORED: (0, 0),  # 0 or missing means "not scored yet", never "bad"
}
CHR_BANDS: dict[ChrBand, Range] = {
    ChrBand.HEALTHY: (200, 1000),  # Healthy >= 200
    ChrBand.BE_CAREFUL: (151, 199),  # Be careful 151..199
    ChrBand.CRITICAL: (1, 150),  # Critical 1..150
    ChrBand.SUSPENDED: (0, 0),  # Permanently suspended 0
}
# Overview ("notably abnormal"): one warning and one critical range per score.
LEVELS: dict[Score, dict[Level, Range]] = {
    Score.AHR: {Level.GOOD: (200, 1000), Level.WARNING: (51, 199), Level.CRITICAL: (0, 50)},
    Score.SPS: {Level.GOOD: (35, 50), Level.WARNING: (25, 34), Level.CRITICAL: (1, 24)},  # 0 excluded
    Score.CHR: {Level.GOOD: (200, 1000), Level.WARNING: (151, 199), Level.CRITICAL: (0, 150)},
}


K = TypeVar("K")


def _find(table: dict[K, Range], value: int) -> K | None:
    return next((key for key, (low, high) in table.items() if low <= value <= high), None)


def level(score: Score, value: int | None) -> Level:
    found = None if value is None else _find(LEVELS[score], value)
    return found or Level.UNKNOWN


def ahr_band(ahr: int | None) -> AhrBand | None:
    return None if ahr is None else _find(AHR_BANDS, ahr)


def ahr_level(ahr: int | None) -> Level:
    return level(Score.AHR, ahr)


def sps_scored(sps_tenths: int | None) -> bool:
    # 0 or missing means "not scored yet", never "bad".
    return sps_tenths is not None and sps_tenths > 0


def sps_band(sps_tenths: int | None) -> SpsBand:
    return (_find(SPS_BANDS, sps_tenths) if sps_tenths is not None else None) or SpsBand.UNSCORED


def sps_level(sps_tenths: int | None) -> Level:
    return level(Score.SPS, sps_tenths)


def chr_band(chr_: int | None) -> ChrBand | None:
    return None if chr_ is None else _find(CHR_BANDS, chr_)


def chr_level(chr_: int | None) -> Level:
    return level(Score.CHR, chr_)


def delta(today: int | None, then: int | None) -> int | None:
    """Today minus then; a missing value on either day means no delta."""
    if today is None or then is None:
        return None
    return today - then


def action_required(score: Score, today: int | None, then: int | None) -> bool:
    """True when the score fell by strictly more than its limit (values in tenths for SPS)."""
    if score is Score.SPS and not (sps_scored(today) and sps_scored(then)):
        return False  # becoming scored or unscored is not a drop in performance
    change = delta(today, then)
    return change is not None and change < -DROP_LIMITS[score]


def sps_tenths(value: float | str | None) -> int | None:
    if value is None or value == "":
        return None
    return round(float(value) * 10)


def format_sps(tenths: int | None) -> str:
    if tenths is None:
        return "-"
    if tenths == 0:
        return "not scored yet"
    return f"{tenths / 10:.1f}"
