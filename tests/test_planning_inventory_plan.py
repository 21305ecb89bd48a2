"""build_inventory_plan on small hand-worked inputs."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from planning import PLAN_COLUMNS, PlanningPolicy, build_inventory_plan

AS_OF = dt.date(2025, 3, 1)
Z95 = 1.6448536269514722
HORIZON = 60  # forecast days, 2025-03-02 .. 2025-04-30
MARKET_NODES = pd.DataFrame({"market": ["US", "CA", "DE", "FR", "NL"], "node": ["US-EWR", "US-EWR", "NL-AMS", "NL-AMS", "NL-AMS"]})


def flat_forecast(
    sku: str, market: str, p10: float, p50: float, p90: float, mean: float, days: int = HORIZON
) -> pd.DataFrame:
    """The same forecast every day; `mean` (expected units/day) is what d̄ is built from."""
    dates = pd.date_range(pd.Timestamp(AS_OF) + pd.Timedelta(days=1), periods=days)
    return pd.DataFrame(
        {"sku": sku, "market": market, "forecast_date": dates.date, "p10": p10, "p50": p50, "p90": p90, "mean": mean}
    )


def lead_times(*rows: tuple[str, int, float | None, float | None, float]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["sku", "n_receipts", "lead_time_mean_days", "lead_time_std_days", "quoted_lead_time_days"]
    ).astype({"n_receipts": "int64", "lead_time_mean_days": float, "lead_time_std_days": float, "quoted_lead_time_days": float})


def skus(*rows: tuple[str, str, float, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "category", "unit_cost_eur", "moq", "pack_size"])


def stock(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "node", "on_hand"])


def orders(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "node", "on_order"])


NO_ORDERS = orders()

# SKU "A": d̄ = 10/day with no spread at node NL-AMS, L = 30 ± 5 days from 5 receipts,
# 10 EUR, MOQ 500, pack 24.
#   SS  = z * sqrt(30 * 0 + 10² * 5²) = 1.6449 * 50 = 82.24
#   ROP = 10 * 30 + 82.24 = 382.24
#   EOQ = sqrt(2 * 3650 * 50 / 2.5) = sqrt(146000) = 382.10 -> MOQ 500 -> 21 packs = 504
#   S   = 382.24 + 504 = 886.24
SS_A = Z95 * 50.0
ROP_A = 300.0 + SS_A
Q_A = 504
FC_A = flat_forecast("A", "DE", 10.0, 10.0, 10.0, 10.0)
LT_A = lead_times(("A", 5, 30.0, 5.0, 21.0))
SKU_A = skus(("A", "kitchen", 10.0, 500, 24))


def plan_a(on_hand: int, on_order: int = 0, policy: PlanningPolicy = PlanningPolicy()) -> pd.Series:
    oo = orders(("A", "NL-AMS", on_order)) if on_order else NO_ORDERS
    out = build_inventory_plan(FC_A, stock(("A", "NL-AMS", on_hand)), oo, LT_A, SKU_A, MARKET_NODES, AS_OF, policy)
    assert len(out) == 1
    return out.iloc[0]


def test_reorder_now_hand_worked_row() -> None:
    row = plan_a(on_hand=100, on_order=50)
    assert row["inventory_position"] == 150
    assert row["mean_daily_demand"] == pytest.approx(10.0)
    assert row["demand_std_daily"] == pytest.approx(0.0)
    assert (row["lead_time_days"], row["lead_time_std_days"], row["lead_time_source"]) == (30.0, 5.0, "receipts")
    assert row["z"] == pytest.approx(Z95)
    assert row["lead_time_demand"] == pytest.approx(300.0)
    assert row["safety_stock"] == pytest.approx(82.2427, abs=1e-3)
    assert row["reorder_point"] == pytest.approx(ROP_A)
    assert row["order_quantity"] == Q_A
    assert row["order_up_to"] == pytest.approx(ROP_A + Q_A)
    # S - IP = 886.24 - 150 = 736.24 -> 31 packs of 24 = 744
    assert row["recommended_order_qty"] == 744
    assert row["recommended_order_qty"] % 24 == 0 and row["recommended_order_qty"] >= 500
    # 100 on hand last 10 days, an order placed today lands in 30: the order is due, but only a faster
    # route or another node's stock covers days 10 to 30
    assert row["action"] == "expedite or transfer"
    assert row["order_by_date"] == pd.Timestamp(AS_OF)
    assert row["days_of_cover"] == pytest.approx(10.0)
    assert row["projected_stockout_date"] == pd.Timestamp("2025-03-11")
    assert row["safety_stock_value_eur"] == pytest.approx(SS_A * 10.0)
    # (SS + Q/2) * H = (82.24 + 252) * 2.5 = 835.61
    assert row["carrying_cost_eur_per_year"] == pytest.approx((SS_A + 252) * 2.5)


def test_reorder_now_orders_at_least_moq_in_whole_packs() -> None:
    # IP = 382 <= ROP 382.24: S - IP = 886.24 - 382 = 504.24 -> 22 packs of 24 = 528
    row = plan_a(on_hand=math.floor(ROP_A))
    assert row["action"] == "reorder now"
    assert row["recommended_order_qty"] == 528
    # IP one unit above the ROP: no order yet, order by today
    row = plan_a(on_hand=math.ceil(ROP_A))
    assert (row["action"], row["recommended_order_qty"]) == ("reorder soon", 0)
    assert row["order_by_date"] == pd.Timestamp(AS_OF)


def test_reorder_soon() -> None:
    # (450 - 382.24) / 10 = 6.78 -> order by as_of + 6 days
    row = plan_a(on_hand=450)
    assert row["recommended_order_qty"] == 0
    assert row["order_by_date"] == pd.Timestamp(AS_OF) + pd.Timedelta(days=6)
    assert row["action"] == "reorder soon"


def test_ok_and_stockout_beyond_horizon_is_null() -> None:
    # cover 100 days (< 180); order by as_of + floor(617.76 / 10) = +61 days; stock outlasts 60-day horizon
    row = plan_a(on_hand=1000)
    assert row["action"] == "ok"
    assert row["order_by_date"] == pd.Timestamp(AS_OF) + pd.Timedelta(days=61)
    assert pd.isna(row["projected_stockout_date"])


def test_excess() -> None:
    row = plan_a(on_hand=2000)  # 200 days of cover > 180, and above the order-up-to level of 886
    assert row["days_of_cover"] == pytest.approx(200.0)
    assert row["order_up_to"] == pytest.approx(ROP_A + Q_A)
    assert row["action"] == "excess"
    assert plan_a(on_hand=2000, policy=PlanningPolicy(excess_cover_days=250))["action"] == "ok"


def test_long_cover_from_the_order_size_is_not_excess() -> None:
    # the very slow mover of the test below, 0.05 a day: its policy's order alone (50 units, 1,000 days) outlasts
    # the 180-day limit, so 40 on hand (800 days) is what ordering it leaves, not stock to sell off; 70 (above its
    # order-up-to of ~51) is more than the policy would ever hold
    fc = flat_forecast("S", "US", 0.0, 0.0, 0.0, 0.05)
    lt, sk = lead_times(("S", 0, None, None, 16.0)), skus(("S", "x", 3.0, 10, 5))
    rows = {n: build_inventory_plan(fc, stock(("S", "US-EWR", n)), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF).iloc[0] for n in (40, 70)}
    assert rows[40]["days_of_cover"] == pytest.approx(800.0) and rows[40]["on_hand"] <= rows[40]["order_up_to"]
    assert rows[40]["action"] == "long cover: order size"
    assert rows[70]["on_hand"] > rows[70]["order_up_to"] and rows[70]["action"] == "excess"
    assert rows[40]["excess_units"] > 0  # the cash beyond 180 days is still counted: the verdict names its cause


def test_a_near_zero_mean_publishes_ten_years_of_cover_not_millions_and_is_still_excess() -> None:
    """A buyer's review: 34 units over a forecast mean of 4e-7 a day read 84 million days of cover."""
    fc = flat_forecast("S", "US", 0.0, 0.0, 0.0, 4e-7)
    lt, sk = lead_times(("S", 0, None, None, 16.0)), skus(("S", "x", 3.0, 10, 5))
    row = build_inventory_plan(fc, stock(("S", "US-EWR", 34)), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF).iloc[0]
    assert row["days_of_cover"] == 3650.0
    assert row["action"] == "excess" and 0 < row["excess_units"] <= 34


def test_on_order_counts_in_inventory_position_and_po_lines_are_summed() -> None:
    out = build_inventory_plan(
        FC_A, stock(("A", "NL-AMS", 100)), orders(("A", "NL-AMS", 200), ("A", "NL-AMS", 300)),
        LT_A, SKU_A, MARKET_NODES, AS_OF,
    )
    row = out.iloc[0]
    assert (row["on_hand"], row["on_order"], row["inventory_position"]) == (100, 500, 600)
    assert row["action"] != "reorder now"  # 600 > ROP 382.24


def test_zero_demand_sku_with_stock_needs_review() -> None:
    fc = flat_forecast("Z", "DE", 0.0, 0.0, 0.0, 0.0)
    out = build_inventory_plan(
        fc, stock(("Z", "NL-AMS", 40)), NO_ORDERS, lead_times(("Z", 0, None, None, 20.0)),
        skus(("Z", "toys", 5.0, 10, 5)), MARKET_NODES, AS_OF,
    )
    row = out.iloc[0]
    assert row["action"] == "no demand — review stock"
    assert row["mean_daily_demand"] == 0.0
    assert (row["safety_stock"], row["order_quantity"], row["recommended_order_qty"]) == (0.0, 0, 0)
    assert pd.isna(row["days_of_cover"])
    assert pd.isna(row["order_by_date"]) and pd.isna(row["projected_stockout_date"])


def test_sku_with_stock_but_no_forecast_rows_is_kept() -> None:
    out = build_inventory_plan(
        FC_A.iloc[:0], stock(("A", "GB-BHX", 7)), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF,
    )
    assert list(out["node"]) == ["GB-BHX"]
    assert out.iloc[0]["action"] == "no demand — review stock"


def test_two_markets_aggregate_into_one_node() -> None:
    # DE: mean 4, σ = (7-1)/2.5632; FR: mean 6, σ = (9-3)/2.5632 -> node NL-AMS: mean 10, σ = sqrt(2) * 2.34082
    # US -> node US-EWR on its own: mean 3
    fc = pd.concat([
        flat_forecast("A", "DE", 1.0, 4.0, 7.0, 4.0),
        flat_forecast("A", "FR", 3.0, 6.0, 9.0, 6.0),
        flat_forecast("A", "US", 1.0, 3.0, 5.0, 3.0),
    ])
    out = build_inventory_plan(fc, stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)
    assert list(out["node"]) == ["NL-AMS", "US-EWR"]
    ams, ewr = out.iloc[0], out.iloc[1]
    sigma_market = 6.0 / (2 * 1.2816)
    assert ams["mean_daily_demand"] == pytest.approx(10.0)
    assert ams["demand_std_daily"] == pytest.approx(math.sqrt(2) * sigma_market)
    assert ams["demand_std_daily"] == pytest.approx(3.31042, abs=1e-4)
    # SS = z * sqrt(30 * 2 * 2.34082² + 100 * 25)
    assert ams["safety_stock"] == pytest.approx(Z95 * math.sqrt(30 * 2 * sigma_market**2 + 2500))
    assert ewr["mean_daily_demand"] == pytest.approx(3.0)
    assert ewr["demand_std_daily"] == pytest.approx(4.0 / (2 * 1.2816))


def test_forecast_market_without_node_raises() -> None:
    fc = flat_forecast("A", "BR", 1.0, 2.0, 3.0, 2.0)
    with pytest.raises(ValueError, match="BR"):
        build_inventory_plan(fc, stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)


def test_demand_is_averaged_over_the_lead_time_window_only() -> None:
    # mean = 10 for the first 30 days, then 100: L = 30 sees only the 10s.
    fc = pd.concat([flat_forecast("A", "DE", 10.0, 10.0, 10.0, 10.0, days=30), flat_forecast("A", "DE", 100.0, 100.0, 100.0, 100.0, days=60).iloc[30:]])
    # ...and a stale row before as_of is ignored
    stale = pd.DataFrame({"sku": ["A"], "market": ["DE"], "forecast_date": [AS_OF - dt.timedelta(days=3)], "p10": [1e6], "p50": [1e6], "p90": [1e6], "mean": [1e6]})
    out = build_inventory_plan(pd.concat([stale, fc]), stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)
    assert out.iloc[0]["mean_daily_demand"] == pytest.approx(10.0)
    # L = 90 > 60-day horizon: the whole horizon is used: (30 * 10 + 30 * 100) / 60 = 55
    long_lt = lead_times(("A", 5, 90.0, 5.0, 90.0))
    out = build_inventory_plan(fc, stock(), NO_ORDERS, long_lt, SKU_A, MARKET_NODES, AS_OF)
    assert out.iloc[0]["mean_daily_demand"] == pytest.approx(55.0)


def test_lead_time_falls_back_to_quote_with_fewer_than_three_receipts() -> None:
    fc = pd.concat([flat_forecast(s, "DE", 10.0, 10.0, 10.0, 10.0) for s in ("A", "B", "C")])
    lt = lead_times(
        ("A", 3, 30.0, 5.0, 21.0),  # enough receipts: observed
        ("B", 2, 40.0, 9.0, 20.0),  # too few: quote 20, σ_L = 0.25 * 20 = 5
        ("C", 0, None, None, 28.0),  # none: quote 28, σ_L = 7
    )
    sk = skus(("A", "x", 10.0, 1, 1), ("B", "x", 10.0, 1, 1), ("C", "x", 10.0, 1, 1))
    out = build_inventory_plan(fc, stock(), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF).set_index("sku")
    assert list(out["lead_time_source"]) == ["receipts", "quoted", "quoted"]
    assert list(out["lead_time_days"]) == [30.0, 20.0, 28.0]
    assert list(out["lead_time_std_days"]) == [5.0, 5.0, 7.0]
    assert out.loc["B", "safety_stock"] == pytest.approx(Z95 * math.sqrt(100 * 25))


def test_missing_sku_attributes_raise_naming_the_skus() -> None:
    fc = pd.concat([FC_A, flat_forecast("GHOST-1", "DE", 1.0, 2.0, 3.0, 2.0)])
    lt = pd.concat([LT_A, lead_times(("GHOST-1", 0, None, None, 10.0))])
    with pytest.raises(ValueError, match="missing from `skus`.*GHOST-1"):
        build_inventory_plan(fc, stock(), NO_ORDERS, lt, SKU_A, MARKET_NODES, AS_OF)
    # a SKU known only through its stock is named too
    with pytest.raises(ValueError, match="GHOST-2"):
        build_inventory_plan(FC_A, stock(("GHOST-2", "NL-AMS", 3)), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)


def test_null_unit_cost_raises_naming_the_sku() -> None:
    bad = skus(("A", "kitchen", float("nan"), 500, 24))
    with pytest.raises(ValueError, match=r"unit_cost_eur.*\bA\b"):
        build_inventory_plan(FC_A, stock(), NO_ORDERS, LT_A, bad, MARKET_NODES, AS_OF)


def test_missing_lead_time_raises_naming_the_sku() -> None:
    with pytest.raises(ValueError, match=r"lead_times.*\bA\b"):
        build_inventory_plan(FC_A, stock(), NO_ORDERS, LT_A.iloc[:0], SKU_A, MARKET_NODES, AS_OF)


def test_only_active_rows_in_sku_node_order_with_the_contract_columns() -> None:
    fc = pd.concat([flat_forecast("B", "US", 1.0, 2.0, 3.0, 2.0), flat_forecast("A", "DE", 10.0, 10.0, 10.0, 10.0), flat_forecast("C", "FR", 0.0, 0.0, 0.0, 0.0)])
    sk = skus(("A", "x", 10.0, 1, 1), ("B", "x", 10.0, 1, 1), ("C", "x", 10.0, 1, 1), ("D", "x", 1.0, 1, 1))
    lt = lead_times(("A", 0, None, None, 10.0), ("B", 0, None, None, 10.0), ("C", 0, None, None, 10.0), ("D", 0, None, None, 10.0))
    on_hand = stock(("B", "GB-BHX", 0), ("D", "AU-SYD", 0), ("A", "US-EWR", 5))
    open_po = orders(("D", "JP-NRT", 12))
    out = build_inventory_plan(fc, on_hand, open_po, lt, sk, MARKET_NODES, AS_OF)
    assert list(out.columns) == list(PLAN_COLUMNS)
    # C has an all-zero forecast and no stock; B@GB-BHX and D@AU-SYD hold nothing: all inactive
    assert list(zip(out["sku"], out["node"])) == [("A", "NL-AMS"), ("A", "US-EWR"), ("B", "US-EWR"), ("D", "JP-NRT")]
    assert out.index.tolist() == [0, 1, 2, 3]
    assert (out["as_of"] == pd.Timestamp(AS_OF)).all()
    assert (out["service_level"] == 0.95).all()
    assert out["recommended_order_qty"].dtype == np.int64


def test_zero_mean_but_positive_p90_is_active_and_still_protected() -> None:
    # mean = 0 (and p50 = 0) but p90 = 2.5632: σ_d = 1/day, d̄ = 0. With L = 16 (quoted, σ_L = 4):
    # SS = z * sqrt(16 * 1) = 4 z = 6.58; no stock -> order up to SS, at least MOQ 10 -> 10
    fc = flat_forecast("I", "DE", 0.0, 0.0, 2.5632, 0.0)
    out = build_inventory_plan(
        fc, stock(), NO_ORDERS, lead_times(("I", 0, None, None, 16.0)), skus(("I", "x", 3.0, 10, 5)),
        MARKET_NODES, AS_OF,
    )
    row = out.iloc[0]
    assert row["safety_stock"] == pytest.approx(4 * Z95)
    assert row["order_quantity"] == 0
    assert row["action"] == "reorder now"
    assert row["recommended_order_qty"] == 10


def test_intermittent_sku_with_zero_median_plans_on_mean() -> None:
    # An intermittent SKU: most days sell nothing, so p50 = 0, but it sells 0.4/day on average.
    # d̄ = mean = 0.4 (p50 would give 0), σ_d = 2.5632 / 2.5632 = 1. L = 16 quoted, σ_L = 4:
    #   lead-time demand = 0.4 * 16 = 6.4
    #   SS  = z * sqrt(16 * 1 + 0.4² * 4²) = z * sqrt(18.56) = 1.6449 * 4.30813 = 7.086
    #   ROP = 6.4 + 7.086 = 13.486   (p50-based: 0 + 4 z = 6.58)
    #   EOQ = sqrt(2 * 146 * 50 / 0.75) = 139.52 -> MOQ 10, packs of 5 -> 140   (p50-based: 0)
    #   no stock: S - IP = 13.486 + 140 = 153.486 -> 155
    lt = lead_times(("I", 0, None, None, 16.0))
    sk = skus(("I", "x", 3.0, 10, 5))
    fc = flat_forecast("I", "DE", 0.0, 0.0, 2.5632, 0.4)
    row = build_inventory_plan(fc, stock(), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF).iloc[0]
    ss = Z95 * math.sqrt(18.56)
    assert row["mean_daily_demand"] == pytest.approx(0.4)
    assert row["demand_std_daily"] == pytest.approx(1.0)
    assert row["lead_time_demand"] == pytest.approx(6.4)
    assert row["safety_stock"] == pytest.approx(ss)
    assert row["reorder_point"] == pytest.approx(6.4 + ss)
    assert row["reorder_point"] > 4 * Z95  # above what a p50-based d̄ = 0 would give
    assert row["order_quantity"] == 140
    assert (row["action"], row["recommended_order_qty"]) == ("expedite or transfer", 155)  # nothing on hand, 16 days out
    # cover counts in expected units too: 30 on hand / 0.4 per day = 75 days
    row = build_inventory_plan(fc, stock(("I", "NL-AMS", 30)), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF).iloc[0]
    assert row["days_of_cover"] == pytest.approx(75.0)
    # p50 plays no part in the plan
    other_p50 = fc.assign(p50=0.3)
    pd.testing.assert_frame_equal(
        build_inventory_plan(fc, stock(), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF),
        build_inventory_plan(other_p50, stock(), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF),
    )


def test_very_slow_mover_with_zero_p90_is_active_through_its_mean() -> None:
    # Sells on fewer than 1 day in 10: p10 = p50 = p90 = 0, yet mean = 0.05/day, and no stock.
    # d̄ = 0.05, σ_d = 0, L = 16 ± 4: SS = z * 0.05 * 4 = 0.2 z, ROP = 0.8 + 0.2 z = 1.129
    # EOQ = sqrt(2 * 18.25 * 50 / 0.75) = 49.33 -> 50; S - IP = 51.13 -> 55
    fc = flat_forecast("S", "US", 0.0, 0.0, 0.0, 0.05)
    out = build_inventory_plan(
        fc, stock(), NO_ORDERS, lead_times(("S", 0, None, None, 16.0)), skus(("S", "x", 3.0, 10, 5)),
        MARKET_NODES, AS_OF,
    )
    assert list(zip(out["sku"], out["node"])) == [("S", "US-EWR")]
    row = out.iloc[0]
    assert row["mean_daily_demand"] == pytest.approx(0.05)
    assert row["reorder_point"] == pytest.approx(0.8 + 0.2 * Z95)
    assert (row["order_quantity"], row["action"], row["recommended_order_qty"]) == (50, "expedite or transfer", 55)


def test_forecast_without_mean_column_is_rejected_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"must carry `mean` \(expected units") as err:
        build_inventory_plan(FC_A.drop(columns="mean"), stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)
    assert "p50" in str(err.value) and "median" in str(err.value)  # says why p50 cannot stand in


@pytest.mark.parametrize("bad", [float("nan"), -0.5, float("inf")])
def test_null_negative_or_infinite_mean_is_rejected_naming_the_sku(bad: float) -> None:
    fc = pd.concat([FC_A, flat_forecast("B", "DE", 1.0, 2.0, 3.0, 2.0)], ignore_index=True)
    fc.loc[fc.index[-1], "mean"] = bad
    with pytest.raises(ValueError, match=r"`forecast`\.mean.*\bB\b"):
        build_inventory_plan(fc, stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)


def test_deterministic_regardless_of_input_order() -> None:
    fc = pd.concat([flat_forecast(s, m, 1.0, 3.0, 6.0, 3.0) for s in ("B", "A") for m in ("US", "DE", "FR")])
    sk = skus(("A", "x", 10.0, 1, 1), ("B", "x", 10.0, 1, 1))
    lt = lead_times(("A", 4, 12.0, 2.0, 10.0), ("B", 0, None, None, 10.0))
    a = build_inventory_plan(fc, stock(), NO_ORDERS, lt, sk, MARKET_NODES, AS_OF)
    b = build_inventory_plan(fc.sample(frac=1.0, random_state=7), stock(), NO_ORDERS, lt.iloc[::-1], sk.iloc[::-1], MARKET_NODES, AS_OF)
    pd.testing.assert_frame_equal(a, b)


def test_classes_set_the_service_level_and_method_and_arrivals_move_the_stockout() -> None:
    """SKU A with a class (B / lumpy -> 0.92, simulated), a sales history and an open PO arriving on day 20."""
    classes = pd.DataFrame(
        {"sku": ["A"], "node": ["NL-AMS"], "abc": ["B"], "pattern": ["lumpy"], "target_service_level": [0.92], "ss_method": ["simulated"]}
    )
    days = pd.date_range(pd.Timestamp(AS_OF) - pd.Timedelta(days=363), pd.Timestamp(AS_OF))
    history = pd.DataFrame({"sku": "A", "market": "DE", "demand_date": days, "units_sold": np.where(np.arange(364) % 5 == 0, 50, 0)})
    arrivals = pd.DataFrame({"sku": ["A"], "node": ["NL-AMS"], "expected_arrival_date": [pd.Timestamp("2025-03-21")], "quantity": [400]})
    oo = orders(("A", "NL-AMS", 400))
    row = build_inventory_plan(
        FC_A, stock(("A", "NL-AMS", 100)), oo, LT_A, SKU_A, MARKET_NODES, AS_OF,
        classes=classes, demand_history=history, arrivals=arrivals,
    ).iloc[0]
    assert (row["abc"], row["pattern"], row["ss_method"], row["service_level"]) == ("B", "lumpy", "simulated", 0.92)
    assert row["z"] == pytest.approx(1.4050715603)
    assert row["reorder_point"] >= 300.0 and row["safety_stock"] == pytest.approx(row["reorder_point"] - 300.0)
    # 100 on hand at 10/day runs out on day 11 before the PO lands on day 20
    assert row["projected_stockout_date"] == pd.Timestamp("2025-03-12")
    late = build_inventory_plan(
        FC_A, stock(("A", "NL-AMS", 250)), oo, LT_A, SKU_A, MARKET_NODES, AS_OF,
        classes=classes, demand_history=history, arrivals=arrivals,
    ).iloc[0]
    # 250 lasts 25 days on its own, but the PO on day 20 carries it to day 65: beyond the 60-day horizon
    assert pd.isna(late["projected_stockout_date"])
    assert late["below_safety_stock_date"] <= pd.Timestamp("2025-04-30")


def test_a_node_without_stock_data_keeps_its_targets_and_invents_no_verdict() -> None:
    fc = pd.concat([flat_forecast("A", "DE", 10.0, 10.0, 10.0, 10.0), flat_forecast("A", "US", 10.0, 10.0, 10.0, 10.0)])
    known = build_inventory_plan(fc, stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)
    out = build_inventory_plan(fc, stock(), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF, stock_unknown_nodes={"NL-AMS"})
    # as if on hand were 0, both nodes would run out at once, before any order could land
    assert (known["action"] == "expedite or transfer").all() and known["projected_stockout_date"].notna().all()
    by_node = out.set_index("node")
    blind, seen = by_node.loc["NL-AMS"], by_node.loc["US-EWR"]
    assert blind["action"] == "no stock data: targets only"
    assert blind["stock_basis"] == "unknown: no inventory feed for this node"
    for col in ("on_hand", "inventory_position", "recommended_order_qty", "days_of_cover", "excess_units",
                "order_by_date", "projected_stockout_date", "below_safety_stock_date"):
        assert pd.isna(blind[col]), col
    # the targets do not depend on stock: same as when stock is known
    for col in ("safety_stock", "reorder_point", "order_quantity", "order_up_to"):
        assert blind[col] == known.set_index("node").loc["NL-AMS", col], col
    # the other node is planned as before
    assert seen["stock_basis"] == "inventory snapshot" and seen["action"] == "expedite or transfer"
    assert seen["recommended_order_qty"] == known.set_index("node").loc["US-EWR", "recommended_order_qty"]


def test_the_plan_says_where_each_sku_cost_comes_from() -> None:
    assumed = SKU_A.assign(cost_basis="assumed: share of median selling price")
    out = build_inventory_plan(FC_A, stock(("A", "NL-AMS", 100)), NO_ORDERS, LT_A, assumed, MARKET_NODES, AS_OF)
    assert list(out["cost_basis"]) == ["assumed: share of median selling price"]
    plain = build_inventory_plan(FC_A, stock(("A", "NL-AMS", 100)), NO_ORDERS, LT_A, SKU_A, MARKET_NODES, AS_OF)
    assert list(plain["cost_basis"]) == ["catalogue"]


def test_stock_of_a_sku_with_no_terms_is_set_aside_and_named_not_fatal():
    from planning.inputs import set_aside_skus_without_terms

    position = pd.DataFrame({"sku": ["A", "GHOST", "B"], "node": ["N1", "N1", "N2"], "on_hand": [5, 7, 0], "on_order": [0, 0, 3]})
    skus = pd.DataFrame({"sku": ["A", "B"], "unit_cost_eur": [2.0, 3.0]})
    lead_times = pd.DataFrame({"sku": ["A", "B"]})
    kept, set_aside = set_aside_skus_without_terms(position, skus, lead_times)
    assert set_aside == ["GHOST"]
    assert kept["sku"].tolist() == ["A", "B"] and kept["on_hand"].tolist() == [5, 0]
    kept, set_aside = set_aside_skus_without_terms(position, skus, lead_times[lead_times["sku"] == "A"])
    assert set_aside == ["B", "GHOST"]
    # a catalogue cost of 0, or one without an EUR rate, on a SKU never sold (dim_sku has no price to assume from):
    # no cost to plan with, so set aside, where it stopped every SKU's plan (a planner's test)
    costless = skus.assign(unit_cost_eur=[0.0, None])
    kept, set_aside = set_aside_skus_without_terms(position, costless, lead_times)
    assert set_aside == ["A", "B", "GHOST"] and kept.empty
