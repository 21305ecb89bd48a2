"""The forecast published when the model loses to a baseline: the best baseline's, with a calibrated band.

A model that does not beat its baselines in the backtest (`ml.backtest_gate`)
does not reach the plans when a baseline that plans stock scored better.
Before, a failed backtest left the last good plan published, and a merchant
on its first runs, with no good plan yet, had none at all: the
real DataCo export cut at 2018-01-26 lost to seasonal naive in resample
after resample and got no inventory or compliance plan. A merchant still has
to order stock, and the backtest has just scored every baseline on the same
series and weeks, so the plan goes on with the one that scored best.

- **Which baseline.** The lowest overall weekly WAPE of the expected units
  among the baselines the backtest scored (`FALLBACK_CANDIDATES`), if it is
  below the model's. Never the zero forecast, even when it scored best: a
  plan of nothing orders nothing, and on intermittent demand forecasting
  nothing wins on error alone (it is in the gate to be beaten, not to be
  planned on). So a model that lost to the zero forecast alone (or tied it)
  and beat every baseline that plans stock stays the forecast, unproven: no
  fallback would be better (`choose_fallback` returns None). The last
  published plan's baseline is kept while it scores within the gate's tie
  band (1 %) of the best and below the model: scores a point apart moved a
  growing merchant's plan between three baselines in six days.
- **Which series.** Those the forecast's quality gate expects: every
  SKU x market that sold in the last 91 days (`ml.series_selection`).
- **Which days.** The regular demand, as the model's: each bulk day (a
  wholesaler's pallet, over `crossdock.bulk_days.FACTOR` x its series' busy
  day) is its series' busy day (`ml.bulk_orders.cap_panel`). Before, the
  28-day mean of a messy merchant's series spread a 13,620-unit pallet over
  every day ahead: 27,240 units forecast for 56 days, 15x what then sold.
- **The band.** A baseline gives a rate per day, not a spread. p50 is the
  median of a count at the baseline's rate (as the model's p50:
  `crossdock.count_median`); p10 and p90 are the Poisson quantiles at the
  larger of that rate and the series' rate over its last 28 days, because a
  baseline's 0 (seasonal naive after a quiet weekday) is a point, not a
  certainty. Each demand class's band is then scaled by the factors that
  bring the baseline's own backtest days within it (`ml.calibration`, split
  conformal by class, classes with 2,000 days or more): the same promise as
  the model's band, at most a tenth of days above p90 and below p10, capped
  like it (a factor of at most 3). Sales are overdispersed next to a Poisson
  count, so the factors widen it; they never narrow it, as they could where
  most of a class's p90s are 0 (a count that sells on fewer than a tenth of
  its days) and already meet the promise whatever the others do.

Everything reads history up to the planning date only, as the baselines did
in each backtest window.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.count_median import with_count_median
from crossdock.plan_labels import FALLBACK_VERSION_PREFIX
from ml.backtest_scores import MEAN_28, MODEL, NAIVE, NAIVE_1, ZERO
from ml.backtest_gate import TIE
from ml.baselines import naive, seasonal_naive, window_average
from ml.bulk_orders import BulkSummary, cap_panel
from ml.calibration import Scales, calibrate_forecast, fit_scales
from ml.panel import Panel, build_panel, to_timestamp
from ml.series_selection import active_in_panel
from ml.stat_baselines import FIT_DAYS, STAT_BASELINES, statsforecast_baselines

FALLBACK_CANDIDATES: tuple[str, ...] = (NAIVE, NAIVE_1, MEAN_28, *STAT_BASELINES)
"""The baselines a plan may fall back on: every one the backtest scores but the zero forecast (module docstring)."""


def fallback_version(baseline: str, as_of: dt.date) -> str:
    """The model_version of a fallback forecast: `baseline-<name>-<as_of YYYYMMDD>`, never a saved model's name."""
    return f"{FALLBACK_VERSION_PREFIX}{baseline}-{to_timestamp(as_of):%Y%m%d}"


@dataclass(frozen=True)
class FallbackChoice:
    """The baseline a plan falls back on, its weekly WAPE in the backtest, and the model's."""

    baseline: str
    weekly_wape: float
    model_weekly_wape: float
    zero_weekly_wape: float
    best: str | None = None  # the best-scoring candidate, when the last plan's baseline was kept within a tie of it
    best_weekly_wape: float = float("nan")

    @property
    def proven(self) -> bool:
        """Did a backtest score this baseline? Not when none could run (`UNPROVEN`)."""
        return bool(np.isfinite(self.weekly_wape))

    def describe(self) -> str:
        """The choice in a planner's words: which baseline, by what score, and what it beat."""
        if not self.proven:
            return (f"the {self.baseline} baseline's forecast (each series' rate over its last 28 days, or the days "
                    f"it has), in place of the model's: {UNPROVEN}")
        if self.best is None:
            note = (f"the {self.baseline} baseline's forecast, in place of the model's: of the forecasts that plan stock "
                    f"it scored best in the backtest (weekly WAPE {self.weekly_wape:.3f}, the model {self.model_weekly_wape:.3f})")
        else:
            note = (f"the {self.baseline} baseline's forecast, in place of the model's, as in the last plan: it scored "
                    f"within {TIE:.0%} of the best, {self.best} (weekly WAPE {self.weekly_wape:.3f} against "
                    f"{self.best_weekly_wape:.3f}, the model {self.model_weekly_wape:.3f}), and a tie is no reason to "
                    "change the forecast a plan runs on")
        if np.isfinite(self.zero_weekly_wape) and self.zero_weekly_wape < self.weekly_wape:
            note += (f"; forecasting nothing scored {self.zero_weekly_wape:.3f}, but a plan of nothing orders nothing "
                     "and is never published")
        return note


UNPROVEN = ("no backtest has scored any forecast yet (too little history for one window, or no sale in its windows), "
            "and a run rate is what a planner would order by")


def choose_fallback(overall: pd.DataFrame, last: str | None = None) -> FallbackChoice | None:
    """The candidate with the lowest weekly WAPE in a backtest's overall rows (indexed by model), when it is below
    the model's; None when the model scored best of every forecast that plans stock (it lost to the zero forecast
    alone, or tied it): a fallback would be worse than the model.

    `last` is the baseline the last published plan ran on, if any. It is kept while it still scores below the
    model and within the gate's tie band (`TIE`, 1 %) of the best: two baselines a point apart are a tie the
    weeks scored cannot tell apart, and switching on it moved a growing merchant's plan between three
    baselines in six days (23 to 42 inventory rows).

    When the backtest scored none of `FALLBACK_CANDIDATES` (no backtest: too little history for one window; or
    no sale in its windows), the 28-day mean, unproven (`UNPROVEN`): nothing is proven better than a run rate.
    """
    scores = pd.to_numeric(overall["weekly_wape"], errors="coerce") if "weekly_wape" in overall else pd.Series(dtype=float)
    candidates = scores.reindex([m for m in FALLBACK_CANDIDATES if m in scores.index]).dropna()
    candidates = candidates[np.isfinite(candidates)]
    if candidates.empty:
        return FallbackChoice(MEAN_28, float("nan"), float(scores.get(MODEL, np.nan)), float(scores.get(ZERO, np.nan)))
    best = str(candidates.idxmin())  # the first of FALLBACK_CANDIDATES on a tie: the simplest
    model, zero = float(scores.get(MODEL, np.nan)), float(scores.get(ZERO, np.nan))
    if np.isfinite(model) and model <= candidates[best]:
        return None
    kept = last if last is not None and last != best and last in candidates.index else None
    if kept is not None and candidates[kept] <= candidates[best] * (1 + TIE) and not (np.isfinite(model) and model <= candidates[kept]):
        return FallbackChoice(kept, float(candidates[kept]), model, zero, best=best, best_weekly_wape=float(candidates[best]))
    return FallbackChoice(best, float(candidates[best]), model, zero)


KEPT_MODEL = ("the model's forecast is published unproven: no baseline that plans stock scored better in the backtest "
              "(the model lost to forecasting nothing alone, which orders nothing, or tied a baseline)")
"""What is said when the model stays the forecast although it failed the check (`choose_fallback` None)."""


def baseline_rates(panel: Panel, rows: np.ndarray, baseline: str, horizon_days: int, n_jobs: int = 1) -> np.ndarray:
    """[len(rows), horizon] units per day `baseline` forecasts after the panel's last day, for the panel rows given.

    The same functions, windows and fit days as the backtest scored them with (`ml.backtest`); AutoETS and
    Croston fitted in `n_jobs` processes.
    """
    Y, origin = panel.Y[rows], panel.n_days - 1
    if baseline == NAIVE:
        return seasonal_naive(Y, origin, horizon_days)
    if baseline == NAIVE_1:
        return naive(Y, origin, horizon_days)
    if baseline == MEAN_28:
        return window_average(Y, origin, horizon_days, window=28)
    if baseline in STAT_BASELINES:
        first = panel.series["first_idx"].to_numpy()[rows]
        fitted = statsforecast_baselines(Y, first, origin, horizon_days, fit_days=FIT_DAYS, n_jobs=n_jobs,
                                         models=(baseline,))
        return fitted[baseline].p50
    raise ValueError(f"no fallback forecast for {baseline!r}; choose from {list(FALLBACK_CANDIDATES)}")


def count_band(rates: np.ndarray, band_rates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p10, p50, p90): the median of a count at each rate, the 10 % and 90 % quantiles of one at each band rate
    (the rates themselves when None), widened where they would not hold the median."""
    from scipy.stats import poisson  # here, not at the top: the Dagster definitions import this module's callers

    rates = np.clip(np.asarray(rates, dtype=float), 0.0, None)
    spread = rates if band_rates is None else np.clip(np.asarray(band_rates, dtype=float), 0.0, None)
    return with_count_median(poisson.ppf(0.1, spread), rates, poisson.ppf(0.9, spread))


def band_rates(rates: np.ndarray, level: np.ndarray) -> np.ndarray:
    """The rate each row's band is drawn at: the baseline's, or the series' last-28-day rate `level` when larger."""
    return np.maximum(np.asarray(rates, dtype=float), np.asarray(level, dtype=float))


def band_scales(backtest_rows: pd.DataFrame, baseline: str) -> Scales:
    """The factors per demand class that calibrate the band of `baseline`'s backtest forecasts to their actuals.

    `backtest_rows`: the backtest's predictions (publish.forecast_backtest: actual, demand_class, mean_28 and a
    column per baseline). Empty when the baseline has no column there (a backtest stored before it was scored).
    """
    if backtest_rows.empty or not {baseline, MEAN_28, "actual", "demand_class"} <= set(backtest_rows.columns):
        return {}
    rows = backtest_rows.dropna(subset=[baseline, MEAN_28, "actual", "demand_class"])
    rates = rows[baseline].to_numpy(dtype=float)
    p10, _, p90 = count_band(rates, band_rates(rates, rows[MEAN_28].to_numpy(dtype=float)))
    scales = fit_scales(pd.DataFrame({"demand_class": rows["demand_class"].astype(str).to_numpy(),
                                      "actual": rows["actual"].to_numpy(dtype=float), "p10": p10, "p90": p90}))
    # never narrower than a count's: where most p90s are 0 (no factor moves them) the fit would shrink the rest
    return {cls: (min(k10, 1.0), max(k90, 1.0)) for cls, (k10, k90) in scales.items()}


@dataclass(frozen=True)
class FallbackForecast:
    """A baseline's forecast in the published forecast's columns, and what was left out of it: the panel's series
    not forecast, and the bulk days (`bulk`) its rates were not made from."""

    forecast: pd.DataFrame
    scales: Scales
    panel: Panel
    bulk: BulkSummary


def fallback_forecast(history: pd.DataFrame, as_of: dt.date, horizon_days: int, baseline: str,
                      backtest_rows: pd.DataFrame, n_jobs: int = 1) -> FallbackForecast:
    """`baseline`'s forecast of every active series, days 1..horizon after `as_of`, with a calibrated band.

    Columns as the model's forecast before it is staged: sku, market, category, forecast_date, horizon, p10, p50,
    p90, mean (the baseline's rate: what plans sum), stopped (False: only the model's backtest proves stopping).
    """
    panel = build_panel(history, as_of)
    active = active_in_panel(panel)
    regular, bulk = cap_panel(panel)  # as the model: a wholesaler's pallet is a known order, not a daily rate
    row_of = pd.Series(np.arange(panel.n_series), index=pd.MultiIndex.from_frame(panel.series[["sku", "market"]]))
    rows = row_of.reindex(pd.MultiIndex.from_frame(active[["sku", "market"]])).to_numpy(dtype=np.int64)
    H = int(horizon_days)
    rates = baseline_rates(regular, rows, baseline, H, n_jobs).ravel()
    level = window_average(regular.Y[rows], regular.n_days - 1, H, window=28).ravel()
    p10, p50, p90 = count_band(rates, band_rates(rates, level))
    days = np.tile(np.arange(1, H + 1), len(active))
    frame = pd.DataFrame({
        "sku": np.repeat(active["sku"].to_numpy(), H),
        "market": np.repeat(active["market"].to_numpy(), H),
        "category": np.repeat(active["category"].to_numpy(), H),
        "forecast_date": to_timestamp(as_of) + pd.to_timedelta(days, unit="D"),
        "horizon": days.astype("int64"),
        "p10": p10, "p50": p50, "p90": p90, "mean": rates,
        "stopped": False,
    })
    scales = band_scales(backtest_rows, baseline)
    return FallbackForecast(calibrate_forecast(frame, panel, scales), scales, panel, bulk)
