"""How the backtest scores forecasts: the models it compares, their columns and the metrics table.

`ml.backtest` makes the rolling-origin windows and every model's forecast on
them; this module names the models (the forecast `MODEL` and the baselines),
says where each one's forecast sits in the predictions (`MODEL_COLUMNS`),
and turns day-level predictions into the table `publish.forecast_accuracy`
holds (`summarise`, `METRIC_COLUMNS`, defined on `BacktestResult`). Kept
apart so what a metric means is read in one place, and the modules that only
need a model's name (`ml.fallback_forecast`, the checks, the summary) do not
import the backtest's machinery.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml import metrics
from ml.calibration import Scales


MODEL = "lightgbm"
NAIVE = "seasonal_naive_7"
NAIVE_1 = "naive_1"
MEAN_28 = "mean_28"
ZERO = "zero"
SCOPES = ("market", "category", "demand_class")
"""The breakdowns beside the overall row. demand_class is the series' pattern at the window's origin
(`ml.demand_class`: smooth, erratic, intermittent, lumpy, new, dormant), so quantile calibration and
accuracy are judged per class, not only on the fast movers that carry the overall figure."""


@dataclass(frozen=True)
class ModelColumns:
    """Where a scored model's forecast sits in `BacktestResult.predictions`.

    Only the model and AutoETS have an interval; the other baselines are
    points, so their interval metrics are NaN rather than made up. `mean`
    is the expected units a plan sums (the model's Tweedie column); a
    baseline's point is its mean. `point` None is the zero forecast, which
    needs no column.
    """

    point: str | None
    lower: str | None = None
    upper: str | None = None
    mean: str | None = None

    def expected(self) -> str | None:
        """The column scored by the sum-aware metrics (weekly WAPE, RMSSE): the mean when there is one."""
        return self.mean or self.point


MODEL_COLUMNS: dict[str, ModelColumns] = {
    MODEL: ModelColumns("p50", "p10", "p90", "mean"),
    NAIVE: ModelColumns("seasonal_naive_7"),
    NAIVE_1: ModelColumns("naive_1"),
    MEAN_28: ModelColumns("mean_28"),
    ZERO: ModelColumns(None),
    "auto_ets": ModelColumns("auto_ets", "auto_ets_p10", "auto_ets_p90"),
    "croston_optimized": ModelColumns("croston_optimized"),
}
METRIC_COLUMNS = [
    "scope",
    "scope_value",
    "model",
    "weekly_wape",
    "weekly_wape_ratio_to_naive",
    "rmsse",
    "wape",
    "bias",
    "mase",
    "coverage_p10_p90",
    "below_p10",
    "above_p90",
    "pinball_p10",
    "pinball_p50",
    "pinball_p90",
    "mean_bias",
    "wape_ratio_to_naive",
    "n_series",
    "n_windows",
    "horizon_days",
    "actual_units",
    "selling_weeks",
    "bulk_units",
    "mean_bias_regular",
    "below_p10_calibrated",
    "above_p90_calibrated",
    "model_ratio_low",
    "model_ratio_high",
]
RATIO_CONFIDENCE = 0.9
"""How sure the interval of the model's weekly WAPE over each other model's is (`model_ratio_low` / `_high`)."""
RATIO_DRAWS = 500
RATIO_SEED = 0  # the same data gives the same interval, run after run


@dataclass
class BacktestResult:
    """Backtest output.

    metrics: one row per scope (overall / market / category / demand_class) x scope_value x
        model (lightgbm and the baselines scored), columns `METRIC_COLUMNS`:
        weekly_wape = sum over series and 7-day blocks of the horizon of
            |actual - expected| / sum(actual), expected = the model's mean
            (a baseline's point); a zero forecast scores 1;
        weekly_wape_ratio_to_naive = weekly_wape / seasonal naive's in the scope;
        rmsse = mean over (window, series) of the root mean squared error over
            the horizon scaled by the series' in-sample one-day-naive MSE
            (M5's RMSSE; series with an undefined scale are left out);
        wape = sum|actual - point| / sum(actual) over all scored series-days
            (point = p50 for the model): daily p50 WAPE, reported, not gated;
        bias = sum(point - actual) / sum(actual);
        mase = mean over (window, series) of MAE / in-sample seasonal-naive-7
            MAE of that series (series with a zero or undefined scale are
            left out of the mean);
        coverage_p10_p90 = share of series-days with p10 <= actual <= p90
            (NaN for models without an interval). Above the nominal 0.8 for
            counts: a day with 0 sold and p10 = 0 is inside, so read it with
            below_p10 / above_p90, the shares of actuals strictly outside each
            end (calibrated quantiles of discrete demand give each <= 0.1);
        pinball_p* = mean pinball loss in units per series-day (a point
            forecast is scored as p50 only);
        mean_bias = bias of the model's `mean` column (the Tweedie expected
            units), the figure that matters when forecasts are summed;
        wape_ratio_to_naive = wape / the seasonal naive's wape in the same scope;
        n_series = distinct series scored; actual_units = units in scope;
        selling_weeks = series-weeks of the scored horizons with a sale (how
            much the backtest knows);
        bulk_units = units of bulk days (over the series' bulk bound at the
            window's origin, `ml.bulk_orders`: one-off orders the forecast
            does not learn from) beyond the series' busy day, inside
            actual_units;
        mean_bias_regular = bias of the model's `mean` against the regular
            demand (actual_regular): what the forecast is for. mean_bias
            stays the bias against all that sold;
        below_p10_calibrated / above_p90_calibrated = below_p10 / above_p90
            of the band the forecast publishes, calibrated per demand class
            (`ml.calibration`), each window scaled by factors fitted on the
            other windows only (held out); NaN for the baselines;
        model_ratio_low / model_ratio_high = the central `RATIO_CONFIDENCE`
            interval of the model's weekly_wape divided by this row's, over
            `RATIO_DRAWS` resamples with replacement of the scored weeks
            (each window's weeks 1-7, 8-14, ..., every series in them;
            `ml.metrics.weekly_ratio_interval`), overall rows only (NaN in
            the others): the gate (`ml.backtest_gate`) does not judge a
            comparison whose interval holds 1.
    by_window_series: window x series x model totals, MASE and RMSSE.
    predictions: window x series x day: demand_class (at the window's origin),
        actual, actual_regular (a bulk day's units replaced by the series'
        busy day, `crossdock.bulk_days.regular_demand`), p10, p50,
        p90, mean (the published expected units: mean_model blended with
        level_28 by the weight fitted on the other windows, `ml.blend`,
        and 0 with its band where the series had stopped selling and the
        other windows proved that better, `ml.stopped_series`),
        mean_model (the boosters' own), level_28 (the series' regular units
        per day over the 28 days up to the origin), stopped (the series had
        stopped selling at the origin, `ml.stopped_series`), p10_calibrated /
        p90_calibrated (the band scaled by factors fitted on the other
        windows, `ml.calibration`) and one column per baseline
        (`MODEL_COLUMNS`; the zero forecast has none).
    windows: one row per window: origin, first/last scored day, training end,
        series scored, training rows, model_version, mean_weight (the blend's
        held-out weight on the model), zero_stopped (whether the window's
        stopped series were forecast 0, held out), seconds per model.
    quantile_scales: the factors on p10 / p90 per demand class fitted on
        all windows (`ml.calibration.fit_scales`): what the published
        forecast's band is scaled by.
    mean_weight: the blend's weight on the model fitted on all windows
        (`ml.blend.fit_choice`): what the published forecast's mean is blended by.
    zero_stopped: whether the published forecast puts the series that
        stopped selling at 0, fitted on all windows with the weight.
    """

    metrics: pd.DataFrame
    by_window_series: pd.DataFrame
    predictions: pd.DataFrame
    windows: pd.DataFrame
    quantile_scales: Scales | None = None
    mean_weight: float = 1.0
    zero_stopped: bool = False

    @property
    def models(self) -> list[str]:
        return [m for m in MODEL_COLUMNS if m in set(self.metrics["model"])]

    def overall(self) -> pd.DataFrame:
        """The overall rows, indexed by model."""
        return self.metrics[self.metrics["scope"] == "overall"].set_index("model")


def values(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    """A forecast column as floats; the zero forecast (no column) as zeros."""
    return frame[column].to_numpy(dtype=np.float64) if column else np.zeros(len(frame))


def _scope_metrics(
    p: pd.DataFrame, ws: pd.DataFrame, models: list[str], scope: str, value: str, n_windows: int, h: int
) -> list[dict]:
    """One metrics row per model for the rows `p` of one scope (each series' h days stay together, in order)."""
    a = p["actual"].to_numpy()
    rows = []
    naive_wape = metrics.wape(a, p[MODEL_COLUMNS[NAIVE].point])
    naive_weekly = metrics.weekly_wape(a, p[MODEL_COLUMNS[NAIVE].point].to_numpy(), h)
    scope_sizes = {  # the same for every model of the scope
        "n_series": int(p[["sku", "market"]].drop_duplicates().shape[0]),
        "n_windows": n_windows,
        "horizon_days": h,
        "actual_units": float(a.sum()),
        "selling_weeks": metrics.selling_weeks(a, h),
        "bulk_units": float(a.sum() - p["actual_regular"].sum()),
    }
    errors, resamples = _slot_errors(p, models, h) if scope == "overall" else ({}, None)
    for model in models:
        cols = MODEL_COLUMNS[model]
        f = values(p, cols.point)
        expected = values(p, cols.expected())
        low, high = (metrics.weekly_ratio_interval(errors[MODEL], errors[model], resamples, RATIO_CONFIDENCE)
                     if resamples is not None and MODEL in errors else (np.nan, np.nan))
        lo = p[cols.lower].to_numpy() if cols.lower else None
        hi = p[cols.upper].to_numpy() if cols.upper else None
        has_band = lo is not None and hi is not None and len(a) > 0
        wape = metrics.wape(a, f)
        weekly = metrics.weekly_wape(a, expected, h)
        scored = ws.loc[ws["model"] == model]
        rows.append(
            {
                "scope": scope,
                "scope_value": value,
                "model": model,
                "weekly_wape": weekly,
                "weekly_wape_ratio_to_naive": weekly / naive_weekly if naive_weekly else np.nan,
                "rmsse": metrics.mean_rmsse(scored["rmsse"].to_numpy()),
                "wape": wape,
                "bias": metrics.bias(a, f),
                "mase": metrics.mean_mase(scored["mase"].to_numpy()),
                "coverage_p10_p90": metrics.coverage(a, lo, hi) if has_band else np.nan,
                "below_p10": float((a < lo).mean()) if has_band else np.nan,
                "above_p90": float((a > hi).mean()) if has_band else np.nan,
                "pinball_p10": metrics.pinball(a, lo, 0.1) if has_band else np.nan,
                "pinball_p50": metrics.pinball(a, f, 0.5),
                "pinball_p90": metrics.pinball(a, hi, 0.9) if has_band else np.nan,
                "mean_bias": metrics.bias(a, p[cols.mean]) if cols.mean and cols.mean in p else np.nan,
                "mean_bias_regular": (
                    metrics.bias(p["actual_regular"], p[cols.mean]) if cols.mean and cols.mean in p else np.nan
                ),
                "below_p10_calibrated": float((a < p["p10_calibrated"]).mean()) if model == MODEL and len(a) else np.nan,
                "above_p90_calibrated": float((a > p["p90_calibrated"]).mean()) if model == MODEL and len(a) else np.nan,
                "wape_ratio_to_naive": wape / naive_wape if naive_wape else np.nan,
                **scope_sizes,
                "model_ratio_low": low,
                "model_ratio_high": high,
            }
        )
    return rows


def _slot_errors(p: pd.DataFrame, models: list[str], h: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each model's weekly errors summed per slot (a week of one window, every series in it), and the resamples of
    the slots the intervals are drawn from (`ml.metrics.weekly_ratio_interval`)."""
    window, _ = pd.factorize(p["window"].to_numpy()[::h], sort=True)  # each series' h days are one block of a window
    weeks = -(-h // 7)
    slots = (window[:, None] * weeks + np.arange(weeks)[None, :]).ravel()
    n = (int(window.max()) + 1) * weeks if len(window) else 0
    a = p["actual"].to_numpy()
    errors = {m: np.bincount(slots, weights=metrics.weekly_abs_errors(a, values(p, MODEL_COLUMNS[m].expected()), h).ravel(),
                             minlength=n) for m in models}
    return errors, metrics.slot_resamples(n, RATIO_DRAWS, RATIO_SEED)


def summarise(
    predictions: pd.DataFrame, by_window_series: pd.DataFrame, n_windows: int, horizon_days: int
) -> pd.DataFrame:
    """The metrics table from day-level predictions and per-series MASE and RMSSE, for every model scored."""
    models = [m for m in MODEL_COLUMNS if m in set(by_window_series["model"])]
    out = _scope_metrics(predictions, by_window_series, models, "overall", "all", n_windows, horizon_days)
    for scope in SCOPES:
        for value, p in predictions.groupby(scope, sort=True):
            ws = by_window_series[by_window_series[scope] == value]
            out += _scope_metrics(p, ws, models, scope, str(value), n_windows, horizon_days)
    return pd.DataFrame(out, columns=METRIC_COLUMNS)


def series_scores(
    base: pd.DataFrame, model: str, actual: np.ndarray, point: np.ndarray, expected: np.ndarray, scale: np.ndarray,
    squared_scale: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None, H: int,
) -> pd.DataFrame:
    """One row per series of a window for one model: totals, MASE, RMSSE and band coverage."""
    err = np.abs(actual - point).reshape(-1, H)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(scale) & (scale > 0)
        mase = np.where(ok, err.mean(axis=1) / np.where(ok, scale, 1.0), np.nan)
    inside = (
        ((actual >= lower) & (actual <= upper)).reshape(-1, H).mean(axis=1)
        if lower is not None and upper is not None
        else np.nan
    )
    return base.assign(
        model=model,
        forecast_units=expected.reshape(-1, H).sum(axis=1),
        abs_error=err.sum(axis=1),
        mase=mase,
        rmsse=metrics.rmsse(actual, expected, squared_scale, H),
        coverage_p10_p90=inside,
    )

def score_model(score: Callable[..., pd.DataFrame], frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """One window's per-series scores of `model` from its columns in `frame` (`score`: `series_scores` bound to the window)."""
    cols = MODEL_COLUMNS[model]
    return score(
        model=model, point=values(frame, cols.point), expected=values(frame, cols.expected()),
        lower=frame[cols.lower].to_numpy() if cols.lower else None,
        upper=frame[cols.upper].to_numpy() if cols.upper else None,
    )
