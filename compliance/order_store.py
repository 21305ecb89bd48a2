"""Order pricing kept between runs: a run prices only the orders that are new or changed since the last one.

Pricing every order on every run (243,000 on the demo, 8 s of pandas, half the
compliance step) re-did the same work after one new day of files. An order's
landed cost is a function of its own sale lines and of inputs shared by every
order (compliance.run.price_order_lines), never of another order, so:

* `audit.priced_orders` keeps every priced order (publish.order_landed_cost's
  declared columns) with `line_digest`, a hash of the order's sale lines (every
  column pricing reads). An order whose lines hash differently (new, re-exported
  with other lines, shipped from another node by a late carrier event) is priced
  again; one with no sale line any more is removed.
* `audit.order_pricing_runs` has one row per pricing: a digest of each shared
  input (`pricing_inputs`: the rule seeds, the FX rates, the nodes and
  countries, the catalogue and duty rates, the policy, the pricing code, the
  libraries, the table's declared layout), how many orders were priced and why.
  When any of those differs from the latest row, every order is priced again.
  FX is compared up to the last order day priced (`fx_through`): an order uses
  the rate of its day or the last before it, so the new day's rates alone are
  no change to the orders already priced.

One transaction updates the store, adds the run's row and stages
plan_next.order_landed_cost from the store: a run killed half-way leaves the
previous store, record and staged table whole, and a re-run finds nothing new.
Everything is read and written through the warehouse interface
(crossdock/engine.py), so the same pricing runs on Spark, which has no
transactions: there a run killed half-way may leave the store ahead of its
record, and the next run, finding the record's digests behind, prices every
order again (docs/spark.md).
The staged table is the same, row for row and bit for bit, as pricing every
order again (tests/test_compliance_incremental.py).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from compliance.facts import SALE_LINE_COLUMNS, SALE_LINES, ComplianceSources, read_sale_lines
from compliance.orders import SKU_COLUMNS, duty_table
from compliance.policy import CompliancePolicy
from compliance.run import country_territories, node_territories, price_order_lines
from compliance.tables import order_columns, order_schema
from compliance.unknowns import unknown_counts
from crossdock.engine import Warehouse, WarehouseLike, as_warehouse, first_row
from crossdock.progress import track
from crossdock.publish import declared_frame, record_staging, staged

log = logging.getLogger(__name__)

TABLE = "order_landed_cost"  # the published table the store is staged as
SCHEMA = "audit"
STORE = f"{SCHEMA}.priced_orders"
RUNS = f"{SCHEMA}.order_pricing_runs"
DIGEST = "line_digest"
DIGEST_TYPE = "decimal(38,0)"  # a sum of 64-bit hashes, as wide on Spark as on DuckDB
# this run's work tables, dropped when it ends: every order's line digest, the orders to price (numbered into
# batches), one batch's orders, those priced, one batch's priced orders
_DIGESTS = f"{SCHEMA}._order_line_digests"
_TO_PRICE = f"{SCHEMA}._orders_to_price"
_BATCH = f"{SCHEMA}._orders_to_price_batch"
_PRICED = f"{SCHEMA}._priced_orders"
_PRICED_BATCH = f"{SCHEMA}._priced_orders_batch"
WORK_TABLES = (_DIGESTS, _TO_PRICE, _BATCH, _PRICED, _PRICED_BATCH)
ORDERS_PER_BATCH = 500_000
"""Orders priced together. Pricing is pandas, and its frames grow with the orders priced at once: every order of a
10M-line history (about 7 million) at once peaked at 15.9 GB (bench/README.md). An order's price never depends on
another's, so batches stage the same table."""

RUNS_DDL = f"""
create table if not exists {RUNS} (
    run_id varchar not null,
    priced_at timestamp not null,
    inputs varchar not null,
    fx_through date,
    orders bigint not null,
    priced bigint not null,
    removed bigint not null,
    repriced_all boolean not null,
    reason varchar not null
)
"""

# what a changed input means, in the order a reason names them
INPUT_NAMES: dict[str, str] = {
    "code": "the pricing code changed",
    "libraries": "pandas, NumPy or DuckDB changed version",
    "layout": "order_landed_cost's declared columns changed",
    "policy": "the compliance policy (run config) changed",
    "de_minimis": "low-value regimes (de_minimis) changed",
    "vat_rates": "VAT rates changed",
    "import_fees": "import fees changed",
    "fx": "FX rates changed",
    "nodes": "the nodes (crossdock.yaml network) changed",
    "countries": "countries' customs territories changed",
    "markets": "markets' customs territories changed",
    "catalogue": "the product catalogue (HS codes, origins, costs, weights) changed",
    "duty_rates": "duty rates changed",
}
# the modules whose code prices an order: an edit to any of them prices every order again
CODE_MODULES: tuple[str, ...] = (
    "compliance.orders", "compliance.landed_cost", "compliance.parcel", "compliance.regime_rules", "compliance.parcel_fees",
    "compliance.bulk", "compliance.rulebook", "compliance.policy", "compliance.unknowns", "compliance.tables", "compliance.run",
    "compliance.facts", "compliance.order_store", "compliance.preference_routes",
)


@dataclass(frozen=True)
class OrderPricing:
    """What a run did to the priced orders.

    Attributes:
        orders: orders in the table after the run.
        priced: orders priced by this run (new or changed, or all of them).
        removed: orders dropped because no sale line has their id any more.
        repriced_all: every order was priced again.
        reason: why every order was priced again ("duty rates changed"), or that the inputs were unchanged.
    """

    orders: int
    priced: int
    removed: int
    repriced_all: bool
    reason: str

    def summary(self) -> str:
        """One line for the asset's metadata and the log."""
        if self.repriced_all:
            return f"re-priced all {self.orders:,} orders: {self.reason}"
        removed = f", removed {self.removed:,} no longer sold" if self.removed else ""
        return f"priced {self.priced:,} new/changed orders of {self.orders:,}{removed}; {self.reason}"


UNCHANGED = "rules, rates, FX, nodes, catalogue, policy and code unchanged"


def _digest(*parts: object) -> str:
    """A short stable digest of frames (columns, dtypes and every value as CSV writes it) and plain values."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(repr([(str(c), str(t)) for c, t in part.dtypes.items()]).encode())
            h.update(part.to_csv(index=False, lineterminator="\n").encode())
        else:
            h.update(repr(part).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:24]


def _plain(value: object) -> object:
    """A value with sets sorted and mappings ordered, so that its repr is the same in every process."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return sorted(((str(k), _plain(v)) for k, v in value.items()))
    return value


@cache
def code_digest() -> str:
    """The source of every module that prices an order (CODE_MODULES)."""
    return _digest(*(Path(importlib.import_module(name).__file__).read_bytes() for name in CODE_MODULES))


def fx_digest(sources: ComplianceSources, through: dt.date | None) -> str:
    """The digest of the FX rows an order on `through` or before can use (none without a day)."""
    fx = sources.rules.tables["fx"]
    if fx is not None:
        days = fx["calendar_date"]
        days = days if pd.api.types.is_datetime64_any_dtype(days) else pd.to_datetime(days)
        fx = fx[days <= pd.Timestamp(through)] if through is not None else fx.iloc[:0]
    return _digest(fx)


def pricing_inputs(sources: ComplianceSources, policy: CompliancePolicy, fx_through: dt.date | None) -> dict[str, str]:
    """A digest of each input an order's price depends on besides its own lines (INPUT_NAMES).

    Exactly what compliance.run.price_order_lines hands order_landed_costs,
    reduced to what the pricing reads: the catalogue's SKU columns, not its
    restricted-goods rules; FX up to `fx_through`, not the new day's rates.
    """
    rules = sources.rules.tables
    facts = sources.facts
    return {
        "code": code_digest(),
        "libraries": _digest(pd.__version__, np.__version__, duckdb.__version__),
        "layout": _digest(order_schema()),
        "policy": _digest(_plain(dataclasses.asdict(policy))),
        "de_minimis": _digest(rules["de_minimis"]),
        "vat_rates": _digest(rules["vat_rates"]),
        "import_fees": _digest(rules["import_fees"]),
        "fx": fx_digest(sources, fx_through),
        "nodes": _digest(_plain(node_territories(sources.nodes))),
        "countries": _digest(_plain(country_territories(sources.countries))),
        "markets": _digest(facts[["market", "customs_territory"]].drop_duplicates("market")),
        "catalogue": _digest(facts[list(SKU_COLUMNS)].drop_duplicates("sku")),
        "duty_rates": _digest(duty_table(facts, sources.duty_rates)),
    }


def changed_inputs(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The inputs whose digest differs (or that one side lacks), in INPUT_NAMES order."""
    names = [*INPUT_NAMES, *sorted((set(before) | set(now)) - set(INPUT_NAMES))]
    return [n for n in names if before.get(n) != now.get(n)]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _store_columns() -> set[str]:
    return {*(name for name, _ in order_schema()), DIGEST}


def _stored_state(warehouse: Warehouse) -> tuple[dict[str, str], dt.date | None] | str:
    """The latest pricing's input digests and FX day, or why there is none to build on.

    The store's columns are held to the declared ones by name; a declared type
    that changes is a change of `layout`, one of the inputs, so it re-prices too.
    """
    if not (warehouse.exists(STORE) and warehouse.exists(RUNS)):
        return "no earlier pricing stored"
    if warehouse.columns(STORE) != _store_columns():
        return f"{STORE} does not have the declared columns"
    row = first_row(warehouse, f"select inputs, fx_through from {RUNS} order by priced_at desc limit 1")
    if row is None:
        return "no earlier pricing stored"
    return json.loads(row[0]), row[1]


def _digest_lines(warehouse: Warehouse) -> None:
    """Every order's line digest (order-free: a sum of its lines' hashes) and last day, as a work table.

    An order id that is null names no order and is not priced.
    """
    lines = ", ".join(c for c in SALE_LINE_COLUMNS if c != "order_id")
    warehouse.create_table_as(_DIGESTS, f"""
        select order_id, sum(cast(hash({lines}) as {DIGEST_TYPE})) as {DIGEST}, max(order_date) as last_day
        from {SALE_LINES} where order_id is not null group by order_id
    """)


def price_orders(
    target: WarehouseLike, sources: ComplianceSources, policy: CompliancePolicy, run_id: str,
    reprice_all: bool = False,
) -> OrderPricing:
    """Price the new and changed orders (all of them when an input changed or `reprice_all`), keep them, and
    stage plan_next.order_landed_cost: every order, sorted by order_id, as pricing them all would.

    The sale lines are read from the warehouse (`sources.lines` is not used).
    Everything is read and written in one transaction where the engine has them.
    """
    warehouse = as_warehouse(target)
    warehouse.execute(f"create schema if not exists {SCHEMA}")
    warehouse.execute(RUNS_DDL)
    try:
        with warehouse.transaction():
            pricing = _price_in_transaction(warehouse, sources, policy, run_id, reprice_all)
    finally:
        with contextlib.suppress(Exception):  # never hide the error that stopped the run
            for table in WORK_TABLES:
                warehouse.execute(f"drop table if exists {table}")
    record_staging(warehouse, run_id, TABLE)
    return pricing


def _price_in_transaction(
    warehouse: Warehouse, sources: ComplianceSources, policy: CompliancePolicy, run_id: str, reprice_all: bool,
) -> OrderPricing:
    state = _stored_state(warehouse)
    inputs = pricing_inputs(sources, policy, None if isinstance(state, str) else state[1])
    if reprice_all:
        reason = "asked to re-price every order"
    elif isinstance(state, str):
        reason = state
    else:
        reason = ", ".join(INPUT_NAMES.get(n, f"{n} changed") for n in changed_inputs(state[0], inputs))
    repriced_all = bool(reason)

    _digest_lines(warehouse)
    if repriced_all:
        to_price = warehouse.create_table_as(_TO_PRICE, _numbered(f"select order_id from {_DIGESTS}"))
        removed = 0
    else:
        to_price = warehouse.create_table_as(_TO_PRICE, _numbered(f"""
            select d.order_id from {_DIGESTS} as d
            anti join {STORE} as s on s.order_id = d.order_id and s.{DIGEST} = d.{DIGEST}
        """))
        [(removed,)] = warehouse.rows(
            f"select count(*) from {STORE} as s anti join {_DIGESTS} as d on d.order_id = s.order_id"
        )

    priced = _price_in_batches(warehouse, sources, policy, to_price)
    if priced != to_price:
        raise RuntimeError(f"priced {priced:,} rows for {to_price:,} orders: order pricing must give one row per order")
    _write_store(warehouse, repriced_all)

    [(orders, duplicates, fx_through)] = warehouse.rows(
        f"select count(*), count(*) - count(distinct order_id), (select max(last_day) from {_DIGESTS}) from {STORE}"
    )
    if duplicates:
        raise RuntimeError(f"{STORE} would hold {duplicates:,} orders twice")
    pricing = OrderPricing(
        orders=orders, priced=to_price, removed=int(removed), repriced_all=repriced_all, reason=reason or UNCHANGED,
    )
    warehouse.execute(
        f"insert into {RUNS} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, _utc_now(), json.dumps(inputs | {"fx": fx_digest(sources, fx_through)}, sort_keys=True), fx_through,
         pricing.orders, pricing.priced, pricing.removed, pricing.repriced_all, pricing.reason],
    )
    columns = ", ".join(f'"{c}"' for c in order_columns())
    warehouse.create_table_as(staged(TABLE), f"select {columns} from {STORE} order by order_id")
    return pricing


def _numbered(orders: str) -> str:
    """The orders of the select `orders`, each with the batch it is priced in: `ORDERS_PER_BATCH` a batch, by
    order id."""
    return f"""
        with orders as ({orders})
        select order_id, cast(floor((row_number() over (order by order_id) - 1) / {ORDERS_PER_BATCH}) as bigint) as batch
        from orders
    """


def _price_in_batches(warehouse: Warehouse, sources: ComplianceSources, policy: CompliancePolicy, to_price: int) -> int:
    """Price the orders of the work table of orders to price into the work table of priced orders, typed as
    declared, one batch at a time (`ORDERS_PER_BATCH`); the rows priced."""
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in order_columns()})
    warehouse.write_frame(_PRICED, empty, declared_frame(TABLE, empty))
    batches = -(-to_price // ORDERS_PER_BATCH)
    priced = 0
    for batch in track(range(batches), f"orders priced, {ORDERS_PER_BATCH:,} a batch"):
        warehouse.create_table_as(_BATCH, f"select order_id from {_TO_PRICE} where batch = {batch}")
        frame = price_order_lines(sources, policy, read_sale_lines(warehouse, _BATCH))
        warehouse.write_frame(_PRICED_BATCH, frame, declared_frame(TABLE, frame))
        warehouse.execute(f"insert into {_PRICED} select * from {_PRICED_BATCH}")
        priced += len(frame)
        if batches > 1:
            log.info("priced batch %d of %d: %s orders", batch + 1, batches, f"{len(frame):,}")
    return priced


def _write_store(warehouse: Warehouse, replace: bool) -> None:
    """Drop the stored orders that changed or are gone and add those just priced, with their line digests (all of
    it replaced when `replace`)."""
    rows = f"select priced.*, d.{DIGEST} from {_PRICED} as priced inner join {_DIGESTS} as d on d.order_id = priced.order_id"
    if replace:
        warehouse.create_table_as(STORE, rows)
        return
    warehouse.replace_where(STORE, f"""
        order_id in (
            select order_id from {_TO_PRICE}
            union all
            select s.order_id from {STORE} as s anti join {_DIGESTS} as d on d.order_id = s.order_id
        )
    """, (), rows)


@dataclass(frozen=True)
class OrderTableSummary:
    """The published orders in numbers, from SQL (the asset's metadata without loading the table)."""

    rows: int
    orders_with_unknowns: int
    by_market_and_regime: pd.DataFrame
    unknowns: pd.DataFrame


def summarize_orders(target: WarehouseLike, table: str | None = None) -> OrderTableSummary:
    """Orders and amounts per market x import flow x regime ('-' for none), and rows per unknown."""
    warehouse = as_warehouse(target)
    table = table or staged(TABLE)
    [(rows, with_unknowns)] = warehouse.rows(f"select count(*), count(unknowns) from {table}")
    by_regime = warehouse.query(f"""
        select market, coalesce(import_flow, '-') as import_flow, coalesce(regime, '-') as regime, count(*) as orders,
            coalesce(sum(duty_eur), 0) as duty_eur, coalesce(sum(vat_eur), 0) as vat_eur,
            coalesce(sum(fees_eur), 0) as fees_eur, coalesce(sum(landed_cost_eur), 0) as landed_eur
        from {table} where market is not null group by all order by all
    """)
    unknowns = unknown_counts(warehouse.query(f"""
        select unknown, market, count(*) as rows
        from (select unnest(string_split(unknowns, ',')) as unknown, market from {table} where unknowns is not null)
        group by unknown, market
    """))
    return OrderTableSummary(int(rows), int(with_unknowns), by_regime, unknowns)


def last_pricing(target: WarehouseLike) -> dict | None:
    """The latest row of audit.order_pricing_runs as a dict, or None before the first pricing."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(RUNS):
        return None
    names = warehouse.query(f"select * from {RUNS} limit 0").columns
    row = first_row(warehouse, f"select * from {RUNS} order by priced_at desc limit 1")
    return None if row is None else dict(zip(names, row))


__all__ = [
    "INPUT_NAMES", "OrderPricing", "OrderTableSummary", "RUNS", "STORE", "changed_inputs", "last_pricing",
    "price_orders", "pricing_inputs", "summarize_orders",
]
