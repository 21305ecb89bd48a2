"""Statistical baselines from statsforecast on the backtest's windows.

Beside the seasonal naive (`ml.baselines`), the LightGBM forecast has to be
compared with the standard statistical methods a planner would otherwise use:

- `auto_ets`: AutoETS(season_length=7, model="ZNZ"), exponential smoothing
  with the error and season form picked per series by AICc (Hyndman &
  Khandakar's `forecast::ets`), without a trend. The state of the art for
  smooth series and a strong M4/M5 benchmark; its native Gaussian 80%
  prediction interval gives p10 / p90. No trend because a trend fitted on a
  few months of daily sales and run 56 days ahead mostly extrapolates noise,
  and the search over trend forms was three quarters of the cost: one window
  of the demo (1,036 series fitted, 2 processes) took 4-7 s without a trend
  against 15-44 s with one (loaded machine), WAPE 0.898 against 0.913; on
  the messy merchant's 1,000-odd series 5.3 s against 21.9 s, WAPE 1.6055
  against 1.6056.
- `croston_optimized`: Croston's method with smoothing constants optimised in
  [0.1, 0.3], the classic method for intermittent demand (most of our series)
  and a standard M5 benchmark. Point forecast only: its flat per-day rate is
  demand size / interval between demands. Like every Croston variant it only
  updates on a sale, so a long run of zeros after the last sale does not lower
  it.

Both are fitted per series on days max(first sale, origin - fit_days + 1) ..
origin of `Y` (nothing after the origin is read) and forecast days
origin + 1 .. origin + H, the same windows as `ml.backtest`.

Fallback. A series is fitted when its window has at least 2 * 7 days and at
least 2 days with sales; otherwise (launched < 2 weeks before the origin, one
sale only, nothing sold in the window, never sold or first sale after the
origin) both methods give the mean method instead: p50 = mean units/day of
the window's days, and for `auto_ets` the normal 80% band of the mean method,
mean -/+ 1.2816 * sd * sqrt(1 + 1/n) (sd with ddof 1, 0 for one day), which
is what statsforecast's HistoricAverage returns. A series with no days at all
(never sold, or first sale after the origin) gets 0. HistoricAverage is also
statsforecast's `fallback_model`, so a series on which AutoETS raises gets the
same rule, and any non-finite model output is replaced by it. Everything is
clipped at 0 and ordered p10 <= p50 <= p90.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.model import progress

STAT_BASELINES: tuple[str, ...] = ("auto_ets", "croston_optimized")
SEASON = 7
ETS_FORMS = "ZNZ"  # error and season chosen by AICc, no trend (module docstring)
LEVEL = 80  # p10 / p90 = the ends of the central 80% interval
_Z80 = 1.2815515655446004  # standard normal quantile 0.9
_MIN_DAYS = 2 * SEASON
FIT_DAYS = 112  # days each series is fitted on (2 x the 56-day horizon); see `statsforecast_baselines`
_MIN_SELLING_DAYS = 2


@dataclass
class BaselineForecast:
    """One method's forecast for all series of `Y` (rows in `Y` order).

    p50: [series, H] point forecast, units/day, >= 0.
    p10, p90: [series, H] ends of the 80% prediction interval (0 <= p10 <=
        p50 <= p90), or None when the method has no interval (Croston).
    seconds: wall time of fit + predict (the statsforecast call) in seconds.
    """

    p50: np.ndarray
    p10: np.ndarray | None
    p90: np.ndarray | None
    seconds: float


def _windows(Yo: np.ndarray, first: np.ndarray, origin: int, fit_days: int):
    """Long (row, day, y) arrays of every series' fit window, and days per series."""
    S = Yo.shape[0]
    sold = (first >= 0) & (first <= origin)
    start = np.maximum(np.maximum(first, origin - fit_days + 1), 0)
    n = np.where(sold, origin - start + 1, 0).astype(np.int64)
    rows = np.repeat(np.arange(S, dtype=np.int64), n)
    offsets = np.arange(rows.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    days = np.repeat(start, n) + offsets
    return rows, days, Yo[rows, days], n


def _mean_method(rows: np.ndarray, y: np.ndarray, n: np.ndarray, S: int):
    """Mean and 80% half-width of the mean method per series (0 for an empty window)."""
    nn = np.maximum(n, 1)
    mean = np.bincount(rows, weights=y, minlength=S) / nn
    ss = np.bincount(rows, weights=(y - mean[rows]) ** 2, minlength=S)
    sd = np.sqrt(ss / np.maximum(n - 1, 1))
    half = np.where(n > 0, _Z80 * sd * np.sqrt(1.0 + 1.0 / nn), 0.0)
    return mean, half


def _run(model, df: pd.DataFrame, S: int, H: int, n_jobs: int, level: list[int] | None):
    """Forecast `df` with one model; [S, H] mean (and lo / hi) with NaN for rows not in df."""
    out = {"mean": np.full((S, H), np.nan)}
    if level is not None:
        out["lo"] = np.full((S, H), np.nan)
        out["hi"] = np.full((S, H), np.nan)
    if df.empty:
        return out
    from statsforecast import StatsForecast
    from statsforecast.models import HistoricAverage

    sf = StatsForecast(models=[model], freq=1, n_jobs=n_jobs, fallback_model=HistoricAverage())
    res = sf.forecast(df=df, h=H, level=level)
    uid = res["unique_id"].to_numpy()[::H]
    name = model.alias
    out["mean"][uid] = res[name].to_numpy().reshape(-1, H)
    if level is not None:
        out["lo"][uid] = res[f"{name}-lo-{level[0]}"].to_numpy().reshape(-1, H)
        out["hi"][uid] = res[f"{name}-hi-{level[0]}"].to_numpy().reshape(-1, H)
    return out


def statsforecast_baselines(
    Y: np.ndarray,
    first: np.ndarray,
    origin: int,
    horizon_days: int,
    *,
    fit_days: int = FIT_DAYS,
    n_jobs: int = 1,
    models: tuple[str, ...] = STAT_BASELINES,
) -> dict[str, BaselineForecast]:
    """AutoETS(7, no trend) and CrostonOptimized forecasts of days origin + 1 .. origin + H for every row of `Y`.

    Y: [series, day] units sold per day (zeros filled), day 0 = panel start.
    first: [series] day index of the first sale (-1 if never sold).
    origin: the last day read; days after it are never looked at.
    fit_days: days of history (ending at the origin, starting no earlier than
        the first sale) each series is fitted on. AutoETS per series is the
        cost and grows with the length. The baselines are the yardstick the
        model must beat, not a forecast anyone publishes, so they get what
        their job needs: 112 days (2 x the 56-day horizon) still show the
        weekly cycle 16 times and the recent level. Measured by
        `bench/backtest.py` on the demo (scale 1, 1,081 series, one window,
        n_jobs=2, 2 cores shared at load average ~10): auto_ets 198.5 s at
        364 days against 67.1 s at 112 (2.96x), its WAPE 0.897 against 0.913
        (croston 0.910 against 0.924), the model's 0.713 either way. Earlier,
        1,100 series x 800 days: 64 s at 364 against 110 s at 728.
        croston_optimized takes < 1 s either way.
    n_jobs: processes statsforecast fits the series on (all series go in one
        call per method; the output does not depend on n_jobs).
    models: a subset of `STAT_BASELINES`.

    Returns {method: BaselineForecast}, rows in `Y` order. Series with too
    little history get the mean method (see the module docstring); no value
    is NaN, all are >= 0 and p10 <= p50 <= p90. Deterministic for the same
    input.
    """
    unknown = [m for m in models if m not in STAT_BASELINES]
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; expected a subset of {list(STAT_BASELINES)}")
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")
    if horizon_days < 1 or fit_days < 1:
        raise ValueError("horizon_days and fit_days must be >= 1")
    H = int(horizon_days)
    Yo = np.asarray(Y)[:, : origin + 1].astype(np.float64, copy=False)  # nothing after the origin from here on
    first = np.asarray(first, dtype=np.int64)
    S = Yo.shape[0]
    if first.shape != (S,):
        raise ValueError(f"first has shape {first.shape}; expected ({S},)")

    # imported here, not at the top: statsforecast brings statsmodels (2 s), and a run that reuses
    # the last backtest, or a tool that only imports the wiring, never fits a baseline
    from statsforecast.models import AutoETS, CrostonOptimized

    rows, days, y, n = _windows(Yo, first, origin, fit_days)
    selling = np.bincount(rows, weights=(y > 0).astype(np.float64), minlength=S)
    fit = (n >= _MIN_DAYS) & (selling >= _MIN_SELLING_DAYS)
    mean, half = _mean_method(rows, y, n, S)
    keep = fit[rows]
    df = pd.DataFrame({"unique_id": rows[keep], "ds": days[keep], "y": y[keep]})

    result: dict[str, BaselineForecast] = {}
    for name in STAT_BASELINES:
        if name not in models:
            continue
        t0 = time.perf_counter()
        if name == "auto_ets":
            out = _run(AutoETS(season_length=SEASON, model=ETS_FORMS), df, S, H, n_jobs, [LEVEL])
        else:
            # CrostonOptimized.forecast has a `level` argument but raises without conformal
            # intervals, so it cannot share a `level=[80]` call with AutoETS.
            out = _run(CrostonOptimized(), df, S, H, n_jobs, None)
        seconds = time.perf_counter() - t0

        ok = fit & np.isfinite(out["mean"]).all(axis=1)
        if "lo" in out:
            ok &= np.isfinite(out["lo"]).all(axis=1) & np.isfinite(out["hi"]).all(axis=1)
        p50 = np.where(ok[:, None], out["mean"], mean[:, None])
        p50 = np.maximum(p50, 0.0)
        p10 = p90 = None
        if "lo" in out:
            p10 = np.where(ok[:, None], out["lo"], (mean - half)[:, None])
            p90 = np.where(ok[:, None], out["hi"], (mean + half)[:, None])
            p10 = np.clip(p10, 0.0, p50)
            p90 = np.maximum(p90, p50)
        result[name] = BaselineForecast(p50=p50, p10=p10, p90=p90, seconds=seconds)

    times = " ".join(f"{k} {v.seconds:.1f}s" for k, v in result.items())
    progress(
        f"stat baselines origin={origin} series={S} fitted={int(fit.sum())} "
        f"mean_method={S - int(fit.sum())} fit_days={fit_days} n_jobs={n_jobs} {times}"
    )
    return result
