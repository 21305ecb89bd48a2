"""A planner's forecast override, written as a file into landing/overrides/ (never into the warehouse).

The form checks what it can before writing (the contract's allowed values,
one of units or percent, a period that starts on its bucket's first day), so
a planner learns what to fix at once rather than from the next run's
quarantine. The run then applies it to the consensus (sop/consensus.py) and
says in publish.forecast_overrides whether it did.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from pathlib import Path

from crossdock.merchant_config import ISO_COUNTRIES
from dashboard.landed_csv import author_slug, write_landed_csv

FEED = "overrides"
PREFIX = "overrides"
COLUMNS: tuple[str, ...] = (
    "override_id", "entered_at", "author", "market", "category", "sku", "bucket", "period_start", "units",
    "change_pct", "reason_code", "comment", "expires_on", "withdrawn",
)
"""feeds.contracts.FORECAST_OVERRIDES' columns, in order (tests/test_dashboard_overrides.py holds them equal)."""
BUCKETS = ("week", "month")
REASONS = ("promotion", "marketing", "customer_order", "price_change", "new_listing", "delisting",
           "supply_constraint", "market_intelligence", "correction", "other")
"""feeds.contracts.OVERRIDE_REASONS (the same test holds them equal)."""


def bucket_start(day: dt.date, bucket: str) -> dt.date:
    """The first day of the week (Monday) or month `day` falls in."""
    return day - dt.timedelta(days=day.weekday()) if bucket == "week" else day.replace(day=1)


def _problem(author: str, market: str, bucket: str, period_start: dt.date, units: float | None,
             change_pct: float | None, reason_code: str, sku: str, category: str,
             markets: Collection[str] | None) -> str | None:
    if not author.strip():
        return "say who you are: the author is empty"
    if markets and market.strip().upper() not in markets:
        return f"market {market!r} is not planned: choose one of {', '.join(sorted(markets))}"
    if not markets and market.strip().upper() not in ISO_COUNTRIES:
        return f"market {market!r} is not an ISO 3166-1 alpha-2 code (a catch-all market needs the planned markets)"
    if bucket not in BUCKETS:
        return f"bucket {bucket!r} is not one of {', '.join(BUCKETS)}"
    if period_start != bucket_start(period_start, bucket):
        return f"a {bucket} starts on {bucket_start(period_start, bucket)}, not {period_start}"
    if (units is None) == (change_pct is None):
        return "give units or a change in percent, not both" if units is not None else "give units or a change in percent"
    if units is not None and units < 0:
        return "units cannot be negative"
    if change_pct is not None and change_pct < -100:
        return "a change below -100% would sell less than nothing"
    if reason_code not in REASONS:
        return f"reason {reason_code!r} is not one of {', '.join(REASONS)}"
    if sku.strip() and category.strip():
        return "give a SKU or a category, not both"
    return None


def write_override(
    landing: Path, author: str, market: str, bucket: str, period_start: dt.date, reason_code: str,
    units: float | None = None, change_pct: float | None = None, sku: str = "", category: str = "",
    comment: str = "", expires_on: dt.date | None = None, override_id: str | None = None, withdrawn: bool = False,
    at: dt.datetime | None = None, markets: Collection[str] | None = None,
) -> Path:
    """Write one override revision as a new file in `landing`/overrides/; returns its path.

    A new override gets an id of its author and time; pass `override_id` to
    revise (or, with `withdrawn`, withdraw) an existing one. Raises
    ValueError, writing nothing, with what to fix. `markets`, the planned
    ones (the form's choices), are the codes a market may have, the catch-all
    market's among them; without them only a country's code is accepted.
    """
    problem = _problem(author, market, bucket, period_start, units, change_pct, reason_code, sku, category, markets)
    if problem:
        raise ValueError(problem)
    at = at or dt.datetime.now(dt.timezone.utc)
    override_id = (override_id or "").strip() or f"{author_slug(author)}-{at:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    row = (override_id, at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), author.strip(), market.strip().upper(),
           category.strip(), sku.strip(), bucket, period_start.isoformat(), units, change_pct, reason_code,
           comment.strip(), expires_on.isoformat() if expires_on else None, "true" if withdrawn else None)
    return write_landed_csv(landing, FEED, PREFIX, author, COLUMNS, [row], at)
