"""The forecast a plan falls back on when the model loses its backtest: which baseline, which series, which band."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml.backtest_scores import MEAN_28, MODEL, NAIVE, NAIVE_1, ZERO
from ml.baselines import seasonal_naive, window_average
from ml.demand_class import classify
from ml.fallback_forecast import (
    FALLBACK_CANDIDATES, band_rates, band_scales, choose_fallback, count_band, fallback_forecast, fallback_version,
)
from crossdock.plan_labels import is_fallback_version
from ml.panel import build_panel
from ml.series_selection import active_series

AS_OF = dt.date(2025, 6, 30)


def _overall(**weekly_wape: float) -> pd.DataFrame:
    return pd.DataFrame({"weekly_wape": weekly_wape}).rename_axis("model")


def test_the_best_baseline_is_chosen_and_never_the_zero_forecast():
    choice = choose_fallback(_overall(**{MODEL: 1.3, NAIVE: 1.2, NAIVE_1: 1.5, MEAN_28: 0.95, ZERO: 0.9,
                                         "auto_ets": 0.97, "croston_optimized": 0.96}))
    assert choice.baseline == MEAN_28 and choice.weekly_wape == 0.95 and choice.model_weekly_wape == 1.3
    assert "forecasting nothing scored 0.900" in choice.describe() and "never published" in choice.describe()
    # a baseline not scored (the stat baselines switched off) or undefined is passed over
    choice = choose_fallback(_overall(**{MODEL: 1.3, NAIVE: 1.1, MEAN_28: float("nan"), ZERO: 1.0}))
    assert choice.baseline == NAIVE and "forecasting nothing" in choice.describe()
    assert ZERO not in FALLBACK_CANDIDATES


def test_the_last_plans_baseline_is_kept_within_a_tie_of_the_best():
    """A growing merchant's plan moved between three baselines in six days on scores a point apart: the last plan's
    baseline stays while it scores within the gate's tie band (1 %) of the best and below the model."""
    overall = _overall(**{MODEL: 1.3, NAIVE: 1.2, MEAN_28: 0.901, ZERO: 1.0, "auto_ets": 0.905})
    kept = choose_fallback(overall, last="auto_ets")
    assert (kept.baseline, kept.weekly_wape, kept.best, kept.best_weekly_wape) == ("auto_ets", 0.905, MEAN_28, 0.901)
    assert "as in the last plan: it scored within 1% of the best, mean_28 (weekly WAPE 0.905 against 0.901" in kept.describe()
    assert choose_fallback(overall, last=NAIVE).baseline == MEAN_28  # 1.2 against 0.901: not a tie
    assert choose_fallback(overall, last=MEAN_28) == choose_fallback(overall)  # the best already: as without a last
    assert choose_fallback(overall, last="croston_optimized").baseline == MEAN_28  # not scored this time
    assert choose_fallback(overall, last="lightgbm").baseline == MEAN_28  # a model is never a last baseline
    # a kept baseline must still beat the model
    close = _overall(**{MODEL: 0.904, MEAN_28: 0.901, ZERO: 1.0, "auto_ets": 0.905})
    assert choose_fallback(close, last="auto_ets").baseline == MEAN_28


def test_a_model_that_lost_to_the_zero_forecast_alone_is_not_replaced_by_a_worse_baseline():
    """It ties forecasting nothing (the check fails) but beats everything that plans stock: no fallback is better."""
    overall = _overall(**{MODEL: 1.005, NAIVE: 1.29, MEAN_28: 1.10, ZERO: 1.0, "auto_ets": 1.08, "croston_optimized": 1.07})
    assert choose_fallback(overall) is None
    assert choose_fallback(_overall(**{MODEL: float("nan"), MEAN_28: 1.1, ZERO: 1.0})).baseline == MEAN_28  # unscored


def test_without_a_scored_baseline_the_plan_runs_on_the_28_day_mean_unproven():
    """No backtest (too little history for one window) or no sale in its windows: nothing beats a run rate."""
    for overall in (_overall(**{MODEL: float("nan"), NAIVE: float("nan"), ZERO: 1.0}),
                    pd.DataFrame(columns=["weekly_wape"]).rename_axis("model")):
        choice = choose_fallback(overall)
        assert choice.baseline == MEAN_28 and "no backtest has scored any forecast yet" in choice.describe()


def test_the_version_says_it_is_a_baseline():
    assert fallback_version(MEAN_28, AS_OF) == "baseline-mean_28-20250630"
    assert is_fallback_version(fallback_version(MEAN_28, AS_OF))
    assert not is_fallback_version("lgbm-quantile-20250630-abc") and not is_fallback_version(None)


def test_the_count_band_is_ordered_and_zero_for_a_zero_rate():
    p10, p50, p90 = count_band(np.array([0.0, 0.1, 0.5, 2.0, 10.0]))
    assert (p10 <= p50).all() and (p50 <= p90).all()
    assert list(p90) == [0.0, 0.0, 1.0, 4.0, 14.0] and list(p50) == [0.0, 0.0, 0.0, 2.0, 10.0]
    # a baseline's 0 (seasonal naive after a quiet weekday) on a series selling 2 a day lately: a point, not a certainty
    rates = np.array([0.0, 3.0])
    p10, p50, p90 = count_band(rates, band_rates(rates, np.array([2.0, 1.0])))
    assert list(p50) == [0.0, 3.0] and list(p90) == [4.0, 5.0] and list(p10) == [0.0, 1.0]


def _history() -> pd.DataFrame:
    """Two series selling (one every day, one on Mondays), one that stopped 120 days ago."""
    days = pd.date_range(AS_OF - dt.timedelta(days=199), AS_OF, freq="D")
    rows = [("A", "US", "home", d, 3.0 + (d.dayofweek == 5)) for d in days]
    rows += [("B", "DE", "toys", d, 2.0) for d in days if d.dayofweek == 0]
    rows += [("C", "US", "home", d, 1.0) for d in days[:60]]
    return pd.DataFrame(rows, columns=["sku", "market", "category", "demand_date", "units_sold"])


def test_the_fallback_forecasts_every_active_series_with_the_baseline_as_its_mean():
    history = _history()
    made = fallback_forecast(history, AS_OF, 14, NAIVE, pd.DataFrame())
    f = made.forecast
    expected = active_series(history, AS_OF)[["sku", "market"]]
    assert f[["sku", "market"]].drop_duplicates().reset_index(drop=True).equals(expected)  # C stopped: not forecast
    assert len(f) == 2 * 14 and list(f["horizon"][:14]) == list(range(1, 15))
    assert f["forecast_date"].iloc[0] == pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    panel = build_panel(history, AS_OF)
    a, b = (panel.series.index[panel.series["sku"] == sku][0] for sku in ("A", "B"))
    assert np.allclose(f.loc[f["sku"] == "A", "mean"], seasonal_naive(panel.Y[[a]], panel.n_days - 1, 14).ravel())
    assert (f["p10"] <= f["p50"]).all() and (f["p50"] <= f["p90"]).all() and not f["stopped"].any()
    mean_28 = fallback_forecast(history, AS_OF, 14, MEAN_28, pd.DataFrame()).forecast
    assert np.allclose(mean_28.loc[mean_28["sku"] == "B", "mean"], window_average(panel.Y[[b]], panel.n_days - 1, 14).ravel())
    assert mean_28.loc[mean_28["sku"] == "B", "mean"].iloc[0] == pytest.approx(8 / 28)


def test_the_band_is_calibrated_on_the_baselines_own_backtest_days():
    """Actuals far more spread than a Poisson count with the baseline's rate: the class's band widens to hold 90 %."""
    rng = np.random.default_rng(0)
    n = 5_000
    rate = np.full(n, 2.0)
    actual = rng.choice([0.0, 0.0, 1.0, 9.0], size=n)  # mean 2.5, far heavier tail than Poisson(2)
    rows = pd.DataFrame({"demand_class": "erratic", "actual": actual, NAIVE: rate, MEAN_28: rate / 2})
    scales = band_scales(rows, NAIVE)
    k10, k90 = scales["erratic"]
    _, _, p90 = count_band(rate)
    assert (actual > p90).mean() > 0.2 and k90 > 1
    assert (actual > k90 * p90).mean() <= 0.10
    assert band_scales(rows, "auto_ets") == {}  # a baseline the backtest did not store: no scaling


def test_the_published_band_is_scaled_by_its_class_factor():
    history = _history()
    panel = build_panel(history, AS_OF)
    classes = dict(zip(panel.series["sku"], classify(panel.Y, panel.series["first_idx"].to_numpy(), panel.n_days - 1)))
    rng = np.random.default_rng(1)
    n = 3_000  # above ml.calibration.MIN_ROWS: the class is scaled
    rows = pd.DataFrame({"demand_class": classes["A"], "actual": rng.choice([0.0, 3.0, 12.0], size=n),
                         NAIVE: 3.0, MEAN_28: 3.0})
    [(k10, k90)] = band_scales(rows, NAIVE).values()
    assert k90 > 1
    raw = fallback_forecast(history, AS_OF, 7, NAIVE, pd.DataFrame()).forecast
    scaled = fallback_forecast(history, AS_OF, 7, NAIVE, rows).forecast
    a = raw["sku"] == "A"
    assert np.allclose(scaled.loc[a, "p90"], np.maximum(raw.loc[a, "p90"] * k90, raw.loc[a, "p50"]))
    assert np.allclose(scaled.loc[a, "p10"], np.minimum(raw.loc[a, "p10"] * k10, raw.loc[a, "p50"]))
    assert scaled.loc[~a, ["p10", "p90"]].equals(raw.loc[~a, ["p10", "p90"]]) or classes["B"] == classes["A"]


def test_a_pallet_order_is_no_daily_rate_of_the_fallback():
    """The messy demo as of 2020-11-30: mean_28 spread a 13,620-unit wholesale line over every day ahead (27,240
    units forecast for 56 days, 15x what sold). The fallback reads the regular demand, as the model does, and says
    what it left out."""
    history = _history()
    pallet = pd.DataFrame([("A", "US", "home", pd.Timestamp(AS_OF) - pd.Timedelta(days=10), 5_000.0)],
                          columns=history.columns)
    with_pallet = pd.concat([history[~((history["sku"] == "A") & (history["demand_date"] == pallet["demand_date"][0]))],
                             pallet], ignore_index=True)
    plain = fallback_forecast(history, AS_OF, 14, MEAN_28, pd.DataFrame())
    made = fallback_forecast(with_pallet, AS_OF, 14, MEAN_28, pd.DataFrame())
    a = made.forecast["sku"] == "A"
    assert made.forecast.loc[a, "mean"].max() < 4.5  # A's regular 3-4 a day, its busy day standing in for the pallet
    assert made.forecast.loc[a, "mean"].sum() == pytest.approx(plain.forecast.loc[a, "mean"].sum(), rel=0.05)
    assert made.bulk.days == 1 and made.bulk.units > 4_900 and plain.bulk.days == 0
