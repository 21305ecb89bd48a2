"""Duty paid when stock enters a node in bulk, per unit: the merchant is the importer of record.

Bulk imports are valued on the purchase cost (+ inbound freight where the
territory values CIF) and always pay the tariff: low-value regimes are for
parcels to consumers, not for pallets. Import VAT on a bulk import is
recovered by the VAT-registered importer, so it is not a cost; the VAT that
matters is the sales VAT on each order.
"""
from __future__ import annotations

import pandas as pd

from compliance.landed_cost import FOB_TERRITORIES
from compliance.policy import DEFAULT_WEIGHT_KG, CompliancePolicy


def applied_duty_rate(facts: pd.DataFrame, policy: CompliancePolicy) -> pd.Series:
    """The rate paid: the preferential rate when its agreement's origin proof is on file, else MFN."""
    pref, mfn = pd.to_numeric(facts["preferential_rate"]).astype("float64"), pd.to_numeric(facts["mfn_rate"]).astype("float64")
    claimed = facts["preferential_agreement"].isin(policy.claimed_agreements) & pref.notna()
    return pref.where(claimed, mfn)


def bulk_unit_costs(facts: pd.DataFrame, policy: CompliancePolicy) -> pd.DataFrame:
    """Per SKU x customs territory: inbound freight, customs value, duty and landed cost of one unit in EUR.

    `facts` has sku, customs_territory, unit_cost_eur, weight_kg, mfn_rate,
    preferential_agreement, preferential_rate (one row per SKU x territory wins).

    Unknowns: without a unit cost the customs value and the landed cost are
    null, and so is the duty unless the rate is 0; without a duty rate the duty
    counts as 0 (flagged no_duty_rate / missing_duty_rate by the callers).
    """
    per_territory = facts.drop_duplicates(["sku", "customs_territory"]).copy()
    weight = pd.to_numeric(per_territory["weight_kg"]).fillna(DEFAULT_WEIGHT_KG)
    freight = weight * policy.inbound_eur_per_kg
    cif = ~per_territory["customs_territory"].isin(FOB_TERRITORIES)
    unit_cost = pd.to_numeric(per_territory["unit_cost_eur"]).astype("float64")
    customs_value = unit_cost + freight.where(cif, 0.0)
    rate = applied_duty_rate(per_territory, policy)
    duty = (rate * customs_value).where(rate.fillna(0.0) != 0.0, 0.0)
    return pd.DataFrame({
        "sku": per_territory["sku"],
        "customs_territory": per_territory["customs_territory"],
        "inbound_freight_eur": freight,
        "bulk_customs_value_eur": customs_value,
        "bulk_duty_rate": rate,
        "bulk_duty_eur": duty,
        "bulk_landed_eur": unit_cost + freight + duty,
    }).reset_index(drop=True)
