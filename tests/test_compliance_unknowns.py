"""What the compliance tables do when the seeds or the catalogue do not know something: mark it, never crash.

Small hand-made frames under the shipped seeds, like test_compliance_plan.py: a
merchant with orders only (no supplier catalogue), days before a rule's first
known date, a market the seeds do not cover (BR) and a catch-all market.
"""
from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from compliance.orders import order_landed_costs
from compliance.plan import FACT_COLUMNS, build_compliance_plan
from compliance.policy import CompliancePolicy
from compliance.tables import order_schema, plan_schema
from compliance.unknowns import UNKNOWN_NAMES, join_unknowns
from compliance_frames import fact, seed_rulebook
from crossdock.warehouse import replace_table

ROOT = Path(__file__).resolve().parents[1]
FX = pd.DataFrame([("2020-01-01", "GBP", 0.85), ("2020-01-01", "USD", 1.10), ("2020-01-01", "BRL", 6.0)],
                  columns=["calendar_date", "currency", "units_per_eur"])
RULES = seed_rulebook(FX)
AS_OF = date(2026, 3, 1)
NODES = {"GB-BHX": ("GB", "GB"), "NL-AMS": ("NL", "EU"), "US-EWR": ("US", "US")}
COUNTRIES = {"GB": "GB", "NL": "EU", "DE": "EU", "US": "US", "BR": "BR"}
ROUTE_COLUMNS = ["market", "node", "node_country", "node_territory", "is_primary_route", "route_share"]
BASKET_COLUMNS = ["sku", "market", "basket_units", "unit_price_local", "price_basis", "unit_price_eur"]


def lines(rows: list[tuple]) -> pd.DataFrame:
    cols = ["order_id", "order_date", "market", "ship_to_country", "ship_from_node", "carrier", "sku", "quantity", "unit_price",
            "currency", "units_per_eur"]
    return pd.DataFrame(rows, columns=cols).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))


def plan(facts: list[dict], routes: list[tuple], baskets: list[tuple], as_of: date = AS_OF) -> pd.DataFrame:
    return build_compliance_plan(pd.DataFrame(facts, columns=list(FACT_COLUMNS)), pd.DataFrame(routes, columns=ROUTE_COLUMNS),
                                 pd.DataFrame(baskets, columns=BASKET_COLUMNS), RULES, CompliancePolicy(), as_of)


@functools.cache
def published_docs() -> dict:
    return yaml.safe_load((ROOT / "dbt_project" / "models" / "publish" / "_published_by_dagster.yml").read_text())


def documented_types(table: str) -> list[tuple[str, str]]:
    [entry] = [t for s in published_docs()["sources"] for t in s["tables"] if t["name"] == table]
    return [(c["name"], c["data_type"]) for c in entry["columns"]]


def written_types(frame: pd.DataFrame) -> list[tuple[str, str]]:
    with duckdb.connect() as conn:
        replace_table(conn, "publish.t", frame)
        return [(n, t.lower()) for n, t in conn.execute(
            "select column_name, data_type from information_schema.columns where table_name = 't' order by ordinal_position"
        ).fetchall()]


# (a) a merchant with orders only -------------------------------------------------------------------------------------

def test_the_column_lists_are_the_documented_ones():
    assert list(plan_schema()) == documented_types("compliance_plan")
    assert list(order_schema()) == documented_types("order_landed_cost")


def test_no_catalogue_gives_an_empty_plan_with_every_documented_column_and_type():
    """No SKU in dim_sku: no plan row, and DuckDB still gets the documented types (not VARCHAR for empty columns)."""
    empty = plan([], [("GB", "GB-BHX", "GB", "GB", True, 1.0)], [])
    assert empty.empty
    assert written_types(empty) == documented_types("compliance_plan")
    orders = order_landed_costs(lines([]), pd.DataFrame(columns=list(FACT_COLUMNS)), NODES, RULES, CompliancePolicy(), COUNTRIES)
    assert orders.empty and written_types(orders) == documented_types("order_landed_cost")


def test_orders_of_skus_no_catalogue_describes_are_priced_as_far_as_the_rules_go():
    """GB order from GB-BHX, GBP 24 incl. 20% VAT (0.85 GBP/EUR): goods 24 / 0.85 / 1.2 = 23.53, shipping 4 (0.5 kg assumed),
    VAT 20% x 27.53 = 5.51. No HS code and no cost: the bulk duty (rate and value unknown), the customs value and the
    landed cost are null; the sales VAT does not need them."""
    orders = order_landed_costs(lines([("O", "2026-03-01", "GB", "GB", "GB-BHX", None, "NEW", 1, 24.0, "GBP", 0.85)]),
                                pd.DataFrame(columns=list(FACT_COLUMNS)), NODES, RULES, CompliancePolicy(), COUNTRIES)
    [o] = orders.to_dict("records")
    goods = 24 / 0.85 / 1.2
    assert o["import_flow"] == "bulk_import_via_node" and o["unknowns"] == "hs_code,duty_rate,unit_cost"
    assert o["goods_value_eur"] == pytest.approx(goods) and o["vat_eur"] == pytest.approx(0.2 * (goods + 4.0))
    assert pd.isna(o["duty_eur"]) and o["missing_duty_rate"] and pd.isna(o["customs_value_eur"])
    assert pd.isna(o["landed_cost_eur"]) and pd.isna(o["landed_cost_local"])
    assert "no duty rate into GB for NEW" in o["rule_applied"]


def test_a_sku_without_hs_code_or_cost_has_no_landed_cost_per_unit_and_says_what_to_add():
    """The basket's goods and sales VAT price (they need neither); its duty and landed cost need the rate, the merchant's
    cost per unit the rate and the purchase cost."""
    p = plan([fact("NEW", "GB", "GB", "GBP", hs_code=None, hs_code_valid=False, mfn_rate=None, unit_cost_eur=None)],
             [("GB", "GB-BHX", "GB", "GB", True, 1.0)], [("NEW", "GB", 1, 24.0, "market", None)])
    [r] = p.to_dict("records")
    assert r["unknowns"] == "hs_code,duty_rate,unit_cost"
    assert r["flags"] == "missing_hs_code; missing_unit_cost"
    assert pd.isna(r["landed_cost_eur_per_unit"]) and pd.isna(r["customs_value_eur"])
    goods = 24 / 0.85 / 1.2
    assert r["basket_goods_eur"] == pytest.approx(goods) and r["basket_vat_eur"] == pytest.approx(0.2 * (goods + 4.0))
    assert pd.isna(r["basket_duty_eur"]) and pd.isna(r["basket_landed_cost_eur"])


# (b) days before a rule's first known date ---------------------------------------------------------------------------

def test_a_day_before_the_first_vat_row_is_unknown_not_an_error():
    """vat_rates has NL from 2012-10-01 (21%) and EU's first de_minimis row is eu_ioss from 2021-07-01."""
    assert RULES.vat_rate("NL", date(2012, 9, 30)) is None and RULES.vat_rate("NL", date(2012, 10, 1)) == 0.21
    assert RULES.regime("EU", date(2021, 6, 30)) is None and RULES.regime("EU", date(2021, 7, 1)).code == "eu_ioss"
    assert RULES.vat_rate("BR", AS_OF) is None and RULES.find_units_per_eur("XYZ", AS_OF) is None


def test_a_domestic_order_before_the_first_vat_row_has_no_vat_but_keeps_its_bulk_duty():
    """EUR 31 incl. VAT from NL-AMS to NL. 2012-09-30: VAT unknown, so the net goods value, VAT and landed cost are null;
    the bulk duty, 12% x (10 + 0.60) = 1.272, does not depend on it. 2012-10-01: 21%, net 31 / 1.21, VAT 21% x (net + 4)."""
    orders = order_landed_costs(lines([
        ("A", "2012-09-30", "NL", "NL", "NL-AMS", None, "TEE", 1, 31.0, "EUR", 1.0),
        ("B", "2012-10-01", "NL", "NL", "NL-AMS", None, "TEE", 1, 31.0, "EUR", 1.0),
    ]), pd.DataFrame([fact("TEE", "NL", "EU", "EUR")]), NODES, RULES, CompliancePolicy(), COUNTRIES).set_index("order_id")
    assert orders.loc["A", "unknowns"] == "vat_rate"
    assert orders.loc[["A"], ["goods_value_eur", "vat_eur", "landed_cost_eur", "landed_cost_local"]].isna().all(axis=None)
    assert orders.loc["A", "duty_eur"] == pytest.approx(1.272)
    assert "no VAT rate for NL on 2012-09-30" in orders.loc["A", "rule_applied"]
    assert orders.loc["B", "unknowns"] is None
    assert orders.loc["B", "vat_eur"] == pytest.approx(0.21 * (31 / 1.21 + 4))


def test_a_parcel_before_the_first_low_value_regime_is_not_priced():
    """GB-BHX to NL on 2021-06-30, the day before eu_ioss: the goods are known (31 / 1.21), duty, VAT and fees are not."""
    orders = order_landed_costs(lines([
        ("A", "2021-06-30", "NL", "NL", "GB-BHX", None, "TEE", 1, 31.0, "EUR", 1.0),
        ("B", "2021-07-01", "NL", "NL", "GB-BHX", None, "TEE", 1, 31.0, "EUR", 1.0),
    ]), pd.DataFrame([fact("TEE", "NL", "EU", "EUR")]), NODES, RULES, CompliancePolicy(), COUNTRIES).set_index("order_id")
    a = orders.loc["A"]
    assert a["unknowns"] == "low_value_regime" and a["import_flow"] == "cross_border_parcel" and a["regime"] is None
    assert a["goods_value_eur"] == pytest.approx(31 / 1.21)
    assert pd.isna(a["duty_eur"]) and pd.isna(a["vat_eur"]) and pd.isna(a["fees_eur"]) and pd.isna(a["landed_cost_eur"])
    assert a["rule_applied"].startswith("not priced: no low-value regime for EU on 2021-06-30")
    assert orders.loc["B", "regime"] == "eu_ioss" and orders.loc["B", "unknowns"] is None


def test_a_plan_dated_before_the_first_vat_row_keeps_the_merchants_cost_and_marks_the_vat():
    """Bulk NL via NL-AMS on 2012-09-30: landed per unit 10 + 0.60 + 1.272 = 11.872 (VAT is not the merchant's cost)."""
    [r] = plan([fact("TEE", "NL", "EU", "EUR")], [("NL", "NL-AMS", "NL", "EU", True, 1.0)],
               [("TEE", "NL", 1, 31.0, "market", None)], as_of=date(2012, 9, 30)).to_dict("records")
    assert r["unknowns"] == "vat_rate" and pd.isna(r["vat_rate"]) and pd.isna(r["basket_vat_eur"])
    assert r["landed_cost_eur_per_unit"] == pytest.approx(11.872)
    assert r["flags"] == "rules_unknown: vat_rate" and "vat_rates seed" in r["action"]


# (c) a market without rules, and a catch-all market ------------------------------------------------------------------

def test_a_market_the_seeds_do_not_cover_is_marked_unknown_not_priced():
    """BR via US-EWR: no VAT, regime or duty rate for BR. The typical price is known (BRL 120 / 6 = EUR 20), nothing else."""
    [r] = plan([fact("TEE", "BR", "BR", "BRL", mfn_rate=None)], [("BR", "US-EWR", "US", "US", True, 1.0)],
               [("TEE", "BR", 1, 120.0, "market", None)]).to_dict("records")
    assert r["unknowns"] == "vat_rate,low_value_regime,duty_rate"
    assert r["flags"].split("; ") == ["rules_unknown: vat_rate, low_value_regime", "no_duty_rate"]
    assert r["action"].startswith("No VAT rate or low-value regime for BR on 2026-03-01")
    assert r["typical_unit_price_eur"] == pytest.approx(20.0)
    for column in ("vat_rate", "basket_duty_eur", "basket_vat_eur", "basket_landed_cost_eur", "landed_cost_eur_per_unit"):
        assert pd.isna(r[column]), column
    assert r["regime_applied"].startswith("not priced:")


def test_the_catch_all_market_is_not_priced_as_one_border():
    """ROW has no territory and here no currency: every border amount is null, the EUR price is kept."""
    [r] = plan([fact("TEE", "ROW", None, None, mfn_rate=None)], [("ROW", "US-EWR", "US", "US", True, 1.0)],
               [("TEE", "ROW", 1, None, "market", 25.0)]).to_dict("records")
    assert r["unknowns"] == "customs_territory,vat_rate,low_value_regime,duty_rate,currency"
    assert r["flags"] == "rules_unknown: customs_territory" and "order_landed_cost" in r["action"]
    assert r["import_flow"] == "cross_border_parcel" and r["valuation_basis"] is None
    assert r["typical_unit_price_eur"] == 25.0
    assert pd.isna(r["landed_cost_eur_per_unit"]) and pd.isna(r["basket_landed_cost_eur"]) and pd.isna(r["landed_cost_local_per_unit"])


def test_orders_of_the_catch_all_market_are_priced_under_their_own_countrys_rules():
    """A ROW order shipped to Germany costs what the same order of a German market costs (EU rates from int_sku_duty_rates);
    one shipped to Brazil is marked unknown."""
    duty_rates = pd.DataFrame([("TEE", "EU", 0.12, None, None, None)],
                              columns=["sku", "customs_territory", "mfn_rate", "preferential_agreement", "preferential_rate",
                                       "preferential_parties"])
    row = order_landed_costs(lines([
        ("R-DE", "2026-03-01", "ROW", "DE", "US-EWR", "UPS", "TEE", 2, 35.70, "EUR", 1.0),
        ("R-BR", "2026-03-01", "ROW", "BR", "US-EWR", "UPS", "TEE", 1, 120.0, "BRL", 6.0),
    ]), pd.DataFrame([fact("TEE", "ROW", None, None, mfn_rate=None)]), NODES, RULES, CompliancePolicy(), COUNTRIES,
        duty_rates).set_index("order_id")
    de = order_landed_costs(lines([("D", "2026-03-01", "DE", "DE", "US-EWR", "UPS", "TEE", 2, 35.70, "EUR", 1.0)]),
                            pd.DataFrame([fact("TEE", "DE", "EU", "EUR")]), NODES, RULES, CompliancePolicy(), COUNTRIES).iloc[0]
    assert row.loc["R-DE", "regime"] == de["regime"] == "eu_ioss" and row.loc["R-DE", "unknowns"] is None
    for column in ("goods_value_eur", "duty_eur", "vat_eur", "fees_eur", "landed_cost_eur"):
        assert row.loc["R-DE", column] == pytest.approx(de[column]), column
    assert row.loc["R-DE", "market"] == "ROW" and row.loc["R-DE", "ship_to_country"] == "DE"
    br = row.loc["R-BR"]
    assert br["unknowns"] == "vat_rate,low_value_regime,duty_rate" and pd.isna(br["landed_cost_eur"])
    assert br["shipping_eur"] == pytest.approx(4.0)


def test_unknown_names_are_the_documented_ones_in_a_fixed_order():
    assert join_unknowns(["unit_cost", "vat_rate", None, "vat_rate"]) == "vat_rate,unit_cost"
    assert join_unknowns([]) is None
    with pytest.raises(ValueError):
        join_unknowns(["vat"])
    described = {t["name"]: next(c["description"] for c in t["columns"] if c["name"] == "unknowns")
                 for s in published_docs()["sources"] for t in s["tables"] if t["name"] in ("compliance_plan", "order_landed_cost")}
    not_applicable = {"compliance_plan": {"ship_from_node"}, "order_landed_cost": {"typical_price", "currency"}}
    for table, text in described.items():
        names = [n for n in UNKNOWN_NAMES if n not in not_applicable[table]]
        assert all(n in text for n in names), table
        assert sorted(names, key=text.index) == names, table  # documented in the order they are listed


def test_the_plan_says_when_its_unit_cost_is_assumed():
    facts = pd.DataFrame([fact("NEW", "NL", "EU", "EUR", cost_basis="assumed: share of median selling price"),
                          fact("OLD", "NL", "EU", "EUR", cost_basis="catalogue")])
    p = build_compliance_plan(facts, pd.DataFrame([("NL", "NL-AMS", "NL", "EU", True, 1.0)], columns=ROUTE_COLUMNS),
                              pd.DataFrame([("NEW", "NL", 1, 30.0, "market", None), ("OLD", "NL", 1, 30.0, "market", None)],
                                           columns=BASKET_COLUMNS), RULES, CompliancePolicy(), AS_OF)
    assert dict(zip(p["sku"], p["cost_basis"])) == {"NEW": "assumed: share of median selling price", "OLD": "catalogue"}
    without = plan([fact("OLD", "NL", "EU", "EUR")], [("NL", "NL-AMS", "NL", "EU", True, 1.0)],
                   [("OLD", "NL", 1, 30.0, "market", None)])
    assert list(without["cost_basis"]) == ["catalogue"]  # facts without the column: the catalogue's


def test_each_unknown_counts_its_rows_and_names_the_markets_they_are_in_most_first():
    from compliance.unknowns import unknown_counts

    by_market = pd.DataFrame([("duty_rate", "AU", 9), ("duty_rate", "NO", 12), ("hs_code", None, 3)]
                             + [("vat_rate", m, 1) for m in "ABCDEFG"], columns=["unknown", "market", "rows"])
    counts = unknown_counts(by_market, markets_named=5)
    assert counts.to_dict("records") == [
        {"unknown": "duty_rate", "rows": 21, "markets": "NO 12, AU 9"},
        {"unknown": "vat_rate", "rows": 7, "markets": "A 1, B 1, C 1, D 1, E 1 and 2 more"},
        {"unknown": "hs_code", "rows": 3, "markets": "- 3"},  # a row of no market
    ]
    assert list(unknown_counts(by_market.iloc[:0]).columns) == ["unknown", "rows", "markets"]
