"""The simple baselines: seasonal naive (7 days), naive, mean of the last 28 days, zero.

Any forecast worth publishing has to beat "next week looks like last week"
(and "tomorrow looks like today", "the last four weeks' average", and the
forecast of nothing, which scores well on series that mostly sell nothing);
the backtest reports them beside the model so a planner can see by how much.

All work on the dense, zero-filled panel `Y[series, day]` (units per day,
`ml.panel`): a day without a sale is a 0, so "last week" is the last seven
calendar days, never the last seven days with activity. Each is the
statsforecast model of the same name run on that dense series
(`SeasonalNaive(7)`, `Naive()`, `WindowAverage(28)`), computed here with
numpy on every series at once. They read only days <= `origin` and return
[series, horizon] float64 arrays in units per day.
"""
from __future__ import annotations

import numpy as np


def _check_origin(Y: np.ndarray, origin: int) -> None:
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")


def seasonal_naive(Y: np.ndarray, origin: int, horizon_days: int, season: int = 7) -> np.ndarray:
    """Forecast [series, horizon] that repeats the last `season` days up to `origin`.

    Day origin + h gets the value of day origin - season + 1 + ((h - 1) % season),
    i.e. the latest observed day with the same position in the cycle (the
    same weekday for season 7): statsforecast's `SeasonalNaive(season)`.
    Days before the start of `Y` count as zero sales (statsforecast gives NaN
    when the series is shorter than a season). Units: as `Y` (units per day).
    """
    _check_origin(Y, origin)
    h = np.arange(1, horizon_days + 1)
    src = origin - season + 1 + (h - 1) % season
    out = np.where(src >= 0, Y[:, np.maximum(src, 0)], 0.0)
    return out.astype(np.float64)


def naive(Y: np.ndarray, origin: int, horizon_days: int) -> np.ndarray:
    """Forecast [series, horizon] repeating the origin day's units (statsforecast's `Naive`).

    The random-walk forecast: on intermittent demand it is all zeros after a
    day without a sale and the whole order after a day with one, which is why
    it is a baseline and not a method.
    """
    _check_origin(Y, origin)
    return np.repeat(Y[:, origin : origin + 1].astype(np.float64), horizon_days, axis=1)


def window_average(Y: np.ndarray, origin: int, horizon_days: int, window: int = 28) -> np.ndarray:
    """Forecast [series, horizon]: mean units/day of days origin - window + 1 .. origin, repeated.

    statsforecast's `WindowAverage(window_size=window)` on the dense series.
    When `Y` has fewer than `window` days up to the origin, the mean of the
    days there are (statsforecast returns NaN then; a mean of what exists is
    the forecast a planner would still make, and no NaN reaches the metrics).
    """
    _check_origin(Y, origin)
    if window < 1:
        raise ValueError("window must be >= 1")
    start = max(0, origin - window + 1)
    mean = Y[:, start : origin + 1].astype(np.float64).mean(axis=1)
    return np.repeat(mean[:, None], horizon_days, axis=1)


def zero_forecast(n_series: int, horizon_days: int) -> np.ndarray:
    """Forecast [series, horizon] of nothing sold.

    On intermittent demand the all-zero forecast has a WAPE of exactly 1 and
    beats many a point forecast on absolute error; a model a gate lets
    through must beat it too.
    """
    return np.zeros((n_series, horizon_days), dtype=np.float64)


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
