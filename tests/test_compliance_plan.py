"""The compliance plan and the order landed costs on small hand-made frames (no warehouse, no Dagster)."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from compliance.orders import order_landed_costs
from compliance.plan import build_compliance_plan
from compliance.policy import CompliancePolicy
from compliance_frames import fact, seed_rulebook

FX = pd.DataFrame([("2020-01-01", "GBP", 0.85), ("2020-01-01", "CAD", 1.50), ("2020-01-01", "USD", 1.10)],
                  columns=["calendar_date", "currency", "units_per_eur"])
RULES = seed_rulebook(FX)
AS_OF = date(2026, 3, 1)


FACTS = pd.DataFrame([
    fact("TEE", "GB", "GB", "GBP"),
    fact("TEE", "CA", "CA", "CAD", mfn_rate=0.18),
    fact("TEE", "US", "US", "USD", mfn_rate=0.165),
    fact("NOHS", "GB", "GB", "GBP", hs_code=None, hs_code_valid=False, mfn_rate=None),
    fact("NOHS", "CA", "CA", "CAD", hs_code=None, hs_code_valid=False, mfn_rate=None),
    fact("NOHS", "US", "US", "USD", hs_code=None, hs_code_valid=False, mfn_rate=None),
])
ROUTES = pd.DataFrame([
    ("GB", "GB-BHX", "GB", "GB", True, 0.9),
    ("GB", "NL-AMS", "NL", "EU", False, 0.1),
    ("CA", "US-EWR", "US", "US", True, 1.0),
    ("US", "US-EWR", "US", "US", True, 1.0),
], columns=["market", "node", "node_country", "node_territory", "is_primary_route", "route_share"])
BASKETS = pd.DataFrame([
    ("TEE", "GB", 1, 24.00, "market"), ("TEE", "CA", 2, 45.00, "market"), ("TEE", "US", 1, 30.0, "market"),
    ("NOHS", "GB", 1, None, None), ("NOHS", "CA", 1, None, None), ("NOHS", "US", 1, None, None),
], columns=["sku", "market", "basket_units", "unit_price_local", "price_basis"])


def plan(policy: CompliancePolicy = CompliancePolicy(), routes: pd.DataFrame = ROUTES) -> pd.DataFrame:
    return build_compliance_plan(FACTS, routes, BASKETS, RULES, policy, AS_OF)


def row(frame: pd.DataFrame, sku: str, market: str, node: str) -> pd.Series:
    [match] = frame[(frame["sku"] == sku) & (frame["market"] == market) & (frame["fulfilment_node"] == node)].index
    return frame.loc[match]


def test_each_route_is_a_row_and_bulk_stock_pays_the_tariff_on_its_purchase_cost():
    """GB via GB-BHX: unit cost 10 + freight 0.5 kg x 1.2 = 0.60 (CIF) -> customs value 10.60, duty 12% = 1.272.

    Landed per unit = 10 + 0.60 + 1.272 = 11.872. The basket is a domestic sale: VAT 20% on the net price + shipping.
    """
    p = plan()
    assert len(p) == 8  # 2 SKUs x (GB x 2 routes + CA + US)
    bulk = row(p, "TEE", "GB", "GB-BHX")
    assert bulk["import_flow"] == "bulk_import_via_node"
    assert bulk["landed_cost_eur_per_unit"] == pytest.approx(11.872)
    net_eur = 24.00 / 0.85 / 1.2
    assert bulk["basket_vat_eur"] == pytest.approx(0.2 * (net_eur + 4.0))
    assert "import declaration at the node's border" in bulk["documents_required"]


def test_a_parcel_route_names_its_regime_and_the_registration_it_relies_on():
    """GB via NL-AMS: GBP 24 incl. VAT = 20 net <= 135: uk_low_value, VAT at sale; the GB node gives UK VAT registration."""
    parcel = row(plan(), "TEE", "GB", "NL-AMS")
    assert parcel["import_flow"] == "cross_border_parcel"
    assert parcel["de_minimis_regime"] == "uk_low_value" and parcel["vat_collected"] == "at_sale"
    assert "UK VAT number on the invoice" in parcel["documents_required"]
    assert parcel["flags"] is None and parcel["action"] == "No action."


def test_without_a_uk_node_or_registration_the_parcel_route_is_flagged():
    routes = ROUTES[ROUTES["node"] != "GB-BHX"]
    parcel = row(plan(routes=routes), "TEE", "GB", "NL-AMS")
    assert parcel["flags"] == "registration_needed: GB_VAT"
    assert parcel["action"].startswith("Register for UK VAT")


def test_missing_hs_code_is_the_first_action_and_the_row_still_has_a_landed_cost():
    missing = row(plan(), "NOHS", "GB", "GB-BHX")
    assert missing["flags"].split("; ")[0] == "missing_hs_code"
    assert missing["action"].startswith("Add a 6-digit HS code")
    assert missing["landed_cost_eur_per_unit"] == pytest.approx(10.60)  # no rate: no duty, and flagged


def test_an_available_preference_is_flagged_with_its_saving_until_its_proof_is_on_file():
    """VN-made T-shirts into GB in bulk under a 0% preference (MFN 12%): saving 12% x 10.60 customs value = 1.272 EUR/unit.

    To CA by courier from the US the basket (2 x CAD 45 = 90 <= 150) is duty-free anyway: nothing to save, no flag,
    but the proof stays in the documents for larger parcels.
    """
    facts = FACTS.copy()
    tee = facts["sku"] == "TEE"
    facts.loc[tee & (facts["market"] == "GB"), ["preferential_agreement", "preferential_rate"]] = ["UK DCTS", 0.0]
    facts.loc[tee & (facts["market"] == "CA"), ["origin_country", "preferential_agreement", "preferential_rate"]] = ["US", "CUSMA", 0.0]
    unclaimed = build_compliance_plan(facts, ROUTES, BASKETS, RULES, CompliancePolicy(), AS_OF)
    gb = row(unclaimed, "TEE", "GB", "GB-BHX")
    assert gb["flags"] == "preference_unclaimed"
    assert gb["preference_saving_eur_per_unit"] == pytest.approx(1.272)
    assert "save EUR 1.27 per unit" in gb["action"]
    ca = row(unclaimed, "TEE", "CA", "US-EWR")
    assert ca["flags"] is None and "CUSMA certification of origin" in ca["documents_required"]
    claimed = build_compliance_plan(facts, ROUTES, BASKETS, RULES, CompliancePolicy(claimed_agreements=frozenset({"UK DCTS"})), AS_OF)
    gb_claimed = row(claimed, "TEE", "GB", "GB-BHX")
    assert gb_claimed["flags"] is None
    assert gb_claimed["landed_cost_eur_per_unit"] == pytest.approx(10.60)


def test_dap_shows_what_the_shopper_pays_at_the_door():
    """CA by courier, 2 x CAD 45 = 90 > CAD 40: GST 5% x 90 = 4.50 at import. DAP: the shopper pays it at the door,
    with the import_fees seed's default DAP collection fee for CA (Canada Post, CAD 9.95): (4.50 + 9.95) / 1.50 EUR."""
    r = row(plan(CompliancePolicy(incoterms={"CA": "DAP"})), "TEE", "CA", "US-EWR")
    assert r["incoterm"] == "DAP"
    assert r["collected_at_door_eur"] == pytest.approx((4.50 + 9.95) / 1.50)
    assert "collected_at_door" in r["flags"]


def lines(rows: list[tuple]) -> pd.DataFrame:
    cols = ["order_id", "order_date", "market", "ship_from_node", "carrier", "sku", "quantity", "unit_price", "currency", "units_per_eur"]
    return pd.DataFrame(rows, columns=cols).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))


NODES = {"GB-BHX": ("GB", "GB"), "NL-AMS": ("NL", "EU"), "US-EWR": ("US", "US")}


def test_an_order_by_post_to_canada_gets_cad_20_and_by_courier_cad_150():
    """2 x CAD 45 = 90 from US-EWR. UPS (courier, CUSMA): no duty. USPS (post): 90 > 20, duty 18% x 90 = CAD 16.20."""
    orders = order_landed_costs(lines([
        ("O1", "2026-03-01", "CA", "US-EWR", "UPS", "TEE", 2, 45.0, "CAD", 1.5),
        ("O2", "2026-03-01", "CA", "US-EWR", "USPS", "TEE", 2, 45.0, "CAD", 1.5),
    ]), FACTS, NODES, RULES, CompliancePolicy()).set_index("order_id")
    assert orders.loc["O1", "duty_eur"] == 0.0
    assert orders.loc["O2", "duty_eur"] == pytest.approx(16.20 / 1.5)
    assert set(orders["import_flow"]) == {"cross_border_parcel"}


def test_the_same_domestic_order_before_and_after_a_vat_rate_change_pays_each_days_rate():
    """Estonia's standard rate went from 22% to 24% on 2025-07-01. EUR 31 incl. VAT, shipping EUR 4 (the minimum).

    2025-06-30: net 31 / 1.22 = 25.41, VAT 22% x (25.41 + 4) = 6.47. 2025-07-01: net 31 / 1.24 = 25.00, VAT 24% x 29 = 6.96.
    Duty is the bulk duty of one unit: 12% x (10 + 0.60) = 1.272.
    """
    facts = pd.DataFrame([fact("TEE", "EE", "EU", "EUR")])
    nodes = {"EE-TLL": ("EE", "EU")}
    orders = order_landed_costs(lines([
        ("A", "2025-06-30", "EE", "EE-TLL", None, "TEE", 1, 31.0, "EUR", 1.0),
        ("B", "2025-07-01", "EE", "EE-TLL", None, "TEE", 1, 31.0, "EUR", 1.0),
    ]), facts, nodes, RULES, CompliancePolicy()).set_index("order_id")
    assert orders.loc["A", "vat_eur"] == pytest.approx(0.22 * (31 / 1.22 + 4))
    assert orders.loc["B", "vat_eur"] == pytest.approx(0.24 * (25.0 + 4))
    assert orders["duty_eur"].tolist() == pytest.approx([1.272, 1.272])
    assert set(orders["import_flow"]) == {"bulk_import_via_node"}


def test_an_order_from_a_node_crossdock_yaml_does_not_declare_is_not_priced_and_says_why():
    """Whether XX-001 is inside GB's border is unknown: no duty, VAT or landed cost, only the goods (GBP 20 / 0.85 / 1.2)."""
    [order] = order_landed_costs(lines([("O", "2026-03-01", "GB", "XX-001", None, "TEE", 1, 20.0, "GBP", 0.85)]), FACTS, NODES,
                                 RULES, CompliancePolicy()).to_dict("records")
    assert order["unknowns"] == "ship_from_node"
    assert order["import_flow"] is None and pd.isna(order["landed_cost_eur"]) and pd.isna(order["duty_eur"])
    assert order["goods_value_eur"] == pytest.approx(20 / 0.85 / 1.2)
    assert "XX-001" in order["rule_applied"]
