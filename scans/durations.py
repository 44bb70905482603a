"""How long a scan waited and how long its analysis took, from its own timestamps, in words."""

from dataclasses import dataclass
from datetime import datetime


def format_duration(seconds: float) -> str:
    """0.24 -> '0.2 s', 12.4 -> '12 s', 125 -> '2 min 5 s'."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _between(start: datetime | None, end: datetime | None) -> str:
    return format_duration((end - start).total_seconds()) if start and end else ""


@dataclass(frozen=True)
class ScanDurations:
    waited: str  # upload -> a worker started it ("" if unknown)
    analysed_in: str  # started -> finished


def scan_durations(*, created_at: datetime, processing_started_at: datetime | None, finished_at: datetime | None) -> ScanDurations:
    return ScanDurations(_between(created_at, processing_started_at), _between(processing_started_at, finished_at))
