"""compliance.run and compliance.facts: a run's compliance tables from their sources, without Dagster.

The facts' SQL runs on a small in-memory DuckDB holding only the tables it
reads; the composition on hand-made sources.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from compliance.facts import ComplianceSources, read_baskets, read_routes
from compliance.policy import CompliancePolicy
from compliance.rulebook import Rulebook
from compliance.run import build_compliance, node_territories

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
FX = pd.DataFrame([("2020-01-01", "GBP", 0.85), ("2020-01-01", "USD", 1.10)], columns=["calendar_date", "currency", "units_per_eur"])
RULES = Rulebook(pd.read_csv(SEEDS / "de_minimis.csv"), pd.read_csv(SEEDS / "vat_rates.csv"),
                 pd.read_csv(SEEDS / "import_fees.csv"), FX)
AS_OF = date(2026, 3, 1)


def fact(market: str, territory: str, currency: str) -> dict:
    return {
        "sku": "TEE", "product_name": "tee", "category": "apparel", "hs_code": "610910", "hs_code_valid": True,
        "origin_country": "VN", "origin_customs_territory": "VN", "unit_cost_eur": 10.0, "weight_kg": 0.5, "market": market, "customs_territory": territory,
        "currency": currency, "mfn_rate": 0.12, "duty_source": None, "preferential_agreement": None, "preferential_rate": None,
        "preferential_parties": None, "restricted_categories": None, "product_rules": None, "restricted_documents": None,
    }


def sources(nodes: list[tuple[str, str, str]] | None = None) -> ComplianceSources:
    lines = pd.DataFrame(
        [
            ("O1", "2026-03-01", "GB", "GB", "GB-BHX", "DPD", "TEE", 1, 24.0, "GBP", 0.85),
            ("O2", "2026-03-01", "GB", "GB", "NL-AMS", "DPD", "TEE", 1, 24.0, "GBP", 0.85),
            ("O3", "2026-03-01", "GB", "GB", "XX-001", None, "TEE", 1, 24.0, "GBP", 0.85),
        ],
        columns=["order_id", "order_date", "market", "ship_to_country", "ship_from_node", "carrier", "sku", "quantity",
                 "unit_price", "currency", "units_per_eur"],
    ).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))
    return ComplianceSources(
        as_of=AS_OF,
        rules=RULES,
        facts=pd.DataFrame([fact("GB", "GB", "GBP"), fact("US", "US", "USD")]),
        duty_rates=pd.DataFrame(columns=["sku", "customs_territory", "mfn_rate", "preferential_agreement", "preferential_rate",
                                         "preferential_parties"]),
        countries=pd.DataFrame({"alpha_2": ["GB", "NL", "US"], "customs_territory": ["GB", "EU", "US"]}),
        nodes=pd.DataFrame(
            nodes or [("GB-BHX", "GB", "GB"), ("NL-AMS", "NL", "EU"), ("US-EWR", "US", "US")],
            columns=["node_code", "country", "customs_territory"],
        ),
        routes=pd.DataFrame(
            [("GB", "GB-BHX", "GB", "GB", True, 0.5), ("GB", "NL-AMS", "NL", "EU", False, 0.5),
             ("US", "US-EWR", "US", "US", True, None)],
            columns=["market", "node", "node_country", "node_territory", "is_primary_route", "route_share"],
        ),
        baskets=pd.DataFrame(
            [("TEE", "GB", 1, 24.0, 28.24, "market"), ("TEE", "US", 1, 30.0, 27.27, "sku_other_markets")],
            columns=["sku", "market", "basket_units", "unit_price_local", "unit_price_eur", "price_basis"],
        ),
        customs_risk=pd.DataFrame(
            [("NL", "GB", "61", 0.08, 1.5)], columns=["origin_country", "destination_country", "hs_chapter", "hold_rate", "added_days"]
        ),
        lines=lines,
    )


def test_the_plan_prices_every_route_and_the_orders_each_parcel_from_its_node():
    out = build_compliance(sources(), CompliancePolicy())
    assert list(out.tables()) == ["compliance_plan", "order_landed_cost"]
    plan = out.plan.set_index(["market", "fulfilment_node"])
    assert sorted(plan.index) == [("GB", "GB-BHX"), ("GB", "NL-AMS"), ("US", "US-EWR")]
    assert set(out.plan["as_of"]) == {AS_OF}
    assert plan.loc[("GB", "NL-AMS"), "import_flow"] == "cross_border_parcel"
    # the customs risk of the lane and the SKU's chapter reaches the route it is on
    assert plan.loc[("GB", "NL-AMS"), "customs_hold_rate"] == pytest.approx(0.08)
    assert plan.loc[("GB", "GB-BHX"), "import_flow"] == "bulk_import_via_node"
    orders = out.orders.set_index("order_id")
    assert orders.loc["O1", "import_flow"] == "bulk_import_via_node"  # GB-BHX is inside GB's border
    assert orders.loc["O2", "import_flow"] == "cross_border_parcel"  # NL-AMS is in the EU
    assert orders.loc["O3", "unknowns"] == "ship_from_node"  # crossdock.yaml does not declare XX-001


def test_a_nodes_territory_decides_whether_its_orders_cross_a_border():
    """Declare GB-BHX in the EU (a wrong config): its order to GB becomes a parcel across the border."""
    out = build_compliance(sources(nodes=[("GB-BHX", "GB", "EU"), ("NL-AMS", "NL", "EU")]), CompliancePolicy())
    assert out.orders.set_index("order_id").loc["O1", "import_flow"] == "cross_border_parcel"
    assert node_territories(sources().nodes)["NL-AMS"] == ("NL", "EU")


def test_an_order_whose_lines_name_several_nodes_is_one_parcel_from_the_lowest_code():
    """O2's second line names GB-BHX and a third names no node: the order ships from GB-BHX, priced once."""
    src = sources()
    extra = src.lines[src.lines["order_id"] == "O2"].assign(ship_from_node=["GB-BHX"])
    unnamed = src.lines[src.lines["order_id"] == "O2"].assign(ship_from_node=[None])
    lines = pd.concat([src.lines, extra, unnamed], ignore_index=True)
    out = build_compliance(dataclasses.replace(src, lines=lines), CompliancePolicy())
    orders = out.orders.set_index("order_id")
    assert sorted(orders.index) == ["O1", "O2", "O3"]
    assert orders.loc["O2", "ship_from_node"] == "GB-BHX"
    assert orders.loc["O2", "import_flow"] == "bulk_import_via_node"
    assert orders.loc["O2", "lines"] == 3


@pytest.fixture
def warehouse():
    conn = duckdb.connect()
    for schema in ("intermediate", "reference", "marts"):
        conn.execute(f"create schema {schema}")
    conn.execute("""
        create table reference.markets as
        select * from (values ('GB', 'GB-BHX', 'GBP'), ('US', 'US-EWR', 'USD')) as t(market_code, fulfilment_node, currency)
    """)
    conn.execute("""
        create table reference.nodes as
        select * from (values ('GB-BHX', 'GB'), ('NL-AMS', 'NL'), ('US-EWR', 'US')) as t(node_code, country)
    """)
    conn.execute("""
        create table reference.countries as
        select * from (values ('GB', 'GB'), ('NL', 'EU'), ('US', 'US')) as t(alpha_2, customs_territory)
    """)
    conn.execute("""
        create table intermediate.int_sale_lines_shipped_from as
        select order_id, cast(order_date as date) as order_date, market, node as ship_from_node
        from (values
            ('O1', '2026-02-28', 'GB', 'GB-BHX'), ('O1', '2026-02-28', 'GB', 'GB-BHX'),  -- two lines, one order
            ('O2', '2026-02-20', 'GB', 'GB-BHX'), ('O3', '2026-02-10', 'GB', 'GB-BHX'),
            ('O4', '2026-02-27', 'GB', 'NL-AMS'),
            ('O5', '2026-01-01', 'GB', 'NL-AMS'),  -- older than the window
            ('O6', '2026-02-27', 'GB', 'XX-001')   -- a node crossdock.yaml does not declare
        ) as t(order_id, order_date, market, node)
    """)
    conn.execute("""
        create table intermediate.int_order_lines_eur as
        select sku, market, cast(order_date as date) as order_date, line_type, quantity, unit_price, currency,
            unit_price / units_per_eur as unit_price_eur
        from (values
            ('TEE', 'GB', '2026-02-28', 'sale', 1, 20.0, 'GBP', 0.8),
            ('TEE', 'GB', '2026-02-27', 'sale', 3, 30.0, 'GBP', 0.8),
            ('TEE', 'GB', '2026-02-26', 'sale', 3, 25.0, 'GBP', 0.8),
            ('TEE', 'GB', '2026-02-26', 'return', -3, 25.0, 'GBP', 0.8),
            ('TEE', 'GB', '2025-12-01', 'sale', 9, 90.0, 'GBP', 0.8)  -- older than the window
        ) as t(sku, market, order_date, line_type, quantity, unit_price, currency, units_per_eur)
    """)
    conn.execute("""
        create table intermediate.int_fx_daily as
        select * from (values (date '2026-03-01', 'GBP', 0.8), (date '2026-03-01', 'USD', 1.25)) as t(calendar_date, currency, units_per_eur)
    """)
    conn.execute("create table marts.dim_sku as select 'TEE' as sku")
    yield conn
    conn.close()


def test_a_routes_share_counts_orders_of_the_window_from_declared_nodes(warehouse):
    routes = read_routes(warehouse, AS_OF, 28).set_index(["market", "node"])
    assert sorted(routes.index) == [("GB", "GB-BHX"), ("GB", "NL-AMS"), ("US", "US-EWR")]
    assert routes.loc[("GB", "GB-BHX"), "route_share"] == pytest.approx(3 / 4)
    assert routes.loc[("GB", "NL-AMS"), "route_share"] == pytest.approx(1 / 4)
    assert routes.loc[("GB", "GB-BHX"), "is_primary_route"] and not routes.loc[("GB", "NL-AMS"), "is_primary_route"]
    assert routes.loc[("GB", "NL-AMS"), "node_territory"] == "EU"
    # the market's own node is a route even with no recent order; no order, no share
    assert routes.loc[("US", "US-EWR"), "is_primary_route"] and pd.isna(routes.loc[("US", "US-EWR"), "route_share"])


def test_a_basket_is_the_usual_sale_of_the_window_and_a_market_without_sales_borrows_the_price(warehouse):
    baskets = read_baskets(warehouse, AS_OF, 28).set_index("market")
    gb, us = baskets.loc["GB"], baskets.loc["US"]
    assert gb["basket_units"] == 3 and gb["price_basis"] == "market"  # median of 1, 3, 3; the return is not a sale
    assert float(gb["unit_price_local"]) == pytest.approx(25.0)
    assert float(gb["unit_price_eur"]) == pytest.approx(25.0 / 0.8)
    # US sold none: one unit at the EUR price elsewhere, in dollars at the day's rate
    assert us["basket_units"] == 1 and us["price_basis"] == "sku_other_markets"
    assert float(us["unit_price_local"]) == pytest.approx(25.0 / 0.8 * 1.25)
