"""Forecast accuracy metrics, on arrays of units per series-day.

Chosen for intermittent retail demand: WAPE and bias are ratios of totals
(well defined when many days are zero, unlike MAPE); MASE compares each
series with its own seasonal-naive error; coverage checks the p10-p90 band
holds ~80% of actuals; pinball loss scores each quantile on its own.
"""
from __future__ import annotations

import numpy as np


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def wape(actual, forecast) -> float:
    """Weighted absolute percentage error: sum|actual - forecast| / sum(actual) (unitless; NaN if no sales)."""
    a, f = _arr(actual), _arr(forecast)
    total = a.sum()
    return float(np.abs(a - f).sum() / total) if total > 0 else float("nan")


def bias(actual, forecast) -> float:
    """sum(forecast - actual) / sum(actual): > 0 over-forecasts, < 0 under-forecasts (unitless)."""
    a, f = _arr(actual), _arr(forecast)
    total = a.sum()
    return float((f - a).sum() / total) if total > 0 else float("nan")


def mase(actual, forecast, scale: float) -> float:
    """Mean absolute error of one series over its horizon divided by `scale`.

    `scale` is the in-sample MAE of the seasonal-naive (7) forecast of the
    same series (`ml.baselines.seasonal_naive_scale`); NaN when the scale is
    not finite and positive. < 1 beats a one-step seasonal naive in sample.
    """
    a, f = _arr(actual), _arr(forecast)
    if not np.isfinite(scale) or scale <= 0 or a.size == 0:
        return float("nan")
    return float(np.abs(a - f).mean() / scale)


def mean_mase(per_series: np.ndarray) -> float:
    """Aggregate MASE: the mean over series with a finite value (NaN if none)."""
    v = _arr(per_series)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def coverage(actual, lower, upper) -> float:
    """Share of actuals inside [lower, upper], bounds included (0..1; ~0.8 wanted for p10-p90)."""
    a, lo, hi = _arr(actual), _arr(lower), _arr(upper)
    if a.size == 0:
        return float("nan")
    return float(((a >= lo) & (a <= hi)).mean())


def pinball(actual, forecast, alpha: float) -> float:
    """Mean pinball (quantile) loss of quantile `alpha`, in units per series-day."""
    a, f = _arr(actual), _arr(forecast)
    if a.size == 0:
        return float("nan")
    d = a - f
    return float(np.mean(np.maximum(alpha * d, (alpha - 1) * d)))
