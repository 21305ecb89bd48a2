"""Duty paid when stock enters a node in bulk, per unit: the merchant is the importer of record.

Bulk imports are valued on the purchase cost (+ inbound freight where the
territory values CIF) and always pay the tariff: low-value regimes are for
parcels to consumers, not for pallets. Goods made inside the territory
(origin_customs_territory: German-made goods stocked in the Netherlands) are
never imported into it and pay no duty. Import VAT on a bulk import is
recovered by the VAT-registered importer, so it is not a cost; the VAT that
matters is the sales VAT on each order.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from compliance.landed_cost import FOB_TERRITORIES
from compliance.regime_rules import duty_free_from
from compliance.policy import DEFAULT_WEIGHT_KG, CompliancePolicy
from compliance.unknowns import text


def applied_duty_rate(facts: pd.DataFrame, policy: CompliancePolicy) -> pd.Series:
    """The rate paid: the preferential rate when its agreement's origin proof is on file, else MFN."""
    pref, mfn = pd.to_numeric(facts["preferential_rate"]).astype("float64"), pd.to_numeric(facts["mfn_rate"]).astype("float64")
    claimed = facts["preferential_agreement"].isin(policy.claimed_agreements) & pref.notna()
    return pref.where(claimed, mfn)


def bulk_unit_costs(facts: pd.DataFrame, policy: CompliancePolicy, day: date | None) -> pd.DataFrame:
    """Per SKU x customs territory: inbound freight, customs value, duty and landed cost of one unit in EUR.

    `facts` has sku, customs_territory, origin_customs_territory, hs_code, unit_cost_eur, weight_kg,
    mfn_rate, preferential_agreement, preferential_rate (one row per SKU x territory wins).
    `day`: the day the stock enters (the plan's date). None: each row's own
    `day` column (an order's day, the nearest known to when its stock entered),
    and the result has one row per SKU x territory x day.

    Unknowns: without a unit cost the customs value and the landed cost are
    null, and so is the duty unless the rate is 0. Without a duty rate the duty
    and the landed cost are null (`bulk_rate_missing`), unless the territory
    charges no duty on the goods that day (Swiss industrial goods from 2024),
    which needs no rate.
    """
    keys = ["sku", "customs_territory"] + ([] if day is not None else ["day"])
    rows = facts.drop_duplicates(keys).copy()
    # the rule per territory x HS code (a few hundred), the day compared per row: orders bring ~100,000 SKU-days
    pairs = rows[["customs_territory", "hs_code"]].drop_duplicates()
    pairs["free_from"] = pd.to_datetime(pd.Series(
        [duty_free_from(text(t), text(h)) for t, h in zip(pairs["customs_territory"], pairs["hs_code"])], index=pairs.index,
        dtype=object))
    free_from = pd.Series(rows[["customs_territory", "hs_code"]].merge(pairs, how="left")["free_from"].to_numpy(),
                          index=rows.index)
    days = pd.Timestamp(day) if day is not None else pd.to_datetime(rows["day"])
    free = free_from.notna() & (days >= free_from)
    weight = pd.to_numeric(rows["weight_kg"]).fillna(DEFAULT_WEIGHT_KG)
    freight = weight * policy.inbound_eur_per_kg
    cif = ~rows["customs_territory"].isin(FOB_TERRITORIES)
    unit_cost = pd.to_numeric(rows["unit_cost_eur"]).astype("float64")
    customs_value = unit_cost + freight.where(cif, 0.0)
    rate = applied_duty_rate(rows, policy)
    origin = rows["origin_customs_territory"]
    own_goods = origin.notna() & (origin == rows["customs_territory"])
    free = free | own_goods
    # NaN x value stays NaN: a missing rate leaves the duty unknown, never 0
    duty = (rate * customs_value).where((rate != 0.0) & ~free, 0.0)
    out = pd.DataFrame({
        "sku": rows["sku"],
        "customs_territory": rows["customs_territory"],
        "inbound_freight_eur": freight,
        "bulk_customs_value_eur": customs_value,
        "bulk_duty_rate": rate,
        "bulk_rate_missing": rate.isna() & ~free,
        "bulk_duty_eur": duty,
        "bulk_landed_eur": unit_cost + freight + duty,
        "bulk_no_import": own_goods,
    })
    if day is None:
        out.insert(2, "day", rows["day"])
    return out.reset_index(drop=True)
