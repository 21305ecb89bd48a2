"""What a row could not be priced with: the names in the `unknowns` column of both compliance tables.

The plan prices what it knows and says what it does not. An amount that
depends on something unknown is null, never a guess from another country or
period. A duty rate too: a dutiable line without one has a null duty, and so
is everything built on it (import VAT on the duty, the fees that depend on
whether anything is collected at the border, the landed cost, the amount
collected at the door), flagged no_duty_rate / missing_duty_rate. A line that
pays no duty (under a duty-free threshold, goods its territory does not tax)
needs no rate and stays priced.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

# Most fundamental first: a row missing the first cannot use the later ones anyway.
UNKNOWN_NAMES: tuple[str, ...] = (
    "customs_territory",  # the catch-all market (many countries, no single border), or a country without a territory
    "ship_from_node",  # an order left from a node crossdock.yaml does not declare
    "vat_rate",  # no vat_rates row for the country on the day
    "low_value_regime",  # no de_minimis row for the territory on the day (parcels only)
    "hs_code",  # no 6-digit HS code for the SKU
    "duty_rate",  # no duty rate for the SKU's heading into the territory where duty is due
    "unit_cost",  # no purchase cost for the SKU (bulk duty and the merchant's landed cost per unit)
    "typical_price",  # the SKU sold nowhere in the basket window (plan only)
    "currency",  # the market declares no currency (a catch-all may not)
    "fx_rate",  # the ECB has no rate for the currency on the day
)
SEPARATOR = ","


def join_unknowns(names: Iterable[str | None]) -> str | None:
    """The names in UNKNOWN_NAMES order, comma-separated; None when everything was known."""
    found = {n for n in names if n}
    stray = found - set(UNKNOWN_NAMES)
    if stray:
        raise ValueError(f"not an unknown the tables document: {sorted(stray)}")
    return SEPARATOR.join(n for n in UNKNOWN_NAMES if n in found) or None


def split_unknowns(value: object) -> list[str]:
    return [] if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).split(SEPARATOR)


def text(value: object) -> str | None:
    """A text cell as str, None for null (pandas gives NaN or None for a missing varchar)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def unknown_counts(by_market: pd.DataFrame, markets_named: int = 5) -> pd.DataFrame:
    """Rows per unknown, most first, and the markets they are in (`markets`: "NO 12, AU 9"), from rows per
    unknown x market (unknown, market, rows).

    A count alone ("duty_rate unknown in 21") sent a merchant who had just
    added a market looking for which one lacked its reference rows.
    """
    if by_market.empty:
        return pd.DataFrame({"unknown": pd.Series(dtype=str), "rows": pd.Series(dtype="int64"),
                             "markets": pd.Series(dtype=str)})
    ranked = by_market.assign(market=by_market["market"].fillna("-")).sort_values(
        ["unknown", "rows", "market"], ascending=[True, False, True])

    def markets(group: pd.DataFrame) -> str:
        named = [f"{m} {r:,}" for m, r in zip(group["market"], group["rows"])]
        rest = len(named) - markets_named
        return ", ".join(named[:markets_named]) + (f" and {rest} more" if rest > 0 else "")

    out = ranked.groupby("unknown", sort=False).agg(rows=("rows", "sum")).reset_index()
    out["markets"] = [markets(group) for _, group in ranked.groupby("unknown", sort=False)]
    return out.sort_values(["rows", "unknown"], ascending=[False, True], ignore_index=True).astype({"rows": "int64"})
