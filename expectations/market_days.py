"""The market-day frame the `training_data_market_days` suite validates.

`fct_daily_demand` is sparse: a row exists only where a SKU had activity in a
market on a day. A market-day with no sales therefore leaves no row at all, and
a row-level check cannot see it. This module densifies the mart to one row per
(expected market, calendar day), from the market's first activity date to the
last demand_date of the whole frame, with missing days zero-filled. A market
whose feed vanished, or a day whose orders were turned into returns, then shows
up as market-days with `units_sold == 0`.

Pure pandas; no Great Expectations import.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

MARKET_DAY_COLUMNS: tuple[str, ...] = (
    "market",
    "demand_date",
    "units_sold",  # units, summed over SKUs; 0 on a day without rows
    "units_returned",  # units, summed over SKUs; 0 on a day without rows
    "active_skus",  # number of mart rows (SKUs with activity) that market-day
)

# Columns of the mart the derivation reads.
SOURCE_COLUMNS: tuple[str, ...] = ("market", "demand_date", "units_sold", "units_returned")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "market": pd.Series(dtype="object"),
            "demand_date": pd.Series(dtype="datetime64[ns]"),
            "units_sold": pd.Series(dtype="int64"),
            "units_returned": pd.Series(dtype="int64"),
            "active_skus": pd.Series(dtype="int64"),
        }
    )


def _units(values: pd.Series) -> pd.Series:
    # Nulls and non-numbers count as 0 here; the row-level suite reports them.
    return pd.to_numeric(values, errors="coerce").fillna(0)


def market_day_frame(df: pd.DataFrame, expected_markets: Iterable[str]) -> pd.DataFrame:
    """One row per expected market and calendar day, zero-filled.

    For each market in `expected_markets` that has at least one row in `df`, the
    days run from that market's first `demand_date` to the latest `demand_date`
    of the whole frame (all markets). A market absent from `df` gets no rows
    (the suite's table-level check names it). Rows of other markets, and rows
    with a null or unparsable `demand_date`, are ignored (the row-level suite
    reports them), except that any valid date counts towards the end date.

    Returns columns `MARKET_DAY_COLUMNS`, sorted by the order of
    `expected_markets`, then date. `demand_date` is datetime64[ns] at midnight.

    Raises KeyError if `df` lacks one of `SOURCE_COLUMNS`.
    """
    missing = [c for c in SOURCE_COLUMNS if c not in df.columns]
    if missing:
        raise KeyError(f"market_day_frame needs columns {missing} missing from the frame")

    markets = list(dict.fromkeys(expected_markets))
    dates = pd.to_datetime(df["demand_date"], errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    dates = dates.dt.normalize().astype("datetime64[ns]")
    if dates.notna().sum() == 0 or not markets:
        return _empty()
    end = dates.max()

    keep = df["market"].isin(markets).to_numpy() & dates.notna().to_numpy()
    if not keep.any():
        return _empty()
    activity = pd.DataFrame(
        {
            "market": df["market"].to_numpy()[keep],
            "demand_date": dates.to_numpy()[keep],
            "units_sold": _units(df["units_sold"]).to_numpy()[keep],
            "units_returned": _units(df["units_returned"]).to_numpy()[keep],
        }
    )
    daily = activity.groupby(["market", "demand_date"], sort=False).agg(
        units_sold=("units_sold", "sum"),
        units_returned=("units_returned", "sum"),
        active_skus=("units_sold", "size"),
    )
    first_day = activity.groupby("market", sort=False)["demand_date"].min()

    spans = [(m, pd.date_range(first_day[m], end, freq="D")) for m in markets if m in first_day.index]
    grid = pd.MultiIndex.from_arrays(
        [
            np.concatenate([np.full(len(days), m, dtype=object) for m, days in spans]),
            np.concatenate([days.to_numpy() for _, days in spans]),
        ],
        names=["market", "demand_date"],
    )
    dense = daily.reindex(grid, fill_value=0).reset_index()
    for column in ("units_sold", "units_returned", "active_skus"):
        values = dense[column]
        # Whole units stay integers; fractional input (unexpected) is kept as is.
        if np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0):
            dense[column] = values.astype("int64")
    return dense.loc[:, list(MARKET_DAY_COLUMNS)]
