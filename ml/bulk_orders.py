"""The forecast's view of bulk days (crossdock/bulk_days.py): what it trains on, and what was taken out.

The forecast trains on the regular demand, each bulk day replaced by the
series' busy day (`cap_panel`); on the messy demo merchant 151 such days hold
63 % of ten years' units, and a model trained on them spreads them as extra
expected units over every series that ever had one (+40 to +60 % on the
regular demand of the backtest windows that followed). The backtest still
scores against everything sold, and reports the bulk units beside it
(`ml.backtest`: bulk_units, mean_bias_regular).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossdock.bulk_days import FACTOR, WINDOW_DAYS, regular_demand
from ml.panel import Panel


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
