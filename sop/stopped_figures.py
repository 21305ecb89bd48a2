"""What a series that stopped selling leaves out of the plan: the figures `stopped_selling` judges.

The forecast puts a stopped series at 0 (ml/stopped_series.py), which is
right for a product taken off sale and wrong for one out of stock; only a
person can tell. This module measures, from the daily sales, how much each
such series sold before it stopped, so the exceptions rank first the stops
that would leave the most demand out if they are stock-outs.
"""
from __future__ import annotations

import pandas as pd


def no_stopped() -> pd.DataFrame:
    """No stopped series, in the columns `stopped_series_figures` gives."""
    return pd.DataFrame({"sku": pd.Series(dtype=object), "market": pd.Series(dtype=object),
                         "last_sale_date": pd.Series(dtype="datetime64[ns]"), "quiet_days": pd.Series(dtype=float),
                         "horizon_days": pd.Series(dtype="int64"), "units_before": pd.Series(dtype=float)})


def stopped_series_figures(selling_days: pd.DataFrame) -> pd.DataFrame:
    """Per stopped series: its last sale, the days from it to the planning date, and the units it sold in the
    forecast's horizon of days up to that sale, what `stopped_selling` reads.

    `selling_days`: sku, market, as_of (the planning date), horizon_days (the
    forecast's days), demand_date and units_sold of each of its days with a
    sale (both null for a series with none in the history). The units rank the
    exceptions: a planner looks first at the series whose stop, if it is a
    stock-out, leaves the most demand out of the plan.
    """
    days = selling_days.assign(demand_date=pd.to_datetime(selling_days["demand_date"]),
                               units_sold=selling_days["units_sold"].astype(float))
    last = days.groupby(["sku", "market"], sort=True)["demand_date"].transform("max")
    recent = days["demand_date"] > last - pd.to_timedelta(days["horizon_days"].astype("int64"), unit="D")
    out = days.assign(units_before=days["units_sold"].where(recent, 0.0)).groupby(["sku", "market"], as_index=False).agg(
        as_of=("as_of", "max"), horizon_days=("horizon_days", "max"), last_sale_date=("demand_date", "max"),
        units_before=("units_before", "sum"),
    )
    quiet = (pd.to_datetime(out["as_of"]) - out["last_sale_date"]).dt.days.astype(float)
    return out.drop(columns="as_of").assign(quiet_days=quiet)[list(no_stopped().columns)]
