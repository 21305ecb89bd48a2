"""statsforecast baselines: shapes, ordering, no look-ahead, the dense window against statsforecast's own models, Croston and AutoETS behaviour."""
import os
import signal
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("statsforecast")

from ml.stat_baselines import STAT_BASELINES, BaselineForecast, BaselinesAhead, statsforecast_baselines  # noqa: E402

H = 21
T = 400
ORIGIN = 369  # days 370..390 are forecast; 370..399 exist and must not be read
PROFILE = np.array([0.6, 0.7, 0.8, 1.0, 1.3, 1.9, 0.7])  # weekly shape, day index d has weekday d % 7
Z80 = 1.2815515655446004

# rows of the mixed panel
SEASONAL, INTERMITTENT, SMOOTH, SHORT, ONE_SALE, ZERO_WINDOW, NEVER, AFTER_ORIGIN, LAUNCH, QUIET = range(10)
N_ROWS = 10
SHORT_VALUES = np.array([2.0, 0.0, 1.0, 3.0, 0.0])


def _first(Y: np.ndarray) -> np.ndarray:
    sold = Y > 0
    return np.where(sold.any(axis=1), sold.argmax(axis=1), -1).astype(np.int64)


@lru_cache(maxsize=1)
def _panel() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    d = np.arange(T)
    Y = np.zeros((N_ROWS, T))
    Y[SEASONAL] = rng.poisson(12.0 * PROFILE[d % 7])
    Y[INTERMITTENT] = (rng.random(T) < 0.25) * (1 + rng.poisson(2.0, T))
    Y[SMOOTH] = rng.poisson(5.0, T)
    Y[SHORT, ORIGIN - 4 : ORIGIN + 1] = SHORT_VALUES  # launched 5 days before the origin
    Y[SHORT, ORIGIN + 1 :] = 4.0
    Y[ONE_SALE, ORIGIN - 30] = 6.0  # one sale, 30 days before the origin
    Y[ZERO_WINDOW, 3] = 5.0  # sold once, long before the fit window
    Y[AFTER_ORIGIN, ORIGIN + 2 :] = 3.0  # launches after the origin
    Y[LAUNCH, ORIGIN - 1] = 12096.0  # issue 16: launched the day before the origin with one large order
    Y[LAUNCH, ORIGIN + 1 :] = 0.0
    Y[QUIET, : ORIGIN - 15] = rng.poisson(60.0, ORIGIN - 15)  # a big seller with nothing in the 16 days to the origin
    return Y, _first(Y)


@lru_cache(maxsize=1)
def _mixed() -> dict[str, BaselineForecast]:
    Y, first = _panel()
    return statsforecast_baselines(Y, first, ORIGIN, H, fit_days=364)


def test_shapes_non_negative_and_ordered():
    res = _mixed()
    assert tuple(res) == STAT_BASELINES
    for name, f in res.items():
        assert f.p50.shape == (N_ROWS, H)
        assert np.isfinite(f.p50).all() and (f.p50 >= 0).all()
        assert f.seconds >= 0
    ets, cro = res["auto_ets"], res["croston_optimized"]
    assert ets.p10.shape == ets.p90.shape == (N_ROWS, H)
    assert np.isfinite(ets.p10).all() and np.isfinite(ets.p90).all()
    assert (ets.p10 >= 0).all() and (ets.p10 <= ets.p50).all() and (ets.p50 <= ets.p90).all()
    assert cro.p10 is None and cro.p90 is None


def test_no_read_after_origin():
    Y, first = _panel()
    Y2 = Y.copy()
    Y2[:, ORIGIN + 1 :] = np.nan  # any read after the origin would leak NaN into the output
    res2 = statsforecast_baselines(Y2, first, ORIGIN, H, fit_days=364)
    for name, f in _mixed().items():
        g = res2[name]
        assert np.array_equal(f.p50, g.p50)
        if f.p10 is not None:
            assert np.array_equal(f.p10, g.p10) and np.array_equal(f.p90, g.p90)


def test_reads_only_the_last_fit_days():
    Y, first = _panel()
    rows = [SEASONAL, INTERMITTENT]
    Ys, fs = Y[rows], first[rows]
    fit_days = 140
    Y2 = Ys.copy()
    Y2[:, : ORIGIN - fit_days + 1] = 1e6  # before the window: ignored
    a = statsforecast_baselines(Ys, fs, ORIGIN, H, fit_days=fit_days)
    b = statsforecast_baselines(Y2, fs, ORIGIN, H, fit_days=fit_days)
    for name in STAT_BASELINES:
        assert np.array_equal(a[name].p50, b[name].p50)
    assert np.array_equal(a["auto_ets"].p90, b["auto_ets"].p90)


def _statsforecast(model, Y: np.ndarray, origin: int, fit_days: int, level: list[int] | None = None) -> pd.DataFrame:
    """statsforecast's model run directly on the dense, zero-filled long frame of days origin - fit_days + 1 .. origin."""
    from statsforecast import StatsForecast
    from statsforecast.models import HistoricAverage

    start = max(0, origin - fit_days + 1)
    S, n = Y.shape[0], origin - start + 1
    df = pd.DataFrame(
        {"unique_id": np.repeat(np.arange(S), n), "ds": np.tile(np.arange(start, origin + 1), S), "y": Y[:, start : origin + 1].ravel()}
    )
    res = StatsForecast(models=[model], freq=1, fallback_model=HistoricAverage()).forecast(df=df, h=H, level=level)
    assert (res["unique_id"].to_numpy()[::H] == np.arange(S)).all()
    return res


def _ours_from(res: pd.DataFrame, column: str) -> np.ndarray:
    return res[column].to_numpy().reshape(-1, H)


def test_auto_ets_is_statsforecasts_on_the_dense_window():
    """Every row, zeros before a launch included, against AutoETS(7, "ZNZ") and its 80% band on the same days."""
    from statsforecast.models import AutoETS

    Y, _ = _panel()
    exp = _statsforecast(AutoETS(season_length=7, model="ZNZ"), Y, ORIGIN, 364, level=[80])
    mean = np.maximum(_ours_from(exp, "AutoETS"), 0.0)
    got = _mixed()["auto_ets"]
    np.testing.assert_allclose(got.p50, mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.p10, np.clip(_ours_from(exp, "AutoETS-lo-80"), 0.0, mean), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.p90, np.maximum(_ours_from(exp, "AutoETS-hi-80"), mean), rtol=1e-9, atol=1e-9)


def test_croston_is_statsforecasts_on_the_dense_window():
    from statsforecast.models import CrostonOptimized

    Y, _ = _panel()
    exp = _statsforecast(CrostonOptimized(), Y, ORIGIN, 364)
    np.testing.assert_allclose(_mixed()["croston_optimized"].p50, _ours_from(exp, "CrostonOptimized"), rtol=1e-9, atol=1e-9)


def test_one_large_order_the_day_before_the_origin_is_not_repeated():
    """Issue 16: fitted from its first sale, the series' one-day window repeated the 12,096-unit order on every day."""
    Y, _ = _panel()
    order = Y[LAUNCH, ORIGIN - 1]
    for fit_days in (364, 112):
        res = statsforecast_baselines(Y[[LAUNCH]], _first(Y[[LAUNCH]]), ORIGIN, H, fit_days=fit_days)
        ets, cro = res["auto_ets"].p50[0], res["croston_optimized"].p50[0]
        # Croston: one demand of `order` after an interval of fit_days - 1 zero days, so about order / fit_days a day
        assert cro.max() < 0.02 * order
        # AutoETS picks up part of the jump as a new level; far from the order on every day
        assert ets.max() < 0.5 * order and ets.sum() < 0.5 * order * H
    # and the values are statsforecast's own on those 112 dense days
    from statsforecast.models import AutoETS, CrostonOptimized

    exp_ets = _statsforecast(AutoETS(season_length=7, model="ZNZ"), Y[[LAUNCH]], ORIGIN, 112, level=[80])
    exp_cro = _statsforecast(CrostonOptimized(), Y[[LAUNCH]], ORIGIN, 112)
    np.testing.assert_allclose(res["auto_ets"].p50[0], np.maximum(exp_ets["AutoETS"].to_numpy(), 0.0))
    np.testing.assert_allclose(res["croston_optimized"].p50[0], exp_cro["CrostonOptimized"].to_numpy())


def test_no_sale_in_the_window_gives_zero():
    res = _mixed()
    for f in res.values():
        for row in (ZERO_WINDOW, NEVER, AFTER_ORIGIN):
            assert (f.p50[row] == 0).all()
    ets = res["auto_ets"]
    for row in (ZERO_WINDOW, NEVER, AFTER_ORIGIN):
        assert (ets.p10[row] == 0).all() and (ets.p90[row] == 0).all()
    # a series that sold earlier in the window but not in the last 16 days still gets a forecast
    assert (res["croston_optimized"].p50[QUIET] > 0).all()


def test_window_too_short_for_auto_ets_gets_statsforecasts_fallback():
    """Origin 1 of the panel: two days, AutoETS raises, statsforecast's HistoricAverage (the mean method) answers."""
    from statsforecast.models import AutoETS

    Y = np.array([[0.0, 5.0, 9.0], [3.0, 3.0, 9.0], [0.0, 0.0, 9.0]])
    got = statsforecast_baselines(Y, _first(Y), 1, H, models=("auto_ets",))["auto_ets"]
    exp = _statsforecast(AutoETS(season_length=7, model="ZNZ"), Y, 1, 112, level=[80])
    mean = np.maximum(_ours_from(exp, "AutoETS"), 0.0)
    np.testing.assert_allclose(got.p50, mean)
    np.testing.assert_allclose(got.p10, np.clip(_ours_from(exp, "AutoETS-lo-80"), 0.0, mean))
    np.testing.assert_allclose(got.p90, np.maximum(_ours_from(exp, "AutoETS-hi-80"), mean))
    np.testing.assert_allclose(got.p50[0], 2.5)  # the mean of the two dense days
    np.testing.assert_allclose(got.p90[0], 2.5 + Z80 * np.std([0.0, 5.0], ddof=1) * np.sqrt(1.5))


def test_croston_is_flat_and_near_the_demand_rate():
    rng = np.random.default_rng(3)
    S, p, size_mean = 40, 0.2, 3.0  # a sale on 20% of days, 1 + Poisson(2) units: 0.6 units/day
    Y = (rng.random((S, T)) < p) * (1 + rng.poisson(size_mean - 1, (S, T))).astype(np.float64)
    res = statsforecast_baselines(Y, _first(Y), ORIGIN, H, models=("croston_optimized",))
    assert tuple(res) == ("croston_optimized",)
    f = res["croston_optimized"].p50
    assert (np.ptp(f, axis=1) == 0).all()
    ratio = f[:, 0] / (p * size_mean)
    # Croston's size / interval ratio is biased up by ~10% (what the SBA variant corrects), and a
    # smoothing constant >= 0.1 makes each series' level noisy, so: right on average, loose per series
    assert 0.9 < ratio.mean() < 1.25
    assert 0.5 < np.percentile(ratio, 5) and np.percentile(ratio, 95) < 2.0


def test_auto_ets_follows_the_weekly_pattern():
    f = _mixed()["auto_ets"].p50[SEASONAL]
    truth = 12.0 * PROFILE[(ORIGIN + np.arange(1, H + 1)) % 7]
    assert np.corrcoef(f, truth)[0, 1] > 0.9
    assert abs(f.mean() / truth.mean() - 1) < 0.15


def test_auto_ets_interval_brackets_the_point():
    ets = _mixed()["auto_ets"]
    for row in (SEASONAL, SMOOTH, INTERMITTENT):
        assert (ets.p10[row] < ets.p50[row]).all() and (ets.p50[row] < ets.p90[row]).all()
    # smooth Poisson(5): an 80% band about as wide as 5 +/- 1.28 * sqrt(5)
    width = (ets.p90[SMOOTH] - ets.p10[SMOOTH]).mean()
    assert 0.6 * 2 * Z80 * np.sqrt(5) < width < 1.6 * 2 * Z80 * np.sqrt(5)


def test_deterministic_and_independent_of_n_jobs():
    Y, first = _panel()
    rows = [SEASONAL, INTERMITTENT, SMOOTH, SHORT]
    a = statsforecast_baselines(Y[rows], first[rows], ORIGIN, H, fit_days=120, n_jobs=1)
    b = statsforecast_baselines(Y[rows], first[rows], ORIGIN, H, fit_days=120, n_jobs=2)
    for name in STAT_BASELINES:
        assert np.array_equal(a[name].p50, b[name].p50)
    assert np.array_equal(a["auto_ets"].p10, b["auto_ets"].p10)
    # rows come back in Y order whatever subset is passed
    c = statsforecast_baselines(Y[[SHORT]], first[[SHORT]], ORIGIN, H, fit_days=120)
    for name in STAT_BASELINES:
        assert np.array_equal(a[name].p50[3], c[name].p50[0])


def test_fitted_ahead_in_a_background_process_is_what_fitting_the_rows_asked_for_gives():
    """Every series with a sale in the window is fitted ahead; a window then hands back the rows it asks for."""
    Y, first = _panel()
    rows = np.array([QUIET, SEASONAL, LAUNCH, SHORT, ZERO_WINDOW])  # any order, a subset
    origins = [ORIGIN - 60, ORIGIN]
    with BaselinesAhead(Y, origins, H, fit_days=112) as ahead:
        fitted = {origin: ahead.fitted(origin, rows) for origin in origins}
    for origin in origins:
        alone = statsforecast_baselines(Y[rows], first[rows], origin, H, fit_days=112)
        assert tuple(fitted[origin]) == tuple(alone) == STAT_BASELINES
        for name, f in alone.items():
            for band in ("p10", "p50", "p90"):
                if getattr(f, band) is None:
                    assert getattr(fitted[origin][name], band) is None
                else:
                    np.testing.assert_array_equal(getattr(fitted[origin][name], band), getattr(f, band))


def _killed(*_args, **_kwargs):
    """A fit whose process dies as an out-of-memory kill ends it: no exception, no result."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_background_process_that_dies_is_named_with_its_likely_cause(monkeypatch):
    import ml.stat_baselines

    Y, _first = _panel()
    monkeypatch.setattr(ml.stat_baselines, "fit_window", _killed)  # the forked child runs the patched function
    with BaselinesAhead(Y, [ORIGIN], H, fit_days=112) as ahead:
        with pytest.raises(RuntimeError, match=f"baselines .* died before it fitted the window ending on day {ORIGIN}.*memory"):
            ahead.fitted(ORIGIN, np.array([QUIET]))


def test_rejects_bad_arguments():
    Y, first = _panel()
    with pytest.raises(ValueError, match="unknown baselines"):
        statsforecast_baselines(Y, first, ORIGIN, H, models=("arima",))
    with pytest.raises(ValueError, match="origin"):
        statsforecast_baselines(Y, first, T, H)


def test_auto_ets_is_statsforecasts_autoets_without_a_trend():
    """The yardstick is statsforecast's own AutoETS(7, "ZNZ") on the series' fit window, not a look-alike."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    d = np.arange(T)
    Y = np.random.default_rng(5).poisson((2.0 + 0.1 * d) * PROFILE[d % 7])[None, :].astype(float)  # a trend it must ignore
    first = _first(Y)
    fit_days = 112
    window = Y[0, ORIGIN - fit_days + 1 : ORIGIN + 1]
    df = pd.DataFrame({"unique_id": 0, "ds": np.arange(ORIGIN - fit_days + 1, ORIGIN + 1), "y": window})
    expected = StatsForecast(models=[AutoETS(season_length=7, model="ZNZ")], freq=1).forecast(df=df, h=H, level=[80])
    ours = statsforecast_baselines(Y, first, ORIGIN, H, fit_days=fit_days, models=("auto_ets",))
    got = ours["auto_ets"]
    np.testing.assert_allclose(got.p50[0], np.maximum(expected["AutoETS"].to_numpy(), 0.0))
    np.testing.assert_allclose(got.p90[0], expected["AutoETS-hi-80"].to_numpy())
