"""The simulated day axis and conversion of local wall-clock times to ISO 8601.

Every step indexes days 0..D-1 on one axis, so arrays line up across demand,
orders, stock and tracking. Storefronts report in the market's local time with
its UTC offset (which moves with daylight saving), so that conversion lives
here once instead of in each writer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Timeline:
    """Days `end - days + 1` .. `end`, inclusive."""

    end: date
    days: int

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @cached_property
    def dates(self) -> np.ndarray:
        """datetime64[D] of each day index."""
        return np.datetime64(self.start, "D") + np.arange(self.days)

    @cached_property
    def weekday(self) -> np.ndarray:
        """0 = Monday .. 6 = Sunday."""
        return ((self.dates.astype("int64") + 3) % 7).astype(np.int8)

    @cached_property
    def day_of_year(self) -> np.ndarray:
        """0-based day of year (0 = 1 January)."""
        years = self.dates.astype("datetime64[Y]")
        return (self.dates - years.astype("datetime64[D]")).astype(np.int16)

    @cached_property
    def year(self) -> np.ndarray:
        return self.dates.astype("datetime64[Y]").astype(np.int64) + 1970

    @cached_property
    def iso(self) -> np.ndarray:
        """'YYYY-MM-DD' of each day index."""
        return np.datetime_as_string(self.dates, unit="D")

    def index_of(self, d: date) -> int:
        return (d - self.start).days


def _offset_label(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hh, mm = divmod(abs(int(seconds)) // 60, 60)
    return f"{sign}{hh:02d}:{mm:02d}"


def _offsets_by_utc_hour(timezone: str, first_hour: int, last_hour: int) -> np.ndarray:
    """UTC offset (seconds) in force during each UTC hour first_hour..last_hour-1."""
    grid = np.arange(first_hour, last_hour, dtype=np.int64) * 3600
    aware = pd.DatetimeIndex(grid.astype("datetime64[s]")).tz_localize("UTC").tz_convert(ZoneInfo(timezone))
    return aware.tz_localize(None).values.astype("datetime64[s]").astype(np.int64) - grid


def localize(local_seconds: np.ndarray, timezone: str,
             grid: tuple[int, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Local wall-clock times (seconds since 1970-01-01, local) in `timezone` ->
    (ISO 8601 strings with the UTC offset in force, UTC epoch seconds).

    Same reading as Python's datetime with fold=0: a repeated autumn time is
    the first instant, a time in the spring-forward gap moves forward by the
    gap (02:30 -> 03:30). Offsets come from an hourly UTC grid (converting UTC
    to local is vectorised in pandas; localising each timestamp is not), which
    is exact for zones whose offsets are whole hours, as all markets' are.
    `grid` (first UTC hour, offset per hour from it: `offsets_grid`) reuses
    offsets computed once for a long history; it must cover the times +-48 hours.
    """
    local_seconds = np.asarray(local_seconds, dtype=np.int64)
    if len(local_seconds) == 0:
        return np.array([], dtype=object), np.array([], dtype=np.int64)
    if grid is None:
        lo = int(local_seconds.min() // 3600) - 48
        hi = int(local_seconds.max() // 3600) + 48
        by_hour = _offsets_by_utc_hour(timezone, lo, hi)
    else:
        lo, by_hour = grid

    def offset_at(utc: np.ndarray) -> np.ndarray:
        return by_hour[utc // 3600 - lo]

    candidates = np.unique(by_hour)[::-1]  # largest first: fold=0 picks the earlier instant
    chosen = offset_at(local_seconds - candidates[0])  # gap: the offset before the change
    found = np.zeros(len(local_seconds), dtype=bool)
    for o in candidates:
        ok = ~found & (offset_at(local_seconds - o) == o)
        chosen[ok] = o
        found |= ok
    utc = local_seconds - chosen
    off = offset_at(utc)
    wall = utc + off
    labels = {o: _offset_label(o) for o in np.unique(off).tolist()}
    text = np.datetime_as_string(wall.astype("datetime64[s]"), unit="s").astype(object) + np.array(
        [labels[o] for o in off.tolist()], dtype=object)
    return text, utc


def offsets_grid(timezone: str, first_hour: int, last_hour: int) -> tuple[int, np.ndarray]:
    """(first_hour, UTC offset in force during each UTC hour first_hour..last_hour-1) for `localize`.

    The same offsets as an hourly conversion, computed from one conversion a
    day plus the hours of the days an offset changes (zones change at most
    once a day), so ten years cost a few milliseconds instead of a second.
    """
    days = (last_hour - first_hour + 23) // 24 + 1

    def offsets_at(utc: np.ndarray) -> np.ndarray:
        aware = pd.DatetimeIndex(utc.astype("datetime64[s]")).tz_localize("UTC").tz_convert(ZoneInfo(timezone))
        return aware.tz_localize(None).values.astype("datetime64[s]").astype(np.int64) - utc

    daily = offsets_at((first_hour + 24 * np.arange(days, dtype=np.int64)) * 3600)  # at each block's first hour
    by_hour = np.repeat(daily[:-1], 24)
    changed = np.flatnonzero(daily[1:] != daily[:-1])
    hours = (24 * changed[:, None] + np.arange(24)[None, :]).ravel()  # every hour of a block with a change
    if len(hours):
        by_hour[hours] = offsets_at((first_hour + hours) * 3600)
    return first_hour, by_hour[:last_hour - first_hour]


def utc_iso(utc_seconds: np.ndarray) -> np.ndarray:
    """UTC epoch seconds -> '2026-05-01T12:00:00Z'."""
    s = np.datetime_as_string(np.asarray(utc_seconds, dtype="int64").astype("datetime64[s]"), unit="s")
    return s.astype(object) + "Z"


def day_start_seconds(timeline: Timeline, day_index: np.ndarray) -> np.ndarray:
    """Seconds since 1970 (wall clock) at midnight of each day index."""
    base = np.datetime64(timeline.start, "D").astype(np.int64) * SECONDS_PER_DAY
    return base + np.asarray(day_index, dtype=np.int64) * SECONDS_PER_DAY
