"""Landed cost of every order, under the rules in force on the order's day.

An order leaves from the node that shipped it (the carrier feed's origin,
else the order's fulfilment node). From a node inside the destination's
customs territory it is a domestic sale of stock imported in bulk: its duty
is the per-unit duty paid when the stock entered, its VAT the sales VAT of
the day. From a node abroad it is a cross-border parcel, priced item by item
by `parcel_landed_cost` under the low-value regime of the order's day.
Returns are not orders: only sale lines are priced.
"""
from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from compliance.bulk import bulk_unit_costs
from compliance.landed_cost import Item, Parcel, parcel_landed_cost
from compliance.policy import DEFAULT_WEIGHT_KG, CompliancePolicy, prices_include_vat
from compliance.rulebook import Rulebook
from planning.inputs import require_columns

log = logging.getLogger(__name__)

LINE_COLUMNS: tuple[str, ...] = (
    "order_id", "order_date", "market", "ship_from_node", "carrier", "sku", "quantity", "unit_price", "currency", "units_per_eur",
)
ORDER_COLUMNS: tuple[str, ...] = (
    "order_id", "order_date", "market", "ship_from_node", "carrier", "import_flow", "regime", "incoterm", "lines", "units",
    "goods_value_eur", "shipping_eur", "customs_value_eur", "duty_eur", "vat_eur", "vat_collected", "fees_eur",
    "landed_cost_eur", "collected_at_door_eur", "landed_cost_local", "local_currency", "registration_needed",
    "preference_unclaimed_saving_eur", "missing_duty_rate", "rule_applied",
)


def order_landed_costs(
    lines: pd.DataFrame,
    facts: pd.DataFrame,
    node_territories: dict[str, tuple[str, str]],
    rules: Rulebook,
    policy: CompliancePolicy,
) -> pd.DataFrame:
    """One row per order (see ORDER_COLUMNS). `node_territories` maps node -> (country, customs territory).

    `facts` is the compliance facts per SKU x market (int_sku_market_compliance).
    """
    require_columns(lines, LINE_COLUMNS, "order lines")
    unknown = sorted(set(lines["ship_from_node"]) - set(node_territories))
    if unknown:
        raise ValueError(f"orders ship from nodes missing in the nodes seed: {unknown}")
    enriched = lines.merge(facts.drop(columns="currency"), on=["sku", "market"], how="left", validate="many_to_one")
    enriched["node_territory"] = enriched["ship_from_node"].map(lambda n: node_territories[n][1])
    domestic = enriched["node_territory"] == enriched["customs_territory"]
    bulk_orders = _domestic_orders(enriched[domestic], facts, rules, policy)
    parcels = enriched[~domestic]
    log.info("pricing %s domestic and %s cross-border orders", f"{bulk_orders.shape[0]:,}", f"{parcels['order_id'].nunique():,}")
    parcel_orders = _parcel_orders(parcels, node_territories, rules, policy)
    frames = [f for f in (bulk_orders, parcel_orders) if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(ORDER_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(ORDER_COLUMNS)].sort_values("order_id").reset_index(drop=True)


def _vat_by_day(rules: Rulebook, frame: pd.DataFrame) -> pd.Series:
    pairs = frame[["market", "order_date"]].drop_duplicates()
    rates = {(m, d): rules.vat_rate(m, pd.Timestamp(d).date()) for m, d in pairs.itertuples(index=False)}
    return pd.Series([rates[(m, d)] for m, d in zip(frame["market"], frame["order_date"])], index=frame.index)


def _domestic_orders(lines: pd.DataFrame, facts: pd.DataFrame, rules: Rulebook, policy: CompliancePolicy) -> pd.DataFrame:
    """Orders served from stock already imported in bulk: bulk duty per unit, sales VAT of the day."""
    if lines.empty:
        return pd.DataFrame()
    bulk = bulk_unit_costs(facts, policy)[["sku", "customs_territory", "bulk_duty_eur", "bulk_customs_value_eur"]]
    x = lines.merge(bulk, on=["sku", "customs_territory"], how="left")
    x["vat_rate"] = _vat_by_day(rules, x).to_numpy()
    includes = x["customs_territory"].map(prices_include_vat)
    gross_eur = x["quantity"] * x["unit_price"] / x["units_per_eur"]
    x["goods_eur"] = gross_eur / (1 + x["vat_rate"].where(includes, 0.0))
    x["duty_eur"] = x["quantity"] * x["bulk_duty_eur"].fillna(0.0)
    x["customs_value_eur"] = x["quantity"] * x["bulk_customs_value_eur"]
    x["weight"] = x["quantity"] * x["weight_kg"].fillna(DEFAULT_WEIGHT_KG)
    x["missing_rate"] = x["mfn_rate"].isna()
    orders = x.groupby("order_id", sort=False).agg(
        order_date=("order_date", "first"), market=("market", "first"), ship_from_node=("ship_from_node", "first"),
        carrier=("carrier", "first"),
        lines=("sku", "size"), units=("quantity", "sum"), goods_value_eur=("goods_eur", "sum"),
        customs_value_eur=("customs_value_eur", "sum"), duty_eur=("duty_eur", "sum"), weight=("weight", "sum"),
        vat_rate=("vat_rate", "first"), units_per_eur=("units_per_eur", "first"), local_currency=("currency", "first"),
        missing_duty_rate=("missing_rate", "any"),
    ).reset_index()
    orders["shipping_eur"] = orders["weight"].map(policy.parcel_shipping_eur)
    orders["vat_eur"] = orders["vat_rate"] * (orders["goods_value_eur"] + orders["shipping_eur"])
    orders["fees_eur"] = 0.0
    orders["landed_cost_eur"] = orders[["goods_value_eur", "shipping_eur", "duty_eur", "vat_eur"]].sum(axis=1)
    orders["landed_cost_local"] = orders["landed_cost_eur"] * orders["units_per_eur"]
    return orders.assign(
        import_flow="bulk_import_via_node", regime=None, incoterm="n/a", vat_collected="domestic_sale",
        collected_at_door_eur=0.0, registration_needed=None, preference_unclaimed_saving_eur=0.0,
        rule_applied="domestic sale of stock imported in bulk: duty paid at the node's border on the purchase cost",
    )


def _parcel_orders(lines: pd.DataFrame, node_territories: dict[str, tuple[str, str]], rules: Rulebook,
                   policy: CompliancePolicy) -> pd.DataFrame:
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
        items = tuple(
            Item(r["sku"], r["hs_code"] if isinstance(r["hs_code"], str) else None, r["origin_country"], int(r["quantity"]),
                 float(r["unit_price"]), _num(r["mfn_rate"]), r["preferential_agreement"] if isinstance(r["preferential_agreement"], str) else None, _num(r["preferential_rate"]))
            for r in order
        )
        weight = sum(r["quantity"] * (DEFAULT_WEIGHT_KG if pd.isna(r["weight_kg"]) else r["weight_kg"]) for r in order)
        shipping_local = policy.parcel_shipping_eur(weight) * float(first["units_per_eur"])
        parcel = Parcel(
            str(order_id), day, first["market"], first["customs_territory"], node_territories[first["ship_from_node"]][0],
            first["currency"], shipping_local, items, incoterm=policy.incoterm(first["market"]),
            prices_include_vat=prices_include_vat(first["customs_territory"]),
            courier=policy.is_courier(first["carrier"] if isinstance(first["carrier"], str) else None),
        )
        cost = parcel_landed_cost(parcel, rules, merchant)
        local_upe = float(first["units_per_eur"])
        rows.append({
            "order_id": order_id, "order_date": first["order_date"], "market": first["market"],
            "ship_from_node": first["ship_from_node"], "carrier": first["carrier"], "import_flow": "cross_border_parcel", "regime": cost.regime,
            "incoterm": cost.incoterm, "lines": len(items), "units": sum(int(r["quantity"]) for r in order),
            "goods_value_eur": cost.eur(cost.goods_value), "shipping_eur": cost.eur(cost.shipping),
            "customs_value_eur": cost.eur(cost.customs_value), "duty_eur": cost.eur(cost.duty), "vat_eur": cost.eur(cost.vat),
            "vat_collected": cost.vat_collected, "fees_eur": cost.eur(cost.fees), "landed_cost_eur": cost.eur(cost.landed_cost),
            "collected_at_door_eur": cost.eur(cost.collected_at_door),
            "landed_cost_local": cost.eur(cost.landed_cost) * local_upe, "local_currency": first["currency"],
            "registration_needed": cost.registration_needed,
            "preference_unclaimed_saving_eur": cost.eur(cost.preference_unclaimed_saving),
            "missing_duty_rate": cost.missing_duty_rate, "rule_applied": "; ".join(cost.reasons),
        })
    return pd.DataFrame(rows)


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
