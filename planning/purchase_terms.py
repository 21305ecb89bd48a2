"""What a buyer places from the plan: the supplier, the terms and the value of what is still to buy.

The plan's order quantities already respect the SKU's MOQ and pack size, but a
buyer working from `publish.inventory_plan` had to join the catalogue to learn
whom to buy from, on what terms and for how much (a buyer's test: 4 orders,
none saying SUP-007, MOQ 300, pack 6, or their EUR 24,139).
"""
from __future__ import annotations

import pandas as pd

PURCHASE_TERM_COLUMNS: tuple[str, ...] = ("supplier_id", "moq", "pack_size", "purchase_value_eur", "order_terms_assumed")
"""Added after purchase_after_transfers: the primary supplier (marts.dim_sku; null for a SKU no catalogue lists),
the MOQ and pack size the quantities were made orderable with, purchase_after_transfers x unit_cost_eur, and
whether that MOQ or pack size is crossdock.yaml's assumed one (no catalogue, or a line naming none; null when the
SKU frame does not say), which a buyer placing the order must know."""


def with_purchase_terms(plan: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """`plan` (one row per sku x node, with purchase_after_transfers and unit_cost_eur) with PURCHASE_TERM_COLUMNS.

    `skus`: sku, moq, pack_size and, when known, primary_supplier_id and order_terms_assumed.
    """
    columns = ["sku", "moq", "pack_size"] + [c for c in ("primary_supplier_id", "order_terms_assumed") if c in skus]
    terms = skus[columns].drop_duplicates("sku").rename(columns={"primary_supplier_id": "supplier_id"})
    out = plan.drop(columns=[c for c in PURCHASE_TERM_COLUMNS if c in plan]).merge(terms, on="sku", how="left")
    if "supplier_id" not in out:
        out["supplier_id"] = None
    if "order_terms_assumed" not in out:
        out["order_terms_assumed"] = pd.NA
    out["order_terms_assumed"] = out["order_terms_assumed"].astype("boolean")
    for column in ("moq", "pack_size"):
        out[column] = pd.to_numeric(out[column]).astype("Int64")
    purchase = pd.to_numeric(out["purchase_after_transfers"]).astype(float)
    out["purchase_value_eur"] = purchase * pd.to_numeric(out["unit_cost_eur"]).astype(float)
    return out[[c for c in out.columns if c not in PURCHASE_TERM_COLUMNS] + list(PURCHASE_TERM_COLUMNS)]
