"""Time handling: the model counts whole minutes since 1970-01-01 UTC (int64).

Minutes are the finest unit any contract format shows (HubSpot `YYYY-MM-DD HH:MM`, generic
`%m/%d/%Y %H:%M`), so rounding once here means the formats never disagree by a second.
Local wall-clock conversion uses the company's IANA time zone (DST included) via a table of
offset changes, then a `searchsorted`, so millions of timestamps convert in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

DAY = 1440  # minutes
NULL = -1  # sentinel for "no timestamp" in int minute arrays


def minutes(dt: datetime) -> int:
    """Minutes since the epoch for an aware datetime."""
    return int(dt.timestamp() // 60)


def std_offset(tz: str, as_of: date) -> int:
    """The zone's standard (winter) UTC offset in minutes, e.g. -300 for New York."""
    jan = datetime(as_of.year, 1, 15, 12, tzinfo=ZoneInfo(tz))
    return int(jan.utcoffset() // timedelta(minutes=1))


def export_moment(tz: str, as_of: date) -> int:
    """The export is taken at 17:00 standard time on as_of (before midnight anywhere in the
    Americas), so every timestamp, local or UTC, falls on or before the as_of date."""
    local = datetime(as_of.year, as_of.month, as_of.day, 17, 0, tzinfo=UTC)
    return minutes(local) - std_offset(tz, as_of)


class LocalClock:
    """Converts UTC minutes to the zone's wall-clock minutes and UTC offsets."""

    def __init__(self, tz: str, first_year: int, last_year: int):
        hours = pd.date_range(f"{first_year}-01-01", f"{last_year + 1}-01-01", freq="h", tz="UTC")
        local = hours.tz_convert(tz).tz_localize(None)
        offs = ((local - hours.tz_localize(None)) // pd.Timedelta(minutes=1)).to_numpy()
        change = np.flatnonzero(np.diff(offs)) + 1  # DST switches happen on the hour
        starts = np.concatenate([[0], change])
        self._edges = (hours[starts].asi8 // 60_000_000_000).astype(np.int64)
        self._offs = offs[starts].astype(np.int64)

    def offsets(self, utc_min: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self._edges, utc_min, side="right") - 1
        return self._offs[np.clip(idx, 0, len(self._offs) - 1)]

    def local(self, utc_min: np.ndarray) -> np.ndarray:
        """Wall-clock minutes; NULL stays NULL."""
        utc_min = np.asarray(utc_min, dtype=np.int64)
        out = utc_min + self.offsets(utc_min)
        return np.where(utc_min == NULL, NULL, out)


def working_hours(t: np.ndarray, std_off: int, start_h: float, end_h: float) -> np.ndarray:
    """Squeeze each timestamp's time of day into [start_h, end_h) local time.

    The day is kept and the mapping is monotone within a day, so the order of a deal's events
    survives; only the clock time becomes believable (reps log calls at 10:00, not 03:00).
    """
    local = t + std_off
    day, tod = np.divmod(local, DAY)
    tod = start_h * 60 + tod * (end_h - start_h) / 24.0
    return (day * DAY + tod.astype(np.int64)) - std_off


def days(x: float | np.ndarray) -> np.ndarray:
    return np.asarray(x) * DAY
