"""Hand-worked checks of the planning formulas (scalars and arrays)."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from planning.actions import EXCESS, EXPEDITE, LONG_COVER, NO_DEMAND, OK, REORDER_NOW, REORDER_SOON, classify_action
from planning.cover import days_of_cover, order_by_date, projected_stockout_date
from planning.order_quantity import (
    economic_order_quantity,
    order_quantity,
    orderable_quantity,
    round_up_to_pack,
)
from planning.policy import PlanningPolicy
from planning.safety_stock import (
    reorder_point,
    safety_stock,
    sigma_from_p10_p90,
    standard_normal_quantile,
    z_for_service_level,
)

Z95 = 1.6448536269514722  # Φ⁻¹(0.95)


# --- z and σ --------------------------------------------------------------------------


def test_z_for_95_percent_service_level() -> None:
    assert z_for_service_level(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert PlanningPolicy().z == pytest.approx(Z95)


def test_the_normal_quantile_is_scipy_stats_norm_ppf_at_every_level_and_edge() -> None:
    """The plan takes z from scipy.special (scipy.stats is slow to import): it must be norm.ppf, bit for bit."""
    from scipy.stats import norm

    levels = np.concatenate([np.linspace(0.0, 1.0, 10_001), [1e-12, 0.5 - 1e-15, 1 - 1e-12, -0.1, 1.1, np.nan]])
    np.testing.assert_array_equal(standard_normal_quantile(levels), norm.ppf(levels))
    grid = levels[:12].reshape(3, 4)  # a row's levels against each of its targets (stock_policy)
    np.testing.assert_array_equal(standard_normal_quantile(grid), norm.ppf(grid))
    assert standard_normal_quantile(0.95) == norm.ppf(0.95)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1])
def test_service_level_outside_open_unit_interval_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="service_level"):
        PlanningPolicy(service_level=bad)
    with pytest.raises(ValueError, match="service_level"):
        z_for_service_level(bad)


def test_policy_defaults() -> None:
    p = PlanningPolicy()
    assert (p.service_level, p.order_cost_eur, p.annual_carrying_rate) == (0.95, 50.0, 0.25)
    assert (p.review_period_days, p.excess_cover_days, p.reorder_soon_days) == (0.0, 180.0, 14)


def test_sigma_from_p10_p90() -> None:
    # (8 - 2) / (2 * 1.2816) = 6 / 2.5632 = 2.34082
    assert sigma_from_p10_p90(2.0, 8.0) == pytest.approx(2.340824, rel=1e-6)
    # crossed quantiles give zero spread, not a negative σ
    np.testing.assert_allclose(sigma_from_p10_p90([5.0, 3.0], [5.0, 1.0]), [0.0, 0.0])


# --- safety stock and reorder point ---------------------------------------------------


def test_safety_stock_hand_worked() -> None:
    # L=30, σ_d=4, d̄=10, σ_L=5: 30*16 + 100*25 = 480 + 2500 = 2980; sqrt = 54.5894
    # SS = 1.6449 * 54.5894 = 89.79
    ss = safety_stock(Z95, lead_time_days=30, demand_std_daily=4, mean_daily_demand=10, lead_time_std_days=5)
    assert ss == pytest.approx(89.7915, abs=1e-3)
    assert ss == pytest.approx(Z95 * math.sqrt(2980))


def test_safety_stock_reduces_to_textbook_when_lead_time_is_certain() -> None:
    # σ_L = 0, R = 0: SS = z σ_d sqrt(L) = 1.6449 * 4 * sqrt(30) = 36.04
    ss = safety_stock(Z95, 30, 4, 10, 0)
    assert ss == pytest.approx(36.0369, abs=1e-3)
    assert ss == pytest.approx(Z95 * 4 * math.sqrt(30))


def test_safety_stock_review_period_extends_protection_interval() -> None:
    # R = 7: SS = z σ_d sqrt(L + R) = 1.6449 * 4 * sqrt(37)
    assert safety_stock(Z95, 30, 4, 10, 0, review_period_days=7) == pytest.approx(Z95 * 4 * math.sqrt(37))


def test_safety_stock_is_vectorised() -> None:
    ss = safety_stock(Z95, np.array([30.0, 30.0]), np.array([4.0, 0.0]), np.array([10.0, 10.0]), np.array([5.0, 5.0]))
    np.testing.assert_allclose(ss, [Z95 * math.sqrt(2980), Z95 * 50.0])


def test_reorder_point() -> None:
    # ROP = d̄ (L + R) + SS = 10 * 30 + 89.79 = 389.79
    assert reorder_point(10, 30, 89.7915) == pytest.approx(389.7915)
    assert reorder_point(10, 30, 0.0, review_period_days=7) == pytest.approx(370.0)


# --- order quantity -------------------------------------------------------------------


def test_eoq_hand_worked() -> None:
    # D = 1200/yr, K = 50, H = 2.5: sqrt(2*1200*50/2.5) = sqrt(48000) = 219.09
    assert economic_order_quantity(1200, 50, 2.5) == pytest.approx(219.089, abs=1e-3)


@pytest.mark.parametrize(
    ("moq", "pack", "expected"),
    [
        (1, 1, 220),  # 219.09 -> 220
        (100, 12, 228),  # 219.09 / 12 = 18.26 -> 19 packs = 228
        (300, 12, 300),  # MOQ binds: 300 = 25 packs
        (250, 24, 264),  # MOQ 250 not a pack multiple: 250 / 24 = 10.4 -> 11 packs = 264
    ],
)
def test_eoq_rounded_to_moq_and_pack(moq: int, pack: int, expected: int) -> None:
    assert orderable_quantity(economic_order_quantity(1200, 50, 2.5), moq, pack) == expected


def test_order_quantity_from_daily_demand() -> None:
    # d̄ = 1200/365 per day -> D = 1200; H = 10 EUR * 0.25 = 2.5
    q = order_quantity(np.array([1200 / 365, 0.0]), np.array([10.0, 10.0]), np.array([100, 100]), np.array([12, 12]), 50.0, 0.25)
    np.testing.assert_array_equal(q, [228, 0])  # zero demand -> Q = 0, MOQ not applied
    assert q.dtype == np.int64


def test_round_up_to_pack_ignores_float_noise() -> None:
    np.testing.assert_array_equal(round_up_to_pack([240.0000000001, 240.01, 0.0, -3.0], 12), [240, 252, 0, 0])


def test_eoq_needs_positive_holding_cost() -> None:
    with pytest.raises(ValueError, match="holding cost"):
        economic_order_quantity(1200, 50, 0.0)
    assert economic_order_quantity(0, 50, 0.0) == 0.0


# --- cover, dates, action -------------------------------------------------------------

AS_OF = dt.date(2025, 3, 1)


def test_days_of_cover_null_without_demand() -> None:
    np.testing.assert_allclose(days_of_cover([100, 0, 5], [10, 10, 0]), [10.0, 0.0, np.nan])


def test_projected_stockout_date_within_and_beyond_horizon() -> None:
    horizon_end = pd.Timestamp("2025-04-30")
    got = projected_stockout_date([105, 1000, 50], [10, 10, 0], AS_OF, horizon_end)
    # 105/10 = 10.5 -> 10 days; 1000/10 = 100 days is past the horizon; no demand -> null
    assert got[0] == pd.Timestamp("2025-03-11")
    assert pd.isna(got[1]) and pd.isna(got[2])


def test_order_by_date() -> None:
    got = order_by_date([100, 450, 450], [382.0, 382.0, 0.0], [10, 10, 0], AS_OF, [True, False, False])
    assert got[0] == pd.Timestamp(AS_OF)
    assert got[1] == pd.Timestamp(AS_OF) + pd.Timedelta(days=6)  # (450 - 382) / 10 = 6.8 -> 6
    assert pd.isna(got[2])


def test_classify_action_priorities() -> None:
    as_of = pd.Timestamp(AS_OF)
    day = pd.Timedelta(days=1)
    order_by = pd.DatetimeIndex([pd.NaT, as_of, pd.NaT, as_of + 14 * day, as_of + 15 * day, as_of + 170 * day, pd.NaT, pd.NaT,
                                 as_of + 200 * day])
    got = classify_action(
        # row 0: nothing on hand, a purchase order in the position, the projection runs dry tomorrow, 80 days of lead time;
        # row 6: the same stock-out on the last day before an order could land; row 7: on the day it lands;
        # row 5: 1,900 on hand above an order-up-to of 900 is excess; row 8: 400 days of cover, but one order of
        # the policy's own size (MOQ 150 at 0.5 a day) holds that much: long cover, not excess
        reorder_now=[False, True, False, False, False, False, True, True, False],
        mean_daily_demand=[3, 10, 0, 10, 10, 10, 3, 3, 0.5],
        on_hand=[0, 0, 5, 400, 500, 1900, 20, 20, 200],
        order_by=order_by,
        days_of_cover=[0, 0, np.nan, 40, 50, 190, 6, 6, 400],
        as_of=AS_OF,
        reorder_soon_days=14,
        excess_cover_days=180,
        projected_stockout=pd.DatetimeIndex([as_of + day, pd.NaT, pd.NaT, as_of + 40 * day, pd.NaT, pd.NaT,
                                             as_of + 6 * day, as_of + 7 * day, pd.NaT]),
        lead_time_days=[80, 30, 30, 30, 30, 30, 7, 7, 30],
        order_up_to=[250, 900, 10, 900, 900, 900, 40, 40, 200.5],
    )
    assert list(got) == [EXPEDITE, REORDER_NOW, NO_DEMAND, REORDER_SOON, OK, EXCESS, EXPEDITE, REORDER_NOW, LONG_COVER]
