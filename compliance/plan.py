"""The compliance plan: per SKU x destination market x route, what the border costs and requires.

A route is the node the market's parcels leave from: the market's own node
(bulk import into the territory, then a domestic parcel) and any other node
that shipped there recently (a cross-border parcel, priced by
`parcel_landed_cost` under the regime in force on the plan date). Each row
prices a typical basket (the SKU's usual quantity per order at its usual
price in the market) and gives the merchant's landed cost of one unit.

What the plan does not know it does not price: a market without a VAT rate or
low-value regime on the plan date (a country the seeds do not list, a day
before a rule's first known date), the catch-all market (many countries, no
single border), a SKU without a purchase cost or price, a duty rate where duty
is due (a bulk import of goods its territory charges duty on, a parcel above
its duty-free threshold). The amounts that need it are null and `unknowns`
names what was missing (compliance/unknowns.py).
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from compliance import documents as docs
from compliance.bulk import applied_duty_rate, bulk_unit_costs
from compliance.landed_cost import FOB_TERRITORIES, parcel_landed_cost
from compliance.parcel import Item, Merchant, Parcel
from compliance.policy import DEFAULT_WEIGHT_KG, CompliancePolicy, prices_include_vat
from compliance.rulebook import Rulebook
from compliance.preference_routes import on_parcel_routes
from compliance.tables import plan_schema, typed
from compliance.unknowns import join_unknowns, text
from crossdock.cost_basis import COST_FROM_CATALOGUE
from crossdock.frames import require_columns
from crossdock.hs_codes import hs_chapter

FACT_COLUMNS: tuple[str, ...] = (
    "sku", "product_name", "category", "hs_code", "hs_code_valid", "origin_country", "origin_customs_territory",
    "unit_cost_eur", "weight_kg",
    "market", "customs_territory", "currency", "mfn_rate", "duty_source", "preferential_agreement", "preferential_rate",
    "preferential_parties", "restricted_categories", "product_rules", "restricted_documents",
)
ROUTE_COLUMNS: tuple[str, ...] = ("market", "node", "node_country", "node_territory", "is_primary_route", "route_share")
BASKET_COLUMNS: tuple[str, ...] = ("sku", "market", "basket_units", "unit_price_local", "price_basis")
RISK_COLUMNS: tuple[str, ...] = ("origin_country", "destination_country", "hs_chapter", "hold_rate", "added_days")


def _risk_lookup(customs_risk: pd.DataFrame | None) -> dict[tuple[str, str, str], tuple[float, float]]:
    if customs_risk is None or customs_risk.empty:
        return {}
    return {
        (r.origin_country, r.destination_country, str(r.hs_chapter)): (float(r.hold_rate), float(r.added_days))
        for r in customs_risk.itertuples(index=False)
    }


def build_compliance_plan(
    facts: pd.DataFrame,
    routes: pd.DataFrame,
    baskets: pd.DataFrame,
    rules: Rulebook,
    policy: CompliancePolicy,
    as_of: date,
    customs_risk: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per SKU x market x route with the basket's landed cost, the flags, documents and action."""
    for frame, columns, name in ((facts, FACT_COLUMNS, "facts"), (routes, ROUTE_COLUMNS, "routes"), (baskets, BASKET_COLUMNS, "baskets")):
        require_columns(frame, columns, name)
    if customs_risk is not None:
        require_columns(customs_risk, RISK_COLUMNS, "customs_risk")
    rows = facts.merge(routes, on="market").merge(baskets, on=["sku", "market"], how="left")
    rows = on_parcel_routes(rows)  # a parcel from a non-party's stock has no preference to claim
    if rows.empty:  # no SKU (no supplier catalogue yet) or no route: an empty plan with every column typed
        return typed([], plan_schema())
    merchant = policy.merchant(routes["node_country"].dropna().unique())
    bulk_rows = bulk_unit_costs(facts, policy, as_of)
    bulk = {(r["sku"], text(r["customs_territory"])): r for r in bulk_rows.to_dict("records")}
    rows["applied_rate"] = applied_duty_rate(rows, policy)
    rows["hs_chapter"] = hs_chapter(rows["hs_code"]).to_numpy()  # the rule publish.customs_risk is keyed by
    risk = _risk_lookup(customs_risk)
    out = [_plan_row(r, bulk, rules, policy, merchant, as_of, risk) for r in rows.itertuples(index=False)]
    plan = typed(out, plan_schema())
    return plan.sort_values(["market", "sku", "is_primary_route"], ascending=[True, True, False]).reset_index(drop=True)


def _plan_row(r, bulk: dict, rules: Rulebook, policy: CompliancePolicy, merchant: Merchant,
              as_of: date, risk: dict) -> dict:
    territory, market, currency = text(r.customs_territory), r.market, text(r.currency)
    node_territory = text(r.node_territory)
    # no territory (the catch-all market): which border the goods cross is unknown, but it is a border
    flow = "bulk_import_via_node" if territory is not None and node_territory == territory else "cross_border_parcel"
    regime = rules.regime(territory, as_of)
    vat_rate = rules.vat_rate(market, as_of) if territory is not None else None
    upe = rules.find_units_per_eur(currency, as_of)
    weight = r.weight_kg if pd.notna(r.weight_kg) else DEFAULT_WEIGHT_KG
    incoterm = policy.incoterm(market) if flow == "cross_border_parcel" else "n/a"
    home = bulk[(r.sku, territory)]
    node_bulk = bulk.get((r.sku, node_territory), home)
    rate = r.applied_rate
    claimed = bool(text(r.preferential_agreement)) and r.preferential_agreement in policy.claimed_agreements
    hs_code = text(r.hs_code)

    basket = _price_basket(r, flow, regime, vat_rate, upe, weight, incoterm, home, node_bulk, rules, policy, merchant, as_of)
    saving_per_unit = basket.pop("saving_per_unit")
    unknowns = join_unknowns([
        "customs_territory" if territory is None else None,
        "vat_rate" if vat_rate is None else None,
        "low_value_regime" if flow == "cross_border_parcel" and regime is None else None,
        "hs_code" if hs_code is None or len(hs_code) < 6 else None,
        "duty_rate" if basket.pop("rate_needed") else None,
        "unit_cost" if pd.isna(r.unit_cost_eur) else None,
        "typical_price" if basket["unit_price_eur"] is None else None,
        "currency" if currency is None else None,
        "fx_rate" if currency is not None and upe is None else None,
        *basket.pop("unknowns"),
    ])
    # goods made inside the market's territory, stocked there: never imported, so no tariff, preference or import papers
    own_goods = flow == "bulk_import_via_node" and bool(home["bulk_no_import"])
    if saving_per_unit is None and pd.notna(r.mfn_rate) and pd.notna(r.preferential_rate) and not claimed and not own_goods:
        saving_per_unit = _f((r.mfn_rate - r.preferential_rate) * home["bulk_customs_value_eur"])

    chapter = r.hs_chapter
    hold_rate, added_days = risk.get((r.node_country, market, chapter), (None, None)) if flow == "cross_border_parcel" else (None, None)
    formal = bool(regime and basket["goods_local"] is not None and regime.formal_entry_threshold is not None
                  and basket["goods_local"] > regime.formal_entry_threshold)
    flags = (
        docs.rules_unknown_flag(market, unknowns, as_of)
        + docs.hs_flags(hs_code, bool(r.hs_code_valid), pd.notna(r.mfn_rate) or own_goods, territory, text(r.duty_source))
        + docs.unit_cost_flag(unknowns)
        + docs.restriction_flag(market, r.restricted_categories, r.restricted_documents)
        + docs.registration_flag(basket["registration_needed"])
        + ([] if own_goods else docs.preference_flag(r.origin_country, text(r.preferential_agreement), _f(r.mfn_rate),
                                                      _f(r.preferential_rate), claimed, saving_per_unit or 0.0))
        + docs.door_flag(incoterm, basket["at_door_eur"] or 0.0)
        + docs.customs_hold_flag(f"{r.node_country}->{market}", chapter, hold_rate, added_days, policy.customs_hold_flag_rate)
    )
    return {
        "as_of": as_of,
        "sku": r.sku,
        "product_name": r.product_name,
        "category": r.category,
        "market": market,
        "fulfilment_node": r.node,
        "is_primary_route": bool(r.is_primary_route),
        "route_share": r.route_share,
        "import_flow": flow,
        "incoterm": incoterm,
        "hs_code": r.hs_code,
        "origin_country": r.origin_country,
        "customs_territory": territory,
        "valuation_basis": None if territory is None else "FOB" if territory in FOB_TERRITORIES else "CIF",
        "mfn_rate": _f(r.mfn_rate),
        "preferential_agreement": r.preferential_agreement,
        "preferential_rate": _f(r.preferential_rate),
        "preference_claimed": claimed,
        "duty_rate": 0.0 if own_goods else _f(rate),
        "vat_rate": vat_rate,
        "de_minimis_regime": regime.code if regime else None,
        "de_minimis_duty_threshold": regime.duty_threshold if regime else None,
        "de_minimis_currency": regime.currency if regime else None,
        "regime_applied": basket["rule"],
        "basket_units": basket["units"],
        "price_basis": basket["price_basis"],
        "typical_unit_price_eur": basket["unit_price_eur"],
        "basket_goods_eur": basket["goods_eur"],
        "basket_shipping_eur": basket["shipping_eur"],
        "basket_customs_value_eur": basket["customs_value_eur"],
        "basket_duty_eur": basket["duty_eur"],
        "basket_vat_eur": basket["vat_eur"],
        "vat_collected": basket["vat_collected"],
        "basket_fees_eur": basket["fees_eur"],
        "basket_landed_cost_eur": basket["landed_eur"],
        "collected_at_door_eur": basket["at_door_eur"],
        "unit_cost_eur": r.unit_cost_eur,
        "cost_basis": getattr(r, "cost_basis", COST_FROM_CATALOGUE),  # optional fact: absent = the catalogue's
        "freight_eur_per_unit": node_bulk["inbound_freight_eur"],
        "customs_value_eur": home["bulk_customs_value_eur"] if flow == "bulk_import_via_node" else basket["customs_value_per_unit"],
        "duty_eur_per_unit": basket["duty_per_unit"],
        "vat_eur_per_unit": basket["vat_per_unit"],
        "landed_cost_eur_per_unit": basket["landed_per_unit"],
        "landed_cost_local_per_unit": None if basket["landed_per_unit"] is None or upe is None else basket["landed_per_unit"] * upe,
        "local_currency": currency,
        "preference_saving_eur_per_unit": saving_per_unit if not claimed else 0.0,
        "customs_hold_rate": hold_rate,
        "customs_added_days": added_days,
        "registration_needed": basket["registration_needed"],
        "product_rules": r.product_rules,
        "flags": docs.join_flags(flags),
        "flag_count": len(flags),
        "documents_required": docs.documents_required(
            "domestic_goods" if own_goods else flow, territory, basket["vat_collected"] or "", formal,
            None if own_goods else text(r.preferential_agreement), text(r.restricted_documents)
        ),
        "action": " ".join(f.action for f in flags) or "No action.",
        "unknowns": unknowns,
    }


def _f(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _price_basket(r, flow, regime, vat_rate, upe, weight, incoterm, home, node_bulk, rules, policy, merchant, as_of) -> dict:
    """The typical basket's amounts in EUR; None for what cannot be priced (no price anywhere, an unknown rule)."""
    units = int(r.basket_units) if pd.notna(r.basket_units) else 1
    shipping_eur = policy.parcel_shipping_eur(weight * units)
    gross_eur = _basket_price_eur(r, upe)
    if gross_eur is None:
        per_unit = _f(home["bulk_landed_eur"]) if flow == "bulk_import_via_node" else None
        # pallets need the destination's rate; a parcel not priced cannot tell whether its duty would be due: named too
        return {k: None for k in _BASKET_KEYS} | {"units": units, "landed_per_unit": per_unit, "duty_per_unit": _f(home["bulk_duty_eur"]),
                                                  "saving_per_unit": None, "price_basis": "no price", "at_door_eur": None,
                                                  "unknowns": (), "rate_needed": bool(home["bulk_rate_missing"])}
    if flow == "bulk_import_via_node":
        if prices_include_vat(r.customs_territory):
            goods = None if vat_rate is None else units * gross_eur / (1 + vat_rate)
        else:
            goods = units * gross_eur
        duty = _times(units, _f(home["bulk_duty_eur"]))
        vat = None if vat_rate is None or goods is None else vat_rate * (goods + shipping_eur)
        return {
            "units": units, "price_basis": r.price_basis, "unit_price_eur": gross_eur, "goods_eur": goods,
            "goods_local": _times(goods, upe), "shipping_eur": shipping_eur,
            "customs_value_eur": _times(units, _f(home["bulk_customs_value_eur"])),
            "duty_eur": duty, "vat_eur": vat, "vat_collected": "domestic_sale", "fees_eur": 0.0,
            "landed_eur": _sum(goods, shipping_eur, duty, vat), "at_door_eur": 0.0,
            "rule": (f"goods made in {text(r.customs_territory)}: never imported into it, no duty"
                     if bool(home["bulk_no_import"]) else "bulk import: tariff on the purchase cost at the node's border"),
            "registration_needed": None, "customs_value_per_unit": _f(home["bulk_customs_value_eur"]),
            "duty_per_unit": _f(home["bulk_duty_eur"]), "vat_per_unit": None if vat is None else vat / units,
            "landed_per_unit": _f(home["bulk_landed_eur"]), "saving_per_unit": None, "unknowns": (),
            "rate_needed": bool(home["bulk_rate_missing"]),
        }
    # a price known in EUR only (no rate for the market's currency) is priced in EUR: the rules convert it
    local = upe is not None and pd.notna(r.unit_price_local)
    price, currency, to_parcel = (float(r.unit_price_local), r.currency, upe) if local else (gross_eur, "EUR", 1.0)
    item = Item(r.sku, text(r.hs_code), text(r.origin_country), units, price,
                _f(r.mfn_rate), text(r.preferential_agreement), _f(r.preferential_rate))
    parcel = Parcel(f"{r.sku}/{r.market}/{r.node}", as_of, r.market, text(r.customs_territory), r.node_country, currency,
                    shipping_eur * to_parcel, (item,), incoterm=incoterm, prices_include_vat=prices_include_vat(r.customs_territory))
    cost = parcel_landed_cost(parcel, rules, merchant)
    # landing the unit at the shipping node needs that territory's rate too (a bulk import always pays the tariff)
    node_rate_needed = bool(node_bulk["bulk_rate_missing"])
    if not cost.assessed:
        return {k: None for k in _BASKET_KEYS} | {
            "units": units, "price_basis": r.price_basis, "unit_price_eur": gross_eur, "goods_eur": cost.eur(cost.goods_value),
            "shipping_eur": shipping_eur, "rule": "; ".join(cost.reasons), "landed_per_unit": None, "duty_per_unit": None,
            "saving_per_unit": None, "at_door_eur": None, "unknowns": cost.unknowns, "rate_needed": node_rate_needed,
        }
    fees_paid = cost.eur(cost.fees) if incoterm == "DDP" else 0.0
    node_landed = _f(node_bulk["bulk_landed_eur"])
    # the parcel's own shipping, duty and fees come on top of landing the unit at the shipping node
    on_top = _sum(cost.eur(cost.shipping), cost.eur(cost.duty), fees_paid)
    return {
        "units": units, "price_basis": r.price_basis, "unit_price_eur": gross_eur, "goods_eur": cost.eur(cost.goods_value),
        "goods_local": cost.goods_value, "shipping_eur": cost.eur(cost.shipping), "customs_value_eur": cost.eur(cost.customs_value),
        "duty_eur": cost.eur(cost.duty), "vat_eur": cost.eur(cost.vat), "vat_collected": cost.vat_collected,
        "fees_eur": cost.eur(cost.fees), "landed_eur": cost.eur(cost.landed_cost), "at_door_eur": cost.eur(cost.collected_at_door),
        "rule": "; ".join(cost.reasons), "registration_needed": cost.registration_needed,
        "customs_value_per_unit": _per(cost.eur(cost.customs_value), units),
        "duty_per_unit": _per(cost.eur(cost.duty), units), "vat_per_unit": _per(cost.eur(cost.vat), units),
        "landed_per_unit": _sum(node_landed, _per(on_top, units)),
        "saving_per_unit": cost.eur(cost.preference_unclaimed_saving) / units,
        "unknowns": cost.unknowns, "rate_needed": node_rate_needed,
    }


def _basket_price_eur(r, upe: float | None) -> float | None:
    """One unit's typical price in EUR: the local price at the as_of rate, else the basket's EUR price when it has one."""
    if pd.notna(r.unit_price_local) and upe is not None:
        return r.unit_price_local / upe
    eur = getattr(r, "unit_price_eur", None)
    return None if eur is None or pd.isna(eur) else float(eur)


def _times(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(parts)


def _per(amount: float | None, units: int) -> float | None:
    return None if amount is None else amount / units


_BASKET_KEYS = (
    "unit_price_eur", "goods_eur", "goods_local", "shipping_eur", "customs_value_eur", "duty_eur", "vat_eur", "vat_collected",
    "fees_eur", "landed_eur", "rule", "registration_needed", "customs_value_per_unit", "vat_per_unit",
)
