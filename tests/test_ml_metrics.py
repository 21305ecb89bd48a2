"""Metric and baseline functions on hand-worked numbers."""
import math

import numpy as np
import pytest

from ml import metrics
from ml.baselines import seasonal_naive, seasonal_naive_scale


def test_wape_and_bias_hand_worked():
    actual = [2, 0, 4, 4]
    forecast = [1, 1, 4, 6]
    # |e| = 1 + 1 + 0 + 2 = 4 over 10 units sold; forecast - actual sums to +2
    assert metrics.wape(actual, forecast) == pytest.approx(0.4)
    assert metrics.bias(actual, forecast) == pytest.approx(0.2)
    assert metrics.bias([5, 5], [4, 4]) == pytest.approx(-0.2)


def test_wape_undefined_without_sales():
    assert math.isnan(metrics.wape([0, 0], [1, 0]))
    assert math.isnan(metrics.bias([0, 0], [1, 0]))


def test_mase_hand_worked():
    # MAE = (|3 - 4| + |5 - 4|) / 2 = 1, scale 2
    assert metrics.mase([3, 5], [4, 4], 2.0) == pytest.approx(0.5)
    assert math.isnan(metrics.mase([3, 5], [4, 4], 0.0))
    assert math.isnan(metrics.mase([3, 5], [4, 4], float("nan")))
    assert metrics.mean_mase([0.5, float("nan"), 1.5]) == pytest.approx(1.0)


def test_coverage_bounds_inclusive():
    actual = [1, 2, 3, 10]
    lower = [0, 2, 4, 0]
    upper = [1, 3, 5, 9]
    # 1 in [0,1] yes, 2 in [2,3] yes, 3 in [4,5] no, 10 in [0,9] no
    assert metrics.coverage(actual, lower, upper) == pytest.approx(0.5)


def test_pinball_hand_worked():
    assert metrics.pinball([10], [8], 0.9) == pytest.approx(1.8)  # under by 2, weight 0.9
    assert metrics.pinball([10], [12], 0.9) == pytest.approx(0.2)  # over by 2, weight 0.1
    assert metrics.pinball([10, 10], [8, 12], 0.5) == pytest.approx(1.0)


def test_seasonal_naive_repeats_last_week():
    Y = np.arange(20, dtype=float)[None, :]  # day d sold d units
    f = seasonal_naive(Y, origin=13, horizon_days=10)
    # days 14..20 repeat days 7..13, then days 21..23 repeat 7..9 again
    np.testing.assert_array_equal(f[0], [7, 8, 9, 10, 11, 12, 13, 7, 8, 9])


def test_seasonal_naive_before_history_is_zero_and_ignores_future():
    Y = np.array([[5.0, 6.0, 7.0, 100.0, 100.0, 100.0, 100.0, 100.0]])
    f = seasonal_naive(Y, origin=2, horizon_days=7)
    # the same weekday as origin + 1 is origin - 6: before the history -> 0
    np.testing.assert_array_equal(f[0], [0, 0, 0, 0, 5, 6, 7])


def test_seasonal_naive_scale_hand_worked():
    y = np.array([[1, 2, 3, 4, 5, 6, 7, 2, 2, 3, 4, 5, 6, 9]], dtype=float)
    # |y[d] - y[d-7]| for d = 7..13: 1, 0, 0, 0, 0, 0, 2 -> 3 / 7
    assert seasonal_naive_scale(y, np.array([0]), origin=13)[0] == pytest.approx(3 / 7)
    # a series first sold on day 5 is scaled from day 12 on: |6-6|, |9-7| -> 1.0
    assert seasonal_naive_scale(y, np.array([5]), origin=13)[0] == pytest.approx(1.0)
    # too young for one seasonal difference
    assert math.isnan(seasonal_naive_scale(y, np.array([10]), origin=13)[0])
