"""Calibrated quantiles per demand class: p10 / p90 scaled so each tail holds at most a tenth of the days.

The quantile boosters are fitted on all series at once, and their tails come
out right on average but not per kind of series: on the demo the fast movers'
p90 was exceeded on 12.7-13.1 % of days and the intermittent ones' on 8.4 %
(`ml/README.md`). The planning reads the band as the spread of daily demand
(`planning.demand`: sigma from p10 / p90), so a band too narrow under-stocks
the fast movers and one too wide over-stocks the slow ones.

The remedy is split conformal calibration by class: on the backtest's
windows, each class (`ml.demand_class` at the window's origin) gets the
factor on p90 that brings the share of days above it to at most
`TARGET_TAIL` (the smallest such factor in `FACTORS`, so the band is as
narrow as the evidence allows), and the factor on p10 that brings the share
below it to at most `TARGET_TAIL` (the largest in `P10_FACTORS`, down to 0). A count cannot be exceeded
on a fixed share of days (a p90 of 0.8 is exceeded on every selling day), so
at most a tenth is the promise, not exactly a tenth. Classes with fewer than
`MIN_ROWS` series-days keep factor 1: too little evidence to move them.

The backtest says how well that generalises (`ml.backtest`, columns
p10_calibrated / p90_calibrated and below_p10_calibrated /
above_p90_calibrated): each window is scored with the factors fitted on the
other windows only, as the published forecast is scored by the next weeks'
sales.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ml.demand_class import classify
from ml.panel import build_panel, to_timestamp

TARGET_TAIL = 0.10
FACTORS = np.round(np.arange(0.5, 3.0001, 0.05), 2)
P10_FACTORS = np.r_[0.0, FACTORS]  # a p10 of 0 ("may sell nothing") is right for a series idle most days
MIN_ROWS = 2_000
Scales = dict[str, tuple[float, float]]
"""demand class -> (factor on p10, factor on p90)."""


def _p90_factor(actual: np.ndarray, p90: np.ndarray) -> float:
    above = np.array([(actual > k * p90).mean() for k in FACTORS])
    ok = np.flatnonzero(above <= TARGET_TAIL)
    return float(FACTORS[ok[0]]) if ok.size else float(FACTORS[-1])


def _p10_factor(actual: np.ndarray, p10: np.ndarray) -> float:
    below = np.array([(actual < k * p10).mean() for k in P10_FACTORS])
    ok = np.flatnonzero(below <= TARGET_TAIL)
    return float(P10_FACTORS[ok[-1]]) if ok.size else 0.0


def fit_scales(frame: pd.DataFrame) -> Scales:
    """Factors per demand class from rows with actual, p10, p90 and demand_class (a backtest's predictions)."""
    scales: Scales = {}
    for cls, rows in frame.groupby("demand_class", sort=True):
        if len(rows) < MIN_ROWS:
            scales[str(cls)] = (1.0, 1.0)
            continue
        a = rows["actual"].to_numpy(dtype=float)
        scales[str(cls)] = (_p10_factor(a, rows["p10"].to_numpy(dtype=float)), _p90_factor(a, rows["p90"].to_numpy(dtype=float)))
    return scales


def apply_scales(frame: pd.DataFrame, classes: np.ndarray, scales: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """`frame` (p10, p50, p90 per row) with each row's band scaled by its class's factors; p10 <= p50 <= p90 kept.

    A class without factors (not seen in the backtest) keeps its band.
    """
    by_class = pd.Series(classes, dtype=object).astype(str)  # one lookup per class, not a Python call per row
    k10 = by_class.map({c: k[0] for c, k in scales.items()}).fillna(1.0).to_numpy(dtype=float)
    k90 = by_class.map({c: k[1] for c, k in scales.items()}).fillna(1.0).to_numpy(dtype=float)
    p50 = frame["p50"].to_numpy(dtype=float)
    return frame.assign(
        p10=np.minimum(frame["p10"].to_numpy(dtype=float) * k10, p50),
        p90=np.maximum(frame["p90"].to_numpy(dtype=float) * k90, p50),
    )


def calibrate_forecast(forecast: pd.DataFrame, history: pd.DataFrame, as_of: object, scales: Mapping[str, tuple[float, float]]
                       ) -> pd.DataFrame:
    """A published forecast (sku, market, p10, p50, p90, ...) with each series' band scaled by its class at `as_of`.

    The class is read from `history` up to `as_of` as the backtest read it at
    each window's origin; a series without history there (a planned launch)
    keeps its band.
    """
    if forecast.empty or not scales:
        return forecast
    panel = build_panel(history, to_timestamp(as_of).date())
    classes = classify(panel.Y, panel.series["first_idx"].to_numpy(), panel.n_days - 1)
    by_series = pd.Series(classes, index=pd.MultiIndex.from_frame(panel.series[["sku", "market"]]))
    rows = by_series.reindex(pd.MultiIndex.from_frame(forecast[["sku", "market"]])).fillna("").to_numpy()
    return apply_scales(forecast, rows, scales)
