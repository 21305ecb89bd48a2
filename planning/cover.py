"""How long the stock lasts and when the next order must go out.

All three measures divide stock by the mean daily demand d̄ of the lead-time
window (units/day), so they read as "at the current rate". With d̄ = 0 the
answers are undefined and returned as null (NaN / NaT) rather than infinity,
which BI tools and parquet both handle badly.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


def days_of_cover(on_hand: ArrayLike, mean_daily_demand: ArrayLike) -> NDArray[np.float64]:
    """Days the on-hand stock lasts: on_hand / d̄ (days); NaN where d̄ = 0."""
    oh = np.asarray(on_hand, dtype=float)
    d = np.asarray(mean_daily_demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, oh / d, np.nan)


# A date more than ten years out says "not in any planning horizon"; it is
# returned as null, also because a very slow mover's stock / d̄ can exceed
# what a timestamp can hold.
MAX_DAYS_AHEAD = 3650


def _add_days(as_of: dt.date, days: NDArray[np.float64]) -> pd.DatetimeIndex:
    """as_of + floor(days) calendar days; NaN days or days beyond MAX_DAYS_AHEAD give NaT."""
    days = np.asarray(days, dtype=float)
    bounded = np.where(days <= MAX_DAYS_AHEAD, np.floor(days), np.nan)
    return pd.Timestamp(as_of).normalize() + pd.to_timedelta(bounded, unit="D")


def projected_stockout_date(
    on_hand: ArrayLike,
    mean_daily_demand: ArrayLike,
    as_of: dt.date,
    horizon_end: dt.date | pd.Timestamp | None,
) -> pd.DatetimeIndex:
    """Date on-hand stock runs out at d̄: as_of + floor(on_hand / d̄) days.

    NaT when d̄ = 0 or when that date falls after the forecast horizon's last
    day (the stock outlasts what the forecast can see, so a date would be a
    guess). On-order stock is ignored on purpose: it is not yet sellable and
    may arrive too late.
    """
    cover = days_of_cover(on_hand, mean_daily_demand)
    dates = _add_days(as_of, cover)
    if horizon_end is None:
        return pd.DatetimeIndex(np.full(len(dates), np.datetime64("NaT"), dtype="datetime64[ns]"))
    return dates.where(dates <= pd.Timestamp(horizon_end).normalize())


def order_by_date(
    inventory_position: ArrayLike,
    reorder_point: ArrayLike,
    mean_daily_demand: ArrayLike,
    as_of: dt.date,
    reorder_now: ArrayLike,
) -> pd.DatetimeIndex:
    """Last day to place the next order without eating into the safety stock.

    as_of where an order is due now; otherwise the day the inventory position
    reaches the reorder point at d̄: as_of + floor((IP - ROP) / d̄) days. NaT
    when there is no demand to draw the position down.
    """
    ip = np.asarray(inventory_position, dtype=float)
    rop = np.asarray(reorder_point, dtype=float)
    d = np.asarray(mean_daily_demand, dtype=float)
    now = np.asarray(reorder_now, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(now, 0.0, np.where(d > 0, np.clip(ip - rop, 0.0, None) / d, np.nan))
    return _add_days(as_of, days)
