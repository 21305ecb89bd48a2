"""Each S&OP cycle's snapshot, kept: the demand plan and its overrides as the cycle last agreed them.

A cycle is a month of planning dates ('2026-10'). Every run stores its cycle's
consensus in `audit.demand_plan_cycles` (and the overrides it weighed in
`audit.override_cycles`), replacing that cycle's rows: a re-run of the same
day changes nothing, a later run in the month brings the cycle up to date, and
once the month is over its snapshot stays as it was, to be scored against the
actuals (sop/value_added.py). A back-dated run (`crossdock run --as-of`, with
a plan of a later day stored) never replaces a stored cycle (`later_snapshot`):
it stages its own view of that cycle for its own plan, and the next run
publishes the agreed snapshot again. The publish tables of the same names are copies
of these, staged like every other plan table (crossdock/publish.py); the audit
tables carry the declared columns of their publish twins, so one declaration
types both.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from crossdock.engine import Warehouse, WarehouseLike, as_warehouse
from crossdock.publish import declared_frame, record_staging, staged
from crossdock.published import published_table

STORES: dict[str, str] = {"demand_plan": "audit.demand_plan_cycles", "forecast_overrides": "audit.override_cycles"}


def cycle_of(planning_date: dt.date) -> str:
    """The S&OP cycle a planning date belongs to: its month."""
    return f"{planning_date:%Y-%m}"


def _create(warehouse: Warehouse, table: str) -> None:
    columns = ", ".join(f'"{name}" {type_}' for name, type_ in published_table(table).schema)
    warehouse.execute("create schema if not exists audit")
    warehouse.execute(f"create table if not exists {STORES[table]} ({columns})")


def later_snapshot(target: WarehouseLike, cycle: str, planning_date: dt.date) -> dt.date | None:
    """The planning date of `cycle`'s stored snapshot when a run of `planning_date` must keep it: the store holds a
    plan of a later day (in this cycle or a later one), so this run is back-dated. None: store this run's cycle
    (a new cycle, or the latest run's own)."""
    warehouse = as_warehouse(target)
    _create(warehouse, "demand_plan")
    [(stored, latest)] = warehouse.rows(
        f"select max(case when cycle = ? then planning_date end), max(planning_date) from {STORES['demand_plan']}", [cycle])
    if stored is None or pd.isna(stored):
        return None
    return pd.Timestamp(stored).date() if pd.Timestamp(latest).date() > planning_date else None


def save_cycle(target: WarehouseLike, cycle: str, frames: dict[str, pd.DataFrame]) -> None:
    """Replace `cycle`'s rows of each store with `frames` (publish table name -> rows), in one transaction."""
    warehouse = as_warehouse(target)
    for table in frames:
        _create(warehouse, table)
    with warehouse.transaction():
        for table, frame in frames.items():
            warehouse.replace_rows(STORES[table], "cycle = ?", [cycle], frame, declared_frame(table, frame))


def stage_cycles(target: WarehouseLike, table: str, run_id: str, instead: tuple[str, pd.DataFrame] | None = None) -> int:
    """Stage every stored cycle of `table` for the next publish, with `instead` (cycle, rows) in place of that
    cycle's stored rows (a back-dated run's own view: `later_snapshot`); returns the row count."""
    warehouse = as_warehouse(target)
    _create(warehouse, table)
    key = ", ".join(published_table(table).key)
    rows = warehouse.create_table_as(staged(table), f"select * from {STORES[table]} order by {key}")
    if instead is not None:
        cycle, frame = instead
        warehouse.replace_rows(staged(table), "cycle = ?", [cycle], frame, declared_frame(table, frame))
        [(rows,)] = warehouse.rows(f"select count(*) from {staged(table)}")
    record_staging(warehouse, run_id, table)
    return int(rows)


def stored_cycles(target: WarehouseLike, table: str, columns: list[str]) -> pd.DataFrame:
    """`columns` of every stored cycle of `table`."""
    warehouse = as_warehouse(target)
    _create(warehouse, table)
    names = ", ".join(f'"{c}"' for c in columns)
    return warehouse.query(f"select {names} from {STORES[table]} order by all")
