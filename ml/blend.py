"""The published expected units: the model's `mean` blended with the series' recent regular level, weight proven held out.

On a small merchant the global model has few series to learn from and its
expected units score about as well as the 28-day mean's (weekly WAPE 0.98-1.01x
of it over four draws of the demo at scale 0.1, `ml/README.md`). Two forecasts
of similar accuracy whose errors differ combine into one better than either,
the oldest result of forecast combination (Bates and Granger, 1969), so the
published `mean` is `w x model + (1 - w) x level` with the level the mean of
the series' regular demand over the `LEVEL_DAYS` days up to the origin
(`ml.bulk_orders.regular_demand`: a wholesale day counts as its series' busy
day, so a pallet order is never carried into the horizon).

`w` is chosen like the band's factors (`ml.calibration`): from the backtest's
windows, the weight in `WEIGHTS` with the least weekly absolute error of the
expected units (the gate's metric, `ml.metrics.weekly_wape`), ties going to
the larger weight; each window is scored with the weight fitted on the other
windows, and the published forecast uses the one fitted on all of them. A
backtest of one window proves nothing held out and keeps the model (w = 1).
The median p50 follows the published mean (`crossdock.count_median`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.count_median import with_count_median
from ml.bulk_orders import regular_demand
from ml.metrics import weekly_totals
from ml.panel import Panel

WEIGHTS: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25, 0.0)
"""Model weights tried, the model alone first: a tie keeps the larger weight."""
LEVEL_DAYS = 28
MODEL_ALONE = 1.0


@dataclass(frozen=True)
class BlendErrors:
    """One window's (or several windows') summed weekly absolute error for each weight in `WEIGHTS`.

    Sums rather than WAPEs so that windows add up; the WAPE's denominator,
    the units sold, is the same for every weight and does not change the choice.
    """

    abs_error: np.ndarray  # [len(WEIGHTS)]

    def __add__(self, other: BlendErrors) -> BlendErrors:
        return BlendErrors(self.abs_error + other.abs_error)

    def best(self) -> float:
        return WEIGHTS[int(np.argmin(self.abs_error))]  # argmin takes the first minimum: the larger weight


def regular_level(Y: np.ndarray, origin: int, days: int = LEVEL_DAYS) -> np.ndarray:
    """Each series' mean regular units per day over the `days` days up to `origin` (zeros included, as `mean_28`)."""
    return level_from_regular(regular_demand(Y, origin), origin, days)


def level_from_regular(R: np.ndarray, origin: int, days: int = LEVEL_DAYS) -> np.ndarray:
    """`regular_level` from the regular demand `R` already computed for `origin` (the backtest has it)."""
    return R[:, max(origin - days + 1, 0): origin + 1].sum(axis=1) / days


def blend_errors(actual: np.ndarray, model_mean: np.ndarray, level: np.ndarray, horizon_days: int) -> BlendErrors:
    """The weekly absolute error of every weight's blend, for series-major rows with horizons 1..`horizon_days` and
    one `level` per series."""
    a = weekly_totals(actual, horizon_days)
    m = weekly_totals(model_mean, horizon_days)
    lvl = weekly_totals(np.repeat(np.asarray(level, dtype=float), horizon_days), horizon_days)
    return BlendErrors(np.array([np.abs(a - (w * m + (1 - w) * lvl)).sum() for w in WEIGHTS]))


def fit_weight(errors: Mapping[object, BlendErrors]) -> float:
    """The weight fitted on every window's errors; the model alone with fewer than two windows (nothing held out)."""
    if len(errors) < 2:
        return MODEL_ALONE
    return sum(errors.values(), BlendErrors(np.zeros(len(WEIGHTS)))).best()


def held_out_weights(errors: Mapping[object, BlendErrors]) -> dict[object, float]:
    """For each window, the weight fitted on the other windows' errors; the model alone when there is no other."""
    if len(errors) < 2:
        return {window: MODEL_ALONE for window in errors}
    return {
        window: sum((e for other, e in errors.items() if other != window), BlendErrors(np.zeros(len(WEIGHTS)))).best()
        for window in errors
    }


def blend(model_mean: np.ndarray, level: np.ndarray, weight: float) -> np.ndarray:
    """`weight x model_mean + (1 - weight) x level`, never below 0."""
    return np.clip(weight * np.asarray(model_mean, dtype=float) + (1 - weight) * np.asarray(level, dtype=float), 0.0, None)


def with_mean(frame: pd.DataFrame, mean: np.ndarray) -> pd.DataFrame:
    """`frame` (p10, p50, p90, mean per row) with `mean` in place of its own and p50 the median of a count with it."""
    p10, p50, p90 = with_count_median(frame["p10"].to_numpy(dtype=float), mean, frame["p90"].to_numpy(dtype=float))
    return frame.assign(mean=mean, p10=p10, p50=p50, p90=p90)


def blend_forecast(forecast: pd.DataFrame, panel: Panel, weight: float | None) -> pd.DataFrame:
    """A published forecast (sku, market, forecast_date, mean, ...) with `mean` blended with each series' level at the
    planning date.

    The level is read from `panel`, the history up to the planning date
    (`ml.panel.build_panel`), as the backtest read it at each window's
    origin. A series without history there (a planned launch) keeps the
    model's mean, and so does every series when `weight` is None or 1 (no
    backtest yet, or the model alone proved best). p50 follows the blended mean.
    """
    if forecast.empty or weight is None or weight == MODEL_ALONE:
        return forecast
    level = pd.Series(
        regular_level(panel.Y, panel.n_days - 1), index=pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    )
    rows = level.reindex(pd.MultiIndex.from_frame(forecast[["sku", "market"]])).to_numpy(dtype=float)
    model_mean = forecast["mean"].to_numpy(dtype=float)
    blended = blend(model_mean, np.nan_to_num(rows), weight)
    return with_mean(forecast, np.where(np.isnan(rows), model_mean, blended))
