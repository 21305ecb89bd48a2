"""The plan's exceptions on hand-made frames: each rule, the status fold and the log."""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from crossdock.merchant_config import ConfigError, parse_config
from crossdock.merchant_settings import ExceptionSettings
from crossdock.plan_labels import AS_PLANNED, EXPEDITE, NONE_FEASIBLE
from sop.exception_log import read_log, write_log
from sop.exception_status import fold_status, latest_updates, unknown_updates
from sop.exception_rows import RAISED_COLUMNS
from sop.exceptions import (
    forecast_bias,
    market_held_back,
    no_held_back,
    landed_cost_jump,
    negative_fva,
    raise_exceptions,
    stopped_selling,
    unlike_last_year,
)
from sop.last_year import last_year_figures
from sop.purchase_order_exceptions import overdue_purchase_order
from sop.stock_exceptions import below_safety_stock, excess, expedite, moq_outlasts_demand
from sop.stopped_figures import stopped_series_figures

AS_OF = dt.date(2026, 10, 30)


def plan_row(sku: str, node: str, action: str, **values) -> dict:
    row = {
        "sku": sku, "node": node, "action": action, "on_hand": 100.0, "safety_stock": 20.0, "unit_cost_eur": 2.0,
        "lead_time_days": 30.0, "projected_stockout_date": pd.NaT, "recommended_order_qty": 0,
        "order_by_date": pd.NaT, "transfer_in_units": 0, "transfer_out_units": 0, "days_of_cover": 50.0,
        "excess_units": 0.0, "excess_value_eur": 0.0, "mean_daily_demand": 2.0, "moq": 1, "pack_size": 1,
        "supplier_id": "SUP-1",
    }
    return row | values


@pytest.fixture
def plan() -> pd.DataFrame:
    return pd.DataFrame([
        plan_row("A", "DE-FRA", EXPEDITE, on_hand=3.0, projected_stockout_date=pd.Timestamp("2026-11-04")),
        plan_row("B", "DE-FRA", EXPEDITE, on_hand=30.0, projected_stockout_date=pd.Timestamp("2026-11-20")),
        plan_row("C", "US-EWR", "reorder now", on_hand=5.0, recommended_order_qty=40,
                 order_by_date=pd.Timestamp("2026-10-30"), transfer_in_units=10),
        plan_row("D", "US-EWR", "excess", on_hand=900.0, days_of_cover=400.0, excess_units=600.0,
                 excess_value_eur=1200.0, transfer_out_units=100),
        plan_row("E", "US-EWR", "ok", on_hand=20.0),  # at the safety stock, not below
        plan_row("F", "NL-AMS", "no stock data: targets only", on_hand=np.nan),  # unknown stock: no verdict
    ])


@pytest.fixture
def impact() -> pd.DataFrame:
    return pd.DataFrame([
        {"scenario": AS_PLANNED, "sku": "A", "node": "DE-FRA", "shortfall_units": 12.0, "contingency": "reroute",
         "contingency_detail": "from GB-BHX (12, customs +2.3 d)", "contingency_cost_eur": 9.0, "contingency_units": 12,
         "contingency_arrival_date": pd.Timestamp("2026-11-03")},
        {"scenario": AS_PLANNED, "sku": "B", "node": "DE-FRA", "shortfall_units": 5.0, "contingency": NONE_FEASIBLE,
         "contingency_detail": "expedite lands 3 d after the stock-out", "contingency_cost_eur": 40.0,
         "contingency_units": 5, "contingency_arrival_date": pd.Timestamp("2026-11-23")},
        # a disruption scenario's row for A is not the plan's own fix
        {"scenario": "SUP-1 out 4 weeks", "sku": "A", "node": "DE-FRA", "shortfall_units": 99.0, "contingency": "expedite",
         "contingency_detail": "by air", "contingency_cost_eur": 500.0, "contingency_units": 99,
         "contingency_arrival_date": pd.Timestamp("2026-11-06")},
    ])


def test_expedite_rows_carry_the_cheapest_fix_priced_for_the_plan_itself(plan, impact):
    rows = expedite(plan, impact).set_index("exception_id")
    assert list(rows.index) == ["expedite:A:DE-FRA", "expedite:B:DE-FRA"]
    a = rows.loc["expedite:A:DE-FRA"]
    assert (a["units_affected"], a["value_eur"], a["fix_cost_eur"]) == (12.0, 24.0, 9.0)
    assert a["fix"] == "reroute from GB-BHX (12, customs +2.3 d): 12 units, lands 2026-11-03"
    assert "runs out on 2026-11-04" in a["problem"] and a["default_owner"] == "supply planner"
    assert rows.loc["expedite:B:DE-FRA", "fix"].startswith("none feasible: expedite lands 3 d after")


def test_below_safety_stock_leaves_out_expedite_rows_and_unknown_stock(plan):
    rows = below_safety_stock(plan)
    # A is below its safety stock too, but it is an expedite: one exception per SKU x node and type, the graver
    assert rows["exception_id"].tolist() == ["below_safety_stock:C:US-EWR"]
    c = rows.iloc[0]
    assert (c["units_affected"], c["value_eur"], c["fix_cost_eur"]) == (15.0, 30.0, 80.0)
    assert c["fix"] == "transfer in 10 units; order 40 units by 2026-10-30 (€80.00 at cost)"
    # what is still bought after the transfer, where the plan says it (a review: 40 + 10 counted twice)
    after = below_safety_stock(plan.assign(purchase_after_transfers=[0, 0, 30, 0, 0, np.nan])).iloc[0]
    assert after["fix"] == "transfer in 10 units; order 30 units by 2026-10-30 (€60.00 at cost)"
    assert after["fix_cost_eur"] == 60.0


def test_excess_takes_the_plans_verdict_and_its_transfers_out(plan):
    rows = excess(plan)
    assert rows["exception_id"].tolist() == ["excess:D:US-EWR"]
    assert (rows.iloc[0]["units_affected"], rows.iloc[0]["value_eur"]) == (600.0, 1200.0)
    assert rows.iloc[0]["fix"] == "transfer out 100 units (transfer_recommendations)"
    assert rows.iloc[0]["problem"].startswith("900 on hand cover 400 days;")


def test_excess_at_the_plans_most_days_of_cover_says_ten_years_or_more(plan):
    plan.loc[plan["sku"] == "D", "days_of_cover"] = 3650.0
    assert excess(plan).iloc[0]["problem"].startswith("900 on hand cover 10 years or more;")


def test_an_order_the_suppliers_minimum_makes_years_of_stock_is_raised_with_its_units_beyond_a_year():
    """A buyer's review: a MOQ of 5,000 on a SKU selling about 180 a year was bought whole, and nothing said so."""
    plan = pd.DataFrame([
        plan_row("M", "US-EWR", "reorder now", mean_daily_demand=0.5, moq=5000, recommended_order_qty=5000,
                 purchase_after_transfers=5000, unit_cost_eur=3.0),
        plan_row("P", "US-EWR", "reorder now", mean_daily_demand=0.5, moq=1, pack_size=400, recommended_order_qty=400,
                 purchase_after_transfers=400, order_terms_assumed=True, supplier_id=None),
        plan_row("Y", "US-EWR", "reorder now", mean_daily_demand=0.5, moq=150, recommended_order_qty=150,
                 purchase_after_transfers=150),  # 300 days: within a year
        plan_row("T", "US-EWR", "reorder now", mean_daily_demand=0.5, moq=5000, recommended_order_qty=5000,
                 purchase_after_transfers=0),  # a transfer in covers it: nothing bought
        plan_row("Z", "US-EWR", "ok", mean_daily_demand=0.0, moq=5000),  # no demand, no order
        # the MOQ of 10 is ordered in whole packs of 6: 12 units, more than a year's 10.95
        plan_row("K", "US-EWR", "reorder now", mean_daily_demand=0.03, moq=10, pack_size=6, recommended_order_qty=12,
                 purchase_after_transfers=12),
        # one unit is the smallest any supplier sells: nothing to ask for
        plan_row("U", "US-EWR", "reorder now", mean_daily_demand=0.001, recommended_order_qty=1, purchase_after_transfers=1),
        # a held-back market sells it here too: its demand is partly unknown, so is the order's cover
        plan_row("H", "US-EWR", "reorder now", mean_daily_demand=0.5, moq=5000, recommended_order_qty=5000,
                 purchase_after_transfers=5000, demand_basis="partly unknown: a market the training-data gate held back"),
    ]).assign(order_terms_assumed=lambda f: pd.array([False, True, False, False, False, False, None, False], dtype="boolean"))
    plan["demand_basis"] = plan["demand_basis"].fillna("forecast")
    rows = moq_outlasts_demand(plan).set_index("sku")
    assert sorted(rows.index) == ["K", "M", "P"]
    assert "(MOQ 10 in packs of 6: 12) is 400 days" in rows.loc["K"]["problem"]
    m = rows.loc["M"]
    assert m["exception_id"] == "moq_outlasts_demand:M:US-EWR" and m["default_owner"] == "supply planner"
    assert m["units_affected"] == 4817 and m["value_eur"] == pytest.approx(4817 * 3)  # whole units beyond 182.5
    assert m["measure"] == pytest.approx(3650)  # 10,000 days, at the plan's most
    assert m["problem"] == ("the smallest order SUP-1 accepts (MOQ 5,000) is 10 years or more of demand at 0.50 a day: "
                            "this order of 5,000 units buys 4,817 beyond 365 days")
    assert m["fix"].startswith("ask SUP-1 for a smaller MOQ or pack")
    p = rows.loc["P"]
    assert "(a pack of 400) is 800 days" in p["problem"] and p["fix"].startswith("no supplier line names the terms")
    tighter = moq_outlasts_demand(plan.drop(columns="demand_basis"), ExceptionSettings(moq_cover_days=200)).set_index("sku")
    assert sorted(tighter.index) == ["H", "K", "M", "P", "Y"]  # without demand_basis (an older plan) H is judged
    assert "moq_outlasts_demand" in set(raise_exceptions(plan, pd.DataFrame(columns=["scenario", "sku", "node"]),
                                                         pd.DataFrame(), pd.DataFrame(), None)["type"])


def backtest_rows(sku: str, market: str, window: int, forecast: float, sold: float, days: int = 4) -> list[dict]:
    return [{"window": window, "sku": sku, "market": market, "forecast_date": pd.Timestamp("2026-09-01") + pd.Timedelta(days=d),
             "mean": forecast / days, "actual_regular": sold / days} for d in range(days)]


def test_forecast_bias_judges_the_latest_window_and_only_series_that_sold_enough():
    backtest = pd.DataFrame(
        backtest_rows("A", "DE", 1, forecast=140, sold=100)      # +40 %: raised
        + backtest_rows("A", "DE", 2, forecast=100, sold=100)    # an older window does not count
        + backtest_rows("B", "DE", 1, forecast=60, sold=100)     # -40 %: raised
        + backtest_rows("C", "DE", 1, forecast=125, sold=100)    # +25 %: within the threshold
        + backtest_rows("D", "DE", 1, forecast=9, sold=3)        # +200 % of 3 units: too few to judge
    )
    rows = forecast_bias(backtest).set_index("exception_id")
    assert list(rows.index) == ["forecast_bias:A:DE", "forecast_bias:B:DE"]
    assert rows["measure"].round(3).tolist() == [0.4, -0.4]
    assert rows["units_affected"].tolist() == [40.0, -40.0]
    assert "over-forecast by 40%" in rows.loc["forecast_bias:A:DE", "problem"]
    assert rows["default_owner"].unique().tolist() == ["demand planner"]
    stricter = forecast_bias(backtest, ExceptionSettings(forecast_bias_share=0.2, forecast_bias_min_units=1))
    assert stricter["exception_id"].tolist() == ["forecast_bias:A:DE", "forecast_bias:B:DE", "forecast_bias:C:DE",
                                                 "forecast_bias:D:DE"]


def test_a_series_forecast_zero_because_it_stopped_selling_is_raised_with_its_last_sale_and_what_it_sold_before():
    as_of, horizon = pd.Timestamp("2026-09-01"), 10
    selling_days = pd.DataFrame({
        "sku": ["B", "B", "B", "A", "A"], "market": ["DE", "DE", "DE", "US", "US"], "as_of": as_of, "horizon_days": horizon,
        # B's last sale 2026-08-20: its horizon's days are 08-11..08-20, so 08-10 is outside
        "demand_date": pd.to_datetime(["2026-08-10", "2026-08-11", "2026-08-20", "2026-06-01", "2026-07-01"]),
        "units_sold": [100, 3, 4, 7, 2],
    })
    stopped = stopped_series_figures(selling_days)
    assert stopped[["sku", "quiet_days", "units_before"]].values.tolist() == [["A", 62.0, 2.0], ["B", 12.0, 7.0]]
    rows = stopped_selling(stopped).set_index("exception_id")
    assert list(rows.index) == ["stopped_selling:A:US", "stopped_selling:B:DE"]
    assert rows.loc["stopped_selling:B:DE", "problem"] == (
        "no sale since 2026-08-20 (12 days): forecast 0 in DE, so the plan orders nothing for its demand there; "
        "it sold 7 units in the 10 days before")
    assert rows["measure"].tolist() == [62.0, 12.0] and rows["market"].tolist() == ["US", "DE"]
    assert rows["units_affected"].tolist() == [2.0, 7.0] and rows["default_owner"].unique().tolist() == ["demand planner"]
    assert "out of stock" in rows.iloc[0]["fix"]
    assert stopped_selling(stopped.iloc[:0]).empty and stopped_series_figures(selling_days.iloc[:0]).empty


def de_figures(**columns: list) -> pd.DataFrame:
    """`sop.last_year.LAST_YEAR_COLUMNS` for one market grown 1.25x like for like, planned over 56 days after 2026-10-30."""
    n = len(columns["sku"])
    return pd.DataFrame({
        "market": ["DE"] * n, "first_day": pd.Timestamp("2026-10-31"), "last_day": pd.Timestamp("2026-12-25"),
        "first_sale_date": pd.Timestamp("2024-06-01"), "market_recent_units": 5000.0, "market_year_before_units": 4000.0,
        **columns,
    })


def test_a_plan_far_below_or_above_the_same_weeks_last_year_grown_by_its_market_is_raised_with_what_that_implies():
    figures = de_figures(
        sku=["XMAS", "STEADY", "SUMMER", "TINY", "NEW", "GONE", "NONE"],
        plan_units=[97.0, 130.0, 60.0, 5.0, 90.0, 0.0, 90.0],
        last_year_units=[176.0, 100.0, 20.0, 12.0, 30.0, 80.0, 0.0],
    ).assign(first_sale_date=lambda f: f["first_sale_date"].where(f["sku"] != "NEW", pd.Timestamp("2025-10-20")))
    rows = unlike_last_year(figures).set_index("sku")
    # XMAS: 176 x 1.25 = 220, plan 97 under half; SUMMER: 20 x 1.25 = 25, plan 60 over twice; STEADY 130 of 125 is
    # no gap; TINY is under 28 units either way; NEW first sold 12 days before last year's weeks (2025-11-01);
    # GONE is planned 0; NONE sold nothing in last year's weeks: no shape, and a stock-out then looks the same
    assert sorted(rows.index) == ["SUMMER", "XMAS"]
    assert rows.loc["XMAS", "exception_id"] == "unlike_last_year:XMAS:DE"
    assert rows.loc["XMAS", "problem"] == (
        "plan 97 units from 2026-10-31 to 2026-12-25; the same weeks last year sold 176, 220 at DE's growth since "
        "(1.25x, like for like): the plan is 44% of that")
    assert rows.loc["XMAS", "units_affected"] == pytest.approx(97 - 220)
    assert rows.loc["XMAS", "measure"] == pytest.approx((97 - 220) / 220)
    assert rows.loc["SUMMER", "measure"] == pytest.approx((60 - 25) / 25)
    assert "override of 220 units for these weeks (+127% on the plan" in rows.loc["XMAS", "fix"]
    assert "(-58% on the plan" in rows.loc["SUMMER", "fix"] and rows.loc["XMAS", "default_owner"] == "demand planner"
    looser = unlike_last_year(figures, ExceptionSettings(last_year_factor=3.0))
    assert looser["sku"].tolist() == []  # 97 is over a third of 220, 60 under three times 25


def test_a_market_without_like_for_like_units_in_both_windows_is_not_judged_against_last_year():
    figures = de_figures(sku=["XMAS"], plan_units=[10.0], last_year_units=[176.0])
    assert len(unlike_last_year(figures)) == 1
    assert unlike_last_year(figures.assign(market_year_before_units=0.0)).empty
    assert unlike_last_year(figures.assign(market_recent_units=0.0)).empty  # a growth of 0 would imply nothing
    assert unlike_last_year(figures.iloc[:0]).empty


def test_a_market_held_back_by_the_training_data_gate_is_raised_with_the_demand_the_plan_leaves_out():
    """The run exits 0 and the check only warns: without an exception, a schedule would plan without AU for weeks."""
    held = pd.DataFrame({"market": ["AU", "SV", "ROW"], "last_sale_date": [pd.Timestamp("2026-10-16"), pd.NaT, pd.NaT],
                         "quiet_days": [14.0, np.nan, np.nan], "units_year": [2738.0, 0.0, 0.0],
                         "share_year": [0.061, 0.0, 0.0], "is_catch_all": [False, False, True], "catch_all_exists": True})
    rows = market_held_back(held).set_index("exception_id")
    assert list(rows.index) == ["market_held_back:AU", "market_held_back:ROW", "market_held_back:SV"]
    au = rows.loc["market_held_back:AU"]
    assert au["problem"] == (
        "the training-data gate held AU back (its own order history failed the gate: the run's check names the days): "
        "this plan has no forecast for AU, its 2,738 units of the last 364 days (6.1% of all markets') are not planned "
        "and its stock is neither called idle nor moved; last sale 2026-10-16, 14 days ago")
    assert (au["market"], au["subject"], au["units_affected"], au["measure"]) == ("AU", "market AU", 2738.0, 0.061)
    assert pd.isna(au["sku"]) and pd.isna(au["node"]) and au["default_owner"] == "demand planner"
    assert au["fix"] == ("land AU's missing or corrected orders (landing/orders/); if AU really stopped selling, take "
                         "it out of crossdock.yaml's markets (its countries then plan in the catch-all market)")
    assert rows.loc["market_held_back:ROW", "fix"].endswith("ROW is the catch-all market, the countries crossdock.yaml "
                                                           "does not name")
    alone = market_held_back(held.iloc[:1].assign(catch_all_exists=False)).iloc[0]
    assert alone["fix"].endswith("with no catch-all market its countries then go unplanned: publish.market_coverage lists them)")
    assert rows.loc["market_held_back:SV", "problem"].endswith("last sale never")  # only returns there
    assert market_held_back(no_held_back()).empty


def fva_rows(*rows: tuple, days: int = 30, units: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame([(*row, days, 56, units) for row in rows],
                        columns=["cycle", "scope", "scope_value", "fva_vs_statistical", "days_scored", "horizon_days",
                                 "actual_units"])


def test_negative_fva_raises_the_latest_cycles_scopes_that_made_the_forecast_worse():
    fva = fva_rows(
        ("2026-10", "author", "ana", -0.05),
        ("2026-11", "author", "ana", 0.02),
        ("2026-11", "author", "ben", -0.04),
        ("2026-11", "market", "DE", -0.01),
        ("2026-11", "overall", "all", -0.01),  # not a scope anyone owns
        ("2026-11", "reason_code", "promo", 0.0),
    )
    rows = negative_fva(fva)
    assert rows["exception_id"].tolist() == ["negative_fva:author:ben", "negative_fva:market:DE"]
    assert rows["market"].tolist() == [None, "DE"]
    assert "cycle 2026-11" in rows.iloc[0]["problem"]
    assert "(value added -0.040 in weekly WAPE, on 30 scored days of the horizon's 56)" in rows.iloc[0]["problem"]
    assert negative_fva(None).empty and negative_fva(fva.iloc[0:0]).empty
    assert list(negative_fva(None).columns) == list(RAISED_COLUMNS)


def test_negative_fva_waits_for_a_week_of_actuals_and_enough_units_to_judge():
    """A cycle scored on its first day raised six exceptions, one on a single unit sold (a planner's test): until the
    new cycle has a week of actuals the last judged cycle's verdicts stand; a scope that sold too little is not judged."""
    older = fva_rows(("2026-10", "author", "ana", -0.05))
    first_day = fva_rows(("2026-11", "author", "ben", -0.30), ("2026-11", "category", "toys", -0.33), days=1, units=40)
    assert negative_fva(pd.concat([older, first_day]))["exception_id"].tolist() == ["negative_fva:author:ana"]
    week = fva_rows(("2026-11", "author", "ben", -0.30), ("2026-11", "category", "toys", -0.33), days=7, units=40)
    week.loc[1, "actual_units"] = 1.0
    assert negative_fva(pd.concat([older, week]))["exception_id"].tolist() == ["negative_fva:author:ben"]
    strict = ExceptionSettings(fva_min_days=14)
    assert negative_fva(pd.concat([older, week]), strict)["exception_id"].tolist() == ["negative_fva:author:ana"]
    # an author whose week began before the horizon moved 4 of its days: the cycle's 28 days count, not their 4
    late_week = pd.concat([fva_rows(("2026-11", "all", "all", 0.01), days=28),
                           fva_rows(("2026-11", "author", "ben", -0.64), days=4, units=60)])
    assert negative_fva(late_week)["exception_id"].tolist() == ["negative_fva:author:ben"]


def compliance(landed: float, duty: float | None, regime: str, primary: bool = True, sku: str = "A",
               market: str = "US", node: str = "US-EWR") -> dict:
    return {"sku": sku, "market": market, "fulfilment_node": node, "is_primary_route": primary,
            "landed_cost_eur_per_unit": landed, "duty_rate": duty, "vat_rate": 0.0, "de_minimis_regime": regime}


def test_a_landed_cost_jump_needs_a_rise_and_a_border_rule_change():
    before = pd.DataFrame([
        compliance(10.0, 0.0, "us_de_minimis"),
        compliance(10.0, 0.05, "us_de_minimis", sku="B"),
        compliance(10.0, 0.05, "us_de_minimis", sku="C"),
        compliance(10.0, 0.0, "us_de_minimis", sku="D", primary=False, node="GB-BHX"),
    ])
    now = pd.DataFrame([
        compliance(12.5, 0.0, "us_de_minimis_suspended"),  # +25 % with the regime change: raised
        compliance(13.0, 0.05, "us_de_minimis", sku="B"),   # +30 % with no rule change (a price move): not raised
        compliance(10.5, 0.10, "us_de_minimis", sku="C"),   # a rule change, +5 %: under the threshold
        compliance(20.0, 0.2, "us_de_minimis_suspended", sku="D", primary=False, node="GB-BHX"),  # not the primary route
    ])
    rows = landed_cost_jump(now, before)
    assert rows["exception_id"].tolist() == ["landed_cost_jump:A:US"]
    row = rows.iloc[0]
    assert (row["value_eur"], row["measure"], row["node"]) == (2.5, 0.25, "US-EWR")
    assert row["problem"] == ("landed cost per unit €10.00 -> €12.50 (+25%) since the previous plan: "
                              "de minimis regime us_de_minimis -> us_de_minimis_suspended")
    assert row["default_owner"] == "compliance"
    assert landed_cost_jump(now, None).empty  # the first plan has nothing to compare with
    assert landed_cost_jump(now, before, ExceptionSettings(landed_cost_rise_share=0.01))["exception_id"].tolist() == [
        "landed_cost_jump:A:US", "landed_cost_jump:C:US"]


def test_a_landed_cost_that_became_unknown_is_not_read_as_a_jump():
    """A duty rate that left the seeds makes the landed cost null (unknown), not 0 or a number: there is no rise to
    measure, so nothing is raised; the compliance plan's own unknowns and flags name the missing rate."""
    before = pd.DataFrame([compliance(10.0, 0.12, "us_de_minimis_suspended")])
    now = pd.DataFrame([compliance(None, None, "us_de_minimis_suspended")])
    assert landed_cost_jump(now, before).empty
    assert landed_cost_jump(before, now).empty  # nor from an unknown one to a known one


def test_raise_exceptions_lists_every_type_in_order_and_owners_come_from_the_config(plan, impact):
    settings = parse_config({
        "nodes": [{"code": "US-EWR", "country": "US"}],
        "markets": [{"code": "US", "currency": "USD", "timezone": "America/New_York", "node": "US-EWR"}],
        "exceptions": {"owners": {"excess": "ops lead"}, "forecast_bias_share": 0.5},
    }).exceptions
    stopped = pd.DataFrame({"sku": ["A"], "market": ["DE"], "last_sale_date": [pd.Timestamp("2026-08-01")],
                            "quiet_days": [30.0], "horizon_days": [56], "units_before": [12.0]})
    held = pd.DataFrame({"market": ["AU"], "last_sale_date": [pd.Timestamp("2026-08-01")], "quiet_days": [14.0],
                         "units_year": [2738.0], "share_year": [0.061], "is_catch_all": False, "catch_all_exists": False})
    rows = raise_exceptions(plan, impact, pd.DataFrame(backtest_rows("A", "DE", 1, 140, 100)), pd.DataFrame(), None,
                            None, settings, stopped, held)
    assert rows["type"].tolist() == ["market_held_back", "expedite", "expedite", "below_safety_stock", "excess",
                                     "stopped_selling"]  # bias 40 % < 50 %
    assert rows.set_index("type").loc["excess", "default_owner"] == "ops lead"
    assert rows.set_index("type").loc["below_safety_stock", "default_owner"] == "supply planner"
    with pytest.raises(ConfigError, match="unknown exception type"):
        parse_config({"nodes": [{"code": "X", "country": "US"}],
                      "markets": [{"code": "US", "currency": "USD", "timezone": "UTC", "node": "X"}],
                      "exceptions": {"owners": {"stockout": "me"}}})


def raised(*ids: str, value: float = 1.0) -> pd.DataFrame:
    rows = []
    for exception_id in ids:
        kind, sku, where = exception_id.split(":")
        rows.append({"exception_id": exception_id, "type": kind, "sku": sku, "market": None, "node": where,
                     "subject": f"{sku} at {where}", "problem": "p", "units_affected": value, "value_eur": value, "measure": np.nan,
                     "fix": None, "fix_cost_eur": np.nan, "default_owner": ExceptionSettings().owner(kind)})
    return pd.DataFrame(rows, columns=list(RAISED_COLUMNS))


def updates(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["exception_id", "updated_at_utc", "updated_by", "status", "owner", "note"])
    frame["updated_at_utc"] = pd.to_datetime(frame["updated_at_utc"])
    return frame


def test_the_latest_update_wins_an_empty_owner_keeps_the_last_and_every_update_is_history():
    trail = updates(
        ("expedite:A:DE-FRA", "2026-10-30 14:45", "ben", "resolved", None, "air booked"),
        ("expedite:A:DE-FRA", "2026-10-30 09:02", "ben", "acknowledged", "ben", "asked the forwarder"),
    )
    status = latest_updates(trail).set_index("exception_id").loc["expedite:A:DE-FRA"]
    assert (status["status"], status["owner"], status["updates"], status["last_note"]) == ("resolved", "ben", 2, "air booked")
    assert status["history"] == ("2026-10-30 09:02 UTC ben: acknowledged, owner ben: asked the forwarder | "
                                 "2026-10-30 14:45 UTC ben: resolved: air booked")


def test_fold_status_keeps_history_of_what_is_no_longer_raised_and_defaults_to_open():
    day1, day2 = dt.date(2026, 10, 29), dt.date(2026, 10, 30)
    first, log1 = fold_status(raised("expedite:A:DE-FRA", "excess:D:US-EWR"), None, None, day1)
    assert first["status"].tolist() == ["open", "open"] and first["is_open"].all()
    assert first["owner"].tolist() == ["supply planner", "supply planner"]
    trail = updates(("expedite:A:DE-FRA", "2026-10-29 10:00", "ben", "in_progress", "ben", None),
                    ("nobody:raised:this", "2026-10-29 10:00", "ben", "open", None, None))
    # day 2: A is still raised, D is not any more, B is new
    second, log2 = fold_status(raised("expedite:A:DE-FRA", "expedite:B:DE-FRA", value=7.0), log1, trail, day2)
    rows = second.set_index("exception_id")
    assert list(rows.index) == ["expedite:A:DE-FRA", "expedite:B:DE-FRA", "excess:D:US-EWR"]  # open ones first
    assert rows.loc["expedite:A:DE-FRA", ["status", "owner", "is_open"]].tolist() == ["in_progress", "ben", True]
    assert rows.loc["expedite:A:DE-FRA", "first_raised_date"] == pd.Timestamp(day1)
    assert rows.loc["expedite:A:DE-FRA", "last_seen_date"] == pd.Timestamp(day2)
    assert rows.loc["expedite:A:DE-FRA", "units_affected"] == 7.0  # today's figures
    gone = rows.loc["excess:D:US-EWR"]
    assert (gone["raised"], gone["is_open"], gone["status"], gone["units_affected"]) == (False, False, "open", 1.0)
    assert gone["last_seen_date"] == pd.Timestamp(day1)
    assert log2["exception_id"].tolist() == ["expedite:A:DE-FRA", "expedite:B:DE-FRA"]
    assert unknown_updates(trail, second) == ["nobody:raised:this"]
    # the same day again with its own rows already in the log: the same result
    again, _ = fold_status(raised("expedite:A:DE-FRA", "expedite:B:DE-FRA", value=7.0),
                           pd.concat([log1, log2], ignore_index=True), trail, day2)
    pd.testing.assert_frame_equal(again, second)
    # resolved: off the open list while the plan still raises it
    closed, _ = fold_status(raised("expedite:A:DE-FRA"), pd.concat([log1, log2]), pd.concat([trail, updates(
        ("expedite:A:DE-FRA", "2026-10-30 16:00", "ben", "resolved", None, "done"))]), day2)
    a = closed.set_index("exception_id").loc["expedite:A:DE-FRA"]
    assert (a["raised"], a["is_open"], a["status"], a["owner"]) == (True, False, "resolved", "ben")


def test_a_closed_exception_the_plan_stopped_raising_and_raises_again_is_open_again():
    """Dismissed as delisted, gone from the next plan, back later: a new occurrence, not the dismissed one."""
    def logged(frame: pd.DataFrame, at: str) -> pd.DataFrame:
        return frame.assign(logged_at=pd.Timestamp(at))

    x, other = "stopped_selling:A:DE", "excess:D:US-EWR"
    days = [dt.date(2026, 10, d) for d in (29, 30, 31)]
    _, log1 = fold_status(raised(x, other), None, None, days[0])
    dismissed = updates((x, "2026-10-29 12:00", "ana", "dismissed", None, "delisted"))
    dismissed["updated_at_utc"] = pd.to_datetime(dismissed["updated_at_utc"]).dt.tz_localize("UTC")  # as staged
    _, log2 = fold_status(raised(other), logged(log1, "2026-10-29 06:00"), dismissed, days[1])  # gone from the plan
    log = pd.concat([logged(log1, "2026-10-29 06:00"), logged(log2, "2026-10-30 06:00")], ignore_index=True)
    back, _ = fold_status(raised(x, other), log, dismissed, days[2])
    row = back.set_index("exception_id").loc[x]
    assert (row["status"], row["is_open"], row["raised"]) == ("open", True, True)
    assert row["history"].endswith("dismissed: delisted | raised again on 2026-10-31 after it was gone: open")
    # raised on every run since the dismissal: it stays dismissed
    steady = pd.concat([logged(log1, "2026-10-29 06:00"),
                        logged(fold_status(raised(x, other), log1, dismissed, days[1])[1], "2026-10-30 06:00")])
    kept, _ = fold_status(raised(x, other), steady, dismissed, days[2])
    assert kept.set_index("exception_id").loc[x, "status"] == "dismissed"
    # still back on the next day: the history keeps the day it came back
    _, log3 = fold_status(raised(x, other), log, dismissed, days[2])
    later, _ = fold_status(raised(x, other), pd.concat([log, logged(log3, "2026-10-31 06:00")]), dismissed,
                           dt.date(2026, 11, 1))
    assert later.set_index("exception_id").loc[x, "history"].endswith("raised again on 2026-10-31 after it was gone: open")
    # a backfill of a day before it existed, run after the dismissal, is no gap of this occurrence
    _, before = fold_status(raised(other), None, None, dt.date(2026, 10, 20))
    backfilled = pd.concat([steady, logged(before, "2026-10-30 07:00")])
    assert fold_status(raised(x, other), backfilled, dismissed, days[2])[0].set_index("exception_id").loc[x, "status"] == "dismissed"
    # nor is a later gap for a re-run of the day it was dismissed on
    rerun, _ = fold_status(raised(x, other), log, dismissed, days[0])
    assert rerun.set_index("exception_id").loc[x, "status"] == "dismissed"
    # nor a re-run, after the dismissal, of a gap the owner had seen before dismissing it
    seen_gap = pd.concat([logged(log1, "2026-10-29 06:00"),
                          logged(fold_status(raised(other), None, None, dt.date(2026, 10, 28))[1], "2026-10-30 08:00"),
                          logged(fold_status(raised(x, other), None, None, dt.date(2026, 10, 27))[1], "2026-10-27 06:00"),
                          logged(fold_status(raised(x, other), None, None, days[1])[1], "2026-10-30 06:00")])
    assert fold_status(raised(x, other), seen_gap, dismissed, days[2])[0].set_index("exception_id").loc[x, "status"] == "dismissed"
    # a log that starts after the occurrence the owner closed: days after the update without it are a gap
    no_history = logged(log2, "2026-10-30 06:00")
    reopened = fold_status(raised(x, other), no_history, dismissed, days[2])[0].set_index("exception_id").loc[x]
    assert reopened["status"] == "open" and reopened["history"].endswith("raised again on 2026-10-31 after it was gone: open")


def test_a_landed_cost_jump_stays_raised_until_its_owner_closes_it():
    jump = raised("excess:X:US").assign(exception_id="landed_cost_jump:X:US", type="landed_cost_jump",
                                          default_owner="compliance", value_eur=2.5)
    _, log1 = fold_status(jump, None, None, dt.date(2026, 10, 29))
    later, log2 = fold_status(raised(), log1, None, dt.date(2026, 10, 30))  # the next plan sees no change
    row = later.set_index("exception_id").loc["landed_cost_jump:X:US"]
    assert (row["raised"], row["is_open"], row["value_eur"]) == (True, True, 2.5)
    assert log2["exception_id"].tolist() == ["landed_cost_jump:X:US"]
    dismissed = updates(("landed_cost_jump:X:US", "2026-10-30 09:00", "cho", "dismissed", None, "priced in"))
    after, log3 = fold_status(raised(), pd.concat([log1, log2]), dismissed, dt.date(2026, 10, 31))
    row = after.set_index("exception_id").loc["landed_cost_jump:X:US"]
    assert (row["raised"], row["is_open"], row["status"]) == (False, False, "dismissed")
    assert log3.empty


def test_the_log_replaces_a_days_rows_so_running_a_day_again_is_safe(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert read_log(conn).empty
        _, day1 = fold_status(raised("expedite:A:DE-FRA", "excess:D:US-EWR"), None, None, dt.date(2026, 10, 29))
        assert write_log(conn, day1, dt.date(2026, 10, 29), "run-1") == 2
        _, day1_again = fold_status(raised("expedite:A:DE-FRA"), read_log(conn), None, dt.date(2026, 10, 29))
        write_log(conn, day1_again, dt.date(2026, 10, 29), "run-2")
        _, day2 = fold_status(raised("expedite:A:DE-FRA"), read_log(conn), None, dt.date(2026, 10, 30))
        write_log(conn, day2, dt.date(2026, 10, 30), "run-3")
        assert conn.execute("select as_of, exception_id, run_id from audit.exception_log order by all").fetchall() == [
            (dt.date(2026, 10, 29), "expedite:A:DE-FRA", "run-2"), (dt.date(2026, 10, 30), "expedite:A:DE-FRA", "run-3")]


def test_the_documented_exceptions_section_is_the_default():
    """docs/configuration.md shows the defaults: parsed, its section equals ExceptionSettings()'s behaviour."""
    import yaml

    from crossdock.plan_labels import EXCEPTION_TYPES
    from crossdock.settings import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    block = text.split("## Keys", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    documented = parse_config(yaml.safe_load(block)).exceptions
    default = ExceptionSettings()
    assert [documented.owner(t) for t in EXCEPTION_TYPES] == [default.owner(t) for t in EXCEPTION_TYPES]
    assert documented.model_dump(exclude={"owners"}) == default.model_dump(exclude={"owners"})


def test_the_value_added_table_feeds_negative_fva_through_its_consensus_rows():
    from sop.value_added import consensus_value_added

    table = pd.DataFrame([
        ("2026-11", "author", "ben", "statistical", -0.30, 30, 56, 100.0),  # the model against naive: nobody's override
        ("2026-11", "author", "ben", "consensus", -0.04, 30, 56, 100.0),
        ("2026-11", "author", "ana", "consensus", 0.03, 30, 56, 100.0),
    ], columns=["cycle", "scope", "scope_value", "stage", "value_added", "days_scored", "horizon_days", "actual_units"])
    assert negative_fva(consensus_value_added(table))["exception_id"].tolist() == ["negative_fva:author:ben"]
    assert consensus_value_added(None) is None and consensus_value_added(table.iloc[0:0]) is None


def steady_history(sku: str, start: str, units: float, end: str = "2026-10-30") -> pd.DataFrame:
    days = pd.date_range(start, end)
    return pd.DataFrame({"sku": sku, "market": "NL", "demand_date": days, "units_sold": units})


def test_last_years_figures_are_the_regular_demand_so_a_pallet_order_is_neither_a_season_nor_growth():
    history = steady_history("A", "2024-11-01", 4.0)
    pallets = history["demand_date"].isin(pd.to_datetime(["2025-11-10", "2026-08-01"]))  # last year's weeks; this quarter
    history.loc[pallets, "units_sold"] = 20_000.0
    plan = pd.DataFrame({"sku": ["A"], "market": ["NL"], "plan_units": [4.0 * 56],
                         "first_day": pd.Timestamp("2026-10-31"), "last_day": pd.Timestamp("2026-12-25")})
    figures = last_year_figures(plan, history, pd.Timestamp("2026-10-30")).iloc[0]
    assert figures["last_year_units"] == 4.0 * 56  # the pallet day counted as a busy day (4)
    assert figures["market_recent_units"] == figures["market_year_before_units"] == 4.0 * 91
    assert figures["first_sale_date"] == pd.Timestamp("2024-11-01")
    assert unlike_last_year(pd.DataFrame([figures])).empty
    raw = figures.copy()  # without the capping, last year's weeks would have raised it
    raw["last_year_units"] += 20_000
    assert len(unlike_last_year(pd.DataFrame([raw]))) == 1


def test_new_listings_do_not_grow_an_old_skus_last_year_and_each_series_reads_its_own_weeks():
    """Growth is like for like: 30 SKUs listed in March sell in the recent window only, and a SKU planned for 7 days
    is compared with the same 7 days a year before."""
    as_of = pd.Timestamp("2026-10-30")
    history = pd.concat([steady_history("OLD", "2024-11-01", 4.0), steady_history("SHORT", "2024-11-01", 2.0),
                         *(steady_history(f"NEW{i}", "2026-03-01", 1.0) for i in range(30))], ignore_index=True)
    plan = pd.DataFrame({"sku": ["OLD", "SHORT"], "market": "NL", "plan_units": [4.0 * 56, 2.0 * 7],
                         "first_day": pd.Timestamp("2026-10-31"),
                         "last_day": [pd.Timestamp("2026-12-25"), pd.Timestamp("2026-11-06")]})
    figures = last_year_figures(plan, history, as_of).set_index("sku")
    assert figures.loc["OLD", "market_recent_units"] == figures.loc["OLD", "market_year_before_units"] == 6.0 * 91
    assert figures.loc["OLD", "last_year_units"] == 4.0 * 56 and figures.loc["SHORT", "last_year_units"] == 2.0 * 7
    assert unlike_last_year(figures.reset_index()).empty  # both planned exactly as last year


def open_line(po: str, line: int, sku: str, node: str, quantity: int, promised: str, expected: str,
              supplier: str = "SUP-1") -> dict:
    return {"po_id": po, "po_line": line, "supplier_id": supplier, "sku": sku, "node": node, "quantity": quantity,
            "promised_date": pd.Timestamp(promised), "expected_arrival_date": pd.Timestamp(expected)}


def test_a_delivery_long_past_its_expected_arrival_is_raised_once_with_its_open_units_at_cost(plan):
    lines = pd.DataFrame([
        open_line("PO-7", 1, "A", "DE-FRA", 30, "2026-09-20", "2026-09-25"),  # 35 days past: raised
        open_line("PO-7", 2, "C", "US-EWR", 10, "2026-09-20", "2026-09-25"),  # the same delivery: raised with it
        open_line("PO-7", 3, "Z", "US-EWR", 5, "2026-09-20", "2026-09-25"),  # no cost in the plan: units, no value
        open_line("PO-7", 4, "A", "DE-FRA", 50, "2026-10-20", "2026-10-25"),  # 5 days past: a supplier's bad week
        open_line("PO-9", 1, "B", "DE-FRA", 60, "2026-11-20", "2026-11-25"),  # not due yet
    ])
    rows = overdue_purchase_order(lines, plan, AS_OF)
    assert rows["exception_id"].tolist() == ["overdue_purchase_order:PO-7:2026-09-20"]
    row = rows.iloc[0]
    assert row["type"] == "overdue_purchase_order" and row["default_owner"] == "supply planner"
    assert row["units_affected"] == 45 and row["value_eur"] == pytest.approx(30 * 2.0 + 10 * 2.0)
    assert row["measure"] == 35  # days since the earliest overdue line was expected
    assert row["sku"] is None and row["node"] is None and row["subject"] == "PO-7 from SUP-1, promised 2026-09-20"
    assert row["problem"].startswith("45 units still open (line 1: 30 units of A to DE-FRA; line 2: 10 units of C "
                                     "to US-EWR; line 3: 5 units of Z to US-EWR), expected by 2026-09-25 (promised "
                                     "2026-09-20 plus SUP-1's usual 5 days late), 35 days ago")
    assert "cancel the lines" in row["fix"]

    # the later delivery of the same order is its own exception: closing the first never hides it
    strict = overdue_purchase_order(lines, plan, AS_OF, ExceptionSettings(po_overdue_days=5))
    assert strict["exception_id"].tolist() == ["overdue_purchase_order:PO-7:2026-09-20",
                                               "overdue_purchase_order:PO-7:2026-10-20"]
    later = strict.set_index("exception_id").loc["overdue_purchase_order:PO-7:2026-10-20"]
    assert later["sku"] == "A" and later["node"] == "DE-FRA" and later["value_eur"] == 100.0 and later["measure"] == 5
    assert overdue_purchase_order(lines.iloc[:0], plan, AS_OF).empty


def test_the_lateness_named_is_that_of_the_supplier_of_the_line_expected_longest_ago(plan):
    lines = pd.DataFrame([open_line("PO-3", 1, "A", "DE-FRA", 4, "2026-10-01", "2026-10-01", supplier="SUP-OK"),
                          open_line("PO-3", 2, "C", "US-EWR", 6, "2026-10-01", "2026-10-11", supplier="SUP-LATE")])
    [row] = overdue_purchase_order(lines, plan, AS_OF).to_dict("records")
    assert row["subject"] == "PO-3 from SUP-LATE, SUP-OK, promised 2026-10-01" and row["measure"] == 29
    assert "expected by 2026-10-01 (promised 2026-10-01), 29 days ago" in row["problem"]  # SUP-OK's line: never late


def test_a_supplier_never_late_before_is_judged_on_its_promise_and_a_sku_planned_elsewhere_takes_that_cost(plan):
    lines = pd.DataFrame([open_line("PO-1", 1, "D", "DE-FRA", 8, "2026-10-01", "2026-10-01", supplier="SUP-9")])
    [row] = overdue_purchase_order(lines, plan, AS_OF).to_dict("records")
    assert "(promised 2026-10-01), 29 days ago" in row["problem"]  # no usual lateness to add
    assert row["value_eur"] == 16.0  # D is planned at US-EWR only, at 2.0 a unit
    assert row["sku"] == "D" and row["node"] == "DE-FRA"


def test_raise_exceptions_lists_an_overdue_order_last_and_without_open_lines_raises_none(plan, impact):
    lines = pd.DataFrame([open_line("PO-7", 1, "A", "DE-FRA", 30, "2026-09-20", "2026-09-25")])
    with_lines = raise_exceptions(plan, impact, pd.DataFrame(), pd.DataFrame(), None, open_lines=lines, as_of=AS_OF)
    assert with_lines["type"].iloc[-1] == "overdue_purchase_order"
    without = raise_exceptions(plan, impact, pd.DataFrame(), pd.DataFrame(), None, as_of=AS_OF)
    assert len(without) == len(with_lines) - 1 and "overdue_purchase_order" not in set(without["type"])


def test_an_expedite_after_a_transfer_in_gives_both_stock_out_dates_beside_the_shortfall_priced_with_it(plan, impact):
    """The demo's OUT-00068 at NL-AMS: the plan's projection runs out on 06-18 before the 33 units it moves in,
    scenario_impact prices the 28 units short with them made, from their stock-out on 06-29. The problem said
    '06-18 ... 28 units go unserved', a date from one and a shortfall from the other."""
    moved = plan.assign(transfer_in_units=np.where(plan["sku"] == "A", 33, 0))
    fixes = impact.assign(baseline_stockout_date=pd.Timestamp("2026-11-09"))
    a = expedite(moved, fixes).set_index("exception_id").loc["expedite:A:DE-FRA"]
    assert a["problem"].startswith("stock runs out on 2026-11-04, on 2026-11-09 with the 33 units the plan moves in, "
                                   "before a purchase placed today lands (30 days); 12 units go unserved")
    b = expedite(moved, fixes).set_index("exception_id").loc["expedite:B:DE-FRA"]
    assert "moves in" not in b["problem"]  # nothing moved in: one date


def test_an_expedite_the_plans_own_transfer_in_covers_says_so_and_names_the_transfer_as_its_fix(plan, impact):
    """scenario_impact writes an as-planned row only where the plan still runs out with its transfers made: B moves
    33 units in and has none, so its exception names the transfer, not a bare stock-out with nothing to do."""
    moved = plan.assign(transfer_in_units=np.where(plan["sku"] == "B", 33, 0))
    only_a = impact[impact["sku"] == "A"]
    b = expedite(moved, only_a).set_index("exception_id").loc["expedite:B:DE-FRA"]
    assert b["problem"].endswith("before a purchase placed today lands (30 days); the 33 units the plan moves in cover "
                                 "it until then")
    assert b["fix"] == "make the transfer in of 33 units (transfer_recommendations)" and pd.isna(b["units_affected"])
    # without any scenario run there is no knowing: the stock-out alone
    bare = expedite(moved, impact.iloc[:0]).set_index("exception_id").loc["expedite:B:DE-FRA"]
    assert bare["problem"].endswith("lands (30 days)") and bare["fix"] is None
