"""The forecast's gate on the intervals of its ratios, through ml.backtest_scores.summarise and ml.backtest_gate.gate_verdict:
what must fail fails, whatever the resampling of the weeks says."""
import numpy as np
import pandas as pd
import pytest

from ml.backtest_scores import summarise
from ml.backtest_gate import gate_verdict

H = 56


def _overall(actual: np.ndarray, model_mean: np.ndarray, naive: np.ndarray | None = None) -> pd.DataFrame:
    """actual / model_mean / naive: [S, H] for one window; the overall rows of summarise, by model."""
    S = actual.shape[0]
    naive = actual * 4 + 1 if naive is None else naive  # a bad naive: the gate is the zero comparison
    p = pd.DataFrame({
        "sku": np.repeat([f"s{i}" for i in range(S)], H), "market": "US", "category": "c", "demand_class": "smooth",
        "window": 1, "actual": actual.ravel(), "actual_regular": actual.ravel(),
        "mean": model_mean.ravel(), "p50": model_mean.ravel(), "p10": 0.0, "p90": model_mean.ravel() * 2,
        "p10_calibrated": 0.0, "p90_calibrated": model_mean.ravel() * 2, "seasonal_naive_7": naive.ravel(),
    })
    ws = pd.DataFrame([{"model": m, "market": "US", "category": "c", "demand_class": "smooth", "rmsse": 1.0, "mase": 1.0}
                       for m in ("lightgbm", "seasonal_naive_7", "zero") for _ in range(S)])
    table = summarise(p, ws, 1, H)
    return table[table["scope"] == "overall"].set_index("model")


def _intermittent(S=60, seed=1):
    rng = np.random.default_rng(seed)
    rate = rng.choice([0.05, 0.2, 1.5], size=S)  # slow, medium and fast movers
    return rng.poisson(rate[:, None], size=(S, H)).astype(float)


def test_a_forecast_of_almost_nothing_still_fails():
    """1e-3 units a day everywhere is the zero forecast in all but name: it must fail as the exact zero does."""
    actual = _intermittent()
    overall = _overall(actual, np.full_like(actual, 1e-3))
    verdict = gate_verdict(overall)
    assert not verdict.passed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_forecast_of_almost_nothing_is_not_published_unproven_either(seed):
    rng = np.random.default_rng(seed)
    rate = rng.choice([0.05, 0.2, 0.6], size=60)
    actual = rng.poisson(rate[:, None], size=(60, H)).astype(float)
    overall = _overall(actual, np.full_like(actual, 1e-3))
    verdict = gate_verdict(overall)
    assert not verdict.passed


def test_a_forecast_that_is_zero_but_one_series_is_not_proven():
    """The zero forecast with a crumb on one selling series: its interval is [0.99.., 1.0], which holds 1."""
    actual = _intermittent()
    mean = np.zeros_like(actual)
    mean[int(np.argmax(actual.sum(axis=1))), :7] = 0.01
    overall = _overall(actual, mean)
    verdict = gate_verdict(overall)
    assert not (verdict.passed and verdict.judged), "called proven against zero"


def test_a_model_worse_than_zero_on_the_series_that_sell_most_is_not_published():
    """Retail volume is concentrated: one series with most units, forecast at twice its pace, 39 small ones
    forecast well. 1.5x worse than forecasting nothing, on the units a plan buys."""
    S = 40
    actual = np.zeros((S, H))
    actual[0] = 100.0
    actual[1:, ::7] = 10.0
    mean = actual.copy()
    mean[0] = 300.0
    mean[1:] = actual[1:] * 0.5
    overall = _overall(actual, mean)
    verdict = gate_verdict(overall)
    assert not verdict.passed


def test_an_interval_with_an_infinite_end_holds_1_and_is_not_proof():
    """One window of a small merchant: two series selling in weeks 2 and 6 only, the model a little every day and
    nearly right in those weeks. Forecasting nothing is exact in 6 of the 8 weeks, so a tenth of the resamples draw
    only those: the interval's high end is infinite, never NaN, and the comparison is not judged."""
    actual = np.zeros((2, H))
    actual[:, 7:14] = actual[:, 35:42] = 3.0
    mean = np.full_like(actual, 0.05)
    mean[:, 7:14] = mean[:, 35:42] = 2.9
    overall = _overall(actual, mean)
    low, high = overall.loc["zero", ["model_ratio_low", "model_ratio_high"]]
    assert low < 1.0 and high == np.inf
    verdict = gate_verdict(overall, ("seasonal_naive_7", "zero"))  # this backtest scored no 28-day mean
    assert verdict.passed and not verdict.judged and "cannot be told from zero" in verdict.summary()


def test_a_ratio_at_the_edge_of_the_tie_band_is_a_tie():
    overall = pd.DataFrame({"weekly_wape": [0.99, 1.2, 1.0], "model_ratio_low": [np.nan, 0.7, 0.99],
                            "model_ratio_high": [np.nan, 0.9, 0.995]}, index=["lightgbm", "seasonal_naive_7", "zero"])
    verdict = gate_verdict(overall)
    assert not verdict.passed and "ties zero 1.000 (ratio 0.990, 90% interval 0.990-0.995)" in verdict.summary()
    below = overall.assign(model_ratio_low=[np.nan, 0.7, 0.985])  # 1 % better at most, not inside the band: no tie
    assert "does not beat zero 1.000 (ratio 0.990, 90% interval 0.985-0.995)" in gate_verdict(below).summary()
