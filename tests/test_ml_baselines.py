"""Simple baselines (seasonal naive, naive, mean of 28 days, zero) against statsforecast's own models on the dense panel."""
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from ml.baselines import naive, seasonal_naive, window_average, zero_forecast

T = 120
ORIGIN = 99  # days 100..119 exist and must not be read
H = 30
# rows of the panel: intermittent demand as the merchants have it
LAUNCH, NEVER, LONG_AGO, SMOOTH, INTERMITTENT, QUIET = range(6)


@lru_cache(maxsize=1)
def _panel() -> np.ndarray:
    rng = np.random.default_rng(16)
    Y = np.zeros((6, T))
    Y[LAUNCH, ORIGIN - 1] = 500.0  # launched the day before the origin with one big order
    Y[LONG_AGO, 5:20] = rng.poisson(3.0, 15)  # sold only long ago
    Y[SMOOTH] = rng.poisson(5.0, T)
    Y[INTERMITTENT] = (rng.random(T) < 0.2) * (1 + rng.poisson(2.0, T))
    Y[QUIET, : ORIGIN - 15] = rng.poisson(60.0, ORIGIN - 15)  # big seller, nothing in the 16 days to the origin
    Y[:, ORIGIN + 1 :] = 7.0  # after the origin: never read
    return Y


def _statsforecast(model, Y: np.ndarray, origin: int, horizon: int) -> np.ndarray:
    """statsforecast's model on the dense, zero-filled long frame of days 0 .. origin: [series, horizon]."""
    from statsforecast import StatsForecast

    S = Y.shape[0]
    df = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(S), origin + 1), "ds": np.tile(np.arange(origin + 1), S), "y": Y[:, : origin + 1].ravel()}
    )
    res = StatsForecast(models=[model], freq=1).forecast(df=df, h=horizon)
    assert (res["unique_id"].to_numpy()[::horizon] == np.arange(S)).all()
    return res[model.alias].to_numpy().reshape(S, horizon)


def test_seasonal_naive_is_statsforecasts():
    pytest.importorskip("statsforecast")
    from statsforecast.models import SeasonalNaive

    Y = _panel()
    np.testing.assert_allclose(seasonal_naive(Y, ORIGIN, H), _statsforecast(SeasonalNaive(season_length=7), Y, ORIGIN, H))


def test_naive_is_statsforecasts():
    pytest.importorskip("statsforecast")
    from statsforecast.models import Naive

    Y = _panel()
    for origin in (ORIGIN, ORIGIN - 1):  # the origin with no sale, then the day of the big order
        np.testing.assert_allclose(naive(Y, origin, H), _statsforecast(Naive(), Y, origin, H))


def test_window_average_is_statsforecasts():
    pytest.importorskip("statsforecast")
    from statsforecast.models import WindowAverage

    Y = _panel()
    np.testing.assert_allclose(window_average(Y, ORIGIN, H), _statsforecast(WindowAverage(window_size=28), Y, ORIGIN, H))
    np.testing.assert_allclose(window_average(Y, ORIGIN, H, window=7), _statsforecast(WindowAverage(window_size=7), Y, ORIGIN, H))


def test_values_on_the_intermittent_rows():
    """What the issue's series get: nothing repeated from outside the window each method reads."""
    Y = _panel()
    for f in (seasonal_naive(Y, ORIGIN, H), naive(Y, ORIGIN, H)):
        assert (f[[NEVER, LONG_AGO, QUIET]] == 0).all()
        assert f.shape == (6, H) and f.dtype == np.float64
    assert (seasonal_naive(Y, ORIGIN, H)[LAUNCH] == np.where(np.arange(H) % 7 == 5, 500.0, 0.0)).all()
    assert (naive(Y, ORIGIN, H)[LAUNCH] == 0).all()  # the origin itself sold nothing
    m = window_average(Y, ORIGIN, H)
    np.testing.assert_allclose(m[LAUNCH], 500.0 / 28)
    assert (m[[NEVER, LONG_AGO]] == 0).all()
    np.testing.assert_allclose(m[QUIET], Y[QUIET, ORIGIN - 27 : ORIGIN + 1].sum() / 28)  # 12 selling days of 28


def test_only_days_up_to_the_origin_are_read():
    Y = _panel()
    Y2 = Y.copy()
    Y2[:, ORIGIN + 1 :] = np.nan
    for fn in (seasonal_naive, naive, window_average):
        assert np.array_equal(fn(Y, ORIGIN, H), fn(Y2, ORIGIN, H))


def test_short_history():
    """Before the panel start: zeros for the seasonal naive, the mean of the days there are for the window average."""
    Y = np.array([[4.0, 0.0, 2.0, 9.0], [0.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(window_average(Y, 2, 3), [[2.0] * 3, [0.0] * 3])
    np.testing.assert_allclose(seasonal_naive(Y, 2, 8), [[0, 0, 0, 0, 4, 0, 2, 0], [0] * 8])
    np.testing.assert_allclose(naive(Y, 0, 2), [[4.0, 4.0], [0.0, 0.0]])


def test_zero_forecast():
    z = zero_forecast(3, 5)
    assert z.shape == (3, 5) and z.dtype == np.float64 and not z.any()


def test_rejects_an_origin_outside_the_history():
    Y = _panel()
    for fn in (seasonal_naive, naive, window_average):
        with pytest.raises(ValueError, match="origin"):
            fn(Y, T, H)
        with pytest.raises(ValueError, match="origin"):
            fn(Y, -1, H)
