"""The merchant's own plausibility limits, as crossdock.yaml states them.

The merchant config (crossdock/merchant_config.py) reads them from the file
and the ingest (feeds/plausibility.py) quarantines rows beyond them. The value
lives in the shared core so that the config, which every layer reads, does
not depend on the feeds package that applies it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Plausibility:
    """The merchant's own limits from crossdock.yaml; the default (no file yet) learns them and knows no nodes."""

    max_abs_quantity: int | None = None
    earliest_order_date: dt.date | None = None
    nodes: frozenset[str] | None = None  # None or empty: every node passes
    max_weight_kg: float | None = None
