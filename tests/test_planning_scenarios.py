"""Scenarios on the inventory plan: hand-worked stock-outs, shortfalls and contingency choices.

Every case uses a flat forecast with no spread (p10 = p50 = p90 = mean) and
lead times of 10 days from 5 receipts with no spread, so the safety stock is 0
and a reorder point is d̄ * 10: the stock paths below can be done by hand.
Day d is AS_OF + d; a line or transfer landing on day d is booked before that
day's demand.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planning import PLAN_COLUMNS, PlanningPolicy
from planning.scenarios import (
    AS_PLANNED,
    IMPACT_COLUMNS,
    NONE_FEASIBLE,
    SUMMARY_COLUMNS,
    ContingencyCosts,
    PlanInputs,
    Scenario,
    apply_scenario,
    default_scenarios,
    run_plan,
    scenario_impact,
    pick_default_scenarios,
    scenario_summary,
)

AS_OF = dt.date(2026, 10, 30)
HORIZON = 28  # 2026-10-31 .. 2026-11-27
MARKET_NODES = pd.DataFrame({"market": ["US", "DE", "GB"], "node": ["US-EWR", "NL-AMS", "GB-BHX"]})
WEIGHT = 2.0  # kg/unit: expedite 16 EUR/unit, transfer 3 EUR/unit at the default rates


def day(n: int) -> pd.Timestamp:
    return pd.Timestamp(AS_OF) + pd.Timedelta(days=n)


def make_inputs(
    demand: dict[tuple[str, str], float],
    on_hand: dict[tuple[str, str], int],
    lines: list[tuple[str, str, str, pd.Timestamp, int]] = (),
    primary: dict[str, str] | None = None,
    alternatives: list[tuple[str, str, float, float]] = (),
    lead_days: dict[str, float] | None = None,
) -> PlanInputs:
    """demand: (sku, market) -> units/day, flat; on_hand: (sku, node) -> units; lines: (sku, node, supplier, date, qty);
    alternatives: (sku, supplier, unit cost EUR, quoted days) besides the primary (10 EUR, 10 days)."""
    primary = primary or {"A": "S1", "B": "S2", "C": "S2"}
    skus = sorted({s for s, _ in demand} | {s for s, _ in on_hand} | {line[0] for line in lines})
    dates = pd.date_range(day(1), periods=HORIZON)
    forecast = pd.concat(
        [
            pd.DataFrame({"sku": s, "market": m, "forecast_date": dates, "p10": v, "p50": v, "p90": v, "mean": v})
            for (s, m), v in demand.items()
        ],
        ignore_index=True,
    )
    po = pd.DataFrame(lines, columns=["sku", "node", "supplier_id", "expected_arrival_date", "quantity"])
    lead = {s: 10.0 for s in skus} | (lead_days or {})
    return PlanInputs(
        forecast=forecast,
        on_hand=pd.DataFrame([(s, n, q) for (s, n), q in on_hand.items()], columns=["sku", "node", "on_hand"]),
        open_orders=po.groupby(["sku", "node"], as_index=False)["quantity"].sum().rename(columns={"quantity": "on_order"}),
        lead_times=pd.DataFrame(
            {
                "sku": skus,
                "n_receipts": 5,
                "lead_time_mean_days": [lead[s] for s in skus],
                "lead_time_std_days": 0.0,
                "quoted_lead_time_days": [lead[s] for s in skus],
            }
        ),
        skus=pd.DataFrame(
            {"sku": skus, "category": "toys", "unit_cost_eur": 10.0, "moq": 0, "pack_size": 1, "weight_kg": WEIGHT}
        ),
        market_nodes=MARKET_NODES,
        as_of=AS_OF,
        arrivals=po,
        primary_supplier=pd.DataFrame({"sku": skus, "supplier_id": [primary[s] for s in skus]}),
        alternatives=pd.DataFrame(
            [(s, primary[s], 10.0, 10.0, True) for s in skus] + [(*a, False) for a in alternatives],
            columns=["sku", "supplier_id", "unit_cost_eur", "quoted_lead_time_days", "is_primary"],
        ),
    )


# --------------------------------------------------------------------------- scenario -> inputs


def supplier_case() -> PlanInputs:
    # A at US-EWR: 100 on hand, 10/day, 100 units from S1 on day 8.
    #   baseline closing = 100 - 10d (+100 from day 8): 0 on day 20, -10 on day 21 -> stock-out day 21
    # B: the same demand but 400 on hand and its line from S2: never short.
    return make_inputs(
        demand={("A", "US"): 10.0, ("B", "US"): 10.0},
        on_hand={("A", "US-EWR"): 100, ("B", "US-EWR"): 400},
        lines=[("A", "US-EWR", "S1", day(8), 100), ("B", "US-EWR", "S2", day(8), 100)],
    )


def test_supplier_out_delays_its_lines_and_lead_times_only():
    inputs = supplier_case()
    changed = apply_scenario(inputs, Scenario("S1 out", supplier_out={"S1": 2}))
    lines = changed.arrivals.set_index("sku")["expected_arrival_date"]
    assert lines["A"] == day(22) and lines["B"] == day(8)
    lt = changed.lead_times.set_index("sku")
    assert lt.loc["A", "lead_time_mean_days"] == 24 and lt.loc["A", "quoted_lead_time_days"] == 24
    assert lt.loc["B", "lead_time_mean_days"] == 10
    assert inputs.arrivals.set_index("sku")["expected_arrival_date"]["A"] == day(8)  # the input is not changed
    plan = run_plan(changed).set_index(["sku", "node"])
    assert plan.loc[("A", "US-EWR"), "lead_time_days"] == 24 and plan.loc[("B", "US-EWR"), "lead_time_days"] == 10


def test_supplier_out_pushes_a_po_past_the_stockout():
    # S1 out 2 weeks: A's line lands on day 22. Closing 100 - 10d is -10 on day 11 -> stock-out day 11;
    # day 21: -110; day 22: +100 -> -20; day 28: -80 (the baseline's -80 too).
    # Unserved gap = max over days of (scenario short - baseline short) = day 20: 100 - 0, day 21: 110 - 10 -> 100
    # (the deepest shortfalls 110 - 80 = 30 would miss that the 100 lost in the gap are not caught up by the PO).
    out = scenario_impact(supplier_case(), [Scenario("S1 out 2 weeks", supplier_out={"S1": 2})])
    assert list(out.columns) == list(IMPACT_COLUMNS)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["scenario"], row["sku"], row["node"]) == ("S1 out 2 weeks", "A", "US-EWR")
    assert row["baseline_stockout_date"] == day(21) and row["scenario_stockout_date"] == day(11)
    assert row["days_earlier"] == 10 and not row["new_stockout"]
    assert row["baseline_unserved_units"] == pytest.approx(80) and row["scenario_unserved_units"] == pytest.approx(110)
    assert row["shortfall_units"] == pytest.approx(100)
    # The only option is an air shipment from S1, which can only leave after the outage: day 14 + 7 = day 21.
    assert row["contingency"] == NONE_FEASIBLE
    assert row["contingency_detail"] == "least bad: expedite by air from S1 (lands 10 d after stock-out)"
    assert row["contingency_cost_eur"] == pytest.approx(100 * WEIGHT * 8.0)
    assert row["contingency_units"] == 100 and row["contingency_arrival_date"] == day(21)
    assert "no other supplier in the catalogue" in row["options"] and "no other node with spare stock" in row["options"]


def test_demand_uplift_scales_only_that_market():
    inputs = make_inputs(
        demand={("B", "US"): 10.0, ("A", "DE"): 10.0},
        on_hand={("B", "US-EWR"): 250, ("A", "NL-AMS"): 100},
    )
    changed = apply_scenario(inputs, Scenario("US +20%", demand_uplift={"US": 0.2}))
    before, after = inputs.forecast.set_index(["sku", "market", "forecast_date"]), changed.forecast.set_index(
        ["sku", "market", "forecast_date"]
    )
    for col in ("p10", "p50", "p90", "mean"):
        assert np.allclose(after.loc["B"][col], 12.0)
        assert after.loc["A"][col].tolist() == before.loc["A"][col].tolist()
    # B at US-EWR: 250 / 10 -> short on day 26; 250 / 12 -> short on day 21 (252).
    # Gap on day 28: (336 - 250) - (280 - 250) = 56. A at NL-AMS is short on day 11 either way: no row.
    out = scenario_impact(inputs, [Scenario("US +20%", demand_uplift={"US": 0.2})])
    assert out[["sku", "node"]].values.tolist() == [["B", "US-EWR"]]
    row = out.iloc[0]
    assert row["baseline_stockout_date"] == day(26) and row["scenario_stockout_date"] == day(21)
    assert row["days_earlier"] == 5 and row["shortfall_units"] == pytest.approx(56)


def test_lane_delay_moves_arrivals_and_lead_time_at_that_node_only():
    inputs = make_inputs(
        demand={("A", "US"): 10.0, ("B", "US"): 1.0, ("A", "DE"): 1.0},
        on_hand={("A", "US-EWR"): 100, ("B", "US-EWR"): 100, ("A", "NL-AMS"): 100},
        lines=[
            ("A", "US-EWR", "S1", day(8), 100),
            ("A", "NL-AMS", "S1", day(8), 50),
            ("B", "US-EWR", "S2", pd.Timestamp("2026-10-20"), 30),  # overdue: booked on day 1
        ],
    )
    scenario = Scenario("EWR +5", lane_delay_days={"US-EWR": 5})
    changed = apply_scenario(inputs, scenario)
    moved = changed.arrivals.set_index(["sku", "node"])["expected_arrival_date"]
    assert moved[("A", "US-EWR")] == day(13)
    assert moved[("A", "NL-AMS")] == day(8)
    assert moved[("B", "US-EWR")] == day(6)  # day 1 + 5
    assert changed.node_extra_lead_time_days == {"US-EWR": 5}
    plan = run_plan(changed)
    assert list(plan.columns) == list(PLAN_COLUMNS)
    lead = plan.set_index(["sku", "node"])["lead_time_days"]
    assert lead[("A", "US-EWR")] == 15 and lead[("B", "US-EWR")] == 15 and lead[("A", "NL-AMS")] == 10
    assert run_plan(inputs).set_index(["sku", "node"])["lead_time_days"][("A", "US-EWR")] == 10

    # A at US-EWR: short on day 11 (100 - 110) until the line lands on day 13; baseline short on day 21.
    # Gap: day 12 is 20 short against 0. An expedite into the slowed node lands day 7 + 5 = 12, a day late.
    # NL-AMS: 100 on hand, 1/day, reorder point 10, lowest closing 93 on day 7 (its line lands on day 8):
    # spare min(100 - 10, 93) = 90; a transfer into the slowed node lands day 5 + 5 = 10: in time, and cheapest.
    out = scenario_impact(inputs, [scenario]).set_index(["sku", "node"])
    row = out.loc[("A", "US-EWR")]
    assert row["baseline_stockout_date"] == day(21) and row["scenario_stockout_date"] == day(11)
    assert row["shortfall_units"] == pytest.approx(20)
    assert row["contingency"] == "reroute" and row["contingency_detail"] == "from NL-AMS (20)"
    assert row["contingency_arrival_date"] == day(10)
    assert row["contingency_cost_eur"] == pytest.approx(20 * WEIGHT * 1.5)
    assert "expedite by air from S1: EUR 320.00, lands 2026-11-11 (1 d after stock-out) - infeasible" in row["options"]


# --------------------------------------------------------------------------- contingency choice

# A at US-EWR: 200 on hand, 10/day -> short on day 21. With US +50 % (15/day) short on day 14 (210 > 200).
# Gap: from day 20 on (15d - 200) - (10d - 200) = 5d -> 140 on day 28. Expedite: 140 * 2 kg * 8 = 2240, day 7.
UPLIFT = Scenario("US +50%", demand_uplift={"US": 0.5})
SHORT = 140


def uplift_case(donor_on_hand: int | None, alternatives: list[tuple[str, str, float, float]], us_on_hand: int = 200):
    demand = {("A", "US"): 10.0}
    on_hand = {("A", "US-EWR"): us_on_hand}
    if donor_on_hand is not None:
        # NL-AMS: 1/day, reorder point 1 * 10; spare = min(on hand - 10, on hand - 28) = on hand - 28
        demand[("A", "DE")] = 1.0
        on_hand[("A", "NL-AMS")] = donor_on_hand
    return make_inputs(demand=demand, on_hand=on_hand, alternatives=alternatives)


def only_row(out: pd.DataFrame) -> pd.Series:
    assert len(out) == 1, out
    return out.iloc[0]


def test_reroute_wins_when_a_node_has_spare():
    # Reroute 140 * 2 * 1.5 = 420 on day 5; expedite 2240 on day 7; S9 (11 EUR, 30 days: 140 + 50 = 190) is
    # cheaper but lands day 30, after the day-14 stock-out.
    row = only_row(scenario_impact(uplift_case(500, [("A", "S9", 11.0, 30.0)]), [UPLIFT]))
    assert row["scenario_stockout_date"] == day(14) and row["baseline_stockout_date"] == day(21)
    assert row["shortfall_units"] == pytest.approx(SHORT)
    assert row["contingency"] == "reroute" and row["contingency_detail"] == "from NL-AMS (140)"
    assert row["contingency_cost_eur"] == pytest.approx(420.0)
    assert row["contingency_units"] == SHORT and row["contingency_arrival_date"] == day(5)
    assert "alternative supplier S9: EUR 190.00, lands 2026-11-29 (16 d after stock-out) - infeasible" in row["options"]
    assert "expedite by air from S1: EUR 2,240.00, lands 2026-11-06 (in time) - feasible" in row["options"]


def test_stock_whose_market_was_held_back_is_never_a_reroutes_donor():
    """NL-AMS's A sells in DE, which the training-data gate held back: its demand is unknown, not the trickle left
    in the forecast, so its 500 units are not spare; the expedite is the fix."""
    inputs = dataclasses.replace(uplift_case(500, [("A", "S9", 11.0, 30.0)]), held_back_pairs=frozenset({("A", "NL-AMS")}))
    row = only_row(scenario_impact(inputs, [UPLIFT]))
    assert row["contingency"] == "expedite" and "reroute: no other node with spare stock" in row["options"]
    # and a held-back row's own stock-out is not dated: the plan draws it no projection
    blind = dataclasses.replace(inputs, held_back_pairs=frozenset({("A", "US-EWR")}))
    assert scenario_impact(blind, [UPLIFT]).empty


def _transferred(inputs: PlanInputs, to_node: str, units: int, arrival: int) -> PlanInputs:
    """`inputs` once the plan's recommended transfer of `units` of A from NL-AMS to `to_node` is made."""
    from planning.run import with_transfers

    moved = pd.DataFrame({"sku": ["A"], "from_node": ["NL-AMS"], "to_node": [to_node], "units": [units],
                          "arrival_date": [day(arrival)]})
    on_hand, open_orders, arrivals = with_transfers(inputs.on_hand, inputs.open_orders, inputs.arrivals, moved)
    return dataclasses.replace(inputs, on_hand=on_hand, open_orders=open_orders, arrivals=arrivals)


def test_the_scenarios_start_from_the_plan_with_its_transfers_made():
    """A buyer's test: the plan transferred a node's 167 spare units, and the contingencies rerouted 186 more from
    the same stock. Made first, a transfer leaves its source, so it is nobody's reroute again, and is on its way to
    its destination, so the destination's own shortfall is not fixed a second time (a review's finding: counting
    only the source's side priced an expedite on top of the transfer)."""
    base = uplift_case(500, [("A", "S9", 11.0, 30.0)])
    assert only_row(scenario_impact(base, [UPLIFT]))["contingency_detail"] == "from NL-AMS (140)"
    away = only_row(scenario_impact(_transferred(base, "GB-BHX", 472, 3), [UPLIFT]))  # the donor's whole spare
    assert away["contingency"] == "expedite" and "reroute: no other node with spare stock" in away["options"]
    partly = only_row(scenario_impact(_transferred(base, "GB-BHX", 300, 3), [UPLIFT]))  # 172 left: enough
    assert partly["contingency"] == "reroute" and partly["contingency_detail"] == "from NL-AMS (140)"
    short_of_it = only_row(scenario_impact(_transferred(base, "GB-BHX", 372, 3), [UPLIFT]))  # 100 left
    assert short_of_it["contingency"] == "expedite" and "reroute from NL-AMS (100)" in short_of_it["options"]
    # US-EWR runs out before supply as planned (60 on hand, 10 a day): the plan's transfer in fixes it
    short = uplift_case(500, [], us_on_hand=60)
    assert not scenario_impact(short, []).empty
    assert scenario_impact(_transferred(short, "US-EWR", 472, 3), []).empty


def test_a_reroute_waits_at_customs_and_loses_when_that_makes_it_late():
    # NL-AMS -> US-EWR crosses a customs border: the reroute lands on day 5 + ceil(customs days).
    def with_customs(days: float) -> PlanInputs:
        customs = pd.DataFrame(
            {"sku": ["A"], "from_node": ["NL-AMS"], "to_node": ["US-EWR"], "customs_days": [days],
             "customs_basis": ["all chapters into US"]}
        )
        return dataclasses.replace(uplift_case(500, [("A", "S9", 11.0, 30.0)]), customs_days=customs)

    # 8.2 days: lands day 14, the stock-out day itself, still in time
    row = only_row(scenario_impact(with_customs(8.2), [UPLIFT]))
    assert row["contingency"] == "reroute" and row["contingency_arrival_date"] == day(14)
    assert row["contingency_detail"] == "from NL-AMS (140, customs +8.2 d)"
    # 9.5 days: lands day 15, after the day-14 stock-out; the expedite (day 7) is the cheapest in time
    late = only_row(scenario_impact(with_customs(9.5), [UPLIFT]))
    assert late["contingency"] == "expedite"
    assert "reroute from NL-AMS (140, customs +9.5 d): EUR 420.00, lands 2026-11-14 (1 d after stock-out)" in late["options"]


def test_alternative_supplier_wins_when_it_lands_in_time_and_no_node_has_spare():
    # S9: 140 * (11 - 10) + 50 = 190 on day 10; S8: 140 * 2 + 50 = 330 on day 5; expedite 2240.
    row = only_row(scenario_impact(uplift_case(None, [("A", "S9", 11.0, 10.0), ("A", "S8", 12.0, 5.0)]), [UPLIFT]))
    assert row["contingency"] == "alternative supplier" and row["contingency_detail"] == "S9"
    assert row["contingency_cost_eur"] == pytest.approx(190.0) and row["contingency_arrival_date"] == day(10)
    # a cheaper offer costs the order only: its saving is not a contingency's
    cheap = only_row(scenario_impact(uplift_case(None, [("A", "S9", 7.0, 10.0)]), [UPLIFT]))
    assert cheap["contingency_cost_eur"] == pytest.approx(PlanningPolicy().order_cost_eur)


def test_an_alternative_is_priced_against_the_plans_cost_when_the_primarys_catalogue_cost_is_0():
    """A catalogue cost of 0 is no cost to plan with: dim_sku plans at an assumed one (skus: 10.0 here), and S9's
    offer at 11 costs 140 x (11 - 10) + 50 = 190 against it, not 140 x 11 + 50 against nothing."""
    inputs = uplift_case(None, [("A", "S9", 11.0, 10.0)])
    alternatives = inputs.alternatives.assign(unit_cost_eur=lambda f: f["unit_cost_eur"].where(~f["is_primary"], 0.0))
    row = only_row(scenario_impact(dataclasses.replace(inputs, alternatives=alternatives), [UPLIFT]))
    assert row["contingency"] == "alternative supplier" and row["contingency_cost_eur"] == pytest.approx(190.0)


def test_only_expedite_is_feasible_when_the_spare_is_short_and_the_alternative_late():
    # NL-AMS holds 60: spare min(60 - 10, 60 - 28) = 32 < 140, a partial reroute; S9 lands day 30.
    row = only_row(scenario_impact(uplift_case(60, [("A", "S9", 11.0, 30.0)]), [UPLIFT]))
    assert row["contingency"] == "expedite" and row["contingency_detail"] == "by air from S1"
    assert row["contingency_cost_eur"] == pytest.approx(SHORT * WEIGHT * 8.0)
    assert row["contingency_units"] == SHORT and row["contingency_arrival_date"] == day(7)
    assert "reroute from NL-AMS (32): EUR 96.00, lands 2026-11-04 (in time, covers only 32 units) - infeasible" in row["options"]


def test_when_no_option_can_be_priced_the_detail_says_what_each_lacked():
    """An onboarding merchant's expedite exception read 'fix: none feasible: no option could be priced', and nothing
    said what to send or declare for one to be priced."""
    inputs = supplier_case()
    inputs = dataclasses.replace(inputs, skus=inputs.skus.assign(weight_kg=np.nan))
    row = only_row(scenario_impact(inputs, [Scenario("S1 out 2 weeks", supplier_out={"S1": 2})]))
    assert row["contingency"] == NONE_FEASIBLE and pd.isna(row["contingency_cost_eur"])
    detail = row["contingency_detail"]
    assert detail.startswith("no option could be priced: ")
    for lacking in ("no other node with spare stock", "no other supplier in the catalogue", "no weight_kg to price it"):
        assert lacking in detail


def test_nothing_feasible_names_the_least_bad_option():
    # 60 on hand: baseline short on day 7 (70 > 60), scenario on day 5 (75 > 60). Gap 5d -> 140 on day 28.
    # Transfers take 6 days here (day 6), expedite 7 (day 7), S9 10 (day 10): all late. The least bad is the
    # earliest to land with the whole shortfall: the reroute, although the alternative is cheaper.
    inputs = uplift_case(500, [("A", "S9", 11.0, 10.0)], us_on_hand=60)
    out = scenario_impact(inputs, [UPLIFT], ContingencyCosts(transfer_days=6))
    assert list(out["scenario"]) == [AS_PLANNED, UPLIFT.name]  # the plan itself runs out before its 10 days of lead time
    row = only_row(out[out["scenario"] == UPLIFT.name])
    assert row["baseline_stockout_date"] == day(7) and row["scenario_stockout_date"] == day(5)
    assert row["shortfall_units"] == pytest.approx(SHORT)
    assert row["contingency"] == NONE_FEASIBLE
    assert row["contingency_detail"] == "least bad: reroute from NL-AMS (140) (lands 1 d after stock-out)"
    assert row["contingency_cost_eur"] == pytest.approx(420.0) and row["contingency_arrival_date"] == day(6)
    assert row["options"].count("- infeasible") == 3


def test_the_plans_own_stockouts_before_supply_come_first_with_their_fix_priced():
    # 60 on hand at 10/day: the plan runs out on day 7, and a purchase placed today lands on day 10 (the primary's
    # quoted lead time): days 7 to 9 go unserved, 30 units by day 9. NL-AMS has spare to reroute in time.
    inputs = uplift_case(500, [], us_on_hand=60)
    plan = run_plan(inputs).set_index(["sku", "node"])
    assert plan.loc[("A", "US-EWR"), "action"] == "expedite or transfer"
    out = scenario_impact(inputs, [])  # no scenario at all: the plan's own need still shows
    row = only_row(out)
    assert row["scenario"] == AS_PLANNED and row["node"] == "US-EWR"
    assert row["baseline_stockout_date"] == row["scenario_stockout_date"] == day(7) and row["days_earlier"] == 0
    assert not row["new_stockout"]
    assert row["shortfall_units"] == pytest.approx(30)
    assert row["contingency"] == "reroute" and row["contingency_detail"] == "from NL-AMS (30)"
    assert row["contingency_cost_eur"] == pytest.approx(30 * WEIGHT * 1.5)
    # with stock enough to last the lead time, the plan needs nothing fixed
    assert scenario_impact(uplift_case(500, [], us_on_hand=150), []).empty
    with pytest.raises(ValueError, match="plan's own stock-outs"):
        scenario_impact(inputs, [Scenario(AS_PLANNED)])


def test_a_donor_spare_is_promised_once_earliest_stockout_first():
    # A short at GB-BHX first: 150 on hand, 15/day -> day 11 (baseline 10/day -> day 16); gap 5d -> 140.
    # Then at US-EWR on day 14 (above). NL-AMS holds 228: spare 200. GB-BHX takes 140, US-EWR finds 60 left.
    inputs = make_inputs(
        demand={("A", "US"): 10.0, ("A", "GB"): 10.0, ("A", "DE"): 1.0},
        on_hand={("A", "US-EWR"): 200, ("A", "GB-BHX"): 150, ("A", "NL-AMS"): 228},
    )
    out = scenario_impact(inputs, [Scenario("US and GB +50%", demand_uplift={"US": 0.5, "GB": 0.5})])
    assert out["node"].tolist() == ["GB-BHX", "US-EWR"]
    gb, us = out.iloc[0], out.iloc[1]
    assert gb["scenario_stockout_date"] == day(11) and gb["contingency"] == "reroute"
    assert gb["contingency_units"] == SHORT
    assert us["contingency"] == "expedite"
    assert "reroute from NL-AMS (60)" in us["options"] and "covers only 60 units" in us["options"]


# --------------------------------------------------------------------------- no change, bad scenarios, defaults


def test_a_scenario_that_changes_nothing_yields_no_rows():
    inputs = supplier_case()
    for scenario in (Scenario("as planned"), Scenario("zeros", supplier_out={"S1": 0}, demand_uplift={"US": 0.0})):
        assert scenario.is_baseline
        out = scenario_impact(inputs, [scenario])
        assert out.empty and list(out.columns) == list(IMPACT_COLUMNS)
    assert scenario_impact(inputs, []).empty


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"supplier_out": {"S1": -1}}, r"supplier_out\['S1'\] must be whole weeks >= 0, got -1"),
        ({"supplier_out": {"S1": 1.5}}, r"supplier_out\['S1'\] must be whole weeks"),
        ({"lane_delay_days": {"US-EWR": -3}}, r"lane_delay_days\['US-EWR'\] must be whole days >= 0"),
        ({"demand_uplift": {"US": -1.0}}, r"demand_uplift\['US'\] must be a finite number > -1"),
        ({"demand_uplift": {"US": float("nan")}}, r"demand_uplift\['US'\]"),
    ],
)
def test_bad_scenario_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Scenario("bad", **kwargs)


@pytest.mark.parametrize(
    "scenario, message",
    [
        (Scenario("x", supplier_out={"S99": 2}), r"unknown suppliers in supplier_out: \[S99\]"),
        (Scenario("x", lane_delay_days={"ZZ-XXX": 2}), r"unknown nodes in lane_delay_days: \[ZZ-XXX\]"),
        (Scenario("x", demand_uplift={"XX": 0.2}), r"unknown markets in demand_uplift: \[XX\]"),
    ],
)
def test_unknown_suppliers_nodes_and_markets_are_named(scenario, message):
    inputs = supplier_case()
    with pytest.raises(ValueError, match=message):
        apply_scenario(inputs, scenario)
    with pytest.raises(ValueError, match=message):  # checked before any plan runs
        scenario_impact(inputs, [Scenario("fine", supplier_out={"S1": 1}), scenario])


def test_other_bad_input_is_named():
    with pytest.raises(ValueError, match="repeated: \\['twice'\\]"):
        scenario_impact(supplier_case(), [Scenario("twice"), Scenario("twice")])
    with pytest.raises(ValueError, match="Scenario name"):
        Scenario(" ")
    with pytest.raises(ValueError, match="`arrivals` is missing columns \\['supplier_id'\\]"):
        inputs = supplier_case()
        PlanInputs(**{**inputs.__dict__, "arrivals": inputs.arrivals.drop(columns="supplier_id")})
    with pytest.raises(ValueError, match="expedite_days"):
        ContingencyCosts(expedite_days=-1)


def test_default_scenarios_follow_the_data():
    # S2 is primary of B and C (2 SKUs) against S1's A; GB-BHX receives the SKU with the longest lead time;
    # US has the most demand.
    inputs = make_inputs(
        demand={("A", "US"): 10.0, ("B", "US"): 5.0, ("C", "GB"): 4.0},
        on_hand={("A", "US-EWR"): 100, ("B", "US-EWR"): 100, ("C", "GB-BHX"): 100},
        lines=[("A", "US-EWR", "S1", day(8), 100), ("C", "GB-BHX", "S2", day(9), 10)],
        lead_days={"C": 40.0},
    )
    scenarios = default_scenarios(inputs)
    assert [s.supplier_out for s in scenarios] == [{"S2": 4}, {}, {}]
    assert scenarios[1].lane_delay_days == {"GB-BHX": 7}
    assert scenarios[2].demand_uplift == {"US": 0.3} and scenarios[2].name == "demand +30% in US"
    assert len({s.name for s in scenarios}) == 3
    scenario_impact(inputs, scenarios)  # they run


# --------------------------------------------------------------------------- the summary: one row per scenario run


def test_the_summary_has_a_row_for_every_scenario_run_and_says_when_it_broke_nothing():
    # The plan itself runs short at US-EWR before supply (60 on hand at 10/day); +50 % in US and GB breaks two
    # SKU x node; a supplier out for 0 weeks changes nothing: without the summary it would leave no trace.
    inputs = make_inputs(
        demand={("A", "US"): 10.0, ("A", "GB"): 10.0, ("A", "DE"): 1.0},
        on_hand={("A", "US-EWR"): 200, ("A", "GB-BHX"): 150, ("A", "NL-AMS"): 228},
    )
    surge = Scenario("US and GB +50%", demand_uplift={"US": 0.5, "GB": 0.5})
    quiet = Scenario("S1 out 0 weeks", supplier_out={"S1": 0})
    impact = scenario_impact(inputs, [surge, quiet])
    summary = scenario_summary(impact, [surge, quiet]).set_index("scenario")
    assert list(summary.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert summary.index.tolist() == [AS_PLANNED, surge.name, quiet.name]
    hit = impact[impact["scenario"] == surge.name]
    row = summary.loc[surge.name]
    assert row["sku_nodes_earlier"] == len(hit) == 2
    assert row["new_stockouts"] == int(hit["new_stockout"].sum())
    assert row["shortfall_units"] == pytest.approx(hit["shortfall_units"].sum())
    assert row["contingency_cost_eur"] == pytest.approx(hit["contingency_cost_eur"].sum())
    assert row["without_feasible_fix"] == int((hit["contingency"] == NONE_FEASIBLE).sum())
    assert row["changes"] == "demand in GB +50%; demand in US +50%"
    assert row["outcome"].startswith("2 SKU x node stock out earlier than in the plan")
    for name in (AS_PLANNED, quiet.name):  # no rows in the impact: zeros, and the sentence says so
        assert summary.loc[name, ["sku_nodes_earlier", "new_stockouts", "without_feasible_fix"]].tolist() == [0, 0, 0]
        assert summary.loc[name, "shortfall_units"] == 0.0 and summary.loc[name, "contingency_cost_eur"] == 0.0
    assert summary.loc[quiet.name, "outcome"] == "no SKU x node stocks out earlier than in the plan"
    assert summary.loc[quiet.name, "changes"] == "supplier S1 out 0 weeks"
    assert summary.loc[AS_PLANNED, "outcome"] == "no SKU x node runs out before a purchase placed today could land"
    assert summary["sku_nodes_earlier"].dtype == "int64"


def test_the_summary_counts_the_plans_own_shortfalls_and_the_rows_without_a_fix():
    inputs = uplift_case(500, [], us_on_hand=60)  # the plan runs out on day 7, a purchase lands on day 10
    impact = scenario_impact(inputs, [])
    unfixable = impact.assign(contingency=NONE_FEASIBLE, contingency_cost_eur=np.nan)
    summary = scenario_summary(unfixable, []).set_index("scenario")
    assert summary.index.tolist() == [AS_PLANNED]
    assert summary.loc[AS_PLANNED, "sku_nodes_earlier"] == 1 and summary.loc[AS_PLANNED, "without_feasible_fix"] == 1
    assert summary.loc[AS_PLANNED, "contingency_cost_eur"] == 0.0  # nothing priced: no fix to pay for
    assert summary.loc[AS_PLANNED, "outcome"] == (
        "1 SKU x node run out before a purchase placed today could land; 1 without a feasible fix"
    )
    assert summary.loc[AS_PLANNED, "changes"] == "nothing: the plan as it stands"
    with pytest.raises(ValueError, match="scenarios not given"):
        scenario_summary(impact.assign(scenario="somebody else's"), [])


def test_a_default_scenario_the_data_cannot_give_is_a_summary_row_that_says_why_with_unknown_totals():
    inputs = make_inputs(demand={("A", "US"): 10.0}, on_hand={("A", "US-EWR"): 400})  # no open purchase order line
    scenarios = default_scenarios(inputs)
    assert [s.name for s in scenarios] == ["S1 out 4 weeks (primary of 1 SKUs)", "demand +30% in US"]
    picked = pick_default_scenarios(inputs)
    assert picked.run == scenarios
    left_out = picked.left_out
    assert left_out == {"the slowest inbound node +7 days": "no open purchase order line to weigh the nodes' lead times by"}
    summary = scenario_summary(scenario_impact(inputs, scenarios), scenarios, left_out)
    assert summary["scenario"].tolist() == [AS_PLANNED, *(s.name for s in scenarios), *left_out]
    not_run = summary.iloc[-1]
    assert not_run["outcome"] == "not run: no open purchase order line to weigh the nodes' lead times by"
    assert not_run["changes"] == "nothing: not run"
    assert all(pd.isna(not_run[c]) for c in ("sku_nodes_earlier", "new_stockouts", "shortfall_units", "contingency_cost_eur",
                                              "without_feasible_fix"))
    assert summary["sku_nodes_earlier"].iloc[:-1].notna().all() and str(summary["sku_nodes_earlier"].dtype) == "Int64"
    with pytest.raises(ValueError, match="both run and left out"):
        scenario_summary(scenario_impact(inputs, scenarios), scenarios, {scenarios[0].name: "why"})
