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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.demand_class import classify
from ml.panel import Panel

TARGET_TAIL = 0.10
FACTORS = np.round(np.arange(0.5, 3.0001, 0.05), 2)
P10_FACTORS = np.r_[0.0, FACTORS]  # a p10 of 0 ("may sell nothing") is right for a series idle most days
MIN_ROWS = 2_000
Scales = dict[str, tuple[float, float]]
"""demand class -> (factor on p10, factor on p90)."""


@dataclass(frozen=True)
class TailCounts:
    """One demand class's evidence: its rows, and how many lie below k x p10 / above k x p90 for each factor k.

    Counts rather than shares so that evidence from several backtest windows
    adds up: the held-out factors of a window are fitted on the sum of the
    other windows' counts, each comparison made once per row rather than once
    per window that holds it out (at 10,000 series the four refits took 1.5 s
    of the backtest's single-threaded tail).
    """

    rows: int
    below: np.ndarray  # [len(P10_FACTORS)] rows with actual < k * p10
    above: np.ndarray  # [len(FACTORS)] rows with actual > k * p90

    def __add__(self, other: TailCounts) -> TailCounts:
        return TailCounts(self.rows + other.rows, self.below + other.below, self.above + other.above)


def tail_counts(frame: pd.DataFrame) -> dict[str, TailCounts]:
    """Per demand class of `frame` (rows with actual, p10, p90 and demand_class): its `TailCounts`."""
    counts: dict[str, TailCounts] = {}
    for cls, rows in frame.groupby("demand_class", sort=True):
        a = rows["actual"].to_numpy(dtype=float)
        p10, p90 = rows["p10"].to_numpy(dtype=float), rows["p90"].to_numpy(dtype=float)
        counts[str(cls)] = TailCounts(
            len(rows),
            np.array([np.count_nonzero(a < k * p10) for k in P10_FACTORS]),
            np.array([np.count_nonzero(a > k * p90) for k in FACTORS]),
        )
    return counts


def scales_from_counts(counts: Mapping[str, TailCounts]) -> Scales:
    """Factors per class: on p90 the smallest k with at most `TARGET_TAIL` of the rows above k x p90, on p10 the
    largest with at most that share below; a class with fewer than `MIN_ROWS` rows keeps (1, 1)."""
    scales: Scales = {}
    for cls in sorted(counts):
        c = counts[cls]
        if c.rows < MIN_ROWS:
            scales[cls] = (1.0, 1.0)
            continue
        above = np.flatnonzero(c.above / c.rows <= TARGET_TAIL)
        below = np.flatnonzero(c.below / c.rows <= TARGET_TAIL)
        scales[cls] = (
            float(P10_FACTORS[below[-1]]) if below.size else 0.0,
            float(FACTORS[above[0]]) if above.size else float(FACTORS[-1]),
        )
    return scales


def fit_scales(frame: pd.DataFrame) -> Scales:
    """Factors per demand class from rows with actual, p10, p90 and demand_class (a backtest's predictions)."""
    return scales_from_counts(tail_counts(frame))


def held_out_scales(frame: pd.DataFrame, by: str = "window") -> dict[object, Scales]:
    """For each value of `by`, the factors fitted on the rows of every other value: `fit_scales` of the rest.

    A class the other values never saw is left out (it keeps its band), as
    `fit_scales` of those rows would; with one value the rest is empty and so
    are its scales.
    """
    parts = {value: tail_counts(rows) for value, rows in frame.groupby(by, sort=False)}
    held_out: dict[object, Scales] = {}
    for value in parts:
        rest: dict[str, TailCounts] = {}
        for other, counts in parts.items():
            if other == value:
                continue
            for cls, c in counts.items():
                rest[cls] = rest[cls] + c if cls in rest else c
        held_out[value] = scales_from_counts(rest)
    return held_out


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


def calibrate_forecast(forecast: pd.DataFrame, panel: Panel, scales: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """A published forecast (sku, market, p10, p50, p90, ...) with each series' band scaled by its class at the
    planning date.

    The class is read from `panel`, the history up to the planning date
    (`ml.panel.build_panel`), as the backtest read it at each window's origin;
    a series without history there (a planned launch) keeps its band.
    """
    if forecast.empty or not scales:
        return forecast
    classes = classify(panel.Y, panel.series["first_idx"].to_numpy(), panel.n_days - 1)
    by_series = pd.Series(classes, index=pd.MultiIndex.from_frame(panel.series[["sku", "market"]]))
    rows = by_series.reindex(pd.MultiIndex.from_frame(forecast[["sku", "market"]])).fillna("").to_numpy()
    return apply_scales(forecast, rows, scales)
