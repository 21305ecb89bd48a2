"""planning.run: a run's plan from its warehouse tables, composed without Dagster.

A small network (markets US and GB served from US-EWR and GB-BHX, a lane
between them) with two SKUs planned, one held in stock with no terms, and one
node that no inventory snapshot speaks for.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crossdock import bulk_days
from planning.demand import node_demand_samples
from planning.inputs import PlanSources
from planning.policy import PlanningPolicy
from planning.run import build_plan, plan_regular_sales, plannable, scenario_inputs, stock_unknown_nodes
from planning.service_classes import classify_series, load_service_level_config

AS_OF = dt.date(2026, 10, 30)
HORIZON = 28


def sources(snapshot_nodes: tuple[str, ...] = ("US-EWR", "GB-BHX")) -> PlanSources:
    dates = pd.date_range(pd.Timestamp(AS_OF) + pd.Timedelta(days=1), periods=HORIZON)
    demand = {("A", "US"): 4.0, ("A", "GB"): 1.0, ("B", "US"): 2.0}
    forecast = pd.concat(
        [
            pd.DataFrame({"sku": s, "market": m, "forecast_date": dates, "p10": v / 2, "p50": v, "p90": 2 * v, "mean": v})
            for (s, m), v in demand.items()
        ],
        ignore_index=True,
    ).assign(as_of=pd.Timestamp(AS_OF))
    history_days = pd.date_range(end=pd.Timestamp(AS_OF), periods=120)
    history = pd.concat(
        [
            pd.DataFrame({"sku": s, "market": m, "category": "toys", "demand_date": history_days, "units_sold": v,
                          "revenue_eur": 20.0 * v})
            for (s, m), v in demand.items()
        ],
        ignore_index=True,
    )
    return PlanSources(
        forecast=forecast,
        # X is counted at GB-BHX but no catalogue lists it and nobody bought it: no cost to plan it with
        position=pd.DataFrame(
            [("A", "US-EWR", 40, 0), ("A", "GB-BHX", 300, 0), ("B", "US-EWR", 10, 20), ("X", "GB-BHX", 5, 3)],
            columns=["sku", "node", "on_hand", "on_order"],
        ),
        lead_times=pd.DataFrame(
            {"sku": ["A", "B"], "n_receipts": 5, "lead_time_mean_days": [20.0, 10.0], "lead_time_std_days": [2.0, 1.0],
             "quoted_lead_time_days": [20.0, 10.0], "lead_time_basis": "observed"}
        ),
        snapshot_nodes=pd.DataFrame({"node": list(snapshot_nodes)}),
        skus=pd.DataFrame(
            {"sku": ["A", "B"], "category": "toys", "unit_cost_eur": [10.0, 5.0], "moq": [0, 10], "pack_size": [1, 5],
             "cost_basis": "catalogue", "weight_kg": [1.0, 0.5], "primary_supplier_id": ["S1", "S2"],
             "order_terms_assumed": [True, False]}
        ),
        market_nodes=pd.DataFrame({"market": ["US", "GB"], "node": ["US-EWR", "GB-BHX"]}),
        history=history,
        arrivals=pd.DataFrame(
            [("B", "US-EWR", "S2", pd.Timestamp(AS_OF) + pd.Timedelta(days=5), 20),
             ("X", "GB-BHX", "S9", pd.Timestamp(AS_OF) + pd.Timedelta(days=3), 3)],
            columns=["sku", "node", "supplier_id", "expected_arrival_date", "quantity"],
        ),
        lanes=pd.DataFrame(
            {"from_node": ["GB-BHX", "US-EWR"], "to_node": ["US-EWR", "GB-BHX"], "mode": "air",
             "cost_eur_per_kg": 0.5, "fixed_cost_eur": 10.0, "transit_days": 3, "crosses_customs_border": True}
        ),
        nodes=pd.DataFrame({"node_code": ["US-EWR", "GB-BHX"], "country": ["US", "GB"]}),
        territories=pd.DataFrame({"alpha_2": ["US", "GB"], "customs_territory": ["US", "GB"]}),
        sku_hs=pd.DataFrame({"sku": ["A", "B"], "hs_code": ["950300", "420222"]}),
        customs_risk=pd.DataFrame(
            {"origin_node": ["GB-BHX"], "origin_country": ["GB"], "destination_country": ["US"], "hs_chapter": ["95"],
             "conservative_added_days": [2.0], "lane_conservative_added_days": [1.0]}
        ),
    )


def run(src: PlanSources | None = None):
    return build_plan(src or sources(), PlanningPolicy(), load_service_level_config(None), seed=7)


def test_the_plan_publishes_five_tables_of_the_planned_skus_on_the_plan_date():
    out = run()
    assert out.as_of == AS_OF
    assert list(out.tables()) == [
        "inventory_plan", "inventory_projection", "service_level_tradeoff", "service_classes", "transfer_recommendations",
    ]
    assert sorted(zip(out.plan["sku"], out.plan["node"])) == [("A", "GB-BHX"), ("A", "US-EWR"), ("B", "US-EWR")]
    assert set(out.classes["as_of"]) == {pd.Timestamp(AS_OF)} and set(out.transfers["as_of"]) <= {pd.Timestamp(AS_OF)}
    # every table says its plan date, so a BI tool appending plans can tell them apart
    assert all(set(table["as_of"]) == {pd.Timestamp(AS_OF)} for table in (out.projection, out.tradeoff))
    assert sorted(zip(out.classes["sku"], out.classes["market"])) == [("A", "GB"), ("A", "US"), ("B", "US")]
    # the projection covers every planned row for every day of the horizon
    assert out.projection.groupby(["sku", "node"]).size().to_dict() == {
        ("A", "GB-BHX"): HORIZON, ("A", "US-EWR"): HORIZON, ("B", "US-EWR"): HORIZON,
    }
    # the classes set the plan's service levels
    levels = out.classes.set_index(["sku", "market"])["target_service_level"]
    plan = out.plan.set_index(["sku", "node"])
    assert plan.loc[("B", "US-EWR"), "service_level"] == pytest.approx(levels[("B", "US")])


def test_idle_stock_moves_before_the_plan_buys():
    """A at US-EWR: 40 units for 4 a day over a 20-day lead time; 300 idle at GB-BHX one lane away."""
    out = run()
    moves = out.transfers[out.transfers["recommended"]]
    assert list(zip(moves["sku"], moves["from_node"], moves["to_node"])) == [("A", "GB-BHX", "US-EWR")]
    # the customs delay of A's chapter (95) on the lane into the US is priced in
    assert moves["customs_days"].item() == pytest.approx(2.0)
    plan = out.plan.set_index(["sku", "node"])
    assert plan.loc[("A", "US-EWR"), "transfer_in_units"] == moves["units"].item() > 0
    assert plan.loc[("A", "GB-BHX"), "transfer_out_units"] == moves["units"].item()


def test_stock_without_terms_is_set_aside_and_named_not_fatal():
    out = run()
    assert out.not_planned == ("X",)
    assert "X" not in set(out.plan["sku"]) and "X" not in set(out.projection["sku"])
    kept, named = plannable(sources())
    assert named == ("X",) and "X" not in set(kept.position["sku"]) and "X" not in set(kept.arrivals["sku"])


def test_a_node_no_snapshot_speaks_for_gets_targets_but_no_projection():
    src = sources(snapshot_nodes=("US-EWR",))
    assert stock_unknown_nodes(src) == frozenset({"GB-BHX"})
    out = run(src)
    assert out.stock_unknown_nodes == frozenset({"GB-BHX"})
    assert set(out.projection["node"]) == {"US-EWR"}
    gb = out.plan.set_index(["sku", "node"]).loc[("A", "GB-BHX")]
    assert gb["safety_stock"] >= 0 and pd.isna(gb["projected_stockout_date"])


def test_stock_whose_market_was_held_back_is_not_called_idle_nor_moved_away():
    """GB was held back by the training-data gate: its forecast rows are gone, so GB-BHX's 300 units of A look
    idle to the maths beside IE's trickle. They are not moved to US-EWR, not called excess, not a reroute's donor
    in the scenarios, and no projection is drawn from a demand the plan does not know; B at GB-BHX, sold in IE
    alone, keeps its plan."""
    src = sources()
    ireland = src.forecast[src.forecast["market"] == "GB"].assign(market="IE", p10=0.0, p50=0.0, p90=0.5, mean=0.2)
    src = dataclasses.replace(  # GB-BHX also serves IE, whose small demand the node's forecast keeps
        src, forecast=pd.concat([src.forecast[src.forecast["market"] != "GB"], ireland,
                                 ireland.assign(sku="B")], ignore_index=True),
        market_nodes=pd.concat([src.market_nodes, pd.DataFrame({"market": ["IE"], "node": ["GB-BHX"]})], ignore_index=True),
        position=pd.concat([src.position, pd.DataFrame([("B", "GB-BHX", 4, 0)], columns=list(src.position.columns))]),
    )
    blind = build_plan(src, PlanningPolicy(), load_service_level_config(None), seed=7)  # as before: GB's stock is idle
    assert blind.plan.set_index(["sku", "node"]).loc[("A", "GB-BHX"), "action"] == "excess"
    assert blind.transfers["recommended"].any()
    held = pd.DataFrame({"sku": ["A"], "market": ["GB"]})
    out = build_plan(src, PlanningPolicy(), load_service_level_config(None), seed=7, held_back_series=held)
    assert out.held_back_pairs == frozenset({("A", "GB-BHX")})
    plan = out.plan.set_index(["sku", "node"])
    assert plan.loc[("A", "GB-BHX"), "action"] == "market held back: no forecast for part of its demand"
    assert pd.isna(plan.loc[("A", "GB-BHX"), "excess_units"]) and not out.transfers["recommended"].any()
    assert set(zip(out.projection["sku"], out.projection["node"])) == {("A", "US-EWR"), ("B", "US-EWR"), ("B", "GB-BHX")}
    # the other rows' verdicts stand, planned on the forecast; the held-back row says its demand is partly unknown
    for row in (("A", "US-EWR"), ("B", "GB-BHX")):
        assert plan.loc[row, "action"] == blind.plan.set_index(["sku", "node"]).loc[row, "action"]
        assert plan.loc[row, "demand_basis"] == "forecast"
    assert plan.loc[("A", "GB-BHX"), "demand_basis"].startswith("partly unknown: a market the training-data gate held back")
    assert set(blind.plan["demand_basis"]) == {"forecast"}
    inputs = scenario_inputs(src, pd.DataFrame(columns=["sku", "supplier_id", "unit_cost_eur", "quoted_lead_time_days",
                                                        "is_primary"]), out.classes, held_back_series=held)
    assert inputs.held_back_pairs == frozenset({("A", "GB-BHX")})


def test_a_node_whose_only_market_of_a_sku_was_held_back_says_its_demand_is_unknown_not_partly():
    """GB-BHX serves GB alone: with GB held back no forecast market sells A there, so none of the row's demand is
    known; the words say so instead of 'partly unknown', and its stock is still not called idle or moved."""
    src = sources()
    src = dataclasses.replace(src, forecast=src.forecast[src.forecast["market"] != "GB"])
    out = build_plan(src, PlanningPolicy(), load_service_level_config(None), seed=7,
                     held_back_series=pd.DataFrame({"sku": ["A"], "market": ["GB"]}))
    plan = out.plan.set_index(["sku", "node"])
    row = plan.loc[("A", "GB-BHX")]
    assert row["demand_basis"] == "unknown: the training-data gate held back every market that sells this SKU here"
    assert row["action"] == "market held back: no forecast for its demand"
    assert pd.isna(row["excess_units"]) and pd.isna(row["obsolete_units"])
    assert not out.transfers["recommended"].any()
    assert plan.loc[("A", "US-EWR"), "demand_basis"] == "forecast"
    # GB's own rows, left by a run before it was held back (a partition run keeps the others'), know nothing of it
    stale = build_plan(sources(), PlanningPolicy(), load_service_level_config(None), seed=7,
                       held_back_series=pd.DataFrame({"sku": ["A"], "market": ["GB"]}))
    assert stale.plan.set_index(["sku", "node"]).loc[("A", "GB-BHX"), "demand_basis"] == row["demand_basis"]


def test_the_scenarios_start_from_the_same_planned_skus_and_the_plans_classes():
    src = sources(snapshot_nodes=("US-EWR",))
    classes = run(src).classes.drop(columns="as_of")
    alternatives = pd.DataFrame(
        {"sku": ["A", "B"], "supplier_id": ["S1", "S2"], "unit_cost_eur": [10.0, 5.0], "quoted_lead_time_days": [20.0, 10.0],
         "is_primary": True}
    )
    inputs = scenario_inputs(src, alternatives, classes)
    assert inputs.as_of == AS_OF and "as_of" not in inputs.forecast.columns
    assert "X" not in set(inputs.on_hand["sku"]) and "X" not in set(inputs.arrivals["sku"])
    assert inputs.primary_supplier.set_index("sku")["supplier_id"].to_dict() == {"A": "S1", "B": "S2"}
    assert "primary_supplier_id" not in inputs.skus.columns and "order_terms_assumed" not in inputs.skus.columns
    assert inputs.stock_unknown_nodes == frozenset({"GB-BHX"})
    assert sorted(zip(inputs.classes["sku"], inputs.classes["node"])) == [("A", "GB-BHX"), ("A", "US-EWR"), ("B", "US-EWR")]
    moves = inputs.customs_days.set_index(["sku", "from_node", "to_node"])["customs_days"]
    assert moves[("A", "GB-BHX", "US-EWR")] == pytest.approx(2.0)


def test_a_sources_frame_without_its_columns_is_named():
    src = dataclasses.replace(sources(), nodes=pd.DataFrame({"node_code": ["US-EWR"]}))
    with pytest.raises(ValueError, match="nodes"):
        run(src)


def test_a_plan_read_before_its_consensus_was_staged_says_so():
    """A refresh that started the plans before the demand plan finished read no consensus rows: it had crashed on
    `'NaTType' object has no attribute 'normalize'` (an operations engineer's test)."""
    src = sources()
    with pytest.raises(ValueError, match="no consensus demand plan for the latest forecast: .* Materialize publish.demand_plan"):
        run(dataclasses.replace(src, forecast=src.forecast.iloc[0:0]))


def lumpy_sources() -> PlanSources:
    """`sources()` with two years of intermittent sales and one wholesale day: the simulated method and the cap at work."""
    src = sources()
    rng = np.random.default_rng(3)
    days = pd.date_range(end=pd.Timestamp(AS_OF), periods=730)
    frames = []
    for (sku, market), rate in {("A", "US"): 0.6, ("A", "GB"): 0.2, ("B", "US"): 0.3}.items():
        units = rng.poisson(rate * 3, len(days)) * (rng.random(len(days)) < rate)
        frames.append(pd.DataFrame({"sku": sku, "market": market, "category": "toys", "demand_date": days,
                                    "units_sold": units.astype(float), "revenue_eur": 20.0 * units}))
    history = pd.concat(frames, ignore_index=True)
    history = history[history["units_sold"] > 0].reset_index(drop=True)
    history.loc[len(history) - 40, "units_sold"] = 300.0  # a pallet for a wholesaler
    return dataclasses.replace(src, history=history)


def test_a_plan_caps_its_sales_once_and_each_reader_gets_what_capping_itself_would(monkeypatch):
    src = lumpy_sources()
    real = bulk_days.regular_daily_sales
    calls = []
    monkeypatch.setattr(bulk_days, "regular_daily_sales", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    out = run(src)
    assert calls == [365]  # the classes, the safety stock and the trade-off read one capping
    assert set(out.plan["ss_method"]) >= {"simulated"}
    monkeypatch.undo()

    once = plan_regular_sales(src)
    assert once.daily["units_sold"].max() < 300  # the pallet counts as its series' busy day
    config = load_service_level_config(None)
    pd.testing.assert_frame_equal(classify_series(src.history, AS_OF, config, regular=once),
                                  classify_series(src.history, AS_OF, config))
    keys = out.plan[["sku", "node"]]
    np.testing.assert_array_equal(node_demand_samples(once, src.market_nodes, keys, AS_OF),
                                  node_demand_samples(src.history, src.market_nodes, keys, AS_OF))
    # the scenarios get the same capped sales, not another capping per re-plan
    alternatives = pd.DataFrame({"sku": ["A", "B"], "supplier_id": ["S1", "S2"], "unit_cost_eur": [10.0, 5.0],
                                 "quoted_lead_time_days": [20.0, 10.0], "is_primary": True})
    inputs = scenario_inputs(src, alternatives, out.classes.drop(columns="as_of"))
    assert isinstance(inputs.demand_history, bulk_days.RegularSales)
    pd.testing.assert_frame_equal(inputs.demand_history.daily, once.daily)
    with pytest.raises(ValueError, match="capped for the 365 days up to 2026-10-30, asked for the 400 days"):
        once.window(pd.Timestamp(AS_OF), 400)


def test_a_bad_history_row_is_named_before_the_sales_are_capped():
    src = sources()
    history = src.history.astype({"units_sold": object})
    history.loc[3, "units_sold"] = "x"
    with pytest.raises(ValueError, match=r"`history`.units_sold must be numbers >= 0; bad for skus \[?'?A"):
        run(dataclasses.replace(src, history=history))
    with pytest.raises(ValueError, match="revenue_eur"):
        run(dataclasses.replace(src, history=src.history.drop(columns="revenue_eur")))


def test_days_whose_sales_had_no_ecb_rate_are_planned_on_their_units():
    """A Shopify merchant's run stopped on 21 order lines in dirhams (no ECB rate): the mart's revenue_eur is
    null on a day whose every sale was such a line, and the plan refused the whole history. It plans on units."""
    src = sources()
    history = src.history.copy()
    history.loc[history["sku"] == "B", "revenue_eur"] = np.nan
    out = run(dataclasses.replace(src, history=history))
    assert ("B", "US-EWR") in set(zip(out.plan["sku"], out.plan["node"]))
    b = out.classes.set_index(["sku", "market"]).loc[("B", "US")]
    assert b["annual_units"] == 240 and b["annual_revenue_eur"] == 0 and b["abc"] == "C"


def test_each_row_says_whom_to_buy_from_on_what_terms_and_for_how_much():
    """A buyer had to join the catalogue to learn the supplier, MOQ, pack and value of an order."""
    plan = run().plan.set_index(["sku", "node"])
    assert list(plan.columns[-5:]) == ["supplier_id", "moq", "pack_size", "purchase_value_eur", "order_terms_assumed"]
    assert plan.loc[("B", "US-EWR"), ["supplier_id", "moq", "pack_size"]].tolist() == ["S2", 10, 5]
    # A's catalogue line named no MOQ (marts.dim_sku assumed one): the buyer sees that before placing the order
    assert plan["order_terms_assumed"].to_dict() == {("A", "GB-BHX"): True, ("A", "US-EWR"): True, ("B", "US-EWR"): False}
    assert plan["supplier_id"].to_dict() == {("A", "GB-BHX"): "S1", ("A", "US-EWR"): "S1", ("B", "US-EWR"): "S2"}
    np.testing.assert_allclose(plan["purchase_value_eur"], plan["purchase_after_transfers"] * plan["unit_cost_eur"])
