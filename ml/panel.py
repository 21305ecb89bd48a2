"""Sparse long demand history -> dense series x day matrix.

The mart only has rows for days with activity; every forecast feature is a
window over consecutive days, so we densify once into a numpy matrix
`Y[series, day]` (units sold per day, zeros filled) and let the feature code
gather from it with vectorised indexing instead of per-series pandas work.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("sku", "market", "category", "demand_date", "units_sold")
SERIES_KEY = ["sku", "market"]


def validate_history(history: pd.DataFrame) -> None:
    """Fail early and clearly when the input is not shaped like `fct_daily_demand`."""
    missing = [c for c in REQUIRED_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"history is missing columns {missing}; expected at least {list(REQUIRED_COLUMNS)}")
    units = pd.to_numeric(history["units_sold"], errors="coerce")
    if units.isna().any():
        raise ValueError("history.units_sold has missing or non-numeric values")
    if (units < 0).any():
        raise ValueError("history.units_sold must be >= 0 (returns are in units_returned)")


def to_timestamp(day: dt.date | pd.Timestamp | str) -> pd.Timestamp:
    """A calendar day as a midnight, timezone-naive Timestamp."""
    ts = pd.Timestamp(day)
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def daily_units(history: pd.DataFrame, end: dt.date | None = None) -> pd.DataFrame:
    """Units sold per sku x market x day (ties summed), up to `end` inclusive.

    Returns columns sku, market, category, demand_date (Timestamp), units_sold
    (float, units) and revenue_eur (float, EUR; NaN when the history has no
    revenue column). The category of a series is its latest one, so a
    re-categorised SKU is one series, not two.
    """
    validate_history(history)
    frame = history.loc[:, list(REQUIRED_COLUMNS)].copy()
    revenue = history["revenue_eur"] if "revenue_eur" in history.columns else np.nan
    frame["revenue_eur"] = pd.to_numeric(pd.Series(revenue, index=history.index), errors="coerce").astype(float)
    frame["demand_date"] = pd.to_datetime(frame["demand_date"]).dt.tz_localize(None).dt.normalize()
    frame["sku"] = frame["sku"].astype(str)
    frame["market"] = frame["market"].astype(str)
    frame["category"] = frame["category"].astype(str)
    frame["units_sold"] = pd.to_numeric(frame["units_sold"]).astype(float)
    if end is not None:
        frame = frame[frame["demand_date"] <= to_timestamp(end)]
    latest_cat = (
        frame.sort_values("demand_date", kind="stable")
        .groupby(SERIES_KEY, sort=False)["category"]
        .last()
    )
    daily = frame.groupby(SERIES_KEY + ["demand_date"], sort=True, as_index=False)[["units_sold", "revenue_eur"]].sum(
        min_count=1
    )
    daily["units_sold"] = daily["units_sold"].fillna(0.0)
    daily = daily.join(latest_cat, on=SERIES_KEY)
    return daily[["sku", "market", "category", "demand_date", "units_sold", "revenue_eur"]]


@dataclass(frozen=True)
class Panel:
    """Dense daily units sold for a set of series.

    `series` has one row per matrix row (sku, market, category, first_idx,
    last_idx: day indices of the first / last day with units sold > 0, -1
    when none in the window). `Y[i, d]` is units sold by series i on day
    `start + d days`; the last column is `end`, the forecast origin.
    `R[i, d]` is the revenue (EUR) of those units, 0 on days without sales;
    NaN everywhere when the history carried no revenue. Price features divide
    it by units, which is why it is kept per day rather than as one list price.
    """

    series: pd.DataFrame
    start: pd.Timestamp
    Y: np.ndarray
    R: np.ndarray | None = None

    @property
    def n_series(self) -> int:
        return self.Y.shape[0]

    @property
    def n_days(self) -> int:
        return self.Y.shape[1]

    @property
    def end(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(days=self.n_days - 1)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_days, freq="D")

    def day_index(self, day: dt.date | pd.Timestamp) -> int:
        """Column of `day` in `Y` (may be outside 0..n_days-1)."""
        return int((to_timestamp(day) - self.start).days)


def build_panel(history: pd.DataFrame, end: dt.date, max_days: int | None = None) -> Panel:
    """Densify `history` up to `end` inclusive into a `Panel`.

    Only rows with demand_date <= `end` are read, so everything built on the
    panel is causal with respect to `end`. The window starts at the first
    day in the history, or `max_days` before `end` when that is later (old
    history adds training cost but little signal). Series without a single
    unit sold in the window are left out: they have nothing to forecast from.
    """
    end_ts = to_timestamp(end)
    daily = daily_units(history, end)
    daily = daily[daily["units_sold"] > 0]
    if daily.empty:
        raise ValueError(f"history has no units sold on or before {end_ts.date()}")
    start = daily["demand_date"].min()
    if max_days is not None:
        start = max(start, end_ts - pd.Timedelta(days=max_days - 1))
    daily = daily[daily["demand_date"] >= start]
    n_days = int((end_ts - start).days) + 1

    series = daily.drop_duplicates(SERIES_KEY)[["sku", "market", "category"]].reset_index(drop=True)
    row = pd.Series(np.arange(len(series)), index=pd.MultiIndex.from_frame(series[SERIES_KEY]))
    r = row.reindex(pd.MultiIndex.from_frame(daily[SERIES_KEY])).to_numpy()
    c = (daily["demand_date"] - start).dt.days.to_numpy()
    Y = np.zeros((len(series), n_days), dtype=np.float64)
    np.add.at(Y, (r, c), daily["units_sold"].to_numpy())
    R = np.zeros((len(series), n_days), dtype=np.float64)
    np.add.at(R, (r, c), daily["revenue_eur"].fillna(0.0).to_numpy())
    if daily["revenue_eur"].isna().all():
        R[:] = np.nan

    sold = Y > 0
    series["first_idx"] = np.where(sold.any(axis=1), sold.argmax(axis=1), -1)
    series["last_idx"] = np.where(sold.any(axis=1), n_days - 1 - sold[:, ::-1].argmax(axis=1), -1)
    return Panel(series=series, start=start, Y=Y, R=R)


def last_sale_index(Y: np.ndarray) -> np.ndarray:
    """`L[i, d]`: index of the last day <= d with units sold > 0 (-1 if none).

    A running maximum only looks backwards, so `L[:, o]` is known at origin o.
    """
    idx = np.where(Y > 0, np.arange(Y.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


def add_planned_series(panel: Panel, planned: pd.DataFrame) -> Panel:
    """`panel` plus zero-history rows for planned launches (sku, market, category, launch_date).

    Their `first_idx` is the launch day's column, which may lie after the
    panel's end: the features treat it as a plan known in advance. Series
    already in the panel are left as they are.
    """
    if planned.empty:
        return panel
    known = pd.MultiIndex.from_frame(panel.series[SERIES_KEY])
    new = planned[~pd.MultiIndex.from_frame(planned[SERIES_KEY]).isin(known)]
    if new.empty:
        return panel
    launch = (pd.to_datetime(new["launch_date"]).dt.tz_localize(None).dt.normalize() - panel.start).dt.days
    rows = pd.DataFrame(
        {
            "sku": new["sku"].astype(str).to_numpy(),
            "market": new["market"].astype(str).to_numpy(),
            "category": new["category"].astype(str).to_numpy(),
            "first_idx": np.maximum(launch.to_numpy(dtype=np.int64), 0),
            "last_idx": -1,
        }
    )
    zeros = np.zeros((len(rows), panel.n_days))
    R = None if panel.R is None else np.vstack([panel.R, zeros])
    return Panel(
        series=pd.concat([panel.series, rows], ignore_index=True),
        start=panel.start,
        Y=np.vstack([panel.Y, zeros]),
        R=R,
    )
