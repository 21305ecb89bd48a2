"""Bulk days: learned per series, capped in what the forecast learns from, reported by the backtest."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml import backtest as bt
from crossdock.bulk_days import FACTOR, MIN_UNITS, QUANTILE, WINDOW_DAYS, bulk_bounds, busy_day
from ml.bulk_orders import cap_panel
from ml.forecast import forecast_demand
from ml.model import ModelConfig
from ml.panel import Panel

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

AS_OF = dt.date(2025, 6, 30)
FAST = ModelConfig(num_boost_round=30, num_leaves=15, min_data_in_leaf=50, row_sample=0.5)


@pytest.mark.parametrize("days", [1, 30, 900])
def test_the_busy_day_is_numpys_quantile_of_the_selling_days_in_the_window(days):
    """The sorted-window quantile gives exactly what np.nanquantile gives over each series' selling days."""
    rng = np.random.default_rng(days)
    Y = rng.random((300, days)) * rng.integers(0, 2, (300, days)) * rng.gamma(0.5, 10, (300, 1))
    Y[:5] = 0.0  # never sold
    Y[5:10] = 0.0
    Y[5:10, -1] = [1.0, 2.5, 7.0, 0.5, 3.0]  # one selling day
    for origin in sorted({0, days // 2, days - 1}):
        window = Y[:, max(origin - WINDOW_DAYS + 1, 0) : origin + 1]
        expected = np.full(len(Y), np.nan)
        sold = (window > 0).any(axis=1)
        if sold.any():
            expected[sold] = np.nanquantile(np.where(window > 0, window, np.nan)[sold], QUANTILE, axis=1)
        assert np.array_equal(busy_day(Y, origin), expected, equal_nan=True)


def _panel(Y: list[list[float]], revenue_per_unit: float = 2.0) -> Panel:
    Y = np.array(Y, dtype=float)
    series = pd.DataFrame({"sku": [f"S{i}" for i in range(len(Y))], "market": "DE", "category": "c",
                           "first_idx": 0, "last_idx": Y.shape[1] - 1})
    return Panel(series=series, start=pd.Timestamp("2025-01-01"), Y=Y, R=Y * revenue_per_unit)


def test_the_bound_is_ten_times_the_95th_percentile_of_selling_days_and_at_least_the_floor() -> None:
    # selling days 1..20 units: 95th percentile (linear) 19.05 -> bound 190.5; 1-unit days -> the floor
    Y = np.array([list(range(1, 21)) + [0.0] * 5, [1.0, 0.0] * 12 + [1.0], [0.0] * 25])
    bounds = bulk_bounds(Y, 24)
    assert bounds[0] == pytest.approx(FACTOR * np.quantile(np.arange(1, 21), 0.95))
    assert bounds[1] == MIN_UNITS
    assert np.isinf(bounds[2])  # nothing sold: nothing to compare with


def test_only_the_window_up_to_the_origin_teaches_the_bound() -> None:
    Y = np.array([[2.0] * 10 + [500.0] * 10])
    assert bulk_bounds(Y, 9)[0] == MIN_UNITS * 2  # 10 x 2 units
    assert bulk_bounds(Y, 19, window=10)[0] == 5000.0


def test_a_pallet_order_becomes_a_busy_day_and_its_revenue_keeps_the_price() -> None:
    days = [3.0, 1.0, 2.0, 0.0] * 30
    days[50] = 5000.0
    assert bulk_bounds(np.array([days]), 119)[0] == pytest.approx(30.0)  # 10 x the busy day of 3 units
    panel, summary = cap_panel(_panel([days, [1.0] * 120]))
    assert panel.Y[0, 50] == pytest.approx(np.quantile([d for d in days if d > 0], 0.95)) == 3.0
    assert panel.R[0, 50] / panel.Y[0, 50] == pytest.approx(2.0)
    np.testing.assert_array_equal(np.delete(panel.Y[0], 50), np.delete(np.array(days), 50))
    np.testing.assert_array_equal(panel.Y[1], 1.0)
    assert summary.days == 1
    assert summary.units == pytest.approx(5000.0 - panel.Y[0, 50])
    assert summary.total_units == pytest.approx(sum(days) + 120)
    assert "1 bulk day(s)" in summary.describe() and "known orders" in summary.describe()
    assert "reason_code customer_order" in summary.describe()  # says how: a planner's override (docs/sop.md)


def test_regular_big_orders_are_the_series_own_demand_and_stay() -> None:
    # a wholesale-led series: 600 units every tenth day (10 % of its selling days) are inside its percentile
    days = ([600.0] + [2.0] * 9) * 12
    panel, summary = cap_panel(_panel([days]))
    np.testing.assert_array_equal(panel.Y, np.array([days]))
    assert summary.days == 0 and summary.units == 0.0
    assert "no bulk days" in summary.describe()


def _with_pallet_order(history: pd.DataFrame, units: float) -> pd.DataFrame:
    """`history` with one extra order of `units` on a selling day of its busiest series, 30 days before AS_OF."""
    key = history.groupby(["sku", "market"])["units_sold"].sum().idxmax()
    day = pd.Timestamp(AS_OF) - pd.Timedelta(days=30)
    row = history[(history["sku"] == key[0]) & (history["market"] == key[1])].iloc[[-1]].copy()
    row["demand_date"], row["units_sold"], row["revenue_eur"] = day, units, units * 10.0
    return pd.concat([history, row], ignore_index=True)


def test_the_forecast_does_not_spread_a_one_off_order_over_its_horizon() -> None:
    history = make_history(n_skus=6, markets=("US", "DE"), days=420, end=AS_OF, seed=3)
    plain = forecast_demand(history, AS_OF, horizon_days=28, seed=7, config=FAST)
    spiked = forecast_demand(_with_pallet_order(history, 20_000.0), AS_OF, horizon_days=28, seed=7, config=FAST)
    assert plain.bulk.days == 0
    assert spiked.bulk.days == 1 and spiked.bulk.units > 19_000
    # kept, the pallet would add ~20,000 / 420 days x 28 days ~ 1,300 expected units to ~830; left out, next to none
    total = plain.forecast["mean"].sum()
    assert abs(spiked.forecast["mean"].sum() - total) < 0.05 * total


def test_the_backtest_scores_all_that_sold_and_reports_the_bulk_part() -> None:
    history = make_history(n_skus=6, markets=("US", "DE"), days=420, end=AS_OF, seed=3)
    result = bt.backtest(_with_pallet_order(history, 20_000.0), AS_OF, horizon_days=28, n_windows=2, seed=7,
                         config=FAST, baselines=())
    p = result.predictions
    assert (p["actual_regular"] <= p["actual"]).all()
    overall = result.overall()
    assert overall.loc["lightgbm", "actual_units"] == p["actual"].sum()  # the pallet is still scored
    assert overall.loc["lightgbm", "bulk_units"] == pytest.approx(p["actual"].sum() - p["actual_regular"].sum())
    assert overall.loc["lightgbm", "bulk_units"] > 19_000
    assert overall.loc["lightgbm", "mean_bias_regular"] == pytest.approx(
        p["mean"].sum() / p["actual_regular"].sum() - 1
    )
    assert overall.loc["lightgbm", "mean_bias"] < overall.loc["lightgbm", "mean_bias_regular"]
    assert np.isnan(overall.loc["seasonal_naive_7", "mean_bias_regular"])
