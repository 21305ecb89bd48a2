"""Transfers before purchases: hand-priced options, urgency order, never more than the source's excess."""
import datetime as dt

import pandas as pd
import pytest

from planning.transfers import apply_transfers, horizon_demand, recommend_transfers

AS_OF = dt.date(2026, 10, 30)
LANES = pd.DataFrame(
    {
        "from_node": ["NL-AMS", "US-EWR"],
        "to_node": ["GB-BHX", "GB-BHX"],
        "mode": ["road_ferry", "ocean_lcl"],
        "cost_eur_per_kg": [0.5, 0.6],
        "fixed_cost_eur": [40.0, 120.0],
        "transit_days": [3, 22],
    }
)
SKUS = pd.DataFrame({"sku": ["A", "B"], "moq": [50, 1], "pack_size": [10, 1]})
WEIGHTS = pd.DataFrame({"sku": ["A", "B"], "weight_kg": [2.0, 1.0]})


def _plan(rows, obsolete=None, reorder_points=None, order_quantity=1.0):
    """Plan rows; each reorder point is its position unless given (a row ordering now is at or below it)."""
    cols = ["sku", "node", "recommended_order_qty", "order_up_to", "inventory_position", "excess_units",
            "unit_cost_eur", "lead_time_days", "projected_stockout_date"]
    plan = pd.DataFrame(rows, columns=cols)
    return plan.assign(obsolete_units=obsolete or 0.0, order_quantity=order_quantity,
                       reorder_point=plan["inventory_position"] if reorder_points is None else reorder_points)


def test_idle_stock_elsewhere_is_moved_and_priced_against_buying():
    plan = _plan(
        [
            # A is short at GB-BHX: up-to 130, position 30 -> needs 100
            ("A", "GB-BHX", 100, 130.0, 30.0, 0.0, 10.0, 30.0, pd.Timestamp("2026-11-05")),
            # 60.7 idle units of A at NL-AMS, 500 at US-EWR
            ("A", "NL-AMS", 0, 50.0, 400.0, 60.7, 10.0, 30.0, pd.NaT),
            ("A", "US-EWR", 0, 50.0, 900.0, 500.0, 10.0, 30.0, pd.NaT),
        ],
        reorder_points=[100.0, 0.0, 0.0], order_quantity=30.0,
    )
    t = recommend_transfers(plan, LANES, WEIGHTS, AS_OF, order_cost_eur=50.0, annual_carrying_rate=0.25)
    assert list(zip(t["from_node"], t["units"])) == [("NL-AMS", 60), ("US-EWR", 40)]  # cheapest per unit first, whole units
    first, second = t.iloc[0], t.iloc[1]
    # NL-AMS: 40 + 60 units * 2 kg * 0.5 = 100 EUR; avoids a year of carrying 60 * 10 * 0.25 = 150 (not the order: 40 still to buy)
    assert first["transfer_cost_eur"] == pytest.approx(100.0) and first["purchase_cost_avoided_eur"] == pytest.approx(150.0)
    assert first["recommended"] and not first["covers_need"]
    assert first["arrival_date"] == pd.Timestamp("2026-11-02")
    # US-EWR: 120 + 40 * 2 * 0.6 = 168 against the order it saves (50) + 40 * 10 * 0.25 = 150: dearer, not recommended
    assert second["transfer_cost_eur"] == pytest.approx(168.0) and second["saving_eur"] == pytest.approx(-18.0)
    assert second["covers_need"] and not second["recommended"]
    after = apply_transfers(plan, t, SKUS).set_index(["sku", "node"])
    assert after.loc[("A", "GB-BHX"), "transfer_in_units"] == 60
    # the position after it (90) is still at or below the reorder point (100): the remaining 40 are bought, raised to
    # the MOQ of 50 (5 packs of 10)
    assert after.loc[("A", "GB-BHX"), "purchase_after_transfers"] == 50
    assert after.loc[("A", "NL-AMS"), "transfer_out_units"] == 60 and after.loc[("A", "US-EWR"), "transfer_out_units"] == 0


def test_a_slow_or_dear_transfer_is_listed_but_not_recommended():
    plan = _plan(
        [
            ("B", "GB-BHX", 5, 10.0, 5.0, 0.0, 1.0, 10.0, pd.Timestamp("2026-11-05")),  # lead time 10 days < 22 by sea
            ("B", "US-EWR", 0, 5.0, 100.0, 50.0, 1.0, 10.0, pd.NaT),
        ]
    )
    t = recommend_transfers(plan, LANES, WEIGHTS, AS_OF, order_cost_eur=50.0, annual_carrying_rate=0.25)
    assert len(t) == 1 and not t["recommended"].item()
    after = apply_transfers(plan, t, SKUS).set_index(["sku", "node"])
    assert after.loc[("B", "GB-BHX"), "purchase_after_transfers"] == 5  # still bought
    with pytest.raises(ValueError, match="`lanes` is missing columns"):
        recommend_transfers(plan, LANES.drop(columns="mode"), WEIGHTS, AS_OF, 50.0, 0.25)


def test_most_urgent_need_is_served_first_from_a_scarce_source():
    plan = _plan(
        [
            ("A", "GB-BHX", 10, 20.0, 0.0, 0.0, 10.0, 30.0, pd.Timestamp("2026-11-20")),
            ("A", "US-EWR", 10, 20.0, 0.0, 0.0, 10.0, 30.0, pd.Timestamp("2026-11-01")),
            ("A", "NL-AMS", 0, 20.0, 100.0, 15.0, 10.0, 30.0, pd.NaT),
        ]
    )
    lanes = pd.concat([LANES, LANES.iloc[[0]].assign(to_node="US-EWR", transit_days=20)])
    t = recommend_transfers(plan, lanes, WEIGHTS, AS_OF, 50.0, 0.25)
    assert list(zip(t["to_node"], t["units"])) == [("US-EWR", 15)]  # all 15 spare go to the earlier stock-out


def test_stock_where_nothing_is_expected_to_sell_is_offered_before_buying():
    """NL-AMS holds 80 units of A and expects no demand for them (obsolete, not excess: the plan counts them once);
    GB-BHX needs 60. Before, only excess was offered and GB-BHX bought while NL-AMS's stock sat idle."""
    plan = _plan(
        [
            ("A", "GB-BHX", 60, 60.0, 0.0, 0.0, 10.0, 30.0, pd.Timestamp("2026-11-05")),
            ("A", "NL-AMS", 0, 0.0, 80.0, 0.0, 10.0, 30.0, pd.NaT),
            ("A", "US-EWR", 0, 0.0, 80.0, float("nan"), 10.0, 30.0, pd.NaT),  # unknown: offers nothing
        ],
        obsolete=[0.0, 80.0, float("nan")],
    )
    known = pd.DataFrame({"sku": [None, None], "node": ["NL-AMS", "US-EWR"], "units": [0.0, 0.0]})
    t = recommend_transfers(plan, LANES, WEIGHTS, AS_OF, order_cost_eur=50.0, annual_carrying_rate=0.25,
                            horizon_demand=known)
    assert list(zip(t["from_node"], t["units"], t["recommended"])) == [("NL-AMS", 60, True)]
    after = apply_transfers(plan, t, SKUS).set_index(["sku", "node"])
    assert after.loc[("A", "GB-BHX"), "purchase_after_transfers"] == 0
    assert after.loc[("A", "NL-AMS"), "transfer_out_units"] == 60
    # without the horizon's demand, obsolete stock is not offered (what a node expects later is not known)
    assert recommend_transfers(plan, LANES, WEIGHTS, AS_OF, 50.0, 0.25).empty


def _forecast(rows):
    return pd.DataFrame(rows, columns=["sku", "market", "forecast_date", "mean"]).assign(
        forecast_date=lambda f: pd.to_datetime(f["forecast_date"]))


def test_obsolete_stock_a_node_needs_later_in_the_horizon_or_of_an_unforecast_market_stays():
    """NL-AMS sells nothing of A over its 30-day lead time (obsolete), but DE launches A on day 31 at 20 a day:
    only what the horizon's 26 later days leave (600 - 520 = 80) may go. FR-CDG serves FR, which no run has
    forecast yet: its stock's demand is unknown, not zero. GB-BHX needs 200."""
    market_nodes = pd.DataFrame({"market": ["DE", "GB", "FR"], "node": ["NL-AMS", "GB-BHX", "FR-CDG"]})
    days = pd.date_range(AS_OF, periods=56)
    forecast = _forecast([("A", "DE", day, 0.0 if i < 30 else 20.0) for i, day in enumerate(days)]
                         + [("A", "GB", day, 5.0) for day in days])
    demand = horizon_demand(forecast, market_nodes, ["GB-BHX", "NL-AMS", "FR-CDG", "HUB"], AS_OF)
    assert set(demand["node"]) == {"GB-BHX", "NL-AMS", "HUB"}  # HUB serves no market: it expects nothing
    # FR held back by the training-data gate: its SKUs' rows are unknown in the plan, its other SKUs did not sell
    assert "FR-CDG" in set(horizon_demand(forecast, market_nodes, ["FR-CDG"], AS_OF, held_back=["FR"])["node"])
    assert demand.set_index(["sku", "node"]).loc[("A", "NL-AMS"), "units"] == 520.0
    plan = _plan(
        [
            ("A", "GB-BHX", 200, 200.0, 0.0, 0.0, 10.0, 30.0, pd.Timestamp("2026-11-05")),
            ("A", "NL-AMS", 0, 0.0, 600.0, 0.0, 10.0, 30.0, pd.NaT),
            ("A", "FR-CDG", 0, 0.0, 300.0, 0.0, 10.0, 30.0, pd.NaT),
        ],
        obsolete=[0.0, 600.0, 300.0],
    )
    lanes = pd.concat([LANES, LANES.iloc[[0]].assign(from_node="FR-CDG")])
    t = recommend_transfers(plan, lanes, WEIGHTS, AS_OF, 50.0, 0.25, horizon_demand=demand)
    assert list(zip(t["from_node"], t["units"])) == [("NL-AMS", 80)]


def test_a_transfer_that_lifts_the_position_above_the_reorder_point_leaves_no_purchase_due():
    """The demo's FTW-00077 at NL-AMS: position 15 at a reorder point of 15.12, order-up-to 65.12, MOQ 50. 38 units
    moved in leave 53, above the reorder point, so by the plan's own rule nothing is due; the old rule bought the
    gap's 12.12 raised to the MOQ, 88 units in for a need of 50. With 8 units moved the position (23) is still
    below a reorder point of 30: the plan's order, max(Q, S - position), is bought."""
    skus = pd.DataFrame({"sku": ["F"], "moq": [50], "pack_size": [1]})
    plan = _plan([("F", "NL-AMS", 51, 65.12, 15.0, 0.0, 25.5, 40.0, pd.Timestamp("2026-11-20"))],
                 reorder_points=[15.12], order_quantity=50.0)
    moved = pd.DataFrame({"sku": ["F"], "from_node": ["GB-BHX"], "to_node": ["NL-AMS"], "units": [38],
                          "recommended": [True]})
    [row] = apply_transfers(plan, moved, skus).to_dict("records")
    assert (row["transfer_in_units"], row["recommended_order_qty"], row["purchase_after_transfers"]) == (38, 51, 0)

    below = plan.assign(reorder_point=30.0)
    [row] = apply_transfers(below, moved.assign(units=8), skus).to_dict("records")
    assert row["purchase_after_transfers"] == 50  # max(50, 65.12 - 23 = 42.12), at the MOQ


def test_the_order_is_credited_to_the_transfer_that_lifts_the_position_above_the_reorder_point():
    """A need of 50.12 at a reorder point of 15.12 from a position of 15: 38 units from GB-BHX take it to 53, so no
    purchase is due (apply_transfers) and that leg saves the order; the 13 from US-EWR that cover the rest save none.
    Credited to the leg that covered the need, the EUR 50 order made the second leg look worth its EUR 120 freight."""
    plan = _plan([("B", "GB-BHX", 51, 65.12, 15.0, 0.0, 2.0, 40.0, pd.Timestamp("2026-11-20")),
                  ("B", "NL-AMS", 0, 0.0, 138.0, 38.0, 2.0, 40.0, pd.NaT),
                  ("B", "US-EWR", 0, 0.0, 113.0, 13.0, 2.0, 40.0, pd.NaT)],
                 reorder_points=[15.12, 0.0, 0.0], order_quantity=50.0)
    t = recommend_transfers(plan, LANES, WEIGHTS, AS_OF, order_cost_eur=50.0, annual_carrying_rate=0.25).set_index("from_node")
    assert t.loc["NL-AMS", "units"] == 38 and t.loc["NL-AMS", "purchase_cost_avoided_eur"] == pytest.approx(50.0 + 38 * 2 * 0.25)
    assert t.loc["US-EWR", "covers_need"] and t.loc["US-EWR", "purchase_cost_avoided_eur"] == pytest.approx(13 * 2 * 0.25)
    assert not t.loc["US-EWR", "recommended"]  # 120 + 13 x 0.6 of freight against 6.50 of carrying
