"""Landed cost of every order, under the rules in force on the order's day.

An order leaves from the node that shipped it (the carrier feed's origin,
else the order's fulfilment node) for the country it ships to. From a node
inside the destination's customs territory it is a domestic sale of stock
imported in bulk: its duty is the per-unit duty paid when the stock entered,
its VAT the sales VAT of the day. From a node abroad it is a cross-border
parcel, priced item by item by `parcel_landed_cost` under the low-value
regime of the order's day. Returns are not orders: only sale lines are priced.

Each order is priced under the rules of its own ship-to country, so an order
planned in the catch-all market is priced like any other where the seeds
know its country. What the seeds or the catalogue do not know on the order's
day (a VAT rate, a low-value regime, a duty rate, a purchase cost, the node
it left from) is named in `unknowns`, and the amounts that need it are null.
A duty rate is needed only where duty is due: a line without one that pays
the tariff (every bulk import, a parcel above its duty-free threshold) leaves
the order's duty, landed cost and what is built on them null and sets
missing_duty_rate; a parcel under a duty-free threshold, or goods its
territory charges no duty on, needs none and stays priced.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

import pandas as pd

from compliance.bulk import bulk_unit_costs
from compliance.landed_cost import UNTIL_A_RATE, parcel_landed_cost
from compliance.parcel import Item, Parcel, ParcelCost
from compliance.policy import DEFAULT_WEIGHT_KG, CompliancePolicy, prices_include_vat
from compliance.preference_routes import on_parcel_routes
from compliance.rulebook import Rulebook
from compliance.tables import order_columns, order_schema, typed
from compliance.unknowns import join_unknowns, text
from crossdock.frames import require_columns

log = logging.getLogger(__name__)

# ship_to_country is optional: without it an order ships to its market's country
LINE_COLUMNS: tuple[str, ...] = (
    "order_id", "order_date", "market", "ship_from_node", "carrier", "sku", "quantity", "unit_price", "currency", "units_per_eur",
)
SKU_COLUMNS: tuple[str, ...] = ("sku", "hs_code", "origin_country", "origin_customs_territory", "unit_cost_eur", "weight_kg")
DUTY_COLUMNS: tuple[str, ...] = (
    "sku", "customs_territory", "mfn_rate", "preferential_agreement", "preferential_rate", "preferential_parties",
)
__all__ = ["LINE_COLUMNS", "order_columns", "order_landed_costs"]


def _lowest_node_per_order(lines: pd.DataFrame) -> pd.Series:
    """order_id -> the lowest node code among its lines (orders whose lines name none are absent).

    A sort and one row per order rather than groupby().min(): pandas has no
    compiled min for text, and its per-group Python fallback took two thirds of
    the compliance step (70 s of 106 s profiled on the demo's 240,000 orders).
    """
    named = lines.loc[lines["ship_from_node"].notna(), ["order_id", "ship_from_node"]]
    lowest = named.sort_values(["order_id", "ship_from_node"], kind="stable").drop_duplicates("order_id")
    return lowest.set_index("order_id")["ship_from_node"]


def order_landed_costs(
    lines: pd.DataFrame,
    facts: pd.DataFrame,
    node_territories: Mapping[str, tuple[str, str | None]],
    rules: Rulebook,
    policy: CompliancePolicy,
    country_territories: Mapping[str, str] | None = None,
    duty_rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per order (see order_columns()). `node_territories` maps node -> (country, customs territory).

    `facts` is the compliance facts per SKU x market (int_sku_market_compliance).
    `country_territories` maps every ISO country to its customs territory (the
    countries seed); without it an order's territory is its market's. `duty_rates`
    (int_sku_duty_rates: sku, customs_territory, rates) prices orders to
    countries outside the markets' territories, e.g. those of a catch-all market.
    """
    require_columns(lines, LINE_COLUMNS, "order lines")
    if lines.empty:
        return typed([], order_schema())
    lines = lines.copy()
    if "ship_to_country" not in lines.columns:
        lines["ship_to_country"] = lines["market"]
    # an order is one parcel: one node (the lowest code when its lines name several) and one destination
    lines["ship_from_node"] = lines["order_id"].map(_lowest_node_per_order(lines))
    lines["ship_to_country"] = lines.groupby("order_id")["ship_to_country"].transform("first")
    lines["units_per_eur"] = pd.to_numeric(lines["units_per_eur"]).astype("float64")

    sku_facts = facts[list(SKU_COLUMNS)].drop_duplicates("sku")
    enriched = lines.merge(sku_facts, on="sku", how="left", validate="many_to_one")
    enriched["customs_territory"] = _destination_territories(enriched, facts, country_territories)
    enriched = enriched.merge(duty_table(facts, duty_rates), on=["sku", "customs_territory"], how="left", validate="many_to_one")
    routed = enriched["ship_from_node"].isin(list(node_territories))
    enriched["node_country"] = enriched["ship_from_node"].map(lambda n: node_territories.get(n, (None, None))[0])
    enriched["node_territory"] = enriched["ship_from_node"].map(lambda n: node_territories.get(n, (None, None))[1])
    enriched = on_parcel_routes(enriched)  # a parcel from a non-party's stock has no preference to claim
    hs = enriched["hs_code"].map(text)
    enriched["hs_missing"] = hs.map(lambda h: h is None or len(h) < 6)
    domestic = routed & enriched["customs_territory"].notna() & (enriched["node_territory"] == enriched["customs_territory"])
    unrouted = enriched[~routed]
    if len(unrouted):
        log.warning("orders ship from nodes crossdock.yaml does not declare, not priced: %s", sorted(set(unrouted["ship_from_node"].fillna("(no node)"))))  # one without a node must not crash the sort
    bulk_orders = _domestic_orders(enriched[domestic], rules, policy)
    parcels = enriched[routed & ~domestic]
    log.info("pricing %s domestic and %s cross-border orders", f"{bulk_orders.shape[0]:,}", f"{parcels['order_id'].nunique():,}")
    parcel_orders = _parcel_orders(parcels, rules, policy, node_territories)
    frames = [f for f in (bulk_orders, parcel_orders, _unrouted_orders(unrouted, rules, policy)) if len(f)]
    # typed one by one: concatenating untyped frames makes pandas test every value of their None columns; frames
    # of the same columns and dtypes concatenate to those, so the whole is not typed a second time
    typed_frames = [typed(f, order_schema()) for f in frames]
    return pd.concat(typed_frames, ignore_index=True).sort_values("order_id").reset_index(drop=True)


def _destination_territories(lines: pd.DataFrame, facts: pd.DataFrame, country_territories: Mapping[str, str] | None) -> pd.Series:
    """Each line's customs territory: its ship-to country's, else (no country table) its market's; None when unknown."""
    if country_territories is not None:
        return lines["ship_to_country"].map(lambda c: text(country_territories.get(c)) if text(c) else None).astype(object)
    by_market = {m: text(t) for m, t in facts[["market", "customs_territory"]].drop_duplicates("market").itertuples(index=False)}
    return lines["market"].map(lambda m: by_market.get(m)).astype(object)


def duty_table(facts: pd.DataFrame, duty_rates: pd.DataFrame | None) -> pd.DataFrame:
    """Duty rates per SKU x customs territory: int_sku_duty_rates where given, else the facts' own territories."""
    dtypes = {c: "float64" if c.endswith("_rate") else object for c in DUTY_COLUMNS}
    frames = [f[list(DUTY_COLUMNS)].astype(dtypes) for f in (duty_rates, facts) if f is not None]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(DUTY_COLUMNS)).astype(dtypes)
    return table[table["customs_territory"].notna()].drop_duplicates(["sku", "customs_territory"])


def _vat_by_day(rules: Rulebook, frame: pd.DataFrame) -> pd.Series:
    """The ship-to country's VAT rate of each line's day; NaN where vat_rates has none."""
    pairs = frame[["ship_to_country", "order_date"]].drop_duplicates()
    rates = {(c, d): rules.vat_rate(text(c), pd.Timestamp(d).date()) for c, d in pairs.itertuples(index=False)}
    values = [rates[(c, d)] for c, d in zip(frame["ship_to_country"], frame["order_date"])]
    return pd.Series([float("nan") if v is None else v for v in values], index=frame.index, dtype="float64")


def _sale_amounts(x: pd.DataFrame, rules: Rulebook) -> pd.DataFrame:
    """Per line: the day's VAT rate and the goods value in EUR net of it where prices include it (NaN when unknown)."""
    x = x.copy()
    x["vat_rate"] = _vat_by_day(rules, x).to_numpy()
    includes = x["customs_territory"].map(prices_include_vat).astype(bool)
    gross_eur = x["quantity"] * x["unit_price"] / x["units_per_eur"]
    x["goods_eur"] = gross_eur / (1 + x["vat_rate"].where(includes, 0.0))
    x["weight"] = x["quantity"] * pd.to_numeric(x["weight_kg"]).fillna(DEFAULT_WEIGHT_KG)
    return x


def _domestic_orders(lines: pd.DataFrame, rules: Rulebook, policy: CompliancePolicy) -> pd.DataFrame:
    """Orders served from stock already imported in bulk: bulk duty per unit, sales VAT of the day."""
    if lines.empty:
        return pd.DataFrame()
    # the duty was paid when the stock entered; the order's day stands in for that day (the rules of a territory's day)
    lines = lines.assign(day=lines["order_date"])
    bulk = bulk_unit_costs(lines, policy, None)[
        ["sku", "customs_territory", "day", "bulk_rate_missing", "bulk_duty_eur", "bulk_customs_value_eur", "bulk_no_import"]]
    x = _sale_amounts(lines.merge(bulk, on=["sku", "customs_territory", "day"], how="left"), rules)
    x["duty_eur"] = x["quantity"] * x["bulk_duty_eur"]
    x["customs_value_eur"] = x["quantity"] * x["bulk_customs_value_eur"]
    x["missing_rate"] = x["bulk_rate_missing"].astype(bool)
    x["no_hs"] = x["missing_rate"] & x["hs_missing"]
    x["no_cost"] = pd.to_numeric(x["unit_cost_eur"]).isna()
    for column in ("goods_eur", "duty_eur", "customs_value_eur", "units_per_eur"):
        x[f"{column}_na"] = x[column].isna()
    orders = x.groupby("order_id", sort=False).agg(
        order_date=("order_date", "first"), market=("market", "first"), ship_to_country=("ship_to_country", "first"),
        ship_from_node=("ship_from_node", "first"), carrier=("carrier", "first"),
        lines=("sku", "size"), units=("quantity", "sum"), goods_value_eur=("goods_eur", "sum"),
        customs_value_eur=("customs_value_eur", "sum"), duty_eur=("duty_eur", "sum"), weight=("weight", "sum"),
        vat_rate=("vat_rate", "first"), units_per_eur=("units_per_eur", "first"), local_currency=("currency", "first"),
        missing_duty_rate=("missing_rate", "any"), no_hs=("no_hs", "any"), no_cost=("no_cost", "any"),
        goods_na=("goods_eur_na", "any"), duty_na=("duty_eur_na", "any"), customs_na=("customs_value_eur_na", "any"),
        fx_na=("units_per_eur_na", "any"), own_goods=("bulk_no_import", "all"), territory=("customs_territory", "first"),
    ).reset_index()
    # a sum over lines is unknown when one of its lines is (pandas would skip the NaN and understate it)
    for column, unknown in (("goods_value_eur", "goods_na"), ("duty_eur", "duty_na"), ("customs_value_eur", "customs_na")):
        orders[column] = orders[column].where(~orders[unknown])
    orders["shipping_eur"] = orders["weight"].map(policy.parcel_shipping_eur)
    orders["vat_eur"] = orders["vat_rate"] * (orders["goods_value_eur"] + orders["shipping_eur"])
    orders["fees_eur"] = 0.0
    orders["landed_cost_eur"] = orders["goods_value_eur"] + orders["shipping_eur"] + orders["duty_eur"] + orders["vat_eur"]
    orders["landed_cost_local"] = orders["landed_cost_eur"] * orders["units_per_eur"]
    vat_unknown = orders["vat_rate"].isna()
    imported = "domestic sale of stock imported in bulk: duty paid at the node's border on the purchase cost"
    unrated = _unrated_skus(x)
    orders["rule_applied"] = [
        (f"domestic sale of goods made in {territory}: never imported into it, no duty" if own else imported)
        + (f"; no VAT rate for {country} on {pd.Timestamp(day).date()} in the vat_rates seed: VAT unknown" if unknown else "")
        + unrated.get(order_id, "")
        for order_id, country, day, unknown, own, territory in zip(
            orders["order_id"], orders["ship_to_country"], orders["order_date"], vat_unknown, orders["own_goods"],
            orders["territory"])
    ]
    orders["unknowns"] = [
        join_unknowns(["vat_rate" if v else None, "hs_code" if h else None, "duty_rate" if r else None,
                       "unit_cost" if c else None, "fx_rate" if f else None])
        for v, h, r, c, f in zip(vat_unknown, orders["no_hs"], orders["missing_duty_rate"], orders["no_cost"], orders["fx_na"])
    ]
    return orders.assign(
        import_flow="bulk_import_via_node", regime=None, incoterm="n/a", vat_collected="domestic_sale",
        collected_at_door_eur=0.0, registration_needed=None, preference_unclaimed_saving_eur=0.0,
    )


def _unrated_skus(x: pd.DataFrame) -> dict[object, str]:
    """order_id -> the rule_applied words for its lines whose bulk duty has no rate (only orders that have one)."""
    missing = x[x["missing_rate"]]
    if missing.empty:
        return {}
    by_order = missing.groupby("order_id", sort=False).agg(
        territory=("customs_territory", "first"), skus=("sku", lambda s: ", ".join(sorted(set(map(str, s))))))
    return {
        order_id: f"; no duty rate into {territory} for {skus}: duty and landed cost not priced {UNTIL_A_RATE}"
        for order_id, territory, skus in zip(by_order.index, by_order["territory"], by_order["skus"])
    }


def _parcel_orders(lines: pd.DataFrame, rules: Rulebook, policy: CompliancePolicy,
                   node_territories: Mapping[str, tuple[str, str | None]]) -> pd.DataFrame:
    if lines.empty:
        return pd.DataFrame()
    merchant = policy.merchant(country for country, _ in node_territories.values())
    by_order: dict[object, list[dict]] = {}
    for line in lines.to_dict("records"):  # plain dicts: pandas row access is ~100x slower per order
        by_order.setdefault(line["order_id"], []).append(line)
    rows = []
    for order_id, order in by_order.items():
        first = order[0]
        day: date = pd.Timestamp(first["order_date"]).date()
        territory = text(first["customs_territory"])
        items = tuple(
            Item(r["sku"], text(r["hs_code"]), text(r["origin_country"]), int(r["quantity"]), float(r["unit_price"]),
                 _num(r["mfn_rate"]), text(r["preferential_agreement"]), _num(r["preferential_rate"]))
            for r in order
        )
        weight = sum(r["quantity"] * (DEFAULT_WEIGHT_KG if pd.isna(r["weight_kg"]) else r["weight_kg"]) for r in order)
        local_upe = _num(first["units_per_eur"])
        shipping_local = policy.parcel_shipping_eur(weight) * (local_upe if local_upe is not None else float("nan"))
        parcel = Parcel(
            str(order_id), day, first["ship_to_country"], territory, first["node_country"],
            first["currency"], shipping_local, items, incoterm=policy.incoterm(first["market"]),
            prices_include_vat=prices_include_vat(territory),
            courier=policy.is_courier(text(first["carrier"])),
        )
        cost = parcel_landed_cost(parcel, rules, merchant)
        landed_eur = cost.eur(cost.landed_cost)
        no_hs = "duty_rate" in cost.unknowns and any(r["hs_missing"] for r in order)
        rows.append({
            "order_id": order_id, "order_date": first["order_date"], "market": first["market"],
            "ship_to_country": first["ship_to_country"], "ship_from_node": first["ship_from_node"], "carrier": first["carrier"],
            "import_flow": "cross_border_parcel", "regime": cost.regime,
            "incoterm": cost.incoterm, "lines": len(items), "units": sum(int(r["quantity"]) for r in order),
            "goods_value_eur": cost.eur(cost.goods_value), "shipping_eur": cost.eur(cost.shipping),
            "customs_value_eur": cost.eur(cost.customs_value), "duty_eur": cost.eur(cost.duty), "vat_eur": cost.eur(cost.vat),
            "vat_collected": cost.vat_collected, "fees_eur": cost.eur(cost.fees), "landed_cost_eur": landed_eur,
            "collected_at_door_eur": cost.eur(cost.collected_at_door),
            "landed_cost_local": None if landed_eur is None or local_upe is None else landed_eur * local_upe,
            "local_currency": first["currency"],
            "registration_needed": cost.registration_needed,
            "preference_unclaimed_saving_eur": cost.eur(cost.preference_unclaimed_saving),
            "missing_duty_rate": cost.missing_duty_rate, "rule_applied": _with_carrier_assumed(cost, first["carrier"]),
            "unknowns": join_unknowns([*cost.unknowns, "hs_code" if no_hs else None]),
        })
    return pd.DataFrame(rows)


def _with_carrier_assumed(cost: ParcelCost, carrier: object) -> str:
    """The rules applied, and, where the clearance depends on the carrier and none is known (no tracking event for
    the order), that it was cleared as a courier parcel: Canada's thresholds are CAD 150 by courier, CAD 20 by post."""
    applied = "; ".join(cost.reasons)
    if text(carrier) is None and cost.carrier_decided:
        applied += "; no carrier known for the order (no tracking event): cleared as a courier parcel, as the plan's routes assume"
    return applied


def _unrouted_orders(lines: pd.DataFrame, rules: Rulebook, policy: CompliancePolicy) -> pd.DataFrame:
    """Orders from a node the config does not declare: whether they crossed a border is unknown, so only goods are priced."""
    if lines.empty:
        return pd.DataFrame()
    x = _sale_amounts(lines, rules)
    x["goods_na"] = x["goods_eur"].isna()
    orders = x.groupby("order_id", sort=False).agg(
        order_date=("order_date", "first"), market=("market", "first"), ship_to_country=("ship_to_country", "first"),
        ship_from_node=("ship_from_node", "first"), carrier=("carrier", "first"), lines=("sku", "size"),
        units=("quantity", "sum"), goods_value_eur=("goods_eur", "sum"), goods_na=("goods_na", "any"), weight=("weight", "sum"),
        vat_rate=("vat_rate", "first"), local_currency=("currency", "first"),
    ).reset_index()
    orders["goods_value_eur"] = orders["goods_value_eur"].where(~orders["goods_na"])
    orders["shipping_eur"] = orders["weight"].map(policy.parcel_shipping_eur)
    orders["rule_applied"] = [f"not priced: node {node} is not declared in crossdock.yaml, so the border the order crossed is unknown"
                              for node in orders["ship_from_node"]]
    orders["unknowns"] = [join_unknowns(["ship_from_node", "vat_rate" if pd.isna(v) else None]) for v in orders["vat_rate"]]
    return orders.assign(
        import_flow=None, regime=None, incoterm=None, customs_value_eur=None, duty_eur=None, vat_eur=None, vat_collected=None,
        fees_eur=None, landed_cost_eur=None, collected_at_door_eur=None, landed_cost_local=None, registration_needed=None,
        preference_unclaimed_saving_eur=None, missing_duty_rate=False,
    )


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
