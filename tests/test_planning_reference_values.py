"""Planning formulas checked against stockpyl (Snyder & Shen, *Fundamentals of Supply Chain Theory*).

tests/test_planning_formulas.py checks crossdock against numbers worked by hand.
This file checks the same formulas against an independent implementation: every
expected value is computed by stockpyl at test time, from the book's named
problem instances (`stockpyl.instances.load_instance`) where one exists. No
reference number is typed in here.

Units: crossdock works in units/day, days and EUR. The book's chapter 3 and 5
examples are per year. They are converted with crossdock's DAYS_PER_YEAR:
d̄ = λ / 365, σ_d = τ / sqrt(365), L_days = 365 L_years. The chapter 4
(newsvendor / base-stock) examples are per period, and one period is taken as one day.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

try:
    import stockpyl  # noqa: F401
except ImportError as missing:  # a hard error, not a skip: the reference values are the point of this file
    raise ImportError("stockpyl is not installed: `make install` installs it, without its dependencies "
                      "(the Makefile pins it; the test extra in pyproject.toml says why)") from missing

from stockpyl.demand_source import DemandSource  # noqa: E402
from stockpyl.eoq import economic_order_quantity as sp_eoq  # noqa: E402
from stockpyl.instances import load_instance  # noqa: E402
from stockpyl.newsvendor import newsvendor_normal, newsvendor_normal_explicit  # noqa: E402
from stockpyl.rq import r_q_eil_approximation, r_q_eoqss_approximation  # noqa: E402

from planning.order_quantity import DAYS_PER_YEAR, economic_order_quantity, order_quantity  # noqa: E402
from planning.policy import PlanningPolicy  # noqa: E402
from planning.safety_stock import (  # noqa: E402
    Z_P90,
    protection_interval_demand,
    reorder_point,
    safety_stock,
    sigma_from_p10_p90,
    z_for_service_level,
)

REL = 1e-9

# Book instances that carry the plain EOQ parameters (K, h, λ). Extra keys such as
# stockout_cost or production_rate belong to variants and are ignored here.
EOQ_INSTANCES = ["example_3_1", "problem_3_1", "example_3_8", "problem_3_2b", "problem_3_22", "example_9_1", "example_9_4", "problem_9_4a"]
NEWSVENDOR_INSTANCES = ["example_4_1", "example_4_3", "problem_4_1"]
NEWSVENDOR_EXPLICIT_INSTANCES = ["example_4_2", "problem_4_3b"]
# (instance, days per time unit of the instance). Examples 5.1 and 5.1-problem are per year
# (Problem 5.1's lead time is 4/365 years). Problem 5.3 has no stated unit; its
# time unit is taken as one day. The formulas scale the same way in any time unit.
RQ_NORMAL_INSTANCES = [("example_5_1", DAYS_PER_YEAR), ("problem_5_1", DAYS_PER_YEAR), ("problem_5_3", 1.0)]


def _eoq_params(name: str) -> tuple[float, float, float]:
    inst = load_instance(name)
    return inst["demand_rate"], inst["fixed_cost"], inst["holding_cost"]


def _per_day(inst: dict, days_per_unit: float) -> tuple[float, float, float]:
    """(d̄ units/day, σ_d units/day, L days) from a book (r,Q) instance in its own time unit."""
    return (
        inst["demand_mean"] / days_per_unit,
        inst["demand_sd"] / math.sqrt(days_per_unit),
        inst["lead_time"] * days_per_unit,
    )


# --- 1. EOQ ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", EOQ_INSTANCES)
def test_eoq_matches_stockpyl_on_book_instances(name: str) -> None:
    """crossdock economic_order_quantity(D, K, H) == stockpyl.eoq.economic_order_quantity(K, h, λ)[0].

    The book's Example 3.1 and the other instances with EOQ parameters (Problem 3.1,
    Examples 3.8/9.1/9.4, Problems 3.2(b)/3.22/9.4(a)), read from stockpyl.instances.
    Units: D and λ in units per time unit, K in cost per order, H in cost per unit per
    time unit. Q* is in units, relative tolerance 1e-9.
    """
    D, K, H = _eoq_params(name)
    expected_q, _cost = sp_eoq(K, H, D)
    assert float(economic_order_quantity(D, K, H)) == pytest.approx(expected_q, rel=REL)


def test_eoq_vectorised_matches_stockpyl_elementwise() -> None:
    """One vectorised crossdock call over all the EOQ instances equals stockpyl's scalar
    economic_order_quantity on each instance (units, rel 1e-9)."""
    params = np.array([_eoq_params(n) for n in EOQ_INSTANCES])
    expected = [sp_eoq(K, H, D)[0] for D, K, H in params]
    np.testing.assert_allclose(economic_order_quantity(params[:, 0], params[:, 1], params[:, 2]), expected, rtol=REL)


def test_order_quantity_from_daily_demand_is_stockpyl_eoq_rounded_up() -> None:
    """crossdock order_quantity(d̄ = λ/365, unit cost, MOQ 0, pack 1, K, carrying rate)
    == ceil(stockpyl economic_order_quantity on Example 3.1).

    Example 3.5 is Example 3.1 with quantity discounts. It gives the carrying rate i
    and the undiscounted unit cost c_0, so H = i * c_0 EUR/unit/year, which equals
    Example 3.1's h. This checks that order_quantity changes units/day to units/year
    and unit cost times carrying rate to H correctly. Units: Q in whole units.
    """
    base = load_instance("example_3_1")
    disc = load_instance("example_3_5")
    assert disc["fixed_cost"] == base["fixed_cost"] and disc["demand_rate"] == base["demand_rate"]
    assert disc["holding_cost_rate"] * disc["unit_costs"][0] == pytest.approx(base["holding_cost"], rel=REL)

    q_star, _ = sp_eoq(base["fixed_cost"], base["holding_cost"], base["demand_rate"])
    got = order_quantity(
        np.array([base["demand_rate"] / DAYS_PER_YEAR]),
        np.array([disc["unit_costs"][0]]),
        np.array([0]),
        np.array([1]),
        float(base["fixed_cost"]),
        float(disc["holding_cost_rate"]),
    )
    assert got.tolist() == [math.ceil(q_star)]


# Cost at the EOQ (stockpyl's g* = sqrt(2Kλh)) is not checked: crossdock exposes no cost function.


# --- 2. Newsvendor: single-period cycle service level -----------------------------------


@pytest.mark.parametrize("name", NEWSVENDOR_INSTANCES)
def test_single_period_safety_stock_equals_newsvendor_solution(name: str) -> None:
    """μ + safety_stock(z, L=1, σ, μ, σ_L=0) == stockpyl.newsvendor.newsvendor_normal(h, p, μ, σ)[0].

    With z = z_for_service_level(p / (p + h)), the cycle-service-level stock for one
    period is the newsvendor optimal base-stock level S* = μ + z σ. The instances are
    Example 4.1 (the same as Example 4.3) and Problem 4.1, taken from stockpyl.instances.
    Units: μ, σ and S* in units per period, with one period taken as one day.
    Relative tolerance 1e-9.
    """
    inst = load_instance(name)
    h, p, mu, sigma = inst["holding_cost"], inst["stockout_cost"], inst["demand_mean"], inst["demand_sd"]
    expected_s, _cost = newsvendor_normal(h, p, mu, sigma)

    critical_ratio = p / (p + h)
    z = z_for_service_level(critical_ratio)
    assert PlanningPolicy(service_level=critical_ratio).z == pytest.approx(z, rel=REL)
    ss = safety_stock(z, lead_time_days=1, demand_std_daily=sigma, mean_daily_demand=mu, lead_time_std_days=0)
    assert float(mu + ss) == pytest.approx(expected_s, rel=REL)
    assert float(reorder_point(mu, 1, ss)) == pytest.approx(expected_s, rel=REL)


@pytest.mark.parametrize("name", NEWSVENDOR_EXPLICIT_INSTANCES)
def test_single_period_safety_stock_equals_explicit_newsvendor_solution(name: str) -> None:
    """reorder_point(μ, 1, safety_stock(z, 1, σ, μ, 0)) == stockpyl newsvendor_normal_explicit(r, c, v, μ, σ)[0].

    This is the profit form of the newsvendor (Example 4.2 and Problem 4.3(b)). With
    no extra h or p, the critical ratio is (r - c) / (r - v), where r is the selling
    price, c the purchase cost and v the salvage value. Units: units per period, with
    one period taken as one day. Relative tolerance 1e-9.
    """
    inst = load_instance(name)
    r, c, v = inst["revenue"], inst["purchase_cost"], inst["salvage_value"]
    mu, sigma = inst["demand_mean"], inst["demand_sd"]
    expected_s, _profit = newsvendor_normal_explicit(r, c, v, mu, sigma)

    z = z_for_service_level((r - c) / (r - v))
    assert float(reorder_point(mu, 1, safety_stock(z, 1, sigma, mu, 0))) == pytest.approx(expected_s, rel=REL)


def test_base_stock_level_with_lead_time_equals_periodic_review_reorder_point() -> None:
    """crossdock (R, S) order-up-to level with L = 4 and R = 1 == stockpyl newsvendor_normal(..., lead_time=4)[0].

    This is the book's Example 4.4: periodic-review base-stock with lead time L, read
    from stockpyl.instances. stockpyl protects over L + 1 periods, so S* = μ(L + 1) +
    z σ sqrt(L + 1). crossdock gets the same protection interval from
    review_period_days = 1: d̄ (L + R) + z σ_d sqrt(L + R). Units: units per period,
    with one period taken as one day. Relative tolerance 1e-9.
    """
    inst = load_instance("example_4_4")
    h, p, mu, sigma, L = inst["holding_cost"], inst["stockout_cost"], inst["demand_mean"], inst["demand_sd"], inst["lead_time"]
    expected_s, _cost = newsvendor_normal(h, p, mu, sigma, lead_time=L)

    z = z_for_service_level(p / (p + h))
    ss = safety_stock(z, L, sigma, mu, 0.0, review_period_days=1)
    assert float(reorder_point(mu, L, ss, review_period_days=1)) == pytest.approx(expected_s, rel=REL)


# --- 3. (r, Q) with normal lead-time demand ---------------------------------------------


@pytest.mark.parametrize(("name", "days_per_unit"), RQ_NORMAL_INSTANCES)
def test_lead_time_demand_mean_and_std_match_stockpyl(name: str, days_per_unit: float) -> None:
    """protection_interval_demand(d̄, L) == μ_LTD and safety_stock(1, L, σ_d, d̄, 0) == σ_LTD.

    The reference is stockpyl.demand_source.DemandSource(type='N').lead_time_demand_distribution(L),
    which gives N(λL, τ sqrt(L)). The book's (r,Q) instances (Example 5.1, Problems 5.1
    and 5.3) come from stockpyl.instances. crossdock gets them in units/day and days.
    stockpyl gets them in the instance's own time unit. Units: units. Relative tolerance 1e-9.
    """
    inst = load_instance(name)
    ltd = DemandSource(type="N", mean=inst["demand_mean"], standard_deviation=inst["demand_sd"]).lead_time_demand_distribution(
        inst["lead_time"]
    )
    d_bar, sigma_d, L_days = _per_day(inst, days_per_unit)
    assert float(protection_interval_demand(d_bar, L_days)) == pytest.approx(ltd.mean(), rel=REL)
    assert float(safety_stock(1.0, L_days, sigma_d, d_bar, 0.0)) == pytest.approx(ltd.std(), rel=REL)


@pytest.mark.parametrize(("name", "days_per_unit"), RQ_NORMAL_INSTANCES)
def test_reorder_point_and_q_match_stockpyl_eoq_plus_safety_stock(name: str, days_per_unit: float) -> None:
    """crossdock (ROP, EOQ) == stockpyl.rq.r_q_eoqss_approximation(h, p, K, λ, τ, L).

    This is the book's "EOQ + SS" approximation (Example 5.5, run here on the Example 5.1,
    Problem 5.1 and Problem 5.3 instances): r = μ_LTD + z_α σ_LTD with α = p/(p+h),
    and Q = EOQ. It is the one stockpyl (r,Q) method whose r is a cycle-service-level
    reorder point. crossdock: reorder_point(d̄, L, safety_stock(z_for_service_level(α),
    L, σ_d, d̄, 0)) with d̄, σ_d and L per day, and economic_order_quantity(λ, K, h).
    stockpyl's exact optimisers (r_q_optimal_r_for_q, r_q_loss_function_approximation)
    minimise cost and do not target a service level. They are not used here.
    Units: r and Q in units. Relative tolerance 1e-9.
    """
    inst = load_instance(name)
    h, p, K, lam = inst["holding_cost"], inst["stockout_cost"], inst["fixed_cost"], inst["demand_mean"]
    expected_r, expected_q = r_q_eoqss_approximation(h, p, K, lam, inst["demand_sd"], inst["lead_time"])

    d_bar, sigma_d, L_days = _per_day(inst, days_per_unit)
    z = z_for_service_level(p / (p + h))
    rop = reorder_point(d_bar, L_days, safety_stock(z, L_days, sigma_d, d_bar, 0.0))
    assert float(rop) == pytest.approx(expected_r, rel=REL)
    assert float(economic_order_quantity(lam, K, h)) == pytest.approx(expected_q, rel=REL)


@pytest.mark.parametrize(("name", "days_per_unit"), RQ_NORMAL_INSTANCES)
def test_reorder_point_matches_stockpyl_eil_r_at_its_implied_service_level(name: str, days_per_unit: float) -> None:
    """crossdock reorder_point at CSL = 1 - Qh/(pλ) == r from stockpyl.rq.r_q_eil_approximation.

    The book's expected-inventory-level approximation (Algorithm 5.1, Example 5.2) sets
    r = F⁻¹(1 - Qh/(pλ)) with F the normal lead-time-demand cdf. So for the Q that EIL
    returns, its r is a cycle-service-level reorder point at that CSL. The only
    difference is that stockpyl's last r is computed from the Q of the previous
    iteration, and stockpyl stops when successive values differ by less than 1e-6.
    Hence the absolute tolerance is 1e-6 units rather than 1e-9 relative (the gap
    seen is about 1e-8).
    Instances: Example 5.1 and Problems 5.1 and 5.3. Units: units.
    """
    inst = load_instance(name)
    h, p, K, lam = inst["holding_cost"], inst["stockout_cost"], inst["fixed_cost"], inst["demand_mean"]
    expected_r, q, _cost = r_q_eil_approximation(h, p, K, lam, inst["demand_sd"], inst["lead_time"])

    d_bar, sigma_d, L_days = _per_day(inst, days_per_unit)
    z = z_for_service_level(1.0 - q * h / (p * lam))
    rop = reorder_point(d_bar, L_days, safety_stock(z, L_days, sigma_d, d_bar, 0.0))
    assert float(rop) == pytest.approx(expected_r, abs=1e-6)


# --- 3b. Stochastic lead time ---------------------------------------------------------

# Daily demand models (stockpyl DemandSource kwargs) and discrete lead-time pmfs (days).
# These are test inputs, not reference values.
DAILY_DEMANDS = [
    {"type": "N", "mean": 10.0, "standard_deviation": 4.0},
    {"type": "P", "mean": 6.0},
    {"type": "CD", "demand_list": [0, 1, 2, 5, 9], "probabilities": [0.3, 0.25, 0.2, 0.15, 0.1]},
]
LEAD_TIME_PMFS = [{2: 0.2, 3: 0.5, 5: 0.3}, {10: 0.25, 14: 0.5, 18: 0.25}, {20: 0.1, 28: 0.3, 30: 0.3, 35: 0.2, 45: 0.1}]


@pytest.mark.parametrize("demand", DAILY_DEMANDS, ids=lambda d: d["type"])
@pytest.mark.parametrize("lead_time_pmf", LEAD_TIME_PMFS, ids=["LT2-5", "LT10-18", "LT20-45"])
def test_stochastic_lead_time_demand_variance_matches_stockpyl_mixture(demand: dict, lead_time_pmf: dict) -> None:
    """safety_stock(1, E[L], σ_d, d̄, sd[L]) == std of lead-time demand built from stockpyl.

    stockpyl has no closed form for lead-time demand with a random lead time. The
    reference is therefore the exact mixture over a discrete lead-time pmf. Each
    conditional distribution D_l is stockpyl's
    DemandSource(...).lead_time_demand_distribution(l): normal, Poisson, or for
    custom-discrete demand an exact l-fold convolution. Their raw moments are mixed
    with the lead-time probabilities. crossdock's sqrt(E[L] σ_d² + d̄² Var[L]) must
    equal that std, and protection_interval_demand(d̄, E[L]) its mean. Only the first
    two moments are comparable: the mixture is not normal, so z times that std is not
    its exact quantile. Units: demand in units/day, L in days, results in units.
    Relative tolerance 1e-9.
    """
    source = DemandSource(**demand)
    d_bar = float(source.demand_distribution.mean())
    sigma_d = float(source.demand_distribution.std())

    mean_ltd = 0.0
    second_moment_ltd = 0.0
    for lead_time, prob in lead_time_pmf.items():
        ltd = source.lead_time_demand_distribution(lead_time)
        mean_ltd += prob * ltd.moment(1)
        second_moment_ltd += prob * ltd.moment(2)
    std_ltd = math.sqrt(second_moment_ltd - mean_ltd**2)

    expected_lead_time = sum(l * p for l, p in lead_time_pmf.items())
    lead_time_std = math.sqrt(sum(p * (l - expected_lead_time) ** 2 for l, p in lead_time_pmf.items()))
    assert float(protection_interval_demand(d_bar, expected_lead_time)) == pytest.approx(mean_ltd, rel=REL)
    assert float(safety_stock(1.0, expected_lead_time, sigma_d, d_bar, lead_time_std)) == pytest.approx(std_ltd, rel=REL)


# --- 4. Forecast band to σ ------------------------------------------------------------


@pytest.mark.parametrize("name", NEWSVENDOR_INSTANCES + ["problem_4_32"])
def test_sigma_from_p10_p90_recovers_stockpyl_normal_sigma(name: str) -> None:
    """sigma_from_p10_p90(F⁻¹(0.1), F⁻¹(0.9)) recovers σ of stockpyl's normal demand.

    F is DemandSource(type='N', mean=μ, standard_deviation=σ).demand_distribution, with
    μ and σ from the book's normal-demand instances (Examples 4.1/4.3, Problems 4.1 and 4.32).
    crossdock divides by 2 * 1.2816 where the exact value is 2 Φ⁻¹(0.9) = 2 * 1.2815516.
    This is a deliberate rounding from the design. It makes σ low by the factor
    Φ⁻¹(0.9)/1.2816 ≈ 1 - 3.8e-5, so the test asserts that exact bias (rel 1e-9) and a
    5e-5 relative match. Units: units per period.
    """
    inst = load_instance(name)
    dist = DemandSource(type="N", mean=inst["demand_mean"], standard_deviation=inst["demand_sd"]).demand_distribution
    got = float(sigma_from_p10_p90(dist.ppf(0.1), dist.ppf(0.9)))
    z90 = (dist.ppf(0.9) - dist.mean()) / dist.std()  # Φ⁻¹(0.9) as stockpyl's distribution has it
    assert got == pytest.approx(dist.std() * z90 / Z_P90, rel=REL)
    assert got == pytest.approx(dist.std(), rel=5e-5)
