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

Both are fitted on the dense, zero-filled series (`ml.panel`: a day without
a sale is a 0), every series on the same days max(0, origin - fit_days + 1)
.. origin of `Y`, zeros included, and forecast days origin + 1 .. origin + H,
the same windows as `ml.backtest`. Nothing after the origin is read, and the
window never starts at a series' first sale: a series launched the day before
the origin with one large order is fitted on fit_days - 1 zeros and that
order, as statsforecast would fit it from the panel, so neither method
repeats the order on every day of the horizon (fitting only the days since
the first sale did: a one-day window whose mean is the order, 12,096 units
over 56 days in issue 16). On 112 days such an order the day before the
origin gives Croston about order / 111 a day (one demand after a 111-day
interval) and AutoETS, with the origin's zero after it, about 1e-4 x order.

No minimum length or number of selling days. On a dense window every series
has the same fit_days days (fewer only when the origin is within fit_days of
the panel start), and statsforecast's own behaviour on short or sparse
series is the reference: AutoETS raises on tiny series (one or two days),
and statsforecast's `fallback_model`, HistoricAverage, is set, so such a
series gets the mean method (p50 = mean units/day of the window; for
`auto_ets` the normal 80% band mean -/+ 1.2816 * sd * sqrt(1 + 1/n), sd with
ddof 1, 0 for one day); CrostonOptimized handles any length itself. The
one rule kept: a series whose window has no sale (never sold, sold only
before the window, or launched after the origin) is not fitted and gets 0
with a 0 band, which is what both models give on an all-zero series, without
the cost. Any non-finite model output is replaced by the mean method over
the same dense window. Everything is clipped at 0 and ordered
p10 <= p50 <= p90.
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.model import progress

STAT_BASELINES: tuple[str, ...] = ("auto_ets", "croston_optimized")
SEASON = 7
ETS_FORMS = "ZNZ"  # error and season chosen by AICc, no trend (module docstring)
LEVEL = 80  # p10 / p90 = the ends of the central 80% interval
_Z80 = 1.2815515655446004  # standard normal quantile 0.9
FIT_DAYS = 112  # days each series is fitted on (2 x the 56-day horizon); see `statsforecast_baselines`


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

    def rows(self, index: np.ndarray) -> BaselineForecast:
        """The forecast of the series at `index` only."""
        pick = (lambda a: None if a is None else a[index])
        return BaselineForecast(self.p50[index], pick(self.p10), pick(self.p90), self.seconds)


def _window(Yo: np.ndarray, origin: int, fit_days: int) -> np.ndarray:
    """[series, days] dense fit window: days max(0, origin - fit_days + 1) .. origin, the same for all series."""
    return Yo[:, max(0, origin - fit_days + 1) : origin + 1]


def _mean_method(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 80% half-width of the mean method per series over the window `W` (HistoricAverage's)."""
    n = W.shape[1]
    mean = W.mean(axis=1)
    sd = W.std(axis=1, ddof=1) if n > 1 else np.zeros(W.shape[0])
    return mean, _Z80 * sd * np.sqrt(1.0 + 1.0 / n)


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
    first: [series] day index of the first sale (-1 if never sold). Only its
        shape is checked: the window is the same dense days for every series,
        whatever its first sale (kept so callers need not change).
    origin: the last day read; days after it are never looked at.
    fit_days: days of the dense history ending at the origin that every
        series is fitted on, zeros included (before a series' first sale
        too; fewer only when the panel starts later). AutoETS per series is the
        cost and grows with the length. The baselines are the yardstick the
        model must beat, not a forecast anyone publishes, so they get what
        their job needs: 112 days (2 x the 56-day horizon) still show the
        weekly cycle 16 times and the recent level. Measured (when windows
        still started at the first sale) by
        `bench/backtest.py` on the demo (scale 1, 1,081 series, one window,
        n_jobs=2, 2 cores shared at load average ~10): auto_ets 198.5 s at
        364 days against 67.1 s at 112 (2.96x), its WAPE 0.897 against 0.913
        (croston 0.910 against 0.924), the model's 0.713 either way. Earlier,
        1,100 series x 800 days: 64 s at 364 against 110 s at 728.
        croston_optimized takes < 1 s either way.
    n_jobs: processes statsforecast fits the series on (all series go in one
        call per method; the output does not depend on n_jobs).
    models: a subset of `STAT_BASELINES`.

    Returns {method: BaselineForecast}, rows in `Y` order. A series with no
    sale in its window gets 0; one AutoETS cannot fit gets the mean method
    (see the module docstring); no value is NaN, all are >= 0 and
    p10 <= p50 <= p90. Deterministic for the same input.
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

    W = _window(Yo, origin, fit_days)
    result = fit_window(W, H, n_jobs=n_jobs, models=models)
    _report(result, origin, W, n_jobs)
    return result


def _report(result: dict[str, BaselineForecast], origin: int, W: np.ndarray, n_jobs: int) -> None:
    """The progress line of one origin's fits (`W` its fit window)."""
    fitted = int((W > 0).any(axis=1).sum())
    times = " ".join(f"{k} {v.seconds:.1f}s" for k, v in result.items())
    progress(
        f"stat baselines origin={origin} series={len(W)} fitted={fitted} "
        f"no_sale_in_window={len(W) - fitted} fit_days={W.shape[1]} n_jobs={n_jobs} {times}"
    )


def fit_window(W: np.ndarray, horizon_days: int, *, n_jobs: int = 1,
               models: tuple[str, ...] = STAT_BASELINES) -> dict[str, BaselineForecast]:
    """The baselines of every row of the dense fit window `W` [series, days], its last day the origin.

    What `statsforecast_baselines` does once it has cut the window; see there.
    """
    H = int(horizon_days)
    S, n = W.shape
    # imported here, not at the top: statsforecast brings statsmodels (2 s), and a run that reuses
    # the last backtest, or a tool that only imports the wiring, never fits a baseline
    from statsforecast.models import AutoETS, CrostonOptimized

    fit = (W > 0).any(axis=1)  # an all-zero window forecasts 0 in both models: not worth a fit
    mean, half = _mean_method(W)
    rows = np.flatnonzero(fit)
    df = pd.DataFrame({"unique_id": np.repeat(rows, n), "ds": np.tile(np.arange(n), rows.size), "y": W[rows].ravel()})

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

    return result


class BaselinesAhead:
    """The backtest's statsforecast baselines of every origin, fitted ahead in one background process.

    Why: a backtest window's model fit leaves a core idle while it builds
    features, predicts and scores (single-threaded numpy and pandas, about a
    quarter of a window at 10,000 series), and AutoETS fitted behind it fills
    that core instead of running after it. Every series of `Y` with a sale in
    a window is fitted (each series' fit is its own, so the rows a window
    asks for get what fitting them alone gives: tested); `fitted` hands back
    the rows asked for. The process is forked, as statsforecast's own
    `n_jobs` processes are, before the backtest's model threads start: a
    spawned one would re-run the caller's main module, which breaks any
    script without a `__main__` guard.
    """

    def __init__(self, Y: np.ndarray, origins: Sequence[int], horizon_days: int, *, fit_days: int = FIT_DAYS,
                 n_jobs: int = 1, models: tuple[str, ...] = STAT_BASELINES) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._ahead: dict[int, Future] = {}
        self._windows = {origin: np.ascontiguousarray(_window(Y, origin, fit_days)) for origin in origins}
        self._n_jobs = n_jobs
        if models:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            for origin, window in self._windows.items():
                self._ahead[origin] = self._pool.submit(fit_window, window, horizon_days, n_jobs=n_jobs, models=models)

    def fitted(self, origin: int, rows: np.ndarray) -> dict[str, BaselineForecast]:
        """The baselines from `origin` (one of the origins given) of the series at `rows` of `Y`."""
        if not self._ahead:
            return {}
        try:
            result = self._ahead.pop(origin).result()
        except BrokenProcessPool as died:  # concurrent.futures says only "terminated abruptly"
            raise RuntimeError(
                f"the background process fitting the backtest's baselines (AutoETS, Croston) died before it fitted "
                f"the window ending on day {origin}: it was killed, most often by the system for want of memory "
                "(see `dmesg`); the backtest cannot score the model against its baselines without it"
            ) from died
        _report(result, origin, self._windows.pop(origin), self._n_jobs)
        return {name: b.rows(rows) for name, b in result.items()}

    def close(self) -> None:
        """Stop the background process, dropping fits nobody will ask for (a backtest that failed half-way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> BaselinesAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
