"""Checks of the simulated reorder point (planning.lead_time_demand) against exact answers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gamma, poisson

from planning.lead_time_demand import simulated_reorder_point, undershoot_draws
from planning.simulation import generate_demand


def _lumpy_history(n_series: int = 3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([generate_demand("lumpy", 364, rng) for _ in range(n_series)]).astype(float)


def _assert_clear_of_cdf_steps(cdf_at_rop: float, cdf_below_rop: float, csl: float, n_draws: int) -> None:
    """The Monte Carlo quantile equals the exact one only if no CDF step sits within noise of the CSL

    (e.g. 0.95 is not used: Poisson(20) has P(LTD <= 27) = 0.947, too close).
    """
    se = np.sqrt(csl * (1 - csl) / n_draws)
    assert cdf_at_rop - csl > 5 * se and csl - cdf_below_rop > 5 * se, "pick another CSL: too close to a step"


# --- degenerate and exact cases ------------------------------------------------------


def test_zero_forecast_gives_zero_reorder_point_and_safety_stock() -> None:
    hist = _lumpy_history(2)
    rop, ss = simulated_reorder_point(hist, [0.0, 0.0], [14.0, 14.0], [4.0, 4.0], 0.95)
    np.testing.assert_array_equal(rop, [0.0, 0.0])
    np.testing.assert_array_equal(ss, [0.0, 0.0])


@pytest.mark.parametrize("review_period_days", [0.0, 7.0])
def test_constant_demand_and_fixed_lead_time_is_exact(review_period_days: float) -> None:
    # 3 units every day, L = 10 exactly: every protection interval sells 3 * (L + R).
    hist = np.full((2, 364), 3.0)
    rop, ss = simulated_reorder_point(
        hist, [3.0, 3.0], [10.0, 10.0], [0.0, 0.0], [0.5, 0.99],
        review_period_days=review_period_days, include_undershoot=False,
    )
    expected = 3.0 * (10.0 + review_period_days)
    np.testing.assert_array_equal(rop, [expected, expected])
    np.testing.assert_array_equal(ss, [0.0, 0.0])


def test_undershoot_of_constant_demand_is_a_uniform_fraction_of_a_day() -> None:
    # Constant 3/day: the crossing day is always 3, U = 3 V, so at CSL 0.9 the
    # reorder point is 3 L + 0.9 quantile of 3 V = 30 + 2.7 (Monte Carlo noise aside).
    hist = np.full((1, 364), 3.0)
    rop, ss = simulated_reorder_point(hist, [3.0], [10.0], [0.0], 0.9, n_draws=20_000)
    assert rop[0] == pytest.approx(32.7, abs=0.05)
    assert ss[0] == pytest.approx(2.7, abs=0.05)
    # periodic review ignores it: R + L already covers the crossing
    rop_r, _ = simulated_reorder_point(hist, [3.0], [10.0], [0.0], 0.9, review_period_days=7)
    assert rop_r[0] == 51.0


def test_undershoot_draws_follow_the_equilibrium_distribution() -> None:
    # Daily demand 0 or 4 (P = 1/2 each): X* is always 4 (zero days never trigger an order),
    # so U ~ Uniform(0, 4), mean 2 = E[X²] / (2 E[X]) = 8 / 4.
    daily = np.array([0.0, 4.0] * 50)
    u = undershoot_draws(daily, 50_000, np.random.default_rng(0))
    assert u.min() >= 0 and u.max() < 4
    assert u.mean() == pytest.approx(2.0, abs=0.03)
    # Sizes 1 and 9 on equal shares of days: size-biased, 9 is picked 90 % of the time.
    daily = np.array([1.0, 9.0, 0.0] * 40)
    u = undershoot_draws(daily, 50_000, np.random.default_rng(0))
    assert (u > 1).mean() == pytest.approx(0.9 * 8 / 9, abs=0.01)
    assert u.mean() == pytest.approx((1 + 81) / (2 * 10), abs=0.05)


@pytest.mark.parametrize("csl", [0.80, 0.90, 0.97, 0.99])
def test_all_zero_history_falls_back_to_exact_poisson_quantile(csl: float) -> None:
    # No shape to borrow: daily demand is Poisson(d̄), so LTD over a fixed L is Poisson(d̄ L).
    d_bar, L, n = 2.0, 10.0, 100_000
    rop, ss = simulated_reorder_point(
        np.zeros((1, 364)), [d_bar], [L], [0.0], csl, n_draws=n, include_undershoot=False
    )
    exact = poisson.ppf(csl, d_bar * L)
    _assert_clear_of_cdf_steps(poisson.cdf(exact, d_bar * L), poisson.cdf(exact - 1, d_bar * L), csl, n)
    assert rop[0] == exact
    assert ss[0] == exact - d_bar * L


@pytest.mark.parametrize("csl", [0.80, 0.90, 0.97, 0.99])
def test_bootstrap_of_poisson_history_matches_exact_poisson_quantile(csl: float) -> None:
    # A long Poisson history: the bootstrap is Poisson up to sampling noise, and with
    # d̄ = the history mean there is no rescaling, so the quantile is a whole number.
    rng = np.random.default_rng(3)
    hist = rng.poisson(2.0, size=(1, 50_000)).astype(float)
    d_bar, L, n = float(hist.mean()), 10.0, 100_000
    rop, _ = simulated_reorder_point(hist, [d_bar], [L], [0.0], csl, n_draws=n, include_undershoot=False)
    exact = poisson.ppf(csl, d_bar * L)
    _assert_clear_of_cdf_steps(poisson.cdf(exact, d_bar * L), poisson.cdf(exact - 1, d_bar * L), csl, n)
    assert rop[0] == exact


def test_gamma_lead_time_quantile_with_unit_daily_demand() -> None:
    # 1 unit/day: LTD = the rounded lead time, so the reorder point is a gamma
    # quantile (mean 14, std 4 -> shape 12.25, scale 16/14), rounded.
    hist = np.ones((1, 364))
    shape, scale = (14.0 / 4.0) ** 2, 4.0**2 / 14.0
    for csl in (0.5, 0.9, 0.95):
        rop, _ = simulated_reorder_point(
            hist, [1.0], [14.0], [4.0], csl, n_draws=100_000, include_undershoot=False
        )
        assert abs(rop[0] - gamma.ppf(csl, shape, scale=scale)) <= 0.5 + 1e-9
    # Gamma's right skew: the 95 % lead time sits above the normal's 14 + 1.645 * 4 = 20.6.
    assert rop[0] >= 21.0


# --- behaviour -----------------------------------------------------------------------


def test_reorder_point_is_monotone_in_service_level() -> None:
    hist = _lumpy_history(4)
    levels = np.array([0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995])
    rops = np.array(
        [simulated_reorder_point(hist, hist.mean(axis=1), np.full(4, 14.0), np.full(4, 4.0), q)[0] for q in levels]
    )
    assert np.all(np.diff(rops, axis=0) >= 0)
    assert np.all(rops[-1] > rops[0])


def test_per_series_service_levels() -> None:
    hist = np.repeat(_lumpy_history(1), 3, axis=0)
    d = np.full(3, 2.0)
    rop, _ = simulated_reorder_point(hist, d, np.full(3, 14.0), np.full(3, 4.0), [0.8, 0.9, 0.99])
    for i, q in enumerate([0.8, 0.9, 0.99]):
        alone, _ = simulated_reorder_point(hist[:1], d[:1], [14.0], [4.0], q)
        assert rop[i] == alone[0]


def test_forecast_sets_the_level_history_sets_the_shape() -> None:
    hist = _lumpy_history(1)
    base = float(hist.mean())
    args = dict(lead_time_days=[14.0], lead_time_std_days=[4.0], service_level=0.95)
    rop_1, ss_1 = simulated_reorder_point(hist, [base], **args)
    rop_2, ss_2 = simulated_reorder_point(hist, [2.0 * base], **args)
    # Same draws, every daily demand doubled: the quantile doubles, and so does SS = ROP - d̄ L.
    assert rop_2[0] == pytest.approx(2.0 * rop_1[0])
    assert ss_2[0] == pytest.approx(2.0 * ss_1[0])
    assert ss_1[0] == pytest.approx(rop_1[0] - base * 14.0)
    # The level comes from the forecast, not from how busy the history was.
    rop_h, _ = simulated_reorder_point(3.0 * hist, [base], **args)
    assert rop_h[0] == pytest.approx(rop_1[0])


def test_seed_determinism_and_independence_from_the_batch() -> None:
    hist = _lumpy_history(5)
    args = (hist, hist.mean(axis=1), np.full(5, 14.0), np.full(5, 4.0), 0.95)
    rop_a, ss_a = simulated_reorder_point(*args, seed=11)
    rop_b, ss_b = simulated_reorder_point(*args, seed=11)
    np.testing.assert_array_equal(rop_a, rop_b)
    np.testing.assert_array_equal(ss_a, ss_b)
    rop_c, _ = simulated_reorder_point(*args, seed=12)
    assert not np.array_equal(rop_a, rop_c)
    # A series' reorder point does not depend on its neighbours or its position.
    order = np.array([3, 0, 4, 1, 2])
    rop_p, _ = simulated_reorder_point(
        hist[order], hist.mean(axis=1)[order], np.full(5, 14.0), np.full(5, 4.0), 0.95, seed=11
    )
    np.testing.assert_array_equal(rop_p, rop_a[order])


def test_lumpy_quantile_exceeds_the_normal_approximation() -> None:
    # Lumpy demand, fixed lead time: the 98 % quantile of the skewed LTD sits well
    # above d̄ L + z σ_d sqrt(L), the normal formula's reorder point.
    rng = np.random.default_rng(5)
    hist = generate_demand("lumpy", 20_000, rng).astype(float)[None, :]
    d_bar, sd, L = float(hist.mean()), float(hist.std()), 14.0
    rop, _ = simulated_reorder_point(hist, [d_bar], [L], [0.0], 0.98, n_draws=50_000, include_undershoot=False)
    normal_rop = d_bar * L + 2.0537 * sd * np.sqrt(L)
    assert rop[0] > normal_rop + 5.0


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.2, -0.1, float("nan")])
def test_service_level_must_be_in_open_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="service_level"):
        simulated_reorder_point(np.ones((1, 10)), [1.0], [5.0], [1.0], bad)
    with pytest.raises(ValueError, match="service_level"):
        simulated_reorder_point(np.ones((2, 10)), [1.0, 1.0], [5.0, 5.0], [1.0, 1.0], [0.9, bad])


def test_rejects_malformed_inputs() -> None:
    with pytest.raises(ValueError, match="2-D"):
        simulated_reorder_point(np.ones(10), [1.0], [5.0], [1.0], 0.9)
    with pytest.raises(ValueError, match="demand_samples"):
        simulated_reorder_point(-np.ones((1, 10)), [1.0], [5.0], [1.0], 0.9)
    with pytest.raises(ValueError, match="lead_time_days"):
        simulated_reorder_point(np.ones((1, 10)), [1.0], [0.0], [1.0], 0.9)
    with pytest.raises(ValueError, match="lead_time_std_days"):
        simulated_reorder_point(np.ones((1, 10)), [1.0], [5.0], [-1.0], 0.9)
    with pytest.raises(ValueError, match="mean_daily_demand"):
        simulated_reorder_point(np.ones((1, 10)), [-1.0], [5.0], [1.0], 0.9)
    with pytest.raises(ValueError, match="demand_samples"):
        simulated_reorder_point(np.full((1, 10), np.inf), [1.0], [5.0], [1.0], 0.9)


def test_a_new_listing_bootstraps_from_the_days_since_its_first_sale() -> None:
    """A buyer's test: a SKU listed 30 days ago selling 2 a day, lead time 30 +- 7.5 days, CSL 0.95, had a safety
    stock of about 83 (the normal formula's is 25): its 334 days before the listing were bootstrapped as days it
    sold nothing, and the lumps rescaled to the forecast. NaN marks those days; they are left out (28)."""
    listed = np.r_[np.full(334, np.nan), np.full(30, 2.0)]
    as_zeros = np.nan_to_num(listed)
    (_, ss_listed), (_, ss_zeros), (_, ss_30) = (
        simulated_reorder_point(x[None, :], [2.0], [30.0], [7.5], 0.95) for x in (listed, as_zeros, listed[-30:])
    )
    normal = 1.645 * 2.0 * 7.5  # sigma_d = 0: the lead time's spread alone
    assert ss_listed[0] == ss_30[0]  # the same as its 30 days alone
    assert abs(ss_listed[0] - normal) < 0.25 * normal and ss_zeros[0] > 2.5 * normal
    [(_, ss_never)] = [simulated_reorder_point(np.full((1, 364), np.nan), [2.0], [30.0], [7.5], 0.95)]
    [(_, ss_poisson)] = [simulated_reorder_point(np.zeros((1, 364)), [2.0], [30.0], [7.5], 0.95)]
    assert ss_never[0] == ss_poisson[0]  # no day listed: Poisson at the forecast, as for a history of zeros
    days_old = np.r_[np.full(361, np.nan), [2.0, 2.0, 2.0]]  # three days of 2: no spread to bootstrap (a review)
    [(_, ss_young)] = [simulated_reorder_point(days_old[None, :], [2.0], [30.0], [7.5], 0.95)]
    assert ss_young[0] == ss_poisson[0]


def test_a_matrix_of_levels_reads_each_level_off_the_same_draws_as_one_call_per_level():
    rng = np.random.default_rng(3)
    hist = rng.poisson(0.4, size=(3, 120)).astype(float) * rng.integers(1, 6, size=(3, 120))
    hist[2] = 0.0  # no history: the Poisson branch
    d, levels = np.array([0.8, 1.5, 0.6]), [0.8, 0.95, 0.995]
    rop, ss = simulated_reorder_point(hist, d, np.full(3, 14.0), np.full(3, 4.0), np.tile(levels, (3, 1)))
    assert rop.shape == ss.shape == (3, 3)
    for j, level in enumerate(levels):
        one_rop, one_ss = simulated_reorder_point(hist, d, np.full(3, 14.0), np.full(3, 4.0), level)
        np.testing.assert_array_equal(rop[:, j], one_rop)
        np.testing.assert_array_equal(ss[:, j], one_ss)


def test_a_series_simulated_once_is_reused_with_the_same_numbers_and_changed_inputs_are_simulated_afresh():
    """The trade-off ladder and the scenarios ask again for series they already simulated: same draws, no rework."""
    import planning.lead_time_demand as ltd

    rng = np.random.default_rng(5)
    hist = rng.poisson(0.7, size=(3, 90)).astype(float)
    args = (hist, [1.0, 2.0, 0.5], np.full(3, 10.0), np.full(3, 3.0))
    ltd._SIMULATED.clear()
    first, _ = simulated_reorder_point(*args, 0.9)
    assert len(ltd._SIMULATED) == 3
    again, _ = simulated_reorder_point(*args, 0.97)  # another level of the same series: read off the kept draws
    assert len(ltd._SIMULATED) == 3
    ltd._SIMULATED.clear()
    np.testing.assert_array_equal(simulated_reorder_point(*args, 0.97)[0], again)  # what a fresh simulation gives
    np.testing.assert_array_equal(simulated_reorder_point(*args, 0.9)[0], first)
    simulated_reorder_point(hist, [1.0, 2.0, 0.6], np.full(3, 10.0), np.full(3, 3.0), 0.9)  # one mean changed
    assert len(ltd._SIMULATED) == 4
