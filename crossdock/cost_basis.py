"""Where a SKU's purchase terms came from: the vocabulary of the `cost_basis` column.

marts.dim_sku says per SKU whether its unit cost, MOQ and pack size are the
catalogue's or assumed; the inventory plan and the compliance plan carry it
on, and both treat a SKU frame without the column as all-catalogue. The label
they default to is shared here so the two plans cannot drift apart.
"""
from __future__ import annotations

COST_FROM_CATALOGUE = "catalogue"
"""cost_basis of terms read from the supplier catalogue (dbt's dim_sku writes the same word)."""
