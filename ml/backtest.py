"""Rolling-origin backtest of the forecast against the seasonal-naive baseline.

Window k (k = n_windows .. 1) has origin o_k = as_of - k * H. The model is
fitted by `ml.forecast.forecast_demand` on history <= o_k only (the same
code path that publishes forecasts) and scored on days o_k + 1 .. o_k + H for
the series active at o_k. Windows tile the last n_windows * H days before
as_of without overlap, so every day is scored once.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml import forecast as fc
from ml import metrics
from ml.baselines import seasonal_naive, seasonal_naive_scale
from ml.model import ModelConfig, progress
from ml.panel import build_panel, to_timestamp

MODELS = ("lightgbm", "seasonal_naive_7")
METRIC_COLUMNS = [
    "scope",
    "scope_value",
    "model",
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
    "n_series",
    "n_windows",
    "horizon_days",
    "actual_units",
]


@dataclass
class BacktestResult:
    """Backtest output.

    metrics: one row per scope (overall / market / category) x scope_value x
        model, columns `METRIC_COLUMNS`:
        wape = sum|actual - p50| / sum(actual) over all scored series-days;
        bias = sum(p50 - actual) / sum(actual);
        mase = mean over (window, series) of MAE / in-sample seasonal-naive-7
            MAE of that series (series with a zero or undefined scale are
            left out of the mean);
        coverage_p10_p90 = share of series-days with p10 <= actual <= p90
            (NaN for the naive baseline, which has no interval). Above the
            nominal 0.8 for counts: a day with 0 sold and p10 = 0 is inside,
            so read it with below_p10 / above_p90, the shares of actuals
            strictly outside each end (calibrated quantiles of discrete
            demand give each <= 0.1);
        pinball_p* = mean pinball loss in units per series-day (naive: p50 only);
        mean_bias = bias of the model's `mean` column (the Tweedie expected
            units), the figure that matters when forecasts are summed;
        n_series = distinct series scored; actual_units = units in scope.
    by_window_series: window x series x model totals and MASE.
    predictions: window x series x day: actual, p10, p50, p90, naive.
    windows: one row per window: origin, first/last scored day, training end,
        series scored, training rows, model_version.
    """

    metrics: pd.DataFrame
    by_window_series: pd.DataFrame
    predictions: pd.DataFrame
    windows: pd.DataFrame


def window_origins(as_of: dt.date, horizon_days: int, n_windows: int) -> list[pd.Timestamp]:
    """Origins as_of - k * H for k = n_windows .. 1 (oldest first)."""
    end = to_timestamp(as_of)
    return [end - pd.Timedelta(days=k * horizon_days) for k in range(n_windows, 0, -1)]


def _scope_metrics(p: pd.DataFrame, ws: pd.DataFrame, scope: str, value: str, n_windows: int, h: int) -> list[dict]:
    a = p["actual"].to_numpy()
    rows = []
    for model, col in (("lightgbm", "p50"), ("seasonal_naive_7", "naive")):
        f = p[col].to_numpy()
        is_model = model == "lightgbm"
        rows.append(
            {
                "scope": scope,
                "scope_value": value,
                "model": model,
                "wape": metrics.wape(a, f),
                "bias": metrics.bias(a, f),
                "mase": metrics.mean_mase(ws.loc[ws["model"] == model, "mase"].to_numpy()),
                "coverage_p10_p90": metrics.coverage(a, p["p10"], p["p90"]) if is_model else np.nan,
                "below_p10": float((a < p["p10"].to_numpy()).mean()) if is_model and len(a) else np.nan,
                "above_p90": float((a > p["p90"].to_numpy()).mean()) if is_model and len(a) else np.nan,
                "pinball_p10": metrics.pinball(a, p["p10"], 0.1) if is_model else np.nan,
                "pinball_p50": metrics.pinball(a, f, 0.5),
                "pinball_p90": metrics.pinball(a, p["p90"], 0.9) if is_model else np.nan,
                "mean_bias": metrics.bias(a, p["mean"]) if is_model and "mean" in p else np.nan,
                "n_series": int(p[["sku", "market"]].drop_duplicates().shape[0]),
                "n_windows": n_windows,
                "horizon_days": h,
                "actual_units": float(a.sum()),
            }
        )
    return rows


def summarise(predictions: pd.DataFrame, by_window_series: pd.DataFrame, n_windows: int, horizon_days: int) -> pd.DataFrame:
    """The metrics table from day-level predictions and per-series MASE."""
    out = _scope_metrics(predictions, by_window_series, "overall", "all", n_windows, horizon_days)
    for scope in ("market", "category"):
        for value, p in predictions.groupby(scope, sort=True):
            ws = by_window_series[by_window_series[scope] == value]
            out += _scope_metrics(p, ws, scope, str(value), n_windows, horizon_days)
    return pd.DataFrame(out, columns=METRIC_COLUMNS)


def backtest(
    history: pd.DataFrame,
    as_of: dt.date,
    horizon_days: int = 56,
    n_windows: int = 3,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = fc.DEFAULT_INACTIVE_AFTER_DAYS,
) -> BacktestResult:
    """Score the forecast and the seasonal-naive-7 baseline over `n_windows` rolling origins before `as_of`.

    Only history <= `as_of` is read. Each window's model sees history <= its
    origin only (the history frame is cut before the forecast is called).
    """
    if n_windows < 1:
        raise ValueError("n_windows must be >= 1")
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
    preds, per_series, windows = [], [], []
    for k, origin in zip(range(n_windows, 0, -1), window_origins(end.date(), H, n_windows)):
        tw = time.perf_counter()
        o = full.day_index(origin)
        if o < 0:
            raise ValueError(f"history starts after the origin {origin.date()} of window {k}")
        res = fc.forecast_demand(
            history[dates <= origin.to_datetime64()], origin.date(), H, seed,
            config=config, inactive_after_days=inactive_after_days,
        )
        f = res.forecast
        if not np.array_equal(f["horizon"].to_numpy(), np.tile(np.arange(1, H + 1), len(f) // H)):
            raise RuntimeError("forecast rows are not series-major with horizons 1..H")
        series = f.drop_duplicates(["sku", "market"])[["sku", "market", "category"]].reset_index(drop=True)
        rows = row_of.reindex(pd.MultiIndex.from_frame(series[["sku", "market"]])).to_numpy(dtype=np.int64)
        # forecast rows come series-major, horizon 1..H: the same layout as the matrices below
        Ys = full.Y[rows]
        days = o + np.arange(1, H + 1)
        actual = Ys[:, days].ravel()
        naive = seasonal_naive(Ys, o, H).ravel()  # reads days <= o only
        scale = seasonal_naive_scale(Ys, full.series["first_idx"].to_numpy()[rows], o)
        day = f.assign(window=k, origin=origin, actual=actual, naive=naive)
        preds.append(day)

        err_m = np.abs(actual - f["p50"].to_numpy()).reshape(-1, H)
        err_n = np.abs(actual - naive).reshape(-1, H)
        act = actual.reshape(-1, H)
        inside = ((actual >= f["p10"].to_numpy()) & (actual <= f["p90"].to_numpy())).reshape(-1, H)
        base = series.assign(window=k, origin=origin, actual_units=act.sum(axis=1), mase_scale=scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = np.isfinite(scale) & (scale > 0)
            safe = np.where(ok, scale, 1.0)
            per_series.append(
                base.assign(
                    model="lightgbm",
                    forecast_units=f["p50"].to_numpy().reshape(-1, H).sum(axis=1),
                    abs_error=err_m.sum(axis=1),
                    mase=np.where(ok, err_m.mean(axis=1) / safe, np.nan),
                    coverage_p10_p90=inside.mean(axis=1),
                )
            )
            per_series.append(
                base.assign(
                    model="seasonal_naive_7",
                    forecast_units=naive.reshape(-1, H).sum(axis=1),
                    abs_error=err_n.sum(axis=1),
                    mase=np.where(ok, err_n.mean(axis=1) / safe, np.nan),
                    coverage_p10_p90=np.nan,
                )
            )
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
            }
        )
        wm = metrics.wape(actual, f["p50"].to_numpy())
        wn = metrics.wape(actual, naive)
        progress(
            f"backtest window {k} origin={origin.date()} series={len(series)} "
            f"wape lightgbm={wm:.3f} seasonal_naive_7={wn:.3f} ({time.perf_counter() - tw:.1f}s)"
        )
    predictions = pd.concat(preds, ignore_index=True)
    by_window_series = pd.concat(per_series, ignore_index=True)
    table = summarise(predictions, by_window_series, n_windows, H)
    overall = table[table["scope"] == "overall"].set_index("model")
    progress(
        f"backtest done: wape lightgbm={overall.loc['lightgbm', 'wape']:.3f} "
        f"seasonal_naive_7={overall.loc['seasonal_naive_7', 'wape']:.3f} "
        f"coverage={overall.loc['lightgbm', 'coverage_p10_p90']:.3f} ({time.perf_counter() - t0:.1f}s)"
    )
    return BacktestResult(
        metrics=table,
        by_window_series=by_window_series,
        predictions=predictions,
        windows=pd.DataFrame(windows),
    )
