"""The inventory simulator, the demand-pattern generator, and the proof that the plan's
reorder points deliver their cycle service level per demand class.

The proof (`test_policy_achieves_target_service_level`) replays a year of
generated demand (after 364 days of history from the same process) and gamma
lead times (14 ± 4 days, one per order) against a daily-review (s, nQ) policy
with Q = 30 days of demand and the reorder point each class is planned with,
pools the replenishment cycles per class and checks the achieved CSL is within
2 points of the target. The level d̄ given to the reorder-point methods is the
process mean (a right forecast), so what is tested is the reorder-point maths;
the table's last column repeats the run with each series' 364-day mean as d̄.
Run with `pytest -s` to see the table.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.stats import binom, gamma, norm, poisson

from planning.lead_time_demand import simulated_reorder_point
from planning.safety_stock import reorder_point, safety_stock
from planning.service_classes import load_service_level_config
from planning.simulation import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    PATTERNS,
    SimulationResult,
    classify_demand,
    demand_pattern_stats,
    generate_demand,
    simulate_policy,
)

# --- generate_demand -----------------------------------------------------------------


@pytest.mark.parametrize("pattern", PATTERNS)
def test_generated_series_land_in_their_sbc_quadrant(pattern: str) -> None:
    rng = np.random.default_rng(2024)
    stats = np.array([demand_pattern_stats(generate_demand(pattern, 365, rng)) for _ in range(200)])
    adi, cv2 = stats[:, 0], stats[:, 1]
    frequent = pattern in ("smooth", "erratic")
    steady = pattern in ("smooth", "intermittent")
    assert np.all(adi < ADI_CUTOFF) if frequent else np.all(adi >= ADI_CUTOFF)
    assert np.all(cv2 < CV2_CUTOFF) if steady else np.all(cv2 >= CV2_CUTOFF)
    assert {classify_demand(generate_demand(pattern, 365, rng)) for _ in range(50)} == {pattern}


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("mean_daily", [2.0, 5.0])
def test_generated_demand_has_the_requested_mean(pattern: str, mean_daily: float) -> None:
    x = generate_demand(pattern, 200_000, np.random.default_rng(0), mean_daily=mean_daily)
    assert x.dtype == np.int64 and x.min() >= 0
    assert x.mean() == pytest.approx(mean_daily, rel=0.02)


def test_generate_demand_is_seeded_and_validated() -> None:
    a = generate_demand("lumpy", 100, np.random.default_rng(3))
    b = generate_demand("lumpy", 100, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="pattern"):
        generate_demand("seasonal", 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="mean_daily"):
        generate_demand("smooth", 10, np.random.default_rng(0), mean_daily=0.8)


def test_classify_demand_hand_examples() -> None:
    # sizes 2, 2, 3, 2: mean 2.25, population variance 0.1875, CV² = 0.1875 / 5.0625
    assert demand_pattern_stats([2, 2, 3, 2]) == pytest.approx((1.0, 0.0370370), abs=1e-6)
    assert demand_pattern_stats([0, 4, 0, 0, 4, 0]) == pytest.approx((3.0, 0.0))
    assert classify_demand([2, 2, 3, 2]) == "smooth"
    assert classify_demand([1, 9, 1, 12, 1]) == "erratic"
    assert classify_demand([0, 0, 3, 0, 0, 3, 0, 4]) == "intermittent"
    assert classify_demand([0, 0, 1, 0, 0, 15, 0, 2]) == "lumpy"


# --- simulate_policy: hand-worked ----------------------------------------------------


def test_constant_demand_never_stocks_out_when_rop_covers_the_lead_time() -> None:
    # 1 unit/day, L = 3, s = 3, Q = 10: start at 13, order when the position hits 3
    # (end of day 9), receive at the end of day 12 with exactly 0 left. Every 10 days.
    res = simulate_policy(np.ones(100), np.full(20, 3), reorder_point=3, order_quantity=10, warmup=0)
    assert res.orders == 10  # days 9, 19, ..., 99
    assert res.cycles == 9  # the order of day 99 is not received within the horizon
    assert res.stockout_cycles == 0
    assert res.cycle_service_level == 1.0
    assert res.fill_rate == 1.0
    # End-of-day on hand: days 0-9 fall 12 .. 3, then every 10 days 2, 1, 10 (receipt), 9 .. 3.
    expected = np.r_[np.arange(12, 2, -1), np.tile([2, 1, 10, 9, 8, 7, 6, 5, 4, 3], 9)]
    assert res.average_on_hand == pytest.approx(expected.mean())  # 5.7


def test_short_reorder_point_stocks_out_every_cycle_and_backorders() -> None:
    # s = 1 but 3 days of demand at 1/day during the lead time: the position at ordering
    # (1) leaves net inventory at -2 before each receipt; 2 units of each 10 wait.
    res = simulate_policy(np.ones(100), np.full(20, 3), reorder_point=1, order_quantity=10, warmup=0)
    assert res.cycles > 0 and res.stockout_cycles == res.cycles
    assert res.cycle_service_level == 0.0
    assert res.fill_rate == pytest.approx(0.8, abs=0.03)


def test_lump_below_reorder_point_orders_several_quantities() -> None:
    demand = np.zeros(30)
    demand[5] = 25  # position 15 -> -10: two Q of 10 leave it at 10 > s = 5
    res = simulate_policy(demand, np.full(5, 2), reorder_point=5, order_quantity=10, warmup=0)
    assert res.orders == 1
    assert res.cycles == 1 and res.stockout_cycles == 1  # net -10 on the receipt day
    assert res.fill_rate == pytest.approx(15 / 25)


def test_periodic_review_orders_only_on_review_days() -> None:
    # 1 unit/day from 18 on hand, s = 8, Q = 10, L = 2, 30 days.
    # Daily review: the position hits 8 on day 10, 20 and 28 -> 3 orders.
    # Weekly review (days 0, 7, 14, 21, 28): positions 17, 10, 3, 6, 9 -> orders on
    # days 14 and 21 only, although the position fell to 8 on day 10.
    daily = simulate_policy(np.ones(30), np.full(10, 2), 8, 10, review_period_days=1, warmup=0)
    weekly = simulate_policy(np.ones(30), np.full(10, 2), 8, 10, review_period_days=7, warmup=0)
    assert (daily.orders, weekly.orders) == (3, 2)
    assert daily.stockout_cycles == weekly.stockout_cycles == 0
    with pytest.raises(ValueError, match="review_period_days"):
        simulate_policy(np.ones(10), np.full(5, 2), 8, 10, review_period_days=0)


def test_warmup_discards_early_cycles() -> None:
    all_cycles = simulate_policy(np.ones(100), np.full(20, 3), 3, 10, warmup=0)
    late = simulate_policy(np.ones(100), np.full(20, 3), 3, 10, warmup=60)
    assert late.orders == 4  # days 69, 79, 89, 99
    assert late.cycles == 3 < all_cycles.cycles


def test_simulate_policy_validates_inputs() -> None:
    with pytest.raises(ValueError, match="more orders"):
        simulate_policy(np.ones(100), np.full(2, 3), 3, 10)
    with pytest.raises(ValueError, match="lead_times"):
        simulate_policy(np.ones(10), [0, 2], 3, 10)
    with pytest.raises(ValueError, match="order_quantity"):
        simulate_policy(np.ones(10), [2], 3, 0)
    with pytest.raises(ValueError, match="demand"):
        simulate_policy(-np.ones(10), [2], 3, 10)


# --- simulate_policy: sanity against exact CSL ------------------------------------------


def _rounded_gamma_pmf(mean: float, std: float, max_days: int) -> np.ndarray:
    """P(L = l) for l = 0..max_days when L = max(round(Gamma(mean, std)), 1)."""
    shape, scale = (mean / std) ** 2, std**2 / mean
    edges = np.r_[0.0, np.arange(1.5, max_days + 0.5, 1.0), np.inf]
    pmf = np.zeros(max_days + 1)
    pmf[1:] = np.diff(gamma.cdf(edges, shape, scale=scale))
    return pmf


def _pooled(
    results: list[SimulationResult], demands: list[np.ndarray], warmup: int = 60
) -> tuple[float, int, float]:
    """(CSL, cycles, fill rate) over all series: cycles pooled, fill rate weighted by demand."""
    cycles = sum(r.cycles for r in results)
    stockouts = sum(r.stockout_cycles for r in results)
    weights = np.array([d[warmup:].sum() for d in demands], dtype=float)
    fill = float(np.average([r.fill_rate for r in results], weights=weights))
    return 1.0 - stockouts / cycles, cycles, fill


def test_simulated_csl_matches_exact_quantile_for_unit_demand() -> None:
    # Demand 0 or 1 unit a day (p = 0.5) never jumps over s, so the position at ordering is
    # exactly s and CSL = P(LTD <= s) with LTD | L ~ Binomial(L, 0.5), L = rounded gamma
    # (mean 10, std 3). s is the exact quantile and the target is set to P(LTD <= s), so
    # "matches the target" is exact, not up to a discrete step. Q = 40 (80 days of
    # demand) keeps one order outstanding at a time.
    p, mean_lt, std_lt = 0.5, 10.0, 3.0
    pmf = _rounded_gamma_pmf(mean_lt, std_lt, 60)
    ltd_cdf = lambda s: float(sum(pmf[l] * binom.cdf(s, l, p) for l in range(1, pmf.size)))  # noqa: E731
    s = next(k for k in range(60) if ltd_cdf(k) >= 0.95)
    target = ltd_cdf(s)  # 0.96...
    assert ltd_cdf(s - 1) < 0.95 <= target

    rng = np.random.default_rng(17)
    days, demands, results = 3650, [], []
    for _ in range(100):
        d = (rng.random(days) < p).astype(float)
        lts = np.maximum(np.rint(rng.gamma((mean_lt / std_lt) ** 2, std_lt**2 / mean_lt, size=days)), 1)
        demands.append(d)
        results.append(simulate_policy(d, lts, s, 40))
    csl, cycles, _ = _pooled(results, demands)
    se = np.sqrt(target * (1 - target) / cycles)
    assert cycles > 4000
    assert abs(csl - target) < 3 * se, (csl, target, cycles)


def test_undershoot_lowers_csl_below_the_ltd_quantile_for_batch_demand() -> None:
    # Poisson(2) a day, fixed L = 10: the day that crosses s often jumps past it, so the
    # position at ordering is s - U and CSL = P(U + LTD <= s) with U's pmf P(X > u) / E[X]
    # (exact for whole units). s = the 0.92 quantile of LTD alone, Poisson(20).
    lam, L = 2.0, 10
    s = poisson.ppf(0.92, lam * L)
    u = np.arange(0, 40)
    pmf_u = poisson.sf(u, lam) / lam
    exact = float(sum(pmf_u[j] * poisson.cdf(s - j, lam * L) for j in range(int(s) + 1)))
    promised = float(poisson.cdf(s, lam * L))

    rng = np.random.default_rng(23)
    demands = [rng.poisson(lam, 3000).astype(float) for _ in range(100)]
    results = [simulate_policy(d, np.full(3000, L), s, 60) for d in demands]
    csl, cycles, _ = _pooled(results, demands)
    se = np.sqrt(exact * (1 - exact) / cycles)
    assert abs(csl - exact) < 3 * se, (csl, exact, cycles)
    assert promised - csl > 0.03  # what ignoring the undershoot would cost: ~4 points


# --- the proof: achieved vs target CSL per demand class ---------------------------------

SERIES_PER_CLASS = 600
HISTORY_DAYS = 364
YEAR_DAYS = 365
MEAN_DAILY = 2.0  # the generator's mean: the "forecast" d̄ the plan is given
LEAD_TIME_DAYS, LEAD_TIME_STD_DAYS = 14.0, 4.0
COVER_DAYS_PER_ORDER = 30.0  # Q: one order outstanding at a time, mostly
TOLERANCE = 0.02

# How the plan sets the reorder point per class: the method its config names.
SERVICE_CONFIG = load_service_level_config()
PLAN_METHOD = {p: SERVICE_CONFIG.methods[p] for p in ("smooth", "erratic", "intermittent", "lumpy")}


@dataclass(frozen=True)
class ClassData:
    history: np.ndarray  # [series, 364] units/day
    year: np.ndarray  # [series, 365] units/day
    lead_times: np.ndarray  # [series, 365] whole days, one per order in sequence


@functools.cache
def _class_data(pattern: str) -> ClassData:
    rng = np.random.default_rng([20240, PATTERNS.index(pattern)])
    n = SERIES_PER_CLASS
    history = np.stack([generate_demand(pattern, HISTORY_DAYS, rng) for _ in range(n)]).astype(float)
    year = np.stack([generate_demand(pattern, YEAR_DAYS, rng) for _ in range(n)]).astype(float)
    shape = (LEAD_TIME_DAYS / LEAD_TIME_STD_DAYS) ** 2
    scale = LEAD_TIME_STD_DAYS**2 / LEAD_TIME_DAYS
    lead_times = np.maximum(np.rint(rng.gamma(shape, scale, size=(n, YEAR_DAYS))), 1).astype(np.int64)
    return ClassData(history, year, lead_times)


@functools.cache
def _achieved(pattern: str, target: float, method: str, level: str = "forecast") -> tuple[float, int, float]:
    """(achieved CSL, cycles, fill rate) of a class when its reorder points come from `method`.

    level='forecast' plans with the true mean (a right forecast: what is tested is
    the reorder-point maths); level='history' with each series' 364-day mean
    (the forecast error of a naive level is then in the result too).
    """
    data = _class_data(pattern)
    n = SERIES_PER_CLASS
    d_bar = np.full(n, MEAN_DAILY) if level == "forecast" else data.history.mean(axis=1)
    L, sL = np.full(n, LEAD_TIME_DAYS), np.full(n, LEAD_TIME_STD_DAYS)
    if method == "normal":
        sd = data.history.std(axis=1, ddof=1)
        rop = reorder_point(d_bar, L, safety_stock(norm.ppf(target), L, sd, d_bar, sL))
    elif method in ("simulated", "simulated_no_undershoot"):
        rop, _ = simulated_reorder_point(
            data.history, d_bar, L, sL, target, include_undershoot=(method == "simulated")
        )
    else:
        raise ValueError(method)
    q = np.maximum(np.rint(COVER_DAYS_PER_ORDER * d_bar), 1.0)
    results = [simulate_policy(data.year[i], data.lead_times[i], rop[i], q[i]) for i in range(n)]
    return _pooled(results, list(data.year))


# (pattern, target, method). The normal formula on smooth and erratic demand misses by
# more than 2 points here (0.923 and 0.910 at 0.95; over 12 other seeds of 300 series
# 0.925 ± 0.003 and 0.914 ± 0.004). Not the normality: rounding its reorder point up to
# a whole unit and adding the undershoot each recover about half of the gap (the policy
# orders at whole-unit positions <= s, i.e. at floor(s), and the position at ordering
# sits below s). Kept as strict xfails so the shortfall stays visible; the simulated
# method is proved on those classes too.
_NORMAL_MISSES = (
    "normal formula misses by > 2 points on this plan's policy: a fractional ROP acts as "
    "floor(ROP) on whole-unit positions, and it ignores the undershoot of s"
)
PROOF_CASES = [
    pytest.param("smooth", 0.95, "normal", marks=pytest.mark.xfail(strict=True, reason=_NORMAL_MISSES)),
    pytest.param("erratic", 0.95, "normal", marks=pytest.mark.xfail(strict=True, reason=_NORMAL_MISSES)),
    ("smooth", 0.95, "simulated"),
    ("erratic", 0.95, "simulated"),
    ("intermittent", 0.90, "simulated"),
    ("intermittent", 0.95, "simulated"),
    ("intermittent", 0.98, "simulated"),
    ("lumpy", 0.90, "simulated"),
    ("lumpy", 0.95, "simulated"),
    ("lumpy", 0.98, "simulated"),
]


def _case_values(case: object) -> tuple[str, float, str]:
    return tuple(case.values) if hasattr(case, "values") else case  # type: ignore[return-value]


@pytest.mark.parametrize(("pattern", "target", "method"), PROOF_CASES)
def test_policy_achieves_target_service_level(pattern: str, target: float, method: str) -> None:
    achieved, cycles, _ = _achieved(pattern, target, method)
    assert cycles > 2000
    assert abs(achieved - target) <= TOLERANCE, f"{pattern} {method}: achieved {achieved:.4f} vs target {target}"


def test_normal_formula_fails_on_lumpy_demand() -> None:
    # Why the simulated method exists: same data, same target, the normal formula's
    # reorder point leaves lumpy items well short.
    achieved, _, _ = _achieved("lumpy", 0.95, "normal")
    assert 0.95 - achieved > TOLERANCE, achieved
    assert _achieved("lumpy", 0.95, "simulated")[0] - achieved > 0.05


def test_leaving_out_the_undershoot_fails_on_lumpy_demand() -> None:
    # Why include_undershoot is on: the plain LTD quantile assumes the order goes out at
    # exactly s, but a lump usually carries the position well below it.
    achieved, _, _ = _achieved("lumpy", 0.95, "simulated_no_undershoot")
    assert 0.95 - achieved > TOLERANCE, achieved


@pytest.mark.slow  # reruns every proof case and the naive level to print the table: a report more than a test
def test_print_service_level_table() -> None:
    rows = []
    for case in PROOF_CASES + [("lumpy", 0.95, "normal"), ("lumpy", 0.95, "simulated_no_undershoot")]:
        pattern, target, method = _case_values(case)
        achieved, cycles, fill = _achieved(pattern, target, method)
        naive, _, _ = _achieved(pattern, target, method, level="history")
        rows.append((pattern, target, method, achieved, achieved - target, cycles, fill, naive))
    header = (
        f"{'pattern':<13}{'target':>7}  {'method':<24}{'achieved':>9}{'diff':>8}"
        f"{'cycles':>8}{'fill':>7}{'d̄=hist':>9}"
    )
    print("\n" + header)
    print("-" * len(header))
    for pattern, target, method, achieved, diff, cycles, fill, naive in rows:
        print(
            f"{pattern:<13}{target:>7.2f}  {method:<24}{achieved:>9.4f}{diff:>+8.4f}"
            f"{cycles:>8d}{fill:>7.3f}{naive:>9.4f}"
        )
    assert all(c > 0 for *_, c, _, _ in rows)


@pytest.mark.parametrize("cell", sorted(SERVICE_CONFIG.targets), ids=lambda c: f"{c[0]}-{c[1]}")
def test_every_class_of_the_default_config_meets_its_target(cell: tuple[str, str]) -> None:
    """The issue's proof: each ABC x pattern class, with the plan's configured method, within 2 points."""
    abc, pattern = cell
    target = SERVICE_CONFIG.target(abc, pattern)
    achieved, cycles, _ = _achieved(pattern, target, PLAN_METHOD[pattern])
    assert cycles > 2000
    assert abs(achieved - target) <= TOLERANCE, f"{abc}/{pattern} {PLAN_METHOD[pattern]}: {achieved:.4f} vs {target}"
