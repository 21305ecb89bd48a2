"""bench/forecast_floor.py: the best forecast of the mean the demo generator allows, so a ratio target can be
checked against what the data permits before a model is blamed for missing it."""

import numpy as np
import pytest

from demo import demand as generator
from demo.catalogue import build_catalogue
from demo.clock import Timeline
from demo.generate import DEFAULT_END
from demo.rng import stream
from bench_modules import load_bench


@pytest.fixture(scope="module")
def floor():
    return load_bench("forecast_floor")


def test_the_momentum_expectation_is_the_generators_conditional_mean(floor):
    """Against the generator's own AR(1) paths: the error of the expectation averages zero at every horizon and
    is uncorrelated with the level it was conditioned on (a wrong persistence would leave it correlated)."""
    paths = generator._momentum(40_000, 1, 29, np.random.default_rng(3))[:, 0, :]
    level = np.log(paths[:, 0]) + 0.5 * generator.MOMENTUM_SD**2
    expected = floor.expected_momentum(level, 28)
    error = paths[:, 1:] - expected
    assert np.abs(error.mean(axis=0)).max() < 0.01
    slope = (error * (level - level.mean())[:, None]).mean(axis=0) / level.var()
    assert np.abs(slope).max() < 0.03
    assert np.abs(expected[:, 0] - paths[:, 0]).mean() < np.abs(expected[:, -1] - paths[:, 0]).mean()  # it fades


def test_the_floor_beats_seasonal_naive_and_knowing_the_momentum_helps(floor):
    timeline = Timeline(end=DEFAULT_END, days=400)
    catalogue = build_catalogue(0.1, stream(5, "catalogue"))
    demand = generator.simulate_demand(catalogue, timeline, 0.1, stream(5, "demand"))
    scores = floor.floor_scores(demand, 28, 3)
    assert set(scores) == {"structural mean", "+ momentum at origin", "seasonal naive", "mean of 28 days"}
    assert scores["+ momentum at origin"] < scores["structural mean"] < scores["mean of 28 days"] < scores["seasonal naive"]
    assert 0 < scores["+ momentum at origin"] < 1
