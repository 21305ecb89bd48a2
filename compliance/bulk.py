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
    pref, mfn = pd.to_numeric(facts["preferential_rate"]), pd.to_numeric(facts["mfn_rate"])
    claimed = facts["preferential_agreement"].isin(policy.claimed_agreements) & pref.notna()
    return pref.where(claimed, mfn)


def bulk_unit_costs(facts: pd.DataFrame, policy: CompliancePolicy) -> pd.DataFrame:
    """Per SKU x customs territory: inbound freight, customs value, duty and landed cost of one unit in EUR.

    `facts` has sku, customs_territory, unit_cost_eur, weight_kg, mfn_rate,
    preferential_agreement, preferential_rate (one row per SKU x territory wins).
    """
    per_territory = facts.drop_duplicates(["sku", "customs_territory"]).copy()
    weight = per_territory["weight_kg"].fillna(DEFAULT_WEIGHT_KG)
    freight = weight * policy.inbound_eur_per_kg
    cif = ~per_territory["customs_territory"].isin(FOB_TERRITORIES)
    customs_value = per_territory["unit_cost_eur"] + freight.where(cif, 0.0)
    rate = applied_duty_rate(per_territory, policy)
    duty = rate.fillna(0.0) * customs_value
    return pd.DataFrame({
        "sku": per_territory["sku"],
        "customs_territory": per_territory["customs_territory"],
        "inbound_freight_eur": freight,
        "bulk_customs_value_eur": customs_value,
        "bulk_duty_rate": rate,
        "bulk_duty_eur": duty,
        "bulk_landed_eur": per_territory["unit_cost_eur"] + freight + duty,
    }).reset_index(drop=True)
