"""Customs delay on node-to-node moves: chapters, borders, the fallbacks, and transfers landing late after customs.

The customs figures are typed in by hand (as publish.customs_risk would hold
them), so every expected day count below is read straight off the tables.
"""
import datetime as dt

import pandas as pd
import pytest

from crossdock.hs_codes import UNKNOWN_CHAPTER, hs_chapter
from planning.transfers import (
    NOT_ASSESSED,
    customs_days,
    node_pairs,
    recommend_transfers,
)

AS_OF = dt.date(2026, 10, 30)
NODES = pd.DataFrame({"node_code": ["NL-AMS", "GB-BHX", "US-EWR", "DE-BER"], "country": ["NL", "GB", "US", "DE"]})
TERRITORIES = pd.DataFrame({"alpha_2": ["NL", "DE", "GB", "US"], "customs_territory": ["EU", "EU", "GB", "US"]})
SEED_LANES = pd.DataFrame(
    {"from_node": ["NL-AMS", "GB-BHX"], "to_node": ["GB-BHX", "NL-AMS"], "crosses_customs_border": [True, True]}
)
# NL -> GB: cosmetics 3.0 d, clothing 0.0 d (held too rarely to reach the 0.9 quantile), the lane 2.0 d.
# US -> CA: cosmetics 1.5 d. Nothing is known about parcels into NL, US or DE.
RISK = pd.DataFrame(
    [
        ("NL-AMS", "NL", "GB", "33", 3.0, 2.0),
        ("NL-AMS", "NL", "GB", "61", 0.0, 2.0),
        ("US-EWR", "US", "CA", "33", 1.5, 0.0),
    ],
    columns=["origin_node", "origin_country", "destination_country", "hs_chapter", "conservative_added_days",
             "lane_conservative_added_days"],
)
SKUS = pd.DataFrame({"sku": ["SERUM", "TEE", "BRICKS", "NOCODE"], "hs_code": ["330499", "610910", "950300", None]})


def pairs() -> pd.DataFrame:
    return node_pairs(NODES, TERRITORIES, SEED_LANES)


def lookup(days: pd.DataFrame, sku: str, from_node: str, to_node: str) -> tuple[float, str]:
    row = days[(days["sku"] == sku) & (days["from_node"] == from_node) & (days["to_node"] == to_node)]
    assert len(row) == 1
    return float(row["customs_days"].iloc[0]), str(row["customs_basis"].iloc[0])


def test_chapters_follow_the_customs_risk_rule():
    codes = pd.Series(["330499", "8507.60", "3304", "", None, "AB1234", "61091000"])
    assert hs_chapter(codes).tolist() == ["33", "85", UNKNOWN_CHAPTER, UNKNOWN_CHAPTER, UNKNOWN_CHAPTER,
                                          UNKNOWN_CHAPTER, "61"]


def test_a_border_is_between_customs_territories_unless_the_seed_says_otherwise():
    p = pairs().set_index(["from_node", "to_node"])["crosses_customs_border"]
    assert len(p) == 4 * 3  # every ordered pair of distinct nodes
    assert not p[("NL-AMS", "DE-BER")] and not p[("DE-BER", "NL-AMS")]  # both in the EU
    assert p[("DE-BER", "GB-BHX")] and p[("US-EWR", "NL-AMS")]
    # a lane the seed marks as not crossing (a bonded corridor, say) keeps the seed's word
    bonded = pd.DataFrame({"from_node": ["US-EWR"], "to_node": ["GB-BHX"], "crosses_customs_border": [False]})
    assert not node_pairs(NODES, TERRITORIES, bonded).set_index(["from_node", "to_node"]).loc[
        ("US-EWR", "GB-BHX"), "crosses_customs_border"]


def test_the_chapter_on_the_same_country_pair_comes_first():
    days = customs_days(pairs(), SKUS, RISK)
    assert lookup(days, "SERUM", "NL-AMS", "GB-BHX") == (3.0, "chapter 33 on NL-GB")
    # the chapter's own figure wins even when it is below the lane's: clothing is rarely held
    assert lookup(days, "TEE", "NL-AMS", "GB-BHX") == (0.0, "chapter 61 on NL-GB")


def test_then_the_destination_all_chapter_figure_then_zero_with_a_note():
    days = customs_days(pairs(), SKUS, RISK)
    # toys never crossed NL -> GB, and no parcel ever went US -> GB: the lane into GB, all chapters
    assert lookup(days, "BRICKS", "NL-AMS", "GB-BHX") == (2.0, "all chapters into GB")
    assert lookup(days, "SERUM", "US-EWR", "GB-BHX") == (2.0, "all chapters into GB")
    assert lookup(days, "NOCODE", "NL-AMS", "GB-BHX") == (2.0, "all chapters into GB")
    # no parcel ever crossed into the Netherlands or the US: 0, and the row says so
    assert lookup(days, "SERUM", "GB-BHX", "NL-AMS") == (0.0, "no customs history into NL: 0 days assumed")
    assert lookup(days, "SERUM", "NL-AMS", "US-EWR") == (0.0, "no customs history into US: 0 days assumed")
    # inside the EU nothing is added
    assert lookup(days, "SERUM", "NL-AMS", "DE-BER") == (0.0, "no customs border")
    assert len(days) == len(SKUS) * 12


def test_the_slower_origin_node_of_a_country_is_planned_for():
    second_nl = pd.DataFrame(
        [("NL-RTM", "NL", "GB", "33", 4.5, 2.5)], columns=RISK.columns
    )
    days = customs_days(pairs(), SKUS, pd.concat([RISK, second_nl], ignore_index=True))
    assert lookup(days, "SERUM", "NL-AMS", "GB-BHX") == (4.5, "chapter 33 on NL-GB")
    assert lookup(days, "BRICKS", "NL-AMS", "GB-BHX") == (2.5, "all chapters into GB")


def test_no_customs_history_at_all_adds_nothing():
    days = customs_days(pairs(), SKUS, RISK.iloc[0:0])
    crossing = days["customs_basis"] != "no customs border"
    assert (days["customs_days"] == 0.0).all()
    assert days.loc[crossing, "customs_basis"].str.endswith(": 0 days assumed").all()


# --------------------------------------------------------------------------- transfers

LANES = pd.DataFrame(
    {
        "from_node": ["NL-AMS", "US-EWR"],
        "to_node": ["GB-BHX", "GB-BHX"],
        "mode": ["road_ferry", "ocean_lcl"],
        "cost_eur_per_kg": [0.5, 0.5],
        "fixed_cost_eur": [40.0, 40.0],
        "transit_days": [3, 3],
    }
)
WEIGHTS = pd.DataFrame({"sku": ["SERUM"], "weight_kg": [1.0]})


def short_serum_at_gb(lead_time_days: float, nl_excess: float = 50.0, us_excess: float = 0.0) -> pd.DataFrame:
    # SERUM short at GB-BHX: up-to 10, position 5 -> needs 5 units; idle stock at NL-AMS (and US-EWR).
    cols = ["sku", "node", "recommended_order_qty", "order_up_to", "inventory_position", "excess_units",
            "unit_cost_eur", "lead_time_days", "projected_stockout_date"]
    return pd.DataFrame(
        [
            ("SERUM", "GB-BHX", 5, 10.0, 5.0, 0.0, 1.0, lead_time_days, pd.Timestamp("2026-11-05")),
            ("SERUM", "NL-AMS", 0, 5.0, 100.0, nl_excess, 1.0, lead_time_days, pd.NaT),
            ("SERUM", "US-EWR", 0, 5.0, 100.0, us_excess, 1.0, lead_time_days, pd.NaT),
        ],
        columns=cols,
    ).assign(obsolete_units=0.0, reorder_point=[5.0, 0.0, 0.0])  # GB-BHX at its reorder point: an order is due


def customs_for_serum(nl_days: float, us_days: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["SERUM", "SERUM"],
            "from_node": ["NL-AMS", "US-EWR"],
            "to_node": ["GB-BHX", "GB-BHX"],
            "customs_days": [nl_days, us_days],
            "customs_basis": ["chapter 33 on NL-GB", "all chapters into GB"],
        }
    )


def transfer(plan: pd.DataFrame, customs: pd.DataFrame | None) -> pd.DataFrame:
    return recommend_transfers(plan, LANES, WEIGHTS, AS_OF, order_cost_eur=50.0, annual_carrying_rate=0.25,
                               customs=customs)


def test_a_transfer_that_lands_too_late_after_customs_is_not_recommended():
    # cost 40 + 5 units * 1 kg * 0.5 = 42.50 < the order it saves (50) + 5 * 1 EUR * 0.25 = 51.25
    # lead time 10 days: 3 days by road + 8 at customs = 11 > 10
    [row] = transfer(short_serum_at_gb(10.0), customs_for_serum(8.0)).to_dict("records")
    assert row["transfer_cost_eur"] == pytest.approx(42.5) and row["saving_eur"] == pytest.approx(8.75)
    assert row["transit_days"] == 3 and row["customs_days"] == 8.0 and row["customs_basis"] == "chapter 33 on NL-GB"
    assert row["arrival_date"] == pd.Timestamp("2026-11-10")  # 30 Oct + 11 days
    assert not row["recommended"]
    # without customs the same move lands on day 3 and is recommended
    [free] = transfer(short_serum_at_gb(10.0), None).to_dict("records")
    assert free["recommended"] and free["customs_days"] == 0.0 and free["customs_basis"] == NOT_ASSESSED
    assert free["arrival_date"] == pd.Timestamp("2026-11-02")


def test_a_part_day_at_customs_costs_the_day_but_counts_as_it_is_for_the_lead_time():
    # 3 + 6.5 = 9.5 days <= 10: in time; it lands on day 10 (a part day still takes the day)
    [row] = transfer(short_serum_at_gb(10.0), customs_for_serum(6.5)).to_dict("records")
    assert row["recommended"] and row["arrival_date"] == pd.Timestamp("2026-11-09")


def test_equally_cheap_lanes_are_used_fastest_after_customs_first():
    # Both lanes cost the same per unit and take 3 days; NL -> GB waits 4 days at customs, US -> GB none.
    t = transfer(short_serum_at_gb(30.0, nl_excess=50.0, us_excess=50.0), customs_for_serum(4.0, 0.0))
    assert t["from_node"].tolist() == ["US-EWR"] and t["recommended"].all()
