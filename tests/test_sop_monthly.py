"""The monthly S&OP view on a tiny hand-worked example: every figure below is worked out by hand in the comments.

Two markets (DE, FR) share the node NL-AMS, US has its own; cycle 2026-10 plans 31 Oct - 2 Nov from
30 Oct, so October and November are both partial; B in the US has no landed cost on its route.
"""
from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd
import pytest
from orchestration.lib.retries import WarehouseResource

from compliance.plan import ROUTE_COLUMNS, build_compliance_plan
from compliance.policy import CompliancePolicy
from compliance_frames import fact, seed_rulebook
from crossdock.publish import stage_table
from crossdock.published import published_table
from dashboard import data, sop_data
from orchestration.defs.sop.monthly import sop_monthly
from sop.monthly_view import ACTUAL, LAST_PLAN, PLAN, RESULT_COLUMNS, monthly_view, pair_economics, previous_cycle

AS_OF = dt.date(2026, 10, 30)
OCT, NOV = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")


def _plan_rows(cycle: str, rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    category = {"A": "toys", "B": "toys", "C": "games"}
    return pd.DataFrame([{"cycle": cycle, "sku": sku, "market": market, "category": category[sku],
                          "demand_date": pd.Timestamp(day), "mean": mean} for sku, market, day, mean in rows])


def _frames() -> dict:
    plans = pd.concat([
        _plan_rows("2026-10", [
            ("A", "DE", "2026-10-31", 2.0), ("A", "DE", "2026-11-01", 2.0), ("A", "DE", "2026-11-02", 2.0),
            ("A", "FR", "2026-10-31", 2.0), ("A", "FR", "2026-11-01", 6.0), ("A", "FR", "2026-11-02", 0.0),
            ("B", "US", "2026-10-31", 1.0), ("B", "US", "2026-11-01", 1.0), ("B", "US", "2026-11-02", 1.0),
        ]),
        # the last cycle: its September day is not a month of this plan, so it is not shown
        _plan_rows("2026-09", [
            ("A", "DE", "2026-09-30", 5.0), ("A", "DE", "2026-10-29", 1.0), ("A", "DE", "2026-10-30", 1.0),
            ("A", "DE", "2026-10-31", 1.0), ("A", "DE", "2026-11-01", 1.0),
        ]),
        _plan_rows("2026-08", [("A", "DE", "2026-10-31", 100.0)]),  # older than the last cycle: never read
    ], ignore_index=True)
    actuals = pd.DataFrame([
        # A in DE: (24 + 12 + 42) EUR / 6 units = 13.0 EUR a unit over the 90 days; July is before them
        # refunds: 12 on 30 Oct of DE's 1000 + 42 + 24 + 12 = 1078 sold in the year: a share of 12 / 1078
        ("A", "DE", "2026-07-01", 10, 1000.0, 0.0), ("A", "DE", "2026-08-15", 3, 42.0, 0.0),
        ("A", "DE", "2026-10-29", 2, 24.0, 0.0), ("A", "DE", "2026-10-30", 1, 12.0, 12.0),
        ("B", "US", "2026-10-05", 4, 40.0, 0.0),  # B: 10.0 EUR a unit, nothing refunded
    ], columns=["sku", "market", "demand_date", "units_sold", "revenue_eur", "refunds_eur"]).assign(category="toys")
    actuals["demand_date"] = pd.to_datetime(actuals["demand_date"])
    compliance = pd.DataFrame([
        # A in DE: prices include VAT, goods 20 of a 2 x 12 basket: net share 5/6
        ("A", "DE", True, 12.0, 2, 20.0, 2.5, 4.0),
        ("A", "DE", False, 12.0, 2, 20.0, 2.5, 9.0),  # not the primary route: not read
        ("A", "FR", True, 10.0, 1, 8.0, 2.5, 3.0),  # not sold in FR: its price here is 10, net share 0.8
        ("B", "US", True, 10.0, 1, 10.0, 4.0, None),  # no landed cost: the unit cost 4.0
    ], columns=["sku", "market", "is_primary_route", "typical_unit_price_eur", "basket_units", "basket_goods_eur",
                "unit_cost_eur", "landed_cost_eur_per_unit"])
    inventory = pd.DataFrame([
        # A: 20 still to buy, due now (a purchase is recommended when it is due); B: nothing to buy
        ("A", "NL-AMS", "toys", 5.0, 10, "inventory snapshot", 20, pd.Timestamp(AS_OF)),
        ("B", "US-EWR", "toys", 3.0, 0, "inventory snapshot", 0, pd.NaT),
    ], columns=["sku", "node", "category", "unit_cost_eur", "on_order", "stock_basis", "purchase_after_transfers",
                "order_by_date"])
    # A at NL-AMS: 5 on hand; demand DE + FR = 4, 8, 2; 6 units land on 2 Nov
    #   31 Oct: 5 - 4 = 1; 1 Nov: 1 - 8 = -7 (7 unserved); 2 Nov: -7 + 6 - 2 = -3 (reach -1: the 2 of the day unserved)
    # B at US-EWR: 10 on hand, 1 a day: 9, 8, 7
    projection = pd.DataFrame([
        ("A", "NL-AMS", "2026-10-31", 5.0, 0.0, 4.0, 1.0), ("A", "NL-AMS", "2026-11-01", 1.0, 0.0, 8.0, -7.0),
        ("A", "NL-AMS", "2026-11-02", -7.0, 6.0, 2.0, -3.0),
        ("B", "US-EWR", "2026-10-31", 10.0, 0.0, 1.0, 9.0), ("B", "US-EWR", "2026-11-01", 9.0, 0.0, 1.0, 8.0),
        ("B", "US-EWR", "2026-11-02", 8.0, 0.0, 1.0, 7.0),
    ], columns=["sku", "node", "date", "opening_on_hand", "arrivals", "demand", "closing_on_hand"])
    projection["date"] = pd.to_datetime(projection["date"])
    markets = pd.DataFrame({"market": ["DE", "FR", "NL", "US"], "node": ["NL-AMS", "NL-AMS", "NL-AMS", "US-EWR"]})
    # the priced orders: DE's and US's pairs have their compliance plan's split, so these change nothing here
    orders = pd.DataFrame([("O1", "2026-10-29", "DE", 20.0), ("O2", "2026-10-05", "US", 40.0)],
                          columns=["order_id", "order_date", "market", "goods_value_eur"])
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    order_values = pd.DataFrame({"order_id": ["O1", "O2"], "sale_value_eur": [24.0, 40.0]})
    return dict(plans=plans, cycle="2026-10", actuals=actuals, compliance=compliance, inventory=inventory,
                projection=projection, markets=markets, as_of=AS_OF, orders=orders, order_values=order_values)


def _row(view: pd.DataFrame, market: str, month: pd.Timestamp, version: str) -> pd.Series:
    [row] = view[(view["market"] == market) & (view["month"] == month) & (view["version"] == version)].to_dict("records")
    return pd.Series(row)


def test_plan_figures_by_hand():
    view = monthly_view(**_frames())
    assert list(view.columns) == RESULT_COLUMNS
    de = _row(view, "DE", NOV, PLAN)
    # 4 units x 13.0 x 5/6 = 43.33 net; cost 4 x 4.0 = 16
    assert de["sales_units"] == pytest.approx(4.0)
    assert de["revenue_eur"] == pytest.approx(4 * 13.0 * 5 / 6)
    assert de["landed_cost_eur"] == pytest.approx(16.0)
    assert de["gross_margin_eur"] == pytest.approx(4 * 13.0 * 5 / 6 - 16.0)
    assert de["margin_pct"] == pytest.approx(100 * (1 - 16.0 / (4 * 13.0 * 5 / 6)))
    assert (de["cycle"], de["price_basis"], de["cost_basis"], de["unknowns"]) == ("2026-10", "recent sales", "landed cost", None)
    fr = _row(view, "FR", NOV, PLAN)
    # no sales in FR: 6 x 10.0 (the compliance plan's price) x 0.8 = 48; cost 6 x 3 = 18
    assert (fr["revenue_eur"], fr["landed_cost_eur"], fr["gross_margin_eur"]) == pytest.approx((48.0, 18.0, 30.0))
    assert fr["price_basis"] == "other markets' price"


def test_refunds_are_the_months_returns_for_actuals_and_the_familys_refund_share_for_the_plan():
    """A finance lead signs off revenue net of returns: actuals refund what the month's returns did, the plan
    expects its family's share of the year's revenue refunded, and FR (nothing sold there) is unknown."""
    view = monthly_view(**_frames())
    actual = _row(view, "DE", OCT, ACTUAL)
    # October: 24 + 12 sold, 12 refunded, both x 5/6
    assert (actual["revenue_eur"], actual["refunds_eur"]) == pytest.approx((36 * 5 / 6, 12 * 5 / 6))
    assert actual["net_revenue_eur"] == pytest.approx(24 * 5 / 6)
    plan = _row(view, "DE", NOV, PLAN)
    # toys x DE refunded 12 of 1078 in the year
    assert plan["refunds_eur"] == pytest.approx(plan["revenue_eur"] * 12 / 1078)
    assert plan["net_revenue_eur"] == pytest.approx(plan["revenue_eur"] * (1 - 12 / 1078))
    assert plan["gross_margin_eur"] == pytest.approx(plan["revenue_eur"] - plan["landed_cost_eur"])  # before returns
    assert _row(view, "US", NOV, PLAN)["refunds_eur"] == 0.0  # sold, nothing refunded: known to be none
    fr = _row(view, "FR", NOV, PLAN)
    assert pd.isna(fr["refunds_eur"]) and pd.isna(fr["net_revenue_eur"]) and fr["revenue_eur"] == pytest.approx(48.0)
    assert fr["unknowns"] == "refunds of 1 SKU"


def test_a_feed_without_one_return_line_in_the_year_leaves_the_plans_refunds_unknown_not_none():
    """A Shopify merchant's test: its export carries refunds as order amounts, which the mapping does not read, so no
    day had a return line, and the plan's net revenue was its gross revenue, refunds 0 unsaid."""
    frames = _frames()
    frames["actuals"] = frames["actuals"].assign(refunds_eur=0.0)
    view = monthly_view(**frames)
    plan = _row(view, "DE", NOV, PLAN)
    assert plan["revenue_eur"] > 0 and pd.isna(plan["refunds_eur"]) and pd.isna(plan["net_revenue_eur"])
    assert "refunds of" in plan["unknowns"]


def test_a_pair_without_landed_cost_is_costed_at_its_unit_cost_and_says_so():
    view = monthly_view(**_frames())
    us = _row(view, "US", OCT, PLAN)
    assert (us["sales_units"], us["revenue_eur"], us["landed_cost_eur"]) == pytest.approx((1.0, 10.0, 4.0))
    assert us["cost_basis"] == "unit cost"
    pairs = pair_economics(_frames()["actuals"], _frames()["compliance"], AS_OF).set_index(["sku", "market"])
    assert pairs.loc[("B", "US"), "cost_basis"] == "unit cost"
    assert pairs.loc[("A", "DE"), ["price_eur", "cost_eur"]].tolist() == pytest.approx([13.0, 4.0])


def test_a_pair_whose_duty_rate_is_missing_is_costed_at_its_unit_cost_and_says_so():
    """The compliance plan leaves the landed cost per unit of a SKU without a duty rate null (its bulk duty is unknown),
    never its cost without the duty: the view takes B's unit cost, 4.0, as for any pair without a landed cost, and
    cost_basis says so; nothing is costed at 0."""
    facts = pd.DataFrame([fact("B", "US", "US", "USD", mfn_rate=None, unit_cost_eur=4.0)])
    routes = pd.DataFrame([("US", "US-EWR", "US", "US", True, 1.0)], columns=list(ROUTE_COLUMNS))
    baskets = pd.DataFrame([("B", "US", 1, 11.0, "market")], columns=["sku", "market", "basket_units", "unit_price_local", "price_basis"])
    fx = pd.DataFrame([("2020-01-01", "USD", 1.10)], columns=["calendar_date", "currency", "units_per_eur"])
    plan = build_compliance_plan(facts, routes, baskets, seed_rulebook(fx), CompliancePolicy(), AS_OF)
    assert plan.loc[0, "unknowns"] == "duty_rate" and pd.isna(plan.loc[0, "landed_cost_eur_per_unit"])
    frames = _frames()
    frames["compliance"] = pd.concat([frames["compliance"][frames["compliance"]["sku"] != "B"],
                                      plan[list(frames["compliance"].columns)]], ignore_index=True)
    us = _row(monthly_view(**frames), "US", OCT, PLAN)
    assert us["landed_cost_eur"] == pytest.approx(4.0) and us["cost_basis"] == "unit cost" and us["unknowns"] is None


def test_partial_months_say_which_days_they_hold():
    view = monthly_view(**_frames())
    days = {(r.version, r.month): (r.from_date, r.to_date, r.days_covered, r.days_in_month)
            for r in view[view["market"] == "DE"].itertuples()}
    ts = pd.Timestamp
    assert days == {
        (PLAN, OCT): (ts("2026-10-31"), ts("2026-10-31"), 1, 31), (PLAN, NOV): (ts("2026-11-01"), ts("2026-11-02"), 2, 30),
        (LAST_PLAN, OCT): (ts("2026-10-29"), ts("2026-10-31"), 3, 31), (LAST_PLAN, NOV): (NOV, NOV, 1, 30),
        (ACTUAL, OCT): (OCT, ts("2026-10-30"), 30, 31),
    }


def test_last_plan_and_actuals_beside_the_plan():
    view = monthly_view(**_frames())
    last = _row(view, "DE", OCT, LAST_PLAN)
    # the last cycle's 29-31 October, 3 units, priced like the plan; its September day is left out
    assert (last["cycle"], last["sales_units"], last["revenue_eur"]) == ("2026-09", 3.0, pytest.approx(3 * 13.0 * 5 / 6))
    assert pd.isna(last["inventory_value_eur"]) and pd.isna(last["fill_rate"])
    actual = _row(view, "DE", OCT, ACTUAL)
    # sold 3 units for 36 EUR as charged: 30 net; cost 3 x 4 = 12
    assert actual["cycle"] is None
    assert (actual["sales_units"], actual["revenue_eur"], actual["landed_cost_eur"]) == pytest.approx((3.0, 30.0, 12.0))
    assert actual["price_basis"] == "sold" and pd.isna(actual["fill_rate"])
    nothing_sold = _row(view, "FR", OCT, ACTUAL)
    assert (nothing_sold["sales_units"], nothing_sold["revenue_eur"]) == (0.0, 0.0)
    assert not ((view["version"] == ACTUAL) & (view["month"] == NOV)).any()  # November has no actual day yet


def test_planned_on_a_months_last_day_that_month_keeps_its_actuals_and_last_plan():
    """The plan of 31 October starts on 1 November: October, just closed, was left out of the view with its actuals
    (a planner's test: the 31 August run had no actual row). It stays, beside the last plan's days in it."""
    frames = _frames()
    frames["plans"] = frames["plans"].assign(
        demand_date=lambda f: f["demand_date"].where(f["cycle"] != "2026-10", f["demand_date"] + pd.Timedelta(days=1)))
    frames["inventory"]["order_by_date"] = frames["inventory"]["order_by_date"].where(
        frames["inventory"]["order_by_date"].isna(), pd.Timestamp("2026-10-31"))  # due on the planning date
    view = monthly_view(**{**frames, "as_of": dt.date(2026, 10, 31)})
    assert not ((view["version"] == PLAN) & (view["month"] == OCT)).any()  # the plan has no October day
    # ... so the purchases due on 31 October are in its first month, not lost (a review found them in no row)
    assert view.loc[view["version"] == PLAN, "purchases_to_place_eur"].sum() == pytest.approx(20 * 5.0)
    actual = _row(view, "DE", OCT, ACTUAL)
    assert actual["sales_units"] == 3.0 and actual["to_date"] == pd.Timestamp("2026-10-31")
    assert _row(view, "DE", OCT, LAST_PLAN)["sales_units"] == 3.0  # the last cycle's 29-31 October


def test_a_node_serving_two_markets_splits_stock_by_demand_and_unserved_units_by_day():
    view = monthly_view(**_frames())
    de_oct, fr_oct = _row(view, "DE", OCT, PLAN), _row(view, "FR", OCT, PLAN)
    # 31 Oct: 1 unit left x 5 EUR, DE and FR planned 2 each: half each; 10 on order, none landed: 50 EUR, half each
    assert (de_oct["inventory_value_eur"], fr_oct["inventory_value_eur"]) == pytest.approx((2.5, 2.5))
    assert (de_oct["cash_tied_up_eur"], fr_oct["cash_tied_up_eur"]) == pytest.approx((27.5, 27.5))
    assert (de_oct["fill_rate"], de_oct["purchases_landing_eur"]) == pytest.approx((1.0, 0.0))
    de, fr = _row(view, "DE", NOV, PLAN), _row(view, "FR", NOV, PLAN)
    # November's end: -3, no stock; 6 landed x 5 = 30 and 4 still on order x 5 = 20, split DE 4 : FR 6 of the month
    assert (de["inventory_value_eur"], fr["inventory_value_eur"]) == (0.0, 0.0)
    assert (de["purchases_landing_eur"], fr["purchases_landing_eur"]) == pytest.approx((12.0, 18.0))
    assert (de["cash_tied_up_eur"], fr["cash_tied_up_eur"]) == pytest.approx((8.0, 12.0))
    # 1 Nov: 7 unserved, DE 2/8 and FR 6/8; 2 Nov: 2 unserved, all DE's
    assert (de["unserved_units"], fr["unserved_units"]) == pytest.approx((1.75 + 2.0, 5.25))
    assert (de["fill_rate"], fr["fill_rate"]) == pytest.approx((1 - 3.75 / 4, 1 - 5.25 / 6))
    us = _row(view, "US", NOV, PLAN)
    assert (us["inventory_value_eur"], us["fill_rate"]) == pytest.approx((7 * 3.0, 1.0))
    # the 20 A still to buy now, x 5 EUR, in October, split DE 2 : FR 2 like October's stock; none later
    assert (de_oct["purchases_to_place_eur"], fr_oct["purchases_to_place_eur"]) == pytest.approx((50.0, 50.0))
    assert (de["purchases_to_place_eur"], us["purchases_to_place_eur"]) == (0.0, 0.0)
    # the stock adds back up to the node's: nothing lost or counted twice in the split
    plan = view[view["version"] == PLAN]
    assert plan.groupby("month")["inventory_value_eur"].sum().tolist() == pytest.approx([5.0 + 27.0, 21.0])


def test_stock_without_demand_splits_evenly_and_an_unknown_node_is_named():
    frames = _frames()
    frames["inventory"] = pd.concat([frames["inventory"], pd.DataFrame([
        ("C", "NL-AMS", "games", 1.0, 0, "inventory snapshot", 0, pd.NaT),
        ("B", "GB-BHX", "toys", 3.0, 0, "unknown: no inventory feed for this node", 0, pd.NaT),
    ], columns=frames["inventory"].columns)], ignore_index=True)
    frames["projection"] = pd.concat([frames["projection"], pd.DataFrame({
        "sku": "C", "node": "NL-AMS", "date": pd.to_datetime(["2026-10-31", "2026-11-01", "2026-11-02"]),
        "opening_on_hand": 6.0, "arrivals": 0.0, "demand": 0.0, "closing_on_hand": 6.0})], ignore_index=True)
    frames["plans"] = pd.concat([frames["plans"], _plan_rows("2026-10", [("B", "GB", "2026-11-01", 3.0)])])
    frames["markets"] = pd.concat([frames["markets"], pd.DataFrame({"market": ["GB"], "node": ["GB-BHX"]})])
    view = monthly_view(**frames)
    games = view[(view["category"] == "games") & (view["version"] == PLAN) & (view["month"] == OCT)]
    # C sells nowhere: its 6 x 1 EUR split evenly over NL-AMS's three markets, with no units planned
    assert games.set_index("market")["inventory_value_eur"].to_dict() == pytest.approx({"DE": 2.0, "FR": 2.0, "NL": 2.0})
    assert games["sales_units"].tolist() == [0.0, 0.0, 0.0]
    gb = _row(view, "GB", NOV, PLAN)
    # B has neither sales nor a compliance row in GB: its money is unknown too, and the node's stock
    assert gb["unknowns"] == "revenue of 1 SKU, cost of 1 SKU, stock at GB-BHX"
    assert pd.isna(gb["inventory_value_eur"]) and pd.isna(gb["fill_rate"]) and pd.isna(gb["cash_tied_up_eur"])
    assert pd.isna(gb["purchases_to_place_eur"])
    assert gb["sales_units"] == 3.0 and pd.isna(gb["revenue_eur"])


def test_a_pair_without_a_price_or_cost_is_left_out_and_named():
    frames = _frames()
    frames["compliance"] = frames["compliance"][frames["compliance"]["market"] != "FR"]
    view = monthly_view(**frames)
    fr = _row(view, "FR", NOV, PLAN)
    assert fr["sales_units"] == 6.0
    assert pd.isna(fr["revenue_eur"]) and pd.isna(fr["landed_cost_eur"]) and pd.isna(fr["margin_pct"])
    assert fr["unknowns"] == "revenue of 1 SKU, cost of 1 SKU"


def test_the_catch_all_markets_revenue_is_netted_by_the_vat_its_priced_orders_paid():
    """ROW has no one border, so no compliance row splits its price: its orders, each priced by its own country, do."""
    frames = _frames()
    frames["plans"] = pd.concat([frames["plans"], _plan_rows("2026-10", [("C", "ROW", "2026-11-01", 3.0)])])
    frames["actuals"] = pd.concat([frames["actuals"], pd.DataFrame([
        ("C", "ROW", pd.Timestamp("2026-10-20"), 3, 66.0, 0.0, "games")], columns=frames["actuals"].columns)])
    frames["markets"] = pd.concat([frames["markets"], pd.DataFrame({"market": ["ROW"], "node": ["NL-AMS"]})])
    orders = pd.DataFrame([
        ("R1", "2026-10-20", "ROW", 40.0),  # a Norwegian order: 50 paid, 25 % VAT
        ("R2", "2026-10-21", "ROW", 18.0),  # a Swiss one: 19.458 paid, 8.1 % VAT
        ("R3", "2026-10-22", "ROW", None),  # a VAT rate crossdock lacks: left out of both sums
        ("R4", "2026-06-01", "ROW", 1.0),  # before the 90 days
    ], columns=["order_id", "order_date", "market", "goods_value_eur"]).assign(
        order_date=lambda f: pd.to_datetime(f["order_date"]))
    values = pd.DataFrame({"order_id": ["R1", "R2", "R3", "R4"], "sale_value_eur": [50.0, 19.458, 500.0, 100.0]})
    frames["orders"] = pd.concat([frames["orders"], orders])
    frames["order_values"] = pd.concat([frames["order_values"], values])
    share = 58.0 / 69.458
    view = monthly_view(**frames)
    row = _row(view, "ROW", NOV, PLAN)
    assert row["revenue_eur"] == pytest.approx(3 * 22.0 * share)  # 3 units at the 22 EUR they sold for, net
    assert row["price_basis"] == "recent sales; VAT split of the market's priced orders"
    assert row["unknowns"] is None or "revenue" not in row["unknowns"]
    assert _row(view, "ROW", OCT, ACTUAL)["revenue_eur"] == pytest.approx(66.0 * share)
    # without the priced orders, the revenue stays unknown and named, never guessed
    blind = monthly_view(**{**frames, "orders": None, "order_values": None})
    assert pd.isna(_row(blind, "ROW", NOV, PLAN)["revenue_eur"])
    assert "revenue of 1 SKU" in _row(blind, "ROW", NOV, PLAN)["unknowns"]


def test_previous_cycle_is_the_latest_stored_before():
    cycles = pd.Series(["2026-08", "2026-10", "2026-09", "2026-11"])
    assert previous_cycle(cycles, "2026-10") == "2026-09"
    assert previous_cycle(cycles, "2026-08") is None


def _warehouse(path) -> None:
    """The run's staged tables (plan_next), the marts and the markets, as the asset finds them before publish."""
    frames = _frames()
    staged = {"demand_plan": frames["plans"], "compliance_plan": frames["compliance"],
              "inventory_plan": frames["inventory"].assign(as_of=pd.Timestamp(AS_OF)),
              "inventory_projection": frames["projection"]}
    staged["order_landed_cost"] = frames["orders"]
    other = {"marts.fct_daily_demand": frames["actuals"],
             "intermediate.int_order_lines_eur": frames["order_values"].rename(columns={"sale_value_eur": "line_value_eur"})
             .assign(line_type="sale", order_date=frames["orders"]["order_date"]),
             "reference.markets": frames["markets"].rename(columns={"market": "market_code", "node": "fulfilment_node"})}
    with duckdb.connect(str(path)) as conn:
        for schema in ("plan_next", "marts", "reference", "intermediate"):
            conn.execute(f"create schema {schema}")
        for name, frame in [*((f"plan_next.{t}", f) for t, f in staged.items()), *other.items()]:
            conn.register("frame", frame)
            conn.execute(f"create table {name} as select * from frame")
            conn.unregister("frame")


def test_the_asset_stages_the_view_with_its_declared_types(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    result = dg.materialize([sop_monthly], resources={"warehouse": WarehouseResource(database=str(path))})
    assert result.success
    [event] = result.asset_materializations_for_node("publish__sop_monthly")
    metadata = {k: v.value for k, v in event.metadata.items()}
    assert (metadata["cycle"], metadata["last_cycle"]) == ("2026-10", "2026-09")
    # plan revenue: DE 6 x 13 x 5/6 = 65, FR 8 x 10 x 0.8 = 64, US 3 x 10 = 30
    assert metadata["plan_revenue_eur"] == pytest.approx(65.0 + 64.0 + 30.0)
    assert metadata["dagster/row_count"] == 3 * 5  # DE, FR, US x (plan Oct, Nov; last plan Oct, Nov; actual Oct)
    with duckdb.connect(str(path)) as conn:
        types = conn.execute("select column_name, lower(data_type) from information_schema.columns "
                             "where table_schema = 'plan_next' and table_name = 'sop_monthly' order by ordinal_position").fetchall()
        row = conn.execute("select month, days_covered, cash_tied_up_eur from plan_next.sop_monthly "
                           "where market = 'DE' and version = 'plan' order by month").fetchall()
    assert types == list(published_table("sop_monthly").schema)
    assert row == [(OCT.date(), 1, pytest.approx(27.5)), (NOV.date(), 2, pytest.approx(8.0))]


def make_snapshot(path) -> None:
    """A BI snapshot holding the hand-worked view as publish.sop_monthly (and the plan date it is of)."""
    with duckdb.connect(str(path)) as conn:
        stage_table(conn, "sop_monthly", monthly_view(**_frames()), "run-1")
        conn.execute("create schema publish")
        conn.execute("create table publish.sop_monthly as select * from plan_next.sop_monthly")
        conn.execute(f"create table publish.inventory_plan as select date '{AS_OF}' as as_of")
        conn.execute("drop schema plan_next cascade")


@pytest.fixture
def snapshot(tmp_path):
    make_snapshot(tmp_path / "crossdock_publish.duckdb")
    return data.connect(tmp_path / "crossdock_publish.duckdb")


def test_the_dashboard_sums_the_months_of_a_family_and_a_market(snapshot):
    assert sop_data.sop_monthly_choices(snapshot) == {"category": ["toys"], "market": ["DE", "FR", "US"]}
    months = sop_data.sop_monthly(snapshot)
    assert list(zip(months["month"], months["version"])) == [
        (OCT, PLAN), (OCT, LAST_PLAN), (OCT, ACTUAL), (NOV, PLAN), (NOV, LAST_PLAN)]
    nov = months.iloc[3]
    # November's plan over DE, FR and US: units 4 + 6 + 2; margin (43.33 - 16) + (48 - 18) + (20 - 8)
    assert nov["sales_units"] == pytest.approx(12.0)
    assert nov["gross_margin_eur"] == pytest.approx(4 * 13 * 5 / 6 - 16 + 30 + 12)
    assert nov["margin_pct"] == pytest.approx(100 * nov["gross_margin_eur"] / (4 * 13 * 5 / 6 + 48 + 20))
    # 9 of the 12 units unserved (DE 3.75, FR 5.25, US none); cash 8 + 12 + 21
    assert nov["fill_rate"] == pytest.approx(1 - 9.0 / 12)
    assert nov["cash_tied_up_eur"] == pytest.approx(41.0)
    assert (nov["days_covered"], nov["days_in_month"]) == (2, 30)
    assert months.iloc[2]["cycle"] is None and pd.isna(months.iloc[2]["fill_rate"])
    # FR sold nothing in the year: its refunds are unknown, so the month's net revenue leaves its revenue out, and says
    assert nov["rows_refunds_unknown"] == 1 and nov["net_revenue_eur"] < nov["revenue_eur"] - nov["refunds_eur"]
    de = sop_data.sop_monthly(snapshot, "toys", "DE").set_index(["month", "version"])
    assert de.loc[(OCT, ACTUAL), "revenue_eur"] == pytest.approx(30.0)
    assert de.loc[(NOV, PLAN), "fill_rate"] == pytest.approx(1 - 3.75 / 4)
    assert sop_data.sop_monthly(snapshot, "games", None).empty
    # FR never sold: its refunds are unknown, named on its two plan months, not taken from another market
    unknown = sop_data.sop_monthly_unknowns(snapshot)
    assert set(unknown["market"]) == {"FR"} and len(unknown) == 2
