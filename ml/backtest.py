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
daily p50 WAPE, overall and per scope (`ml.backtest_scores`: the models'
names and columns, what each metric means); `ml.backtest_gate` reads the
overall rows for the checks that publish or warn.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from functools import partial

import numpy as np
import pandas as pd

from crossdock.progress import track
from ml import forecast as fc
from ml import metrics
from ml.backtest_scores import (
    MEAN_28, MODEL, MODEL_COLUMNS, NAIVE, NAIVE_1, ZERO, BacktestResult, score_model, series_scores, summarise, values,
)
from ml.baselines import naive, seasonal_naive, seasonal_naive_scale, window_average
from ml.blend import BlendErrors, MeanChoice, blend, blend_errors, fit_choice, held_out_choices, level_from_regular, with_mean
from crossdock.bulk_days import regular_demand
from ml.calibration import apply_scales, fit_scales, held_out_scales
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
            scorers[k] = (partial(series_scores, base, actual=actual, scale=scale, squared_scale=squared_scale, H=H), scored)
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
                f"{metrics.weekly_wape(actual, values(preds[-1], MODEL_COLUMNS[m].expected()), H):.3f}" for m in scored
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
        [score_model(score, predictions.iloc[end - len(p): end], m)
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
