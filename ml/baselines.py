"""The seasonal-naive (7 day) baseline.

Any forecast worth publishing has to beat "next week looks like last week";
the backtest reports it beside the model so a planner can see by how much.
"""
from __future__ import annotations

import numpy as np


def seasonal_naive(Y: np.ndarray, origin: int, horizon_days: int, season: int = 7) -> np.ndarray:
    """Forecast [series, horizon] that repeats the last `season` days up to `origin`.

    Day origin + h gets the value of day origin - season + 1 + ((h - 1) % season),
    i.e. the latest observed day with the same position in the cycle (the
    same weekday for season 7). Days before the start of `Y` count as zero
    sales. Units: as `Y` (units per day).
    """
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")
    h = np.arange(1, horizon_days + 1)
    src = origin - season + 1 + (h - 1) % season
    out = np.where(src >= 0, Y[:, np.maximum(src, 0)], 0.0)
    return out.astype(np.float64)


def seasonal_naive_scale(Y: np.ndarray, first: np.ndarray, origin: int, season: int = 7) -> np.ndarray:
    """In-sample MAE of the seasonal-naive forecast per series (the MASE denominator).

    Mean of |y[d] - y[d - season]| over days first + season .. origin, so a
    late launch is not credited with its pre-launch zeros. NaN when the series
    has fewer than `season` + 1 days since its first sale, or 0 when its
    history is perfectly periodic (its MASE is then undefined).
    """
    S, _ = Y.shape
    d = np.arange(origin + 1)
    diff = np.abs(Y[:, season : origin + 1] - Y[:, : origin + 1 - season])  # diff for day d >= season
    valid = d[None, season:] >= (first[:, None] + season)
    n = valid.sum(axis=1)
    tot = np.where(valid, diff, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, tot / np.maximum(n, 1), np.nan)
