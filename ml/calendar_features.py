"""Per market x day calendar arrays: public holidays and retail sales events.

Calendar facts are known in advance (they are rules, not data), so the
target-day calendar features may look at the target day itself and its
neighbours without leaking anything. Built from
`crossdock.calendar.market_calendar` so the forecast and the demo generator
agree on what a holiday or an event is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from crossdock.calendar import market_calendar

# Stable integer codes so a model's categorical splits mean the same event in
# every run; 0 = no event, the last code = an event name this table does not know yet.
EVENT_CODES: dict[str, int] = {
    "black_friday": 1,
    "cyber_monday": 2,
    "prime_day": 3,
    "boxing_day": 4,
    "soldes": 5,
    "click_frenzy": 6,
    "hatsuuri": 7,
}
OTHER_EVENT_CODE = len(EVENT_CODES) + 1
NEAR_EVENT_CAP_DAYS = 30  # "days to / since an event" saturate here: further away carries no signal


@lru_cache(maxsize=256)
def _market_days(market: str, start: dt.date, end: dt.date, subdivision: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(is_holiday, event_code) per day for one market; cached, calendars are pure.

    A market the holidays package has no calendar for gets sales events only.
    """
    cal = market_calendar(market, start, end, subdivision)
    is_holiday = cal["is_holiday"].to_numpy(dtype=bool)
    names = cal["event_name"]
    code = names.map(lambda n: 0 if n is None or (isinstance(n, float) and np.isnan(n)) else EVENT_CODES.get(n, OTHER_EVENT_CODE))
    return is_holiday, code.to_numpy(dtype=np.int16)


def _days_to_next(flag: np.ndarray, cap: int) -> np.ndarray:
    """Days from each day to the next flagged day (0 on the day), capped at `cap`."""
    n = flag.shape[-1]
    out = np.full(flag.shape, cap, dtype=np.int32)
    nxt = np.full(flag.shape[:-1], n + cap, dtype=np.int64)
    for d in range(n - 1, -1, -1):
        nxt = np.where(flag[..., d], d, nxt)
        out[..., d] = np.minimum(nxt - d, cap)
    return out


@dataclass(frozen=True)
class CalendarArrays:
    """Calendar features on a fixed day grid for a fixed list of markets.

    Arrays are indexed `[market_idx, day]` with day 0 = `start`. Callers
    translate panel day indices with `offset` (panel day d -> calendar day
    d + offset).
    """

    markets: tuple[str, ...]
    start: pd.Timestamp
    is_holiday: np.ndarray
    event_code: np.ndarray
    days_to_event: np.ndarray
    days_since_event: np.ndarray
    dates: pd.DatetimeIndex

    def offset(self, panel_start: pd.Timestamp) -> int:
        return int((panel_start - self.start).days)


def build_calendar(
    markets: tuple[str, ...],
    start: pd.Timestamp,
    end: pd.Timestamp,
    subdivisions: Mapping[str, str | None] | None = None,
) -> CalendarArrays:
    """Calendar arrays from `start` to `end` (inclusive), padded so +/-1-day and
    days-to-event look-ups near the edges stay inside the grid.

    `subdivisions`: market -> holidays subdivision (crossdock.yaml's
    holiday_subdivision); a market not in it follows its national calendar."""
    subdivisions = subdivisions or {}
    pad = NEAR_EVENT_CAP_DAYS + 2
    s = (start - pd.Timedelta(days=pad)).date()
    e = (end + pd.Timedelta(days=pad)).date()
    hol, ev = zip(*(_market_days(m, s, e, subdivisions.get(m)) for m in markets)) if markets else ((), ())
    n = (e - s).days + 1
    is_holiday = np.vstack(hol) if markets else np.zeros((0, n), dtype=bool)
    event_code = np.vstack(ev) if markets else np.zeros((0, n), dtype=np.int16)
    is_event = event_code > 0
    days_to = _days_to_next(is_event, NEAR_EVENT_CAP_DAYS)
    days_since = _days_to_next(is_event[:, ::-1], NEAR_EVENT_CAP_DAYS)[:, ::-1]
    return CalendarArrays(
        markets=tuple(markets),
        start=pd.Timestamp(s),
        is_holiday=is_holiday,
        event_code=event_code,
        days_to_event=days_to,
        days_since_event=np.ascontiguousarray(days_since),
        dates=pd.date_range(s, e, freq="D"),
    )
