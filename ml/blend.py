"""The published expected units: the model's `mean` blended with the series' recent regular level, weight proven held out.

On a small merchant the global model has few series to learn from and its
expected units score about as well as the 28-day mean's (weekly WAPE 0.98-1.01x
of it over four draws of the demo at scale 0.1, `ml/README.md`). Two forecasts
of similar accuracy whose errors differ combine into one better than either,
the oldest result of forecast combination (Bates and Granger, 1969), so the
published `mean` is `w x model + (1 - w) x level` with the level the mean of
the series' regular demand over the `LEVEL_DAYS` days up to the origin
(`crossdock.bulk_days.regular_demand`: a wholesale day counts as its series' busy
day, so a pallet order is never carried into the horizon).

`w` is chosen like the band's factors (`ml.calibration`): from the backtest's
windows, the weight in `WEIGHTS` with the least weekly absolute error of the
expected units (the gate's metric, `ml.metrics.weekly_wape`), ties going to
the larger weight; each window is scored with the weight fitted on the other
windows, and the published forecast uses the one fitted on all of them. A
backtest of one window proves nothing held out and keeps the model (w = 1).
The median p50 follows the published mean (`crossdock.count_median`).

The windows all lie behind the planning date. In a market whose weeks ahead
hold a season none of them did (`ml.season_ahead`: last year the same weeks
sold far more, or less, than their 28-day level), the level is the one
partner known to be wrong, so its series keep the model's mean
(`model_alone_markets`); the model has the year-ago and calendar features.

The same held-out choice decides whether a series that has stopped selling
(`ml.stopped_series`) is forecast 0, band and all: the choices tried are
every weight with the rule off, then every weight with it on, so a tie keeps
the rule off and then the larger weight.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.count_median import with_count_median
from crossdock.bulk_days import regular_demand
from ml.metrics import weekly_totals
from ml.panel import Panel
from ml.stopped_series import stopped

WEIGHTS: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25, 0.0)
"""Model weights tried, the model alone first: a tie keeps the larger weight."""
LEVEL_DAYS = 28
MODEL_ALONE = 1.0


@dataclass(frozen=True)
class MeanChoice:
    """How the published mean is made: the model's weight in the blend, and whether stopped series are forecast 0."""

    weight: float = MODEL_ALONE
    zero_stopped: bool = False


CHOICES: tuple[MeanChoice, ...] = tuple(MeanChoice(w, z) for z in (False, True) for w in WEIGHTS)
"""Every weight with the stopped rule off, then on: the first of tied choices wins."""
MODEL_ONLY = MeanChoice()


@dataclass(frozen=True)
class BlendErrors:
    """One window's (or several windows') summed weekly absolute error for each choice in `CHOICES`.

    Sums rather than WAPEs so that windows add up; the WAPE's denominator,
    the units sold, is the same for every weight and does not change the choice.
    """

    abs_error: np.ndarray  # [len(CHOICES)]

    def __add__(self, other: BlendErrors) -> BlendErrors:
        return BlendErrors(self.abs_error + other.abs_error)

    def best(self) -> MeanChoice:
        return CHOICES[int(np.argmin(self.abs_error))]  # argmin takes the first minimum: the rule off, the larger weight


def regular_level(Y: np.ndarray, origin: int, days: int = LEVEL_DAYS) -> np.ndarray:
    """Each series' mean regular units per day over the `days` days up to `origin` (zeros included, as `mean_28`)."""
    return level_from_regular(regular_demand(Y, origin), origin, days)


def level_from_regular(R: np.ndarray, origin: int, days: int = LEVEL_DAYS) -> np.ndarray:
    """`regular_level` from the regular demand `R` already computed for `origin` (the backtest has it)."""
    return R[:, max(origin - days + 1, 0): origin + 1].sum(axis=1) / days


def blend_errors(actual: np.ndarray, model_mean: np.ndarray, level: np.ndarray, horizon_days: int,
                 stopped_series: np.ndarray | None = None) -> BlendErrors:
    """The weekly absolute error of every choice's mean, for series-major rows with horizons 1..`horizon_days`, one
    `level` and one `stopped_series` flag (none stopped when None) per series."""
    a = weekly_totals(actual, horizon_days)
    m = weekly_totals(model_mean, horizon_days)
    lvl = weekly_totals(np.repeat(np.asarray(level, dtype=float), horizon_days), horizon_days)
    flags = np.zeros(len(level), dtype=bool) if stopped_series is None else np.asarray(stopped_series, dtype=bool)
    off = flags[:, None]  # weekly totals are [series, week]
    return BlendErrors(np.array([
        np.abs(a - np.where(off & c.zero_stopped, 0.0, c.weight * m + (1 - c.weight) * lvl)).sum() for c in CHOICES
    ]))


def fit_choice(errors: Mapping[object, BlendErrors]) -> MeanChoice:
    """The choice fitted on every window's errors; the model alone with fewer than two windows (nothing held out)."""
    if len(errors) < 2:
        return MODEL_ONLY
    return sum(errors.values(), BlendErrors(np.zeros(len(CHOICES)))).best()


def held_out_choices(errors: Mapping[object, BlendErrors]) -> dict[object, MeanChoice]:
    """For each window, the choice fitted on the other windows' errors; the model alone when there is no other."""
    if len(errors) < 2:
        return {window: MODEL_ONLY for window in errors}
    return {
        window: sum((e for other, e in errors.items() if other != window), BlendErrors(np.zeros(len(CHOICES)))).best()
        for window in errors
    }


def blend(model_mean: np.ndarray, level: np.ndarray, weight: float) -> np.ndarray:
    """`weight x model_mean + (1 - weight) x level`, never below 0."""
    return np.clip(weight * np.asarray(model_mean, dtype=float) + (1 - weight) * np.asarray(level, dtype=float), 0.0, None)


def with_mean(frame: pd.DataFrame, mean: np.ndarray, zero: np.ndarray | None = None) -> pd.DataFrame:
    """`frame` (p10, p50, p90, mean per row) with `mean` in place of its own and p50 the median of a count with it;
    rows where `zero` is true forecast 0, band and all."""
    p10, p90 = frame["p10"].to_numpy(dtype=float), frame["p90"].to_numpy(dtype=float)
    if zero is not None:
        mean, p10, p90 = (np.where(zero, 0.0, column) for column in (mean, p10, p90))
    p10, p50, p90 = with_count_median(p10, mean, p90)
    return frame.assign(mean=mean, p10=p10, p50=p50, p90=p90)


def blend_forecast(forecast: pd.DataFrame, panel: Panel, choice: MeanChoice | None,
                   out_of_stock: pd.DataFrame | None = None,
                   model_alone_markets: Collection[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A published forecast (sku, market, forecast_date, mean, ...) with `mean` blended with each series' level at the
    planning date, and the series that stopped selling there forecast 0 when `choice` says so; and the series judged
    stopped (sku, market, last_sale_date, quiet_days, out_of_stock), empty when none is.

    The level and the stop are read from `panel`, the history up to the
    planning date (`ml.panel.build_panel`), as the backtest read them at each
    window's origin. A series without history there (a planned launch) keeps
    the model's mean, and so does every series when `choice` is None (no
    backtest yet) or the model alone proved best. A stopped series named in
    `out_of_stock` (sku, market: `ml.stopped_series.out_of_stock`) keeps its
    forecast too: its quiet run says nothing about its demand. The series of
    `model_alone_markets` keep the model's mean, not blended (module
    docstring); the stop rule still applies to them. p50 follows the mean.
    """
    stopped_rows = pd.DataFrame(columns=["sku", "market", "last_sale_date", "quiet_days", "out_of_stock"])
    if forecast.empty or choice is None or choice == MODEL_ONLY:
        return forecast, stopped_rows
    origin = panel.n_days - 1
    keys = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    where = keys.get_indexer(pd.MultiIndex.from_frame(forecast[["sku", "market"]]))
    known = where >= 0
    level = regular_level(panel.Y, origin)[np.maximum(where, 0)]
    model_mean = forecast["mean"].to_numpy(dtype=float)
    blended = known & ~forecast["market"].astype(str).isin([str(m) for m in model_alone_markets]).to_numpy()
    mean = np.where(blended, blend(model_mean, level, choice.weight), model_mean)
    if not choice.zero_stopped:
        return with_mean(forecast, mean), stopped_rows
    flags = stopped(panel.Y, panel.series["first_idx"].to_numpy(), origin)
    flags &= np.isin(np.arange(panel.n_series), where[known])  # the series forecast, not those long gone
    short = (np.zeros(panel.n_series, dtype=bool) if out_of_stock is None or out_of_stock.empty
             else keys.isin(pd.MultiIndex.from_frame(out_of_stock[["sku", "market"]])))
    zero = known & (flags & ~short)[np.maximum(where, 0)]
    last_idx = panel.series["last_idx"].to_numpy()
    stopped_rows = panel.series.loc[flags, ["sku", "market"]].assign(
        last_sale_date=panel.start + pd.to_timedelta(last_idx[flags], unit="D"), quiet_days=origin - last_idx[flags],
        out_of_stock=short[flags],
    ).reset_index(drop=True)
    return with_mean(forecast, mean, zero), stopped_rows
