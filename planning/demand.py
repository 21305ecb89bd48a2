"""Demand over the lead time, from the daily forecast.

The forecast is per SKU × market × day (p10/p50/p90 quantiles and `mean`, the
expected units); stock sits at nodes, so the markets a node ships to are pooled
first, then the node's daily demand is summarised over the lead-time window
into the two numbers the policy needs: the mean daily demand d̄ and the daily
demand standard deviation σ_d.

d̄ comes from `mean`, not p50. Lead-time demand, cover and order quantities
are sums over days, and a sum of medians is not the median (nor the mean) of
the sum: for intermittent, skewed demand the daily median sits well below the
mean (in the forecast's backtests summed p50 is 40-45% below actual demand,
summed `mean` ~3%), so a p50-based d̄ orders too little. p50 is not used here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.bulk_days import RegularSales, first_sales, regular_sales
from planning.safety_stock import sigma_from_p10_p90


SAMPLE_DAYS = 364  # the year of daily demand the simulated safety stock bootstraps from


@dataclass(frozen=True)
class NodeForecast:
    """Daily forecast pooled to nodes, restricted to the planning horizon.

    Attributes:
        daily: one row per sku × node × forecast_date with columns sku, node,
            forecast_date (datetime64), day_index (0 = first horizon day),
            mean (expected units/day, summed over the node's markets), p90
            (units/day, summed; only used to tell "some demand" from "none")
            and sigma_sq ((units/day)², the summed per-market daily variances).
        horizon_start: first forecast date on or after as_of (None if none).
        horizon_end: last forecast date (None if none).
    """

    daily: pd.DataFrame
    horizon_start: pd.Timestamp | None
    horizon_end: pd.Timestamp | None

    @property
    def horizon_days(self) -> int:
        """Calendar days from horizon_start to horizon_end inclusive (0 if empty)."""
        if self.horizon_start is None or self.horizon_end is None:
            return 0
        return int((self.horizon_end - self.horizon_start).days) + 1


def node_daily_forecast(forecast: pd.DataFrame, market_nodes: pd.DataFrame, as_of: dt.date) -> NodeForecast:
    """Pool the per-market daily forecast into per-node daily demand.

    Per node and day: mean_node = Σ mean_market (expectations add, whatever
    the distributions), and σ_node = sqrt(Σ σ_market²) with
    σ_market = (p90 - p10) / (2 * 1.2816) (units/day). Summing variances
    assumes the markets' daily forecast errors are independent; positively
    correlated markets (shared promotions, a viral product) would make the
    true pooled σ larger, so the safety stock is then somewhat optimistic.

    Only dates on or after `as_of` are kept: earlier rows are stale and would
    drag the lead-time mean towards the past. Markets missing from
    `market_nodes` raise ValueError instead of silently dropping demand.
    """
    node_of = market_nodes.drop_duplicates()
    dup = node_of["market"][node_of["market"].duplicated()]
    if not dup.empty:
        raise ValueError(f"market_nodes maps these markets to more than one node: {sorted(dup.unique())}")

    fc = forecast.loc[:, ["sku", "market", "forecast_date", "p10", "p90", "mean"]].copy()
    fc["forecast_date"] = pd.to_datetime(fc["forecast_date"]).dt.normalize()
    as_of_ts = pd.Timestamp(as_of).normalize()
    if not fc.empty and not (fc["forecast_date"] >= as_of_ts).any():
        raise ValueError(
            f"forecast has no dates on or after as_of={as_of_ts.date()} (latest is {fc['forecast_date'].max().date()}); "
            "is it stale?"
        )
    fc = fc[fc["forecast_date"] >= as_of_ts]

    unmapped = sorted(set(fc["market"]) - set(node_of["market"]))
    if unmapped:
        raise ValueError(f"forecast markets missing from market_nodes: {unmapped}")

    fc["node"] = fc["market"].map(node_of.set_index("market")["node"])
    fc["sigma_sq"] = sigma_from_p10_p90(fc["p10"], fc["p90"]) ** 2
    daily = (
        fc.groupby(["sku", "node", "forecast_date"], as_index=False, sort=True)[["mean", "p90", "sigma_sq"]]
        .sum()
    )
    if daily.empty:
        daily["day_index"] = pd.Series(dtype="int64")
        return NodeForecast(daily=daily, horizon_start=None, horizon_end=None)
    start, end = daily["forecast_date"].min(), daily["forecast_date"].max()
    daily["day_index"] = (daily["forecast_date"] - start).dt.days.astype("int64")
    return NodeForecast(daily=daily, horizon_start=start, horizon_end=end)


def lead_time_window_days(lead_time_days: np.ndarray | pd.Series, horizon_days: int) -> np.ndarray:
    """Number of forecast days averaged for d̄ and σ_d: ceil(L), at least 1, at most the horizon.

    ceil so a 30.2-day lead time still sees its 31st day; capped at the horizon
    because a lead time longer than the forecast can only use what there is.
    """
    if horizon_days <= 0:
        return np.zeros(len(lead_time_days), dtype=np.int64)
    n = np.ceil(np.asarray(lead_time_days, dtype=float) - 1e-9)
    return np.clip(n, 1, horizon_days).astype(np.int64)


def lead_time_demand_stats(node_forecast: NodeForecast, keys: pd.DataFrame) -> pd.DataFrame:
    """Mean daily demand d̄ and daily std σ_d per sku × node over its lead-time window.

    Args:
        node_forecast: output of `node_daily_forecast`.
        keys: sku, node, window_days (from `lead_time_window_days`).

    Returns keys' sku, node plus mean_daily_demand (units/day) and
    demand_std_daily (units/day), in the order of `keys`:

        d̄   = (1/n) Σ_{day < n} mean_day
        σ_d = sqrt((1/n) Σ_{day < n} σ_day²)

    over the first n = window_days days of the horizon. A day with no forecast
    row counts as zero demand and zero spread (the forecast said nothing will
    sell there); n = 0 (no horizon) gives zeros.
    """
    daily = node_forecast.daily
    k = keys.loc[:, ["sku", "node", "window_days"]]
    window = k.merge(daily[["sku", "node", "day_index", "mean", "sigma_sq"]], on=["sku", "node"], how="inner")
    window = window[window["day_index"] < window["window_days"]]
    sums = window.groupby(["sku", "node"], as_index=False)[["mean", "sigma_sq"]].sum()
    out = k.merge(sums, on=["sku", "node"], how="left")
    n = out["window_days"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, out["mean"].fillna(0.0).to_numpy() / n, 0.0)
        var = np.where(n > 0, out["sigma_sq"].fillna(0.0).to_numpy() / n, 0.0)
    return pd.DataFrame(
        {
            "sku": out["sku"].to_numpy(),
            "node": out["node"].to_numpy(),
            "mean_daily_demand": mean,
            "demand_std_daily": np.sqrt(var),
        }
    )


def node_demand_samples(
    history: pd.DataFrame | RegularSales, market_nodes: pd.DataFrame, keys: pd.DataFrame, as_of: dt.date,
    days: int = SAMPLE_DAYS,
) -> np.ndarray:
    """Recent daily regular units sold per sku × node, zeros filled: [len(keys), days], oldest day first; NaN on
    the days before the row's first sale ever (a listing of 30 days is 30 days of demand, not 364).

    The simulated safety stock bootstraps lead-time demand from these days:
    they carry the shape (how often a SKU sells, how lumpy an order is) that
    the forecast's mean and quantiles do not. `history` is shaped like
    marts.fct_daily_demand (sku, market, demand_date, units_sold), or is
    the plan's sales capped once (`RegularSales`); markets are pooled to
    their node like the forecast. Days after `as_of` are ignored.

    Regular units, as the forecast learns them: a bulk day of a SKU in a market
    (crossdock/bulk_days.py, learned from its own two years up to `as_of`)
    counts as the series' busy day. A merchant's one 300-unit wholesale line
    drawn into the bootstrap set a safety stock of 330 on a SKU selling 0.8 a
    day, half the plan's safety stock value; a known order is planned as one
    (an override with reason_code customer_order), not held in stock for ever.
    """
    as_of_ts = pd.Timestamp(as_of).normalize()
    start = as_of_ts - pd.Timedelta(days=days - 1)
    if not isinstance(history, RegularSales):
        history = history.loc[:, ["sku", "market", "demand_date", "units_sold"]]
    node_of = market_nodes.drop_duplicates("market").set_index("market")["node"]
    h = regular_sales(history, as_of_ts, days)
    h["node"] = h["market"].map(node_of)
    h = h.dropna(subset=["node"])
    out = np.zeros((len(keys), days))
    index = pd.MultiIndex.from_frame(keys[["sku", "node"]])
    row = index.get_indexer(pd.MultiIndex.from_frame(h[["sku", "node"]]))
    ok = row >= 0
    col = (h["demand_date"] - start).dt.days.to_numpy()
    np.add.at(out, (row[ok], col[ok]), h["units_sold"].to_numpy(dtype=float)[ok])
    # the days before a row's first sale ever (at any market of its node) are not days it sold nothing: NaN
    first = first_sales(history, as_of_ts).assign(node=lambda f: f["market"].map(node_of)).dropna(subset=["node"])
    first = first.groupby(["sku", "node"])["first_sale"].min()
    first_day = pd.Series(first.to_numpy(), index=first.index).reindex(index)
    unlisted = np.clip((first_day - start).dt.days.fillna(days).to_numpy(dtype=float), 0, days).astype(np.int64)
    out[np.arange(days) < unlisted[:, None]] = np.nan
    return out
