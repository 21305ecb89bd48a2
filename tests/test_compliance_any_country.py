"""A merchant adds markets of its own: each gets VAT from the packaged rate data and a low-value regime, or an explicit
unknown, never a crash (issue 19, item 4).

The merchant sells in PL (EU), in IS, TR and RS (VAT rows added from eu-vat-rates-data, no low-value regime in the
de_minimis seed), in BR (no row anywhere), and in two odd but valid set-ups: MC, not an EU member but in the EU customs
territory (countries seed), and RS priced in RSD, a currency the ECB does not quote. Stock sits in NL-AMS (EU) and
TR-IST (TR); PL also gets parcels from GB-BHX. Everything runs through compliance.run.build_compliance on hand-made
sources and the shipped seeds (de minimis, VAT, import fees, countries), as test_compliance_run.py does, no Dagster.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from compliance.facts import ComplianceSources
from compliance.plan import BASKET_COLUMNS, RISK_COLUMNS, ROUTE_COLUMNS
from compliance.policy import CompliancePolicy
from compliance.run import ComplianceOutputs, build_compliance, country_territories
from compliance_frames import fact, order_lines, seed_countries, seed_rulebook

AS_OF = date(2026, 10, 30)  # after every added row's start (the latest, 2026-09-29, the package's data date)
# no RSD: the ECB does not quote the Serbian dinar
FX = pd.DataFrame([("2020-01-01", c, r) for c, r in (("PLN", 4.30), ("ISK", 150.0), ("TRY", 40.0), ("BRL", 6.0), ("GBP", 0.85))],
                  columns=["calendar_date", "currency", "units_per_eur"])
RULES = seed_rulebook(FX)
COUNTRIES = seed_countries()
TERRITORY = country_territories(COUNTRIES)
NODES = [("NL-AMS", "NL"), ("GB-BHX", "GB"), ("TR-IST", "TR")]
# market -> currency; duty_rates has EU rows (12% for the tee) and none for IS, TR, RS, BR
MARKETS = {"PL": "PLN", "IS": "ISK", "TR": "TRY", "RS": "RSD", "BR": "BRL", "MC": "EUR"}
ROUTES = [  # (market, node, is_primary_route)
    ("PL", "NL-AMS", True), ("PL", "GB-BHX", False), ("IS", "NL-AMS", True), ("TR", "TR-IST", True), ("TR", "NL-AMS", False),
    ("RS", "NL-AMS", True), ("BR", "NL-AMS", True), ("MC", "NL-AMS", True),
]
# one unit's usual price incl. VAT in the market's currency, and in EUR (none for RSD: no rate to convert it)
BASKETS = {"PL": (123.0, 123.0 / 4.30), "IS": (4960.0, 4960.0 / 150.0), "TR": (1200.0, 30.0), "RS": (2930.0, None),
           "BR": (180.0, 30.0), "MC": (30.0, 30.0)}
SHIPPING_EUR = 4.0  # the policy's minimum parcel (0.5 kg x EUR 3/kg is less)


def sources(lines: pd.DataFrame) -> ComplianceSources:
    facts = [fact("TEE", m, TERRITORY[m], c, **({} if TERRITORY[m] == "EU" else {"mfn_rate": None})) for m, c in MARKETS.items()]
    return ComplianceSources(
        as_of=AS_OF,
        rules=RULES,
        facts=pd.DataFrame(facts),
        duty_rates=pd.DataFrame([("TEE", "EU", 0.12, None, None, None)],
                                columns=["sku", "customs_territory", "mfn_rate", "preferential_agreement", "preferential_rate",
                                         "preferential_parties"]),
        countries=COUNTRIES[["alpha_2", "customs_territory"]],
        nodes=pd.DataFrame([(n, c, TERRITORY[c]) for n, c in NODES], columns=["node_code", "country", "customs_territory"]),
        routes=pd.DataFrame([(m, n, dict(NODES)[n], TERRITORY[dict(NODES)[n]], primary, None) for m, n, primary in ROUTES],
                            columns=list(ROUTE_COLUMNS)),
        baskets=pd.DataFrame([("TEE", m, 1, local, "market", eur) for m, (local, eur) in BASKETS.items()],
                             columns=[*BASKET_COLUMNS, "unit_price_eur"]),
        customs_risk=pd.DataFrame(columns=list(RISK_COLUMNS)),
        lines=lines,
    )


LINES = order_lines([
    # TR's 20% is in force from 2023-07-10 (Presidential Decree No. 7346): the day before has no row
    ("TR-0709", "2023-07-09", "TR", "TR", "TR-IST", None, "TEE", 1, 1200.0, "TRY", 40.0),
    ("TR-0710", "2023-07-10", "TR", "TR", "TR-IST", None, "TEE", 1, 1200.0, "TRY", 40.0),
    # IS's 24% from 2015-01-01; RS's 20% known from the package's data date 2026-09-29 only
    ("IS-2014", "2014-12-31", "IS", "IS", "NL-AMS", "DHL", "TEE", 1, 4960.0, "ISK", 150.0),
    ("IS-2026", "2026-10-01", "IS", "IS", "NL-AMS", "DHL", "TEE", 1, 4960.0, "ISK", 150.0),
    ("RS-0928", "2026-09-28", "RS", "RS", "NL-AMS", "DHL", "TEE", 1, 2930.0, "RSD", None),
    ("RS-0929", "2026-09-29", "RS", "RS", "NL-AMS", "DHL", "TEE", 1, 2930.0, "RSD", None),
    ("PL-BULK", "2026-10-01", "PL", "PL", "NL-AMS", "DHL", "TEE", 1, 123.0, "PLN", 4.30),
    ("PL-GB", "2026-10-01", "PL", "PL", "GB-BHX", "DHL", "TEE", 1, 123.0, "PLN", 4.30),
    ("PL-TR", "2026-10-01", "PL", "PL", "TR-IST", "DHL", "TEE", 1, 123.0, "PLN", 4.30),  # a parcel from a node without a regime
    ("BR-1", "2026-10-01", "BR", "BR", "NL-AMS", "DHL", "TEE", 1, 180.0, "BRL", 6.0),
    ("MC-1", "2026-10-01", "MC", "MC", "NL-AMS", "DHL", "TEE", 1, 30.0, "EUR", 1.0),
])


@pytest.fixture(scope="module")
def outputs() -> ComplianceOutputs:
    return build_compliance(sources(LINES), CompliancePolicy())


def plan_row(out: ComplianceOutputs, market: str, node: str) -> pd.Series:
    [index] = out.plan.index[(out.plan["market"] == market) & (out.plan["fulfilment_node"] == node)]
    return out.plan.loc[index]


def test_the_rulebook_reads_each_added_countrys_rate_from_its_start_day_and_nothing_before():
    """Rates and start days as the seed has them from eu-vat-rates-data 2026.9.29 (sources in its notes)."""
    for country, before, start, rate in (("TR", date(2023, 7, 9), date(2023, 7, 10), 0.20),
                                         ("IS", date(2014, 12, 31), date(2015, 1, 1), 0.24),
                                         ("RS", date(2026, 9, 28), date(2026, 9, 29), 0.20),
                                         ("MC", date(2013, 12, 31), date(2014, 1, 1), 0.20),
                                         ("PL", date(2010, 12, 31), date(2011, 1, 1), 0.23)):
        assert RULES.vat_rate(country, before) is None, country
        assert RULES.vat_rate(country, start) == RULES.vat_rate(country, AS_OF) == rate, country
    assert RULES.vat_rate("BR", AS_OF) is None
    assert {c: TERRITORY[c] for c in MARKETS} == {"PL": "EU", "IS": "IS", "TR": "TR", "RS": "RS", "BR": "BR", "MC": "EU"}
    assert RULES.regime("EU", AS_OF).code == "eu_ioss_flat_duty"
    assert all(RULES.regime(t, AS_OF) is None for t in ("IS", "TR", "RS", "BR"))
    # Liechtenstein is inside Switzerland's customs territory (1923 treaty): the Swiss regime, its own VAT row
    assert TERRITORY["LI"] == "CH" and RULES.regime(TERRITORY["LI"], AS_OF).code == "ch_low_value"
    assert RULES.vat_rate("LI", AS_OF) == RULES.vat_rate("CH", AS_OF) == 0.081


def test_every_market_and_route_gets_a_plan_row(outputs):
    assert sorted(zip(outputs.plan["market"], outputs.plan["fulfilment_node"])) == sorted((m, n) for m, n, _ in ROUTES)
    assert set(outputs.plan["as_of"]) == {AS_OF}


def test_the_vat_of_the_added_countries_comes_from_the_seed(outputs):
    """On the bulk routes the basket is a domestic sale: VAT = rate x (price net of VAT + shipping).
    TR via TR-IST: TRY 1,200 / 40 = EUR 30 incl. 20%, net 25, VAT 0.2 x 29 = 5.80. MC via NL-AMS: EUR 30 incl. 20%, the same.
    PL via NL-AMS: PLN 123 / 4.30 incl. 23%, VAT 0.23 x (net + 4)."""
    rates = outputs.plan.drop_duplicates("market").set_index("market")["vat_rate"]
    assert rates.drop("BR").to_dict() == {"IS": 0.24, "MC": 0.20, "PL": 0.23, "RS": 0.20, "TR": 0.20}
    assert pd.isna(rates["BR"])
    for market, node, rate in (("TR", "TR-IST", 0.20), ("MC", "NL-AMS", 0.20), ("PL", "NL-AMS", 0.23)):
        r = plan_row(outputs, market, node)
        net = BASKETS[market][1] / (1 + rate)
        assert r["import_flow"] == "bulk_import_via_node", market
        assert r["basket_vat_eur"] == pytest.approx(rate * (net + SHIPPING_EUR)), market
        assert "vat_rate" not in (r["unknowns"] or ""), market
    assert plan_row(outputs, "TR", "TR-IST")["unknowns"] == "duty_rate"  # no TR row in duty_rates: counted 0, said
    assert plan_row(outputs, "MC", "NL-AMS")["unknowns"] is None


def test_a_parcel_to_pl_is_priced_under_the_eus_regime(outputs):
    r = plan_row(outputs, "PL", "GB-BHX")
    assert r["import_flow"] == "cross_border_parcel" and r["de_minimis_regime"] == "eu_ioss_flat_duty"
    assert r["unknowns"] is None and pd.notna(r["basket_landed_cost_eur"]) and r["vat_rate"] == 0.23


def test_a_parcel_to_a_country_without_a_low_value_regime_says_so_and_keeps_its_vat_rate(outputs):
    """IS, TR and RS have a VAT row but de_minimis has no regime for their territories; BR has neither. RS's price is
    in RSD, which the ECB does not quote: no EUR price (typical_price) and no rate (fx_rate) on top."""
    expected = {("IS", "NL-AMS"): "low_value_regime,duty_rate", ("TR", "NL-AMS"): "low_value_regime,duty_rate",
                ("RS", "NL-AMS"): "low_value_regime,duty_rate,typical_price,fx_rate",
                ("BR", "NL-AMS"): "vat_rate,low_value_regime,duty_rate"}
    for (market, node), unknowns in expected.items():
        r = plan_row(outputs, market, node)
        assert r["import_flow"] == "cross_border_parcel" and r["de_minimis_regime"] is None, market
        assert r["unknowns"] == unknowns, market
        assert r["flags"].split("; ")[0].startswith("rules_unknown:") and "low_value_regime" in r["flags"], market
        assert f"No {'VAT rate or ' if market == 'BR' else ''}low-value regime for {market} on {AS_OF}" in r["action"], market
        for column in ("basket_duty_eur", "basket_vat_eur", "basket_landed_cost_eur", "landed_cost_eur_per_unit"):
            assert pd.isna(r[column]), (market, column)
        if market != "RS":  # RS has no price in EUR (RSD unquoted): no basket, so no regime text either
            assert r["regime_applied"].startswith("not priced:"), market


def test_orders_get_the_vat_of_their_day_and_an_unknown_before_it(outputs):
    """TR from TR-IST, TRY 1,200 at 40: 2023-07-09 has no VAT row (VAT, net goods, landed cost null); 2023-07-10 pays 20%
    on the net 25 + shipping 4 = 5.80. IS and RS parcels: VAT known from their start day, the regime never. The IS order
    of 2014 has no ISK rate either (the test's rates start in 2020; the ECB quoted none from 2008-12-10 to 2018-01-31)."""
    orders = outputs.orders.set_index("order_id")
    assert sorted(orders.index) == sorted(LINES["order_id"])
    before, after = orders.loc["TR-0709"], orders.loc["TR-0710"]
    assert before["unknowns"] == "vat_rate,duty_rate" and "no VAT rate for TR on 2023-07-09" in before["rule_applied"]
    assert pd.isna(before["vat_eur"]) and pd.isna(before["goods_value_eur"]) and pd.isna(before["landed_cost_eur"])
    assert after["unknowns"] == "duty_rate" and after["vat_eur"] == pytest.approx(0.2 * (25.0 + SHIPPING_EUR))
    assert orders.loc["IS-2014", "unknowns"] == "vat_rate,low_value_regime,duty_rate,fx_rate"
    assert orders.loc["IS-2026", "unknowns"] == "low_value_regime,duty_rate"
    assert orders.loc["RS-0928", "unknowns"] == "vat_rate,low_value_regime,duty_rate,fx_rate"
    assert orders.loc["RS-0929", "unknowns"] == "low_value_regime,duty_rate,fx_rate"
    assert orders.loc["BR-1", "unknowns"] == "vat_rate,low_value_regime,duty_rate"
    for order_id in ("IS-2014", "IS-2026", "RS-0928", "RS-0929", "BR-1"):
        assert orders.loc[order_id, "regime"] is None and pd.isna(orders.loc[order_id, "landed_cost_eur"]), order_id


def test_orders_to_pl_and_mc_are_priced_under_the_eu_rules(outputs):
    """PL from NL-AMS is a domestic sale (23%); from GB-BHX and from TR-IST, whose own territory has no regime, a parcel
    under the EU's regime of the day. MC from NL-AMS: inside the EU customs territory, a domestic sale at Monaco's 20%."""
    orders = outputs.orders.set_index("order_id")
    net_pl = 123.0 / 4.30 / 1.23
    assert orders.loc["PL-BULK", "import_flow"] == "bulk_import_via_node"
    assert orders.loc["PL-BULK", "vat_eur"] == pytest.approx(0.23 * (net_pl + SHIPPING_EUR))
    for order_id in ("PL-GB", "PL-TR"):
        o = orders.loc[order_id]
        assert o["import_flow"] == "cross_border_parcel" and o["regime"] == "eu_ioss_flat_duty", order_id
        assert o["unknowns"] is None and pd.notna(o["landed_cost_eur"]), order_id
        assert o["goods_value_eur"] == pytest.approx(net_pl), order_id
    mc = orders.loc["MC-1"]
    assert mc["import_flow"] == "bulk_import_via_node" and mc["unknowns"] is None
    assert mc["vat_eur"] == pytest.approx(0.2 * (25.0 + SHIPPING_EUR))


def test_catch_all_orders_to_added_countries_and_to_a_code_outside_iso_are_marked_not_raised():
    """A catch-all market's orders are priced under their ship-to country: IS has its VAT, not its regime. XK (Kosovo)
    is no ISO 3166-1 code, so no seed knows it (the orders contract would not let it land): every rule is unknown."""
    lines = order_lines([("ROW-IS", "2026-10-01", "ROW", "IS", "NL-AMS", "DHL", "TEE", 1, 4960.0, "ISK", 150.0),
                         ("ROW-XK", "2026-10-01", "ROW", "XK", "NL-AMS", "DHL", "TEE", 1, 30.0, "EUR", 1.0)])
    base = sources(lines)
    catch_all = ComplianceSources(**{**vars(base), "facts": pd.concat([base.facts, pd.DataFrame([fact("TEE", "ROW", None, None)])])})
    orders = build_compliance(catch_all, CompliancePolicy()).orders.set_index("order_id")
    assert orders.loc["ROW-IS", "unknowns"] == "low_value_regime,duty_rate"
    assert orders.loc["ROW-XK", "unknowns"].split(",")[:2] == ["customs_territory", "vat_rate"]
    assert "XK" not in TERRITORY
    assert pd.isna(orders.loc["ROW-XK", "landed_cost_eur"])
