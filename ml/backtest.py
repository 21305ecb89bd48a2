"""Rolling-origin backtest of the forecast against simple and statistical baselines.

Window k (k = n_windows .. 1) has origin o_k = as_of - k * H. The model is
fitted by `ml.forecast.forecast_demand` on history <= o_k only (the same
code path that publishes forecasts) and scored on days o_k + 1 .. o_k + H for
the series active at o_k. Windows tile the last n_windows * H days before
as_of without overlap, so every day is scored once. The baselines forecast
the same series from the same origins on the dense, zero-filled panel, as
statsforecast would (`ml.baselines`, `ml.stat_baselines`): seasonal naive 7,
naive 1 (the origin day repeated), the mean of the last 28 days, nothing at
all (zero), AutoETS and CrostonOptimized. So the ratios compare like with like.

Each window is scored by weekly WAPE of the expected units per series (a
zero forecast scores exactly 1), the mean RMSSE (M5's scaled error) and
daily p50 WAPE, overall and per scope; `ml.backtest_gate` reads the overall
rows for the checks that publish or warn.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from crossdock.progress import track
from ml import forecast as fc
from ml import metrics
from ml.baselines import naive, seasonal_naive, seasonal_naive_scale, window_average
from ml.blend import BlendErrors, MeanChoice, blend, blend_errors, fit_choice, held_out_choices, level_from_regular, with_mean
from ml.bulk_orders import regular_demand
from ml.calibration import Scales, apply_scales, fit_scales, held_out_scales
from ml.demand_class import classify
from ml.model import ModelConfig, progress
from ml.panel import build_panel, to_timestamp
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS
from ml.stat_baselines import FIT_DAYS, STAT_BASELINES, BaselinesAhead
from ml.stopped_series import stopped

DEFAULT_WINDOWS = 4
BASELINE_FIT_DAYS = FIT_DAYS
# 2: AutoETS without a trend (ml.stat_baselines); 3: baselines on the dense panel, naive 1, mean 28, zero,
# weekly WAPE and RMSSE, the gate against three baselines; 4: scores per demand class; 5: the band calibrated
# per class, held out; 6: the model's mean blended with the regular 28-day level, held out (ml.blend); 7: p50 the
# median of a count with the mean (crossdock.count_median); 8: series that stopped selling forecast 0 when that proves
# better held out (ml.stopped_series); 9: the interval of the model's weekly WAPE over each other model's,
# resampling series (the gate does not judge a comparison whose interval holds 1); 10: resampling the scored weeks
# instead, and a ratio within 1 % a tie; 11: the 28-day mean in the gate (ml.backtest_gate), a losing model replaced by
# the best baseline (ml.fallback_forecast). Bump when windows or scoring change meaning: the cadence
# (ml.backtest_cadence) then reruns.
METHOD_VERSION = "11"

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
        busy day, `ml.bulk_orders.regular_demand`), p10, p50,
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


MIN_TRAINING_DAYS = 28
"""Days of history a backtest window's model sees before its origin at least: each weekday four times."""


def windows_that_fit(first_day: dt.date | None, as_of: dt.date, horizon_days: int, n_windows: int) -> int:
    """How many of `n_windows` rolling origins (`window_origins`) leave `MIN_TRAINING_DAYS` of history from
    `first_day` (the first day with a sale; None: no sale at all) before the oldest one.

    A merchant with four months of history gets one 56-day window, not an error; with under
    horizon + `MIN_TRAINING_DAYS` days, none: nothing can be proven yet.
    """
    if first_day is None:
        return 0
    days = (to_timestamp(as_of) - to_timestamp(first_day)).days + 1
    return max(0, min(n_windows, (days - MIN_TRAINING_DAYS) // horizon_days))


def window_origins(as_of: dt.date, horizon_days: int, n_windows: int) -> list[pd.Timestamp]:
    """Origins as_of - k * H for k = n_windows .. 1 (oldest first)."""
    end = to_timestamp(as_of)
    return [end - pd.Timedelta(days=k * horizon_days) for k in range(n_windows, 0, -1)]


def _values(frame: pd.DataFrame, column: str | None) -> np.ndarray:
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
        f = _values(p, cols.point)
        expected = _values(p, cols.expected())
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
    errors = {m: np.bincount(slots, weights=metrics.weekly_abs_errors(a, _values(p, MODEL_COLUMNS[m].expected()), h).ravel(),
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


def _series_scores(
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


def backtest(
    history: pd.DataFrame,
    as_of: dt.date,
    horizon_days: int = 56,
    n_windows: int = DEFAULT_WINDOWS,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
    baselines: tuple[str, ...] = STAT_BASELINES,
    baseline_fit_days: int = BASELINE_FIT_DAYS,
    baseline_jobs: int = 1,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
) -> BacktestResult:
    """Score the forecast and its baselines over `n_windows` rolling origins before `as_of`.

    Baselines on the same windows and series: seasonal naive (7) always, and
    the statsforecast models named in `baselines` (AutoETS, CrostonOptimized),
    each fitted on the last `baseline_fit_days` days up to the origin (112,
    2 x the horizon: a yardstick needs no year; `ml.stat_baselines` has the
    measurement), in `baseline_jobs` processes (AutoETS is the slow part), every
    window's ahead in a background process while the model trains (`BaselinesAhead`).
    Only history <= `as_of` is read. Each window's model sees history <= its
    origin only (the history frame is cut before the forecast is called).
    """
    if n_windows < 1:
        raise ValueError("n_windows must be >= 1")
    unknown = sorted(set(baselines) - set(STAT_BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; choose from {list(STAT_BASELINES)}")
    t0 = time.perf_counter()
    end = to_timestamp(as_of)
    dates = pd.to_datetime(history["demand_date"]).dt.tz_localize(None).to_numpy()
    history = history[dates <= end.to_datetime64()]
    dates = dates[dates <= end.to_datetime64()]
    full = build_panel(history, end.date())  # actuals, naive and MASE scales; sliced per origin below
    row_of = pd.Series(
        np.arange(full.n_series), index=pd.MultiIndex.from_frame(full.series[["sku", "market"]])
    )
    H = horizon_days
    preds, scorers, windows, errors = [], {}, [], {}
    origins = window_origins(end.date(), H, n_windows)
    if full.day_index(origins[0]) < 0:  # the oldest origin: checked before any baseline is fitted ahead
        raise ValueError(f"history starts after the origin {origins[0].date()} of window {n_windows}")
    ahead = BaselinesAhead(full.Y, [full.day_index(origin) for origin in origins], H,
                           fit_days=baseline_fit_days, n_jobs=baseline_jobs, models=baselines)
    with ahead:
        for k, origin in track(zip(range(n_windows, 0, -1), origins), "backtest windows", total=n_windows):
            tw = time.perf_counter()
            o = full.day_index(origin)
            res = fc.forecast_demand(
                history[dates <= origin.to_datetime64()], origin.date(), H, seed,
                config=config, inactive_after_days=inactive_after_days, holiday_subdivisions=holiday_subdivisions,
            )
            model_seconds = time.perf_counter() - tw
            f = res.forecast
            if not np.array_equal(f["horizon"].to_numpy(), np.tile(np.arange(1, H + 1), len(f) // H)):
                raise RuntimeError("forecast rows are not series-major with horizons 1..H")
            series = f.drop_duplicates(["sku", "market"])[["sku", "market", "category"]].reset_index(drop=True)
            rows = row_of.reindex(pd.MultiIndex.from_frame(series[["sku", "market"]])).to_numpy(dtype=np.int64)
            # forecast rows come series-major, horizon 1..H: the same layout as the matrices below
            Ys = full.Y[rows]
            first = full.series["first_idx"].to_numpy()[rows]
            classes = classify(Ys, first, o)
            days = o + np.arange(1, H + 1)
            actual = Ys[:, days].ravel()
            R = regular_demand(Ys, o)  # bounds learned up to the origin
            regular, level = R[:, days].ravel(), level_from_regular(R, o)
            scale = seasonal_naive_scale(Ys, first, o)
            squared_scale = metrics.naive_squared_scale(Ys, first, o)
            columns = {  # each reads days <= o only
                MODEL_COLUMNS[NAIVE].point: seasonal_naive(Ys, o, H).ravel(),
                MODEL_COLUMNS[NAIVE_1].point: naive(Ys, o, H).ravel(),
                MODEL_COLUMNS[MEAN_28].point: window_average(Ys, o, H, window=28).ravel(),
            }
            stat = ahead.fitted(o, rows)
            for name, b in stat.items():
                columns[name] = b.p50.ravel()
                if b.p10 is not None and b.p90 is not None:
                    columns[f"{name}_p10"], columns[f"{name}_p90"] = b.p10.ravel(), b.p90.ravel()
            # the blend (ml.blend) is weighed once every window is in
            stop = stopped(Ys, first, o)
            errors[k] = blend_errors(actual, f["mean"].to_numpy(dtype=float), level, H, stop)
            f = f.assign(mean_model=f["mean"], level_28=np.repeat(level, H), stopped=np.repeat(stop, H))
            preds.append(f.assign(
                window=k, origin=origin, demand_class=np.repeat(classes, H), actual=actual, actual_regular=regular, **columns
            ))

            base = series.assign(
                window=k, origin=origin, demand_class=classes, actual_units=actual.reshape(-1, H).sum(axis=1), mase_scale=scale
            )
            scored = [MODEL, NAIVE, NAIVE_1, MEAN_28, ZERO, *stat]
            # scored once every window is in: the model's mean is blended by the other windows' weight (below)
            scorers[k] = (partial(_series_scores, base, actual=actual, scale=scale, squared_scale=squared_scale, H=H), scored)
            windows.append(
                {
                    "window": k,
                    "origin": origin,
                    "train_end": res.as_of,
                    "first_scored_day": origin + pd.Timedelta(days=1),
                    "last_scored_day": origin + pd.Timedelta(days=H),
                    "n_series": len(series),
                    "training_rows": res.training_rows,
                    "model_version": res.model_version,
                    f"seconds_{MODEL}": model_seconds,
                    **{f"seconds_{name}": b.seconds for name, b in stat.items()},
                }
            )
            scores = " ".join(  # the model's mean before the blend: its weight needs the other windows
                f"{m}{'_unblended' if m == MODEL else ''}="
                f"{metrics.weekly_wape(actual, _values(preds[-1], MODEL_COLUMNS[m].expected()), H):.3f}" for m in scored
            )
            progress(
                f"backtest window {k} origin={origin.date()} series={len(series)} weekly wape {scores} "
                f"({time.perf_counter() - tw:.1f}s)"
            )
    predictions, choices, zeroed = _with_held_out_blend(pd.concat(preds, ignore_index=True), errors)
    # a zeroed row's band is 0 whatever the factor: no evidence on how far to scale the bands of series still selling
    predictions = _with_held_out_band(predictions, zeroed)
    ends = np.cumsum([len(p) for p in preds])  # each window's rows, series-major, one block after another
    by_window_series = pd.concat(
        [_score_model(score, predictions.iloc[end - len(p): end], m)
         for p, end, (score, models) in zip(preds, ends, scorers.values()) for m in models],
        ignore_index=True,
    )
    windows = [{**w, "mean_weight": choices[w["window"]].weight, "zero_stopped": choices[w["window"]].zero_stopped}
               for w in windows]
    table = summarise(predictions, by_window_series, n_windows, H)
    published = fit_choice(errors)
    overall = table[table["scope"] == "overall"].set_index("model")
    progress(
        "backtest done: weekly wape "
        + " ".join(f"{m}={overall.loc[m, 'weekly_wape']:.3f}" for m in overall.index)
        + f" coverage={overall.loc[MODEL, 'coverage_p10_p90']:.3f} ({time.perf_counter() - t0:.1f}s)"
    )
    return BacktestResult(
        metrics=table,
        by_window_series=by_window_series,
        predictions=predictions,
        windows=pd.DataFrame(windows),
        quantile_scales=fit_scales(predictions[~zeroed]),
        mean_weight=published.weight,
        zero_stopped=published.zero_stopped,
    )


def _score_model(score: Callable[..., pd.DataFrame], frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """One window's per-series scores of `model` from its columns in `frame` (`score`: `_series_scores` bound to the window)."""
    cols = MODEL_COLUMNS[model]
    return score(
        model=model, point=_values(frame, cols.point), expected=_values(frame, cols.expected()),
        lower=frame[cols.lower].to_numpy() if cols.lower else None,
        upper=frame[cols.upper].to_numpy() if cols.upper else None,
    )


def _with_held_out_blend(predictions: pd.DataFrame, errors: dict[int, BlendErrors]
                         ) -> tuple[pd.DataFrame, dict[int, MeanChoice], np.ndarray]:
    """`predictions` with each window's `mean` made by the choice fitted on the other windows (`ml.blend`): blended by
    its weight, and 0 with the band for stopped series when it says so; p50 following it. Also the choices, and
    which rows were zeroed."""
    choices = held_out_choices(errors)
    window = predictions["window"]
    weight = window.map({k: c.weight for k, c in choices.items()}).to_numpy(dtype=float)
    zero = window.map({k: c.zero_stopped for k, c in choices.items()}).to_numpy(dtype=bool) & predictions["stopped"].to_numpy()
    mean = blend(predictions["mean_model"].to_numpy(dtype=float), predictions["level_28"].to_numpy(dtype=float), weight)
    return with_mean(predictions, mean, zero), choices, zero


def _with_held_out_band(predictions: pd.DataFrame, zeroed: np.ndarray) -> pd.DataFrame:
    """`predictions` with p10_calibrated / p90_calibrated: each window's band scaled by factors fitted on the others'
    rows that were not `zeroed` (forecast 0 as stopped, ml.stopped_series)."""
    band = predictions[["window", "demand_class", "actual", "p10", "p50", "p90"]]  # what scaling reads, not 20+ columns
    windows = band["window"].to_numpy()
    fitted = held_out_scales(band[~zeroed])
    p10, p90 = np.empty(len(band)), np.empty(len(band))
    for window in pd.unique(windows):
        scales = fitted.get(window, {})  # every row of the window zeroed: nothing to scale
        at = np.flatnonzero(windows == window)
        rows = band.iloc[at]
        scaled = apply_scales(rows, rows["demand_class"].to_numpy(), scales)
        p10[at], p90[at] = scaled["p10"].to_numpy(), scaled["p90"].to_numpy()
    return predictions.assign(p10_calibrated=p10, p90_calibrated=p90)
