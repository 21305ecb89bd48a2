"""The published p50 is the median of a Poisson count with the forecast's expected units."""
import numpy as np
import pytest
from scipy import stats

from crossdock.count_median import poisson_median, with_count_median


def test_the_median_is_scipys_poisson_median_for_every_mean():
    rng = np.random.default_rng(3)
    means = np.concatenate([
        rng.gamma(0.4, 2.5, 50_000),  # intermittent series: most means well under one a day
        np.linspace(0.0, 60.0, 120_001),  # every boundary of the first sixty medians, finely
        rng.uniform(60.0, 20_000.0, 5_000),  # a wholesale SKU's busy market
    ])
    expected = np.where(means > 0, stats.poisson.ppf(0.5, np.maximum(means, 1e-300)), 0.0)
    np.testing.assert_array_equal(poisson_median(means), expected)


@pytest.mark.parametrize("mean, median", [(0.0, 0.0), (0.5, 0.0), (0.69, 0.0), (0.7, 1.0), (1.0, 1.0), (1.67, 1.0), (1.68, 2.0),
                                          (1.7, 2.0), (2.0, 2.0), (10.0, 10.0), (10.7, 11.0)])
def test_a_whole_number_of_units_below_the_mean_on_slow_days(mean, median):
    assert poisson_median(np.array([mean]))[0] == median


def test_a_negative_mean_counts_as_none():
    assert poisson_median(np.array([-0.3]))[0] == 0.0


def test_the_band_is_widened_to_hold_the_median():
    p10, p50, p90 = with_count_median(np.array([0.0, 3.0, 1.0]), np.array([2.0, 2.0, 2.0]), np.array([1.5, 4.0, 5.0]))
    np.testing.assert_array_equal(p50, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(p10, [0.0, 2.0, 1.0])
    np.testing.assert_array_equal(p90, [2.0, 4.0, 5.0])
