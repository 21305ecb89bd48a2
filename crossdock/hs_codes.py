"""The HS chapter of a SKU, by the one rule every layer keys customs facts by.

publish.customs_risk (dbt) is keyed by lane x HS chapter; planning reads it
for the customs delay of a transfer and compliance for the hold risk of a
route. All three must cut a code into its chapter the same way or a SKU
misses its own row, so the rule lives once, here.
"""
from __future__ import annotations

import pandas as pd

UNKNOWN_CHAPTER = "unknown"
"""The chapter of a missing or malformed HS code (as in publish.customs_risk)."""


def hs_chapter(hs_codes: pd.Series) -> pd.Series:
    """The two-digit HS chapter of each code, 'unknown' when missing, shorter than 6 characters or not
    starting with two digits: the same rule as publish.customs_risk, so a SKU finds its own row there."""
    codes = hs_codes.astype("string")
    valid = (codes.str.len() >= 6) & codes.str.match(r"[0-9]{2}")
    return codes.str.slice(0, 2).where(valid.fillna(False), UNKNOWN_CHAPTER).astype(object)
