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


# --- metrics a zero forecast cannot win (issue 16) ---------------------------


def test_weekly_totals_hand_worked_with_partial_last_week():
    # H = 10: days 1-7 are one bucket, days 8-10 the trailing partial one
    flat = np.arange(20, dtype=float)  # series 0 sold 0..9, series 1 sold 10..19
    expected = [[0 + 1 + 2 + 3 + 4 + 5 + 6, 7 + 8 + 9], [70 + 21, 3 * 10 + 24]]
    np.testing.assert_array_equal(metrics.weekly_totals(flat, 10), expected)
    np.testing.assert_array_equal(metrics.weekly_totals(flat.reshape(2, 10), 10), expected)
    # whole weeks: no empty trailing bucket
    assert metrics.weekly_totals(np.ones(28), 14).tolist() == [[7, 7], [7, 7]]


def test_weekly_totals_rejects_values_that_are_not_whole_horizons():
    with pytest.raises(ValueError):
        metrics.weekly_totals(np.ones(15), 7)
    with pytest.raises(ValueError):
        metrics.weekly_totals(np.ones((2, 8)), 7)


def test_weekly_wape_hand_worked():
    H = 9  # weeks: days 1-7 and 8-9
    actual = np.array([[1, 0, 0, 2, 0, 0, 0, 3, 0], [0, 0, 0, 0, 0, 0, 4, 0, 0]], dtype=float)
    forecast = np.array([[0, 1, 1, 1, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]], dtype=float)
    # weekly actual [[3, 3], [4, 0]], forecast [[3, 1], [7, 2]]: |e| = 0 + 2 + 3 + 2 = 7 over 10 sold
    assert metrics.weekly_wape(actual, forecast, H) == pytest.approx(0.7)
    assert metrics.weekly_wape(actual.ravel(), forecast.ravel(), H) == pytest.approx(0.7)
    # the same data daily: |e| = 1+1+1+1+0+0+0+3+1 + 1+1+1+1+1+1+3+1+1 = 19
    assert metrics.wape(actual, forecast) == pytest.approx(1.9)
    assert math.isnan(metrics.weekly_wape(np.zeros(H), np.ones(H), H))


def test_weekly_wape_of_a_zero_forecast_is_exactly_one():
    rng = np.random.default_rng(3)
    H = 59  # not a multiple of 7
    actual = rng.poisson(0.3, size=(40, H)) * rng.integers(1, 5, size=(40, H))
    assert metrics.weekly_wape(actual, np.zeros_like(actual), H) == 1.0
    assert metrics.weekly_wape(actual.ravel(), np.zeros(actual.size), H) == 1.0


def test_weekly_wape_forgives_moves_within_a_week_only():
    rng = np.random.default_rng(5)
    H = 17  # weeks of 7, 7 and 3 days
    actual = (rng.poisson(0.5, size=(12, H)) * 3).astype(float)
    # each series' units moved between days of the same week: a pure timing error
    moved = np.concatenate([rng.permuted(actual[:, lo : lo + 7], axis=1) for lo in range(0, H, 7)], axis=1)
    assert metrics.wape(actual, moved) > 0.1
    assert metrics.weekly_wape(actual, moved, H) == pytest.approx(0.0, abs=1e-12)
    # the same units moved across a week boundary or to another series are errors
    across = actual.copy()
    across[:, 6], across[:, 7] = actual[:, 7], actual[:, 6]
    changed = actual[:, 6] != actual[:, 7]
    assert changed.any()
    assert metrics.weekly_wape(actual, across, H) == pytest.approx(
        2 * np.abs(actual[:, 6] - actual[:, 7]).sum() / actual.sum()
    )
    swapped = actual[::-1]
    assert metrics.weekly_wape(actual, swapped, H) > 0


def test_naive_squared_scale_hand_worked():
    y = np.array([[0, 0, 3, 1, 1, 4, 0, 2], [5, 5, 5, 5, 5, 5, 5, 5]], dtype=float)
    # series 0 from its first sale on day 2 to origin 6: (1-3)^2, 0, (4-1)^2, (0-4)^2 = 4 + 0 + 9 + 16
    # (the 0 -> 3 launch jump and the pre-launch zeros are not counted); day 7 is after the origin
    scale = metrics.naive_squared_scale(y, np.array([2, 0]), origin=6)
    assert scale[0] == pytest.approx(29 / 4)
    assert scale[1] == 0.0  # constant: RMSSE undefined downstream
    # counted from day 0 instead the launch jump (3 - 0)^2 = 9 and a 0 join in: 38 / 6
    assert metrics.naive_squared_scale(y, np.array([0, 0]), origin=6)[0] == pytest.approx(38 / 6)
    # first sale on the origin (one day, no difference), after it, or never: NaN
    young = metrics.naive_squared_scale(y, np.array([6, 7]), origin=6)
    assert np.isnan(young).all()
    assert np.isnan(metrics.naive_squared_scale(y, np.array([-1, -1]), origin=6)).all()
    # two days since the first sale is enough: (1 - 3)^2
    assert metrics.naive_squared_scale(y, np.array([2, 0]), origin=3)[0] == pytest.approx(4.0)
    with pytest.raises(ValueError):
        metrics.naive_squared_scale(y, np.array([0, 0]), origin=8)


def test_rmsse_hand_worked():
    actual = np.array([[2, 0, 0, 4], [1, 1, 1, 1], [3, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
    forecast = np.ones((4, 4))
    scale = np.array([2.0, 0.5, 0.0, np.nan])
    # series 0: squared errors 1, 1, 1, 9 -> mean 3 / scale 2 -> sqrt(1.5); series 1: perfect
    out = metrics.rmsse(actual, forecast, scale, 4)
    assert out[0] == pytest.approx(math.sqrt(1.5))
    assert out[1] == 0.0
    assert np.isnan(out[2:]).all()  # zero or undefined scale
    np.testing.assert_array_equal(metrics.rmsse(actual.ravel(), forecast.ravel(), scale, 4), out)
    # a zero forecast is not free: series 0 scores sqrt((4 + 16) / 4 / 2)
    assert metrics.rmsse(actual, np.zeros((4, 4)), scale, 4)[0] == pytest.approx(math.sqrt(2.5))
    with pytest.raises(ValueError):
        metrics.rmsse(actual, forecast, scale[:3], 4)


def test_mean_rmsse_plain_and_weighted_over_finite_values():
    v = np.array([0.5, np.nan, 1.5, 3.0])
    assert metrics.mean_rmsse(v) == pytest.approx(5 / 3)
    # weights of finite values only: (0.5 * 3 + 1.5 * 1 + 3.0 * 0) / 4; the NaN's weight 100 is ignored
    assert metrics.mean_rmsse(v, np.array([3.0, 100.0, 1.0, 0.0])) == pytest.approx(0.75)
    assert math.isnan(metrics.mean_rmsse(np.array([np.nan, np.nan])))
    assert math.isnan(metrics.mean_rmsse(v, np.array([0.0, 1.0, 0.0, 0.0])))
    with pytest.raises(ValueError):
        metrics.mean_rmsse(v, np.array([1.0, 1.0, -1.0, 1.0]))
    with pytest.raises(ValueError):
        metrics.mean_rmsse(v, np.array([1.0, 1.0]))


def _utilsforecast_frames(Y, first, origin, actual, forecast):
    """The long frames utilsforecast.losses wants: horizon rows (y, model) and the
    training rows of each series from its first sale to the origin (sorted by time)."""
    import pandas as pd

    S, H = actual.shape
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(S), H),
            "ds": np.tile(np.arange(origin + 1, origin + 1 + H), S),
            "y": actual.ravel(),
            "model": forecast.ravel(),
        }
    )
    sid, day = np.nonzero((np.arange(origin + 1)[None, :] >= first[:, None]) & (first[:, None] >= 0))
    train = pd.DataFrame({"unique_id": sid, "ds": day, "y": Y[sid, day]})
    return df, train


def _intermittent_panel(seed: int):
    """A panel with late launches, a never-sold and a constant series, H not a multiple of 7."""
    rng = np.random.default_rng(seed)
    S, origin, H = 30, 69, 10
    T = origin + 1 + H
    Y = (rng.poisson(0.6, size=(S, T)) * rng.integers(1, 4, size=(S, T))).astype(float)
    first = rng.integers(0, origin - 20, size=S)
    first[:3] = [0, 40, origin - 9]  # full history, a late launch, 10 training days
    Y[np.arange(T)[None, :] < first[:, None]] = 0.0
    Y[np.arange(S), first] = np.maximum(Y[np.arange(S), first], 1.0)  # first is a sale
    Y[3] = 0.0
    first[3] = -1  # never sold
    Y[4, first[4] :] = 2.0  # constant since its first sale: zero scale
    actual = Y[:, origin + 1 :]
    forecast = rng.gamma(0.5, 1.5, size=actual.shape)
    return Y, first, origin, actual, forecast


def test_rmsse_matches_utilsforecast():
    from utilsforecast.losses import rmsse as uf_rmsse

    Y, first, origin, actual, forecast = _intermittent_panel(11)
    scale = metrics.naive_squared_scale(Y, first, origin)
    ours = metrics.rmsse(actual.ravel(), forecast.ravel(), scale, actual.shape[1])
    df, train = _utilsforecast_frames(Y, first, origin, actual, forecast)
    # seasonality 1 on a training frame that starts at the first sale is this module's scale
    theirs = uf_rmsse(df, ["model"], seasonality=1, train_df=train).set_index("unique_id")["model"]
    finite = np.isfinite(scale) & (scale > 0)
    assert finite.sum() == len(first) - 2  # all but the never-sold and the constant series
    np.testing.assert_allclose(ours[finite], theirs.reindex(np.flatnonzero(finite)).to_numpy(), rtol=1e-12)
    # where they differ: utilsforecast drops a series without training rows (never sold)
    # and divides by a zero scale (inf); this module says NaN for both
    assert 3 not in theirs.index and np.isnan(ours[3])
    assert not np.isfinite(theirs[4]) and np.isnan(ours[4])


def test_mase_matches_utilsforecast():
    from utilsforecast.losses import mase as uf_mase

    Y, first, origin, actual, forecast = _intermittent_panel(12)
    scale = seasonal_naive_scale(Y, first, origin)
    ours = np.array([metrics.mase(a, f, s) for a, f, s in zip(actual, forecast, scale)])
    df, train = _utilsforecast_frames(Y, first, origin, actual, forecast)
    # seasonality 7 on a training frame that starts at the first sale is the baselines' scale
    # (differences ending on days first + 7 .. origin)
    theirs = uf_mase(df, ["model"], seasonality=7, train_df=train).set_index("unique_id")["model"]
    finite = np.isfinite(scale) & (scale > 0)
    assert finite.sum() == len(first) - 2  # all but the never-sold and the constant series
    np.testing.assert_allclose(ours[finite], theirs.reindex(np.flatnonzero(finite)).to_numpy(), rtol=1e-12)
    assert not np.isfinite(theirs[4]) and np.isnan(ours[4])


def test_selling_weeks_counts_series_weeks_with_a_sale_including_a_partial_last_week():
    actual = np.array([
        [0, 0, 3, 0, 0, 0, 0, 0, 0, 0],  # week 1 only
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],  # the partial second week (days 8-10) only
        [0] * 10,
    ], dtype=float)
    assert metrics.selling_weeks(actual, 10) == 2
    assert metrics.selling_weeks(actual.ravel(), 10) == 2
    assert metrics.selling_weeks(np.ones((3, 10)), 10) == 6


def test_weekly_abs_errors_are_the_weekly_wape_numerator_per_series_and_week():
    actual = np.array([[1, 0, 0, 0, 0, 0, 0, 5], [2, 2, 0, 0, 0, 0, 0, 0]], dtype=float)
    forecast = np.full_like(actual, 0.5)
    errors = metrics.weekly_abs_errors(actual, forecast, 8)
    assert errors.tolist() == [[abs(1 - 3.5), abs(5 - 0.5)], [abs(4 - 3.5), 0.5]]
    assert errors.sum() / actual.sum() == pytest.approx(metrics.weekly_wape(actual, forecast, 8))


def test_the_ratio_interval_holds_1_when_the_weeks_disagree_and_not_when_they_agree():
    resamples = metrics.slot_resamples(40, 500, seed=0)
    assert resamples.shape == (500, 40) and metrics.slot_resamples(40, 500, seed=0).tolist() == resamples.tolist()
    better_every_week = metrics.weekly_ratio_interval(np.full(40, 1.0), np.full(40, 2.0), resamples, 0.9)
    assert better_every_week == (0.5, 0.5)
    # the same total ratio (0.95), but half the weeks much better and half much worse: chance can flip it
    mixed_mine, mixed_theirs = np.tile([1.0, 9.0], 20), np.tile([5.0, 5.0], 20)
    low, high = metrics.weekly_ratio_interval(mixed_mine * 0.95, mixed_theirs, resamples, 0.9)
    assert low < 1.0 < high
    assert metrics.weekly_ratio_interval(np.full(40, 3.0), np.full(40, 3.0), resamples, 0.9) == (1.0, 1.0)  # a tie
    assert metrics.weekly_ratio_interval(np.zeros(40), np.zeros(40), resamples, 0.9) == (1.0, 1.0)  # nothing to tell
    # the other exact in all weeks but one, absent from a third of the resamples: infinite ratios, kept, never NaN
    exact_mostly = np.where(np.arange(40) < 39, 0.0, 1.0)
    assert metrics.weekly_ratio_interval(np.full(40, 1.0), exact_mostly, resamples, 0.9)[1] == np.inf
    undefined = np.full(40, 1.0)
    undefined[3] = np.nan  # a baseline that failed on a series
    assert all(np.isnan(metrics.weekly_ratio_interval(np.full(40, 1.0), undefined, resamples, 0.9)))
    empty = metrics.weekly_ratio_interval(np.zeros(0), np.zeros(0), metrics.slot_resamples(0, 10, 0), 0.9)
    assert all(np.isnan(empty))
