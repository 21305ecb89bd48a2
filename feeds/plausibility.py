"""How large an order line's quantity may plausibly be, for this merchant.

No fixed range fits every merchant: a gift shop's biggest line is a dozen
units, a wholesaler's 20,000, and both are real orders. The default is learned
from the merchant's own lines: 100,000 x the 99th percentile of |quantity|
over the lines loaded so far and the file's own good lines (the 99th, so a
few wholesale lines or the typo itself cannot move it), never below 10,000.
Lines of a pallet or a container load; a slipped keyboard (99,999,999 for 9)
is quarantined with a reason that says how to change the limit:
crossdock.yaml's `orders: {max_abs_quantity: N}`, which a merchant who knows
its largest plausible line should set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb

from feeds.sql import literal

FACTOR = 100_000
FLOOR = 10_000
PERCENTILE = 0.99


@dataclass(frozen=True)
class QuantityLimit:
    max_abs: int
    basis: str  # said in the quarantine reason


def quantity_limit(conn: duckdb.DuckDBPyConnection, configured: int | None = None) -> QuantityLimit:
    """The limit for the file in temp table `checked`: the configured one, else learned from the lines so far."""
    if configured is not None:
        return QuantityLimit(int(configured), "orders.max_abs_quantity in crossdock.yaml")
    [(typical,)] = conn.execute(
        f"""
        select quantile_cont(units, {PERCENTILE}) from (
            select abs(cast(quantity as double)) as units from raw.orders
            union all
            select abs(try_cast(quantity as double)) from checked where reason_code is null
        )
        """
    ).fetchall()
    typical = float(typical or 0.0)
    return QuantityLimit(
        max(FLOOR, math.ceil(FACTOR * typical)),
        f"{FACTOR:,} x the {round(PERCENTILE * 100)}th percentile of this merchant's line quantities ({typical:g}), "
        f"at least {FLOOR:,}; set orders.max_abs_quantity in crossdock.yaml to change it",
    )


def quarantine_implausible_quantities(conn: duckdb.DuckDBPyConnection, limit: QuantityLimit) -> None:
    """Mark rows of `checked` whose quantity is beyond the limit as out_of_range, with the limit and its basis."""
    conn.execute(
        f"""
        update checked
        set reason_code = coalesce(reason_code, 'out_of_range'),
            reason = concat_ws('; ', reason, {literal('quantity ')} || quantity
                || {literal(f' is beyond the plausible ±{limit.max_abs:,} ({limit.basis})')})
        where abs(try_cast(quantity as double)) > {int(limit.max_abs)}
        """
    )
