"""What a row may plausibly say for this merchant, beyond what the contract allows.

The contract checks form (a date parses, a quantity is an integer); a row of
the right form can still be impossible for this merchant, and one such row used
to stop the whole plan: an order dated 2999 became the planning date, one
dated 1900 stretched every market's history over 126 empty years, an order
from a warehouse crossdock.yaml does not know failed the compliance step.
These checks quarantine such a row with a reason that names the limit and
how to change it, so the rest of the file loads and the plan runs.

- Quantity. No fixed range fits every merchant: a gift shop's biggest line is
  a dozen units, a wholesaler's 20,000, and both are real orders. The default
  is learned from the merchant's own lines: 100,000 x the 99th percentile of
  |quantity| over the lines loaded so far and the file's own good lines, never
  below 10,000. The percentile is taken low (the line at rank 0.99 (n - 1),
  and never the largest), so a few wholesale lines cannot move it and the
  typo never sets its own limit, even in a first file of five lines. Pallets
  load; a slipped keyboard (99,999,999 for 9) does not.
  crossdock.yaml's `orders: {max_abs_quantity: N}` sets it.
- Unit weight. A catalogue's weight_kg prices every parcel of its SKU (the
  shipping and the weight-based duties), so one slipped keyboard (a jacket
  of 62,014 kg) once put an order at EUR 10.8 bn. The limit is learned
  from the catalogue as this file leaves it: 1,000 x the median weight of
  its lines, never below 1,000 kg (a sofa-and-machinery merchant's limit
  grows with its goods). crossdock.yaml's `catalogue: {max_weight_kg: N}`
  sets it. A weight that is no number (nan, inf) is quarantined too.
- Dates after the file's. An export cannot know a day after the one it
  speaks for (feeds/file_dates.py, never later than today): an order, a
  tracking event, a stock count, a PO placed or received after it is
  quarantined. So is a forecast override or an exception update entered
  after it: the latest revision wins, so a typo'd year (2027 for 2026) would
  win over every correction entered since. Local days around the world span
  26 hours, so a line may be dated up to two days after the file's as-of
  date. A promised receipt day is a promise about the future and is not
  bounded.
- Dates before the merchant's history. Real merchants load ten years and
  more, so no fixed window fits either. An order line is quarantined when it
  lies before 1990-01-01 or before a gap of more than two years in the
  merchant's order days (loaded lines and the file's good ones): history is
  continuous back from today, a stray 1900 or 1970 line is not. The gap is
  measured to the line's next later order day, so two stray lines cannot
  vouch for each other. crossdock.yaml's `orders: {earliest_order_date: ...}`
  replaces both limits. Other feeds' dates only have to be on or after
  1990-01-01.
- Nodes. Once crossdock.yaml exists, an order line, stock count or purchase
  order at a node it does not declare is quarantined with the declared nodes
  in the reason: the plan cannot stock, price or route a place it does not
  know. Before the file exists (`crossdock init` loads the orders to propose
  it) every node passes. Carrier events are not checked: tracking names the
  carrier's depots as often as the merchant's nodes, and the lane tables
  report them as sent. An unknown ship-to country is never quarantined
  either: the catch-all market or publish.market_coverage accounts for it.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import duckdb

from crossdock.merchant_limits import Plausibility  # what crossdock.yaml allows; applied here
from feeds.contracts import (
    CARRIER_EVENTS, EXCEPTION_UPDATES, FORECAST_OVERRIDES, INVENTORY_SNAPSHOTS, NOT_STOCKED, NOT_STOCKED_LINE,
    ORDERS, PURCHASE_ORDERS, SUPPLIER_CATALOGUE, Contract, with_columns,
)
from feeds.findings import PLAUSIBILITY_STEP, add_findings, good_rows_sql
from feeds.sql import ident, literal

FACTOR = 100_000
FLOOR = 10_000
PERCENTILE = 0.99
WEIGHT_FACTOR = 1_000
WEIGHT_FLOOR_KG = 1_000.0
TIME_ZONE_SLACK_DAYS = 2
HISTORY_FLOOR = dt.date(1990, 1, 1)
HISTORY_GAP_YEARS = 2

# per dataset: the date columns an export cannot know before its own as-of date, and those merely not ancient
DATES_UP_TO_FILE_DATE: dict[str, tuple[str, ...]] = {
    ORDERS.dataset: ("ordered_at",),
    PURCHASE_ORDERS.dataset: ("ordered_at", "received_at"),
    CARRIER_EVENTS.dataset: ("event_at",),
    INVENTORY_SNAPSHOTS.dataset: ("snapshot_date",),
    FORECAST_OVERRIDES.dataset: ("entered_at",),
    EXCEPTION_UPDATES.dataset: ("updated_at",),
}
DATES_ANY_FUTURE: dict[str, tuple[str, ...]] = {PURCHASE_ORDERS.dataset: ("promised_at",)}
NODE_COLUMNS: dict[str, str] = {
    ORDERS.dataset: "fulfilment_node",
    PURCHASE_ORDERS.dataset: "destination_node",
    INVENTORY_SNAPSHOTS.dataset: "node",
}
# rows whose node need not be declared, as SQL and in words (docs/feeds.md): nothing ships from a gift card's
# DIGITAL location, nor for the refund of shipping protection sent there without a type: whether a line is a good
# is its SKU's (stg_orders.stocked), so a SKU this file (its lines without a finding so far: a quarantined one vouches
# for nothing) or an earlier one sent as not_stocked is exempt on any line. raw.orders holds every version of a line
# where stg_orders reads the latest, and on Spark only this run's files (feeds/kept_rows.py): a not_stocked line
# corrected to a sale later, or sent in an earlier run there, is read as it was
NOT_STOCKED_SKUS = (
    f"select sku from {good_rows_sql()} as good where line_type = '{NOT_STOCKED}' and sku is not null "
    f"union select sku from raw.orders where line_type = '{NOT_STOCKED}' and sku is not null"
)
NODE_NOT_CHECKED: dict[str, tuple[str, str]] = {
    ORDERS.dataset: (f"{NOT_STOCKED_LINE} or {{sku}} in ({NOT_STOCKED_SKUS})",
                     f"on a {NOT_STOCKED} line, or any line of a SKU sent so"),
}
REASON_CODES: dict[str, str] = {
    "implausible_date": "a date after the file's as-of date (+2 days for time zones) or before the merchant's history",
    "unknown_node": "a node crossdock.yaml does not declare (checked once the file exists)",
}


@dataclass(frozen=True)
class QuantityLimit:
    max_abs: int
    basis: str  # said in the quarantine reason


@dataclass(frozen=True)
class WeightLimit:
    max_kg: float
    basis: str  # said in the quarantine reason


@dataclass(frozen=True)
class EarliestDate:
    day: dt.date
    basis: str  # said in the quarantine reason


def check_plausibility(
    conn: duckdb.DuckDBPyConnection, contract: Contract, as_of: dt.date, plausibility: Plausibility
) -> None:
    """Add to `feeds.findings` the rows of `checked` that this merchant's data cannot plausibly hold.

    Future dates go first, so the history and quantity limits are learned
    from rows that survived them. Each check is a step of its own, in the
    order they run, so a row's reasons read in that order.
    """
    steps = itertools.count(PLAUSIBILITY_STEP)
    for column in DATES_UP_TO_FILE_DATE.get(contract.dataset, ()):
        quarantine_dates_after(conn, contract, column, as_of, next(steps))
    earliest = (
        order_history_start(conn, as_of, plausibility.earliest_order_date)
        if contract.dataset == ORDERS.dataset
        else EarliestDate(HISTORY_FLOOR, "the earliest date crossdock accepts")
    )
    for column in DATES_UP_TO_FILE_DATE.get(contract.dataset, ()) + DATES_ANY_FUTURE.get(contract.dataset, ()):
        quarantine_dates_before(conn, contract, column, earliest, next(steps))
    if contract.dataset == ORDERS.dataset:
        quarantine_implausible_quantities(conn, quantity_limit(conn, plausibility.max_abs_quantity), next(steps))
    if contract.dataset == SUPPLIER_CATALOGUE.dataset:
        quarantine_implausible_weights(conn, weight_limit(conn, plausibility.max_weight_kg), next(steps))
    if contract.dataset in NODE_COLUMNS and plausibility.nodes:
        quarantine_unknown_nodes(
            conn, NODE_COLUMNS[contract.dataset], plausibility.nodes, next(steps),
            NODE_NOT_CHECKED[contract.dataset][0] if contract.dataset in NODE_NOT_CHECKED else None,
        )


def _quarantine(conn: duckdb.DuckDBPyConnection, step: int, code: str, condition: str, message: str) -> None:
    """Add the rows of `checked` matching `condition` to the findings as failing `step`, with `code` and `message`."""
    add_findings(conn, step, f"select _row_number, {literal(code)} as reason_code, {message} as reason from checked where {condition}")


def _day(contract: Contract, column: str) -> str:
    """SQL for the calendar day a date or timestamp column states (a timestamp's local day, as order_date is)."""
    value = ident(column)
    if contract.column(column).type == "timestamptz":
        return f"try_cast(substr({value}, 1, 10) as date)"
    return f"try_cast({value} as date)"


def quarantine_dates_after(conn: duckdb.DuckDBPyConnection, contract: Contract, column: str, as_of: dt.date, step: int) -> None:
    """implausible_date for a day later than the file's as-of date allows."""
    limit = as_of + dt.timedelta(days=TIME_ZONE_SLACK_DAYS)
    _quarantine(
        conn,
        step,
        "implausible_date",
        f"{_day(contract, column)} > date '{limit.isoformat()}'",
        f"{literal(column + ' ')} || {ident(column)} || "
        + literal(
            f" is after {limit.isoformat()}, the file's as-of date {as_of.isoformat()} plus {TIME_ZONE_SLACK_DAYS} days "
            "for time zones: an export cannot know a later day (the as-of date is the latest date in the file's name, "
            "a month read as its last day, else its modification time: name a file covering a longer period by its "
            f"last day, e.g. {contract.file_prefix}_2015-04-30.csv; rows quarantined so come back with `crossdock "
            f"quarantine --dataset {contract.dataset} --export fix.csv`, saved under the name it prints)"
        ),
    )


def quarantine_dates_before(
    conn: duckdb.DuckDBPyConnection, contract: Contract, column: str, earliest: EarliestDate, step: int
) -> None:
    """implausible_date for a day before the earliest plausible one."""
    _quarantine(
        conn,
        step,
        "implausible_date",
        f"{_day(contract, column)} < date '{earliest.day.isoformat()}'",
        f"{literal(column + ' ')} || {ident(column)} || {literal(f' is before {earliest.day.isoformat()}, {earliest.basis}')}",
    )


def order_history_start(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, configured: dt.date | None = None
) -> EarliestDate:
    """The earliest plausible order day for the file in `checked`: configured, else learned from the order days so far
    (the raw table's and those of the file's rows without a finding yet).

    Only days up to the file's own limit count: a line an older release loaded
    with a date in 2999 would otherwise be where the history "starts".
    """
    if configured is not None:
        return EarliestDate(configured, "orders.earliest_order_date in crossdock.yaml")
    gap_days = round(HISTORY_GAP_YEARS * 365.25)
    latest = as_of + dt.timedelta(days=TIME_ZONE_SLACK_DAYS)
    [(after_gap,)] = conn.execute(
        f"""
        with order_days as (
            select order_date as day from raw.orders
            union
            select try_cast(substr(ordered_at, 1, 10) as date) from {good_rows_sql()} as good
        ),

        steps as (
            select day, datediff('day', lag(day) over (order by day), day) as days_since_previous
            from order_days
            where day <= date '{latest.isoformat()}'
        )

        select max(day) filter (where days_since_previous > {gap_days}) from steps
        """
    ).fetchall()
    if after_gap is not None and after_gap > HISTORY_FLOOR:
        return EarliestDate(
            after_gap,
            f"where this merchant's order history starts: no order day in the {HISTORY_GAP_YEARS} years before it; "
            "set orders.earliest_order_date in crossdock.yaml to load older lines",
        )
    return EarliestDate(
        HISTORY_FLOOR,
        "the earliest order date crossdock accepts; set orders.earliest_order_date in crossdock.yaml to load older lines",
    )


def quantity_limit(conn: duckdb.DuckDBPyConnection, configured: int | None = None) -> QuantityLimit:
    """The limit for the file in `checked`: the configured one, else learned from the lines so far (the raw table's
    and the file's rows without a finding yet).

    The percentile's line is found among the distinct quantities with their
    counts (a few hundred values), not by sorting every line loaded so far,
    which grew with the history (a file of the 27th month sorted 27 months).
    """
    if configured is not None:
        return QuantityLimit(int(configured), "orders.max_abs_quantity in crossdock.yaml")
    [(typical,)] = conn.execute(
        f"""
        with units as (
            select abs(cast(quantity as double)) as units from raw.orders
            union all
            select abs(try_cast(quantity as double)) from {good_rows_sql()} as good
        ),

        counted as (
            select units, count(*) as lines_with
            from units
            where units is not null
            group by units
        ),

        placed as (
            select units, sum(lines_with) over (order by units) as lines_upto, sum(lines_with) over () as lines
            from counted
        ),

        wanted as (
            select least(floor({PERCENTILE} * (any_value(lines) - 1)), any_value(lines) - 2) as position from placed
        )

        -- the line at 0-based `position` in the quantities' order: the smallest quantity with more lines up to it
        select min(units) from placed, wanted
        where wanted.position >= 0 and lines_upto > wanted.position
        """
    ).fetchall()
    typical = float(typical or 0.0)
    return QuantityLimit(
        max(FLOOR, math.ceil(FACTOR * typical)),
        f"{FACTOR:,} x the {round(PERCENTILE * 100)}th percentile of this merchant's line quantities ({typical:g}), "
        f"at least {FLOOR:,}; set orders.max_abs_quantity in crossdock.yaml to change it",
    )


def weight_limit(conn: duckdb.DuckDBPyConnection, configured: float | None = None) -> WeightLimit:
    """The heaviest plausible unit for the catalogue file in `checked`: configured, else learned from the catalogue
    as it would stand with this file: each line's latest loaded version, unless the file sends its key again, and
    the file's rows without a finding yet.

    A catalogue is a line per SKU and supplier, a few hundred values where an
    order history has millions, so a high percentile there is the second
    largest value and one typo already loaded would let the next one through.
    The median is what the merchant sells; only half the catalogue gone wrong
    could move it. Old versions of a line are left out so a corrected typo no
    longer counts, and a line re-sent counts once.
    """
    if configured is not None:
        return WeightLimit(float(configured), "catalogue.max_weight_kg in crossdock.yaml")
    key = ", ".join(ident(column) for column in SUPPLIER_CATALOGUE.key)
    [(typical,)] = conn.execute(
        f"""
        with latest_loaded as (
            select {key}, weight_kg
            from {SUPPLIER_CATALOGUE.table}
            qualify row_number() over (partition by {key} order by _file_date desc, _ingested_at desc, _row_number desc) = 1
        ),

        catalogue_with_this_file as (
            select weight_kg as value from latest_loaded
            anti join (select {key} from {good_rows_sql()} as sent_again) as sent_again using ({key})
            union all
            select try_cast(weight_kg as double) from {good_rows_sql()} as good
        )

        select median(value) from catalogue_with_this_file where isfinite(value)
        """
    ).fetchall()
    typical = float(typical or 0.0)
    return WeightLimit(
        max(WEIGHT_FLOOR_KG, WEIGHT_FACTOR * typical),
        f"{WEIGHT_FACTOR:,} x the median of this merchant's catalogue weights ({typical:g} kg), at least "
        f"{WEIGHT_FLOOR_KG:,g} kg; set catalogue.max_weight_kg in crossdock.yaml to change it",
    )


def quarantine_implausible_quantities(conn: duckdb.DuckDBPyConnection, limit: QuantityLimit, step: int) -> None:
    """out_of_range for a quantity beyond the limit, with the limit and its basis."""
    _quarantine(
        conn,
        step,
        "out_of_range",
        f"abs(try_cast(quantity as double)) > {int(limit.max_abs)}",
        f"{literal('quantity ')} || quantity || {literal(f' is beyond the plausible ±{limit.max_abs:,} ({limit.basis})')}",
    )


def quarantine_implausible_weights(conn: duckdb.DuckDBPyConnection, limit: WeightLimit, step: int) -> None:
    """out_of_range for a unit weight beyond the limit, or no number at all (nan, inf): it would price every parcel
    of the SKU by it."""
    weight = "try_cast(weight_kg as double)"
    _quarantine(
        conn,
        step,
        "out_of_range",
        f"not isfinite({weight}) or {weight} > cast({literal(repr(float(limit.max_kg)))} as double)",
        f"{literal('weight_kg ')} || weight_kg || case when isfinite({weight}) "
        f"then {literal(f' is beyond the plausible {limit.max_kg:,g} kg a unit ({limit.basis})')} "
        f"else {literal(' is not a weight: give the kilograms of one unit, or leave it empty')} end",
    )


def quarantine_unknown_nodes(
    conn: duckdb.DuckDBPyConnection, column: str, nodes: frozenset[str], step: int, unless: str | None = None
) -> None:
    """unknown_node for a node crossdock.yaml does not declare, naming the ones it does, but on the rows where
    `unless` (SQL with `{column}` placeholders, as a contract's) holds."""
    declared = sorted(nodes)
    unknown = f"{ident(column)} is not null and {ident(column)} not in ({', '.join(literal(n) for n in declared)})"
    [(candidates,)] = conn.execute(f"select count(*) from checked where {unknown}").fetchall()
    if not candidates:  # the usual file: `unless` (which may read the raw table) is not worth computing
        return
    exempt = "" if unless is None else f" and not coalesce({with_columns(unless, ident)}, false)"
    _quarantine(
        conn,
        step,
        "unknown_node",
        f"{unknown}{exempt}",
        f"{literal(column + ' ')} || {ident(column)} || "
        + literal(f" is not a node of crossdock.yaml ({', '.join(declared)}): add it under nodes, or fix the line"),
    )
