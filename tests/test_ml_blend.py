"""The published mean is the model's blended with the series' regular 28-day level, by a weight proven held out."""

import numpy as np
import pandas as pd
import pytest

from crossdock.count_median import poisson_median
from ml import backtest as bt
from ml import metrics
from ml.backtest_scores import BacktestResult
from ml.blend import (
    CHOICES, MODEL_ONLY, WEIGHTS, BlendErrors, MeanChoice, blend, blend_errors, blend_forecast, fit_choice,
    held_out_choices, regular_level,
)
from crossdock.bulk_days import regular_demand
from ml.panel import build_panel

try:
    from ml_synthetic import DEFAULT_END as AS_OF
    from ml_synthetic import FAST_BACKTEST as FAST
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import DEFAULT_END as AS_OF
    from tests.ml_synthetic import FAST_BACKTEST as FAST
    from tests.ml_synthetic import make_history



def test_the_level_is_the_regular_units_of_the_last_28_days_zeros_included():
    Y = np.zeros((2, 60))
    Y[0, 40:] = 2.0  # two a day over the last 20 days
    Y[1, 10:] = 1.0
    Y[1, 55] = 500.0  # a pallet order: counted as the series' busy day, not as 500
    level = regular_level(Y, 59)
    assert level[0] == pytest.approx(40 / 28)
    busy = regular_demand(Y, 59)[1, 55]
    assert busy == 1.0 and level[1] == pytest.approx(28 / 28)


def test_the_weight_with_the_least_weekly_error_wins_and_a_tie_keeps_the_model():
    H = 14
    actual = np.tile(np.r_[np.full(7, 1.0), np.full(7, 3.0)], 2)
    level = np.array([2.0, 2.0])
    exact = blend_errors(actual, actual, level, H)  # the model is right: weight 1
    assert exact.abs_error[WEIGHTS.index(1.0)] == 0 and exact.best() == MODEL_ONLY
    steady = np.full(28, 2.0)
    flat = blend_errors(steady, np.full(28, 0.0), level, H)  # the model says nothing, the level is right
    assert flat.best() == MeanChoice(0.0) and np.all(np.diff(flat.abs_error[: len(WEIGHTS)]) < 0)
    between = blend_errors(actual, np.full(28, 0.0), level, H)  # weeks of 7 and 21 against the level's 14 and 14:
    assert between.abs_error.tolist() == [56.0, 42.0, 28.0, 28.0, 28.0] * 2  # no series stopped: the rule changes nothing
    assert between.best() == MeanChoice(0.5)  # ties: the rule off, the larger weight
    same = blend_errors(actual, np.full(28, 2.0), level, H)  # model and level agree: every weight ties
    assert np.ptp(same.abs_error) == 0 and same.best() == MODEL_ONLY
    # the summed error is weekly WAPE's numerator
    for w, e in zip(WEIGHTS, between.abs_error):
        assert e / actual.sum() == pytest.approx(metrics.weekly_wape(actual, blend(np.zeros(28), np.repeat(level, H), w), H))


def test_a_stopped_series_is_forecast_zero_only_when_that_has_less_error():
    H = 7
    level = np.array([3.0, 1.0])
    model = np.r_[np.full(7, 3.0), np.full(7, 1.0)]
    stopped_first = np.array([True, False])
    gone = blend_errors(np.r_[np.zeros(7), np.full(7, 1.0)], model, level, H, stopped_first)  # it did stop
    assert gone.best() == MeanChoice(1.0, zero_stopped=True)
    assert gone.abs_error[CHOICES.index(MeanChoice(1.0, True))] == 0 and gone.abs_error[0] == 21.0
    back = blend_errors(np.r_[np.full(7, 3.0), np.full(7, 1.0)], model, level, H, stopped_first)  # out of stock only
    assert back.best() == MODEL_ONLY and back.abs_error[CHOICES.index(MeanChoice(1.0, True))] == 21.0


def test_each_window_gets_the_choice_of_the_others_and_one_window_keeps_the_model():
    def errors_of(off: list[float], on: list[float]) -> BlendErrors:
        return BlendErrors(np.array(off + on))

    errors = {
        1: errors_of([5.0, 4.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 4.0, 5.0]),
        2: errors_of([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]),
        3: errors_of([9.0, 4.0, 8.0, 8.0, 9.0], [9.0, 1.0, 8.0, 8.0, 9.0]),
    }
    assert held_out_choices(errors) == {  # 2+3, 1+3, 1+2
        1: MeanChoice(WEIGHTS[1], True), 2: MeanChoice(WEIGHTS[1], True), 3: MeanChoice(WEIGHTS[0], False)
    }
    assert fit_choice(errors) == MeanChoice(WEIGHTS[1], True)
    assert held_out_choices({1: errors[1]}) == {1: MODEL_ONLY} and fit_choice({1: errors[1]}) == MODEL_ONLY
    assert blend(np.array([4.0]), np.array([0.0]), 0.25).tolist() == [1.0]


def overall_wape(result: BacktestResult) -> float:
    return result.overall().loc["lightgbm", "wape"]


def test_the_backtest_scores_the_mean_blended_by_the_other_windows_weight():
    history = make_history(n_skus=10, markets=("US", "GB", "DE"), days=520, end=AS_OF, seed=5)
    result = bt.backtest(history, AS_OF, horizon_days=28, n_windows=3, seed=7, config=FAST, baselines=())
    p, windows = result.predictions, result.windows.set_index("window")
    panel = build_panel(history, AS_OF)
    keys = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    errors = {}
    for window, rows in p.groupby("window"):
        o = panel.day_index(rows["origin"].iloc[0])
        level = pd.Series(regular_level(panel.Y, o), index=keys)
        np.testing.assert_allclose(rows["level_28"], level.reindex(pd.MultiIndex.from_frame(rows[["sku", "market"]])))
        errors[window] = blend_errors(rows["actual"].to_numpy(), rows["mean_model"].to_numpy(),
                                      rows["level_28"].to_numpy()[::28], 28)  # one level per series
    for window, rows in p.groupby("window"):
        choice = held_out_choices(errors)[window]
        assert windows.loc[window, "mean_weight"] == choice.weight and not windows.loc[window, "zero_stopped"]
        np.testing.assert_allclose(rows["mean"], blend(rows["mean_model"], rows["level_28"], choice.weight))
        np.testing.assert_array_equal(rows["p50"], poisson_median(rows["mean"].to_numpy()))  # the median scored
    assert result.mean_weight == fit_choice(errors).weight
    assert (windows["mean_weight"] < 1).any()  # a blend was scored, so the columns above could tell a missing one
    assert overall_wape(result) == pytest.approx(metrics.wape(p["actual"], poisson_median(p["mean"].to_numpy())))
    overall = result.overall()
    scored = [metrics.weekly_wape(r["actual"].to_numpy(), r["mean"].to_numpy(), 28) for _, r in p.groupby("window")]
    units = [r["actual"].sum() for _, r in p.groupby("window")]
    assert overall.loc["lightgbm", "weekly_wape"] == pytest.approx(np.average(scored, weights=units))
    per_series = result.by_window_series[result.by_window_series["model"] == "lightgbm"]
    assert per_series["forecast_units"].sum() == pytest.approx(p["mean"].sum())


def test_the_published_mean_is_blended_with_each_series_level_and_a_launch_keeps_the_models():
    history = make_history(n_skus=4, markets=("US", "DE"), days=200, end=AS_OF, seed=3)
    panel = build_panel(history, AS_OF)
    series = panel.series[["sku", "market"]].iloc[:2]
    days = pd.date_range(pd.Timestamp(AS_OF) + pd.Timedelta(days=1), periods=3)
    forecast = pd.DataFrame({
        "sku": np.r_[np.repeat(series["sku"].to_numpy(), 3), ["NEW"] * 3],
        "market": np.r_[np.repeat(series["market"].to_numpy(), 3), ["US"] * 3],
        "forecast_date": np.tile(days, 3), "mean": 4.0, "p10": 1.0, "p50": 4.0, "p90": 7.0,
    })
    out, stopped = blend_forecast(forecast, panel, MeanChoice(0.75))
    assert stopped.empty
    level = regular_level(panel.Y, panel.n_days - 1)[:2]
    np.testing.assert_allclose(out["mean"].to_numpy()[:6], 0.75 * 4.0 + 0.25 * np.repeat(level, 3))
    assert out["mean"].tolist()[6:] == [4.0] * 3
    # the median follows the blended mean; the band holds it
    np.testing.assert_array_equal(out["p50"], poisson_median(out["mean"].to_numpy()))
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    assert (out["p50"].to_numpy()[:6] > 4.0).all() and out["p50"].tolist()[6:] == [4.0] * 3  # levels of 8 and 14
    assert blend_forecast(forecast, panel, None)[0] is forecast  # no backtest yet: the model's mean
    assert blend_forecast(forecast, panel, MODEL_ONLY)[0] is forecast


def test_a_market_whose_season_ahead_no_window_scored_keeps_the_models_mean():
    """ml.season_ahead's markets: the 28-day level is the wrong partner before a season the windows never held."""
    history = make_history(n_skus=4, markets=("US", "DE"), days=200, end=AS_OF, seed=3)
    panel = build_panel(history, AS_OF)
    series = panel.series[["sku", "market"]]
    days = pd.date_range(pd.Timestamp(AS_OF) + pd.Timedelta(days=1), periods=3)
    forecast = pd.DataFrame({
        "sku": np.repeat(series["sku"].to_numpy(), 3), "market": np.repeat(series["market"].to_numpy(), 3),
        "forecast_date": np.tile(days, len(series)), "mean": 4.0, "p10": 1.0, "p50": 4.0, "p90": 7.0,
    })
    everywhere, _ = blend_forecast(forecast, panel, MeanChoice(0.5))
    out, _ = blend_forecast(forecast, panel, MeanChoice(0.5), model_alone_markets=["DE"])
    de = (forecast["market"] == "DE").to_numpy()
    assert de.any() and (~de).any()
    assert (out["mean"].to_numpy()[de] == 4.0).all()
    np.testing.assert_array_equal(out["mean"].to_numpy()[~de], everywhere["mean"].to_numpy()[~de])
    assert not np.allclose(everywhere["mean"].to_numpy()[de], 4.0)
