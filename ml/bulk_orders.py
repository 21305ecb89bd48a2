"""Bulk days: one-off orders far above a series' normal days, kept out of what the forecast learns from.

A merchant that also sells wholesale has days when one SKU in one market
sells 20,000 units against a usual 2: on the messy demo merchant 151 such
days hold 63 % of ten years' units. No daily forecast can say which SKU gets
the next pallet order or when, and a model trained on them spreads them as
extra expected units over every series that ever had one (+40 to +60 % on the
regular demand of the backtest windows that followed). Demand planning tools
call this outlier correction: the statistical forecast learns the regular
demand, and the bulk orders are planned as what they are, known orders (in
crossdock a planner's override with reason_code customer_order, docs/sop.md).

A day is bulk when its units exceed the series' bound: `FACTOR` times its
busy day (the 95th percentile of its selling days in the `WINDOW_DAYS` up to
the origin), and at least `MIN_UNITS`. Learned per series from its own
history, so a merchant whose wholesale orders are regular (more than one
selling day in twenty) has them inside its percentile and nothing is cut.
The forecast trains on the regular demand, each bulk day replaced by the
series' busy day (`cap_panel`); the backtest still scores against everything
sold, and reports the bulk units beside it (`ml.backtest`: bulk_units,
mean_bias_regular).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.panel import Panel

FACTOR = 10.0
QUANTILE = 0.95
MIN_UNITS = 10.0
WINDOW_DAYS = 728


@dataclass(frozen=True)
class BulkSummary:
    """What capping took out of a history: days capped, units above the bounds, all units (same window)."""

    days: int
    units: float
    total_units: float

    @property
    def share(self) -> float:
        return self.units / self.total_units if self.total_units else 0.0

    def describe(self) -> str:
        if not self.days:
            return "no bulk days: the forecast learned from every unit sold"
        return (f"{self.days} bulk day(s) in the last {WINDOW_DAYS} days (over {FACTOR:g}x their series' busy day): "
                f"{self.units:,.0f} of {self.total_units:,.0f} units ({self.share:.0%}) are left out of what the forecast "
                "learns; plan such orders as known orders (an override with reason_code customer_order for the "
                "week they ship: docs/sop.md)")


def busy_day(Y: np.ndarray, origin: int, window: int = WINDOW_DAYS) -> np.ndarray:
    """Each series' busy selling day: the `QUANTILE` of its days with a sale in the `window` days up to `origin`.

    NaN for a series without a sale in the window. The same values as
    `np.nanquantile` over the selling days (its default linear method), in
    one sort of the whole window: `nanquantile` along an axis loops over the
    series in Python, 1.3 s at 10,000 series where this takes a tenth of it.
    """
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")
    W = Y[:, max(origin - window + 1, 0) : origin + 1]
    selling = np.sort(np.where(W > 0, W, np.inf), axis=1)  # each series' selling days first, ascending
    n = (W > 0).sum(axis=1)
    position = (np.maximum(n, 1) - 1) * QUANTILE
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(n - 1, 0))
    rows = np.arange(len(W))
    low, high, weight = selling[rows, below], selling[rows, above], position - below
    with np.errstate(invalid="ignore"):  # inf - inf on series without a sale, masked below
        step = high - low
        q = np.where(weight >= 0.5, high - step * (1 - weight), low + step * weight)  # numpy's own lerp, bit for bit
    return np.where(n > 0, q, np.nan)


def _bounds(busy: np.ndarray) -> np.ndarray:
    """The bulk bound of each series from its busy day; infinite without one (no sale: nothing to compare with)."""
    return np.where(np.isfinite(busy), np.maximum(MIN_UNITS, FACTOR * np.nan_to_num(busy)), np.inf)


def bulk_bounds(Y: np.ndarray, origin: int, window: int = WINDOW_DAYS) -> np.ndarray:
    """Units per day above which a day of each series is bulk, learned from the `window` days up to `origin`.

    Infinite for a series without a sale in the window (nothing to compare with).
    """
    return _bounds(busy_day(Y, origin, window))


def regular_demand(Y: np.ndarray, origin: int, window: int = WINDOW_DAYS) -> np.ndarray:
    """`Y` with every bulk day (by the bounds learned up to `origin`) replaced by its series' busy day.

    The busy day, not the bound: a pallet order tells nothing about the
    regular demand of that day except that the SKU sold, and a bound of ten
    busy days would still teach the forecast an order that size.
    """
    busy = busy_day(Y, origin, window)
    return np.where(Y > _bounds(busy)[:, None], np.nan_to_num(busy)[:, None], Y)


def cap_panel(panel: Panel, window: int = WINDOW_DAYS) -> tuple[Panel, BulkSummary]:
    """`panel` with every bulk day (bounds at the panel's end) replaced by its series' busy day, and what was taken out.

    Revenue is scaled with the units on a replaced day, so the price features
    (revenue / units) still read the price that day was sold at.
    """
    Y = panel.Y
    regular = regular_demand(Y, panel.n_days - 1, window)
    over = regular != Y
    recent = slice(max(panel.n_days - window, 0), panel.n_days)
    total = float(Y[:, recent].sum())
    if not over.any():
        return panel, BulkSummary(0, 0.0, total)
    R = panel.R
    if R is not None:
        R = np.where(over, R * regular / np.where(over, Y, 1.0), R)
    summary = BulkSummary(int(over[:, recent].sum()), float((Y - regular)[:, recent].sum()), total)
    return Panel(series=panel.series, start=panel.start, Y=regular, R=R), summary
