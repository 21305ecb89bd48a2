"""Each S&OP cycle's snapshot, kept: the demand plan and its overrides as the cycle last agreed them.

A cycle is a month of planning dates ('2026-10'). Every run stores its cycle's
consensus in `audit.demand_plan_cycles` (and the overrides it weighed in
`audit.override_cycles`), replacing that cycle's rows: a re-run of the same
day changes nothing, a later run in the month brings the cycle up to date, and
once the month is over its snapshot stays as it was, to be scored against the
actuals (sop/value_added.py). The publish tables of the same names are copies
of these, staged like every other plan table (crossdock/publish.py); the audit
tables carry the declared columns of their publish twins, so one declaration
types both.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from crossdock.publish import declared_frame, record_staging, staged
from crossdock.published import published_table
from crossdock.warehouse import transaction

STORES: dict[str, str] = {"demand_plan": "audit.demand_plan_cycles", "forecast_overrides": "audit.override_cycles"}


def cycle_of(planning_date: dt.date) -> str:
    """The S&OP cycle a planning date belongs to: its month."""
    return f"{planning_date:%Y-%m}"


def _create(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = ", ".join(f'"{name}" {type_}' for name, type_ in published_table(table).schema)
    conn.execute("create schema if not exists audit")
    conn.execute(f"create table if not exists {STORES[table]} ({columns})")


def save_cycle(conn: duckdb.DuckDBPyConnection, cycle: str, frames: dict[str, pd.DataFrame]) -> None:
    """Replace `cycle`'s rows of each store with `frames` (publish table name -> rows), in one transaction."""
    for table in frames:
        _create(conn, table)
    with transaction(conn):
        for table, frame in frames.items():
            conn.register("_cycle_rows", frame)
            try:
                conn.execute(f"delete from {STORES[table]} where cycle = ?", [cycle])
                conn.execute(f"insert into {STORES[table]} select {declared_frame(table, frame)} from _cycle_rows")
            finally:
                conn.unregister("_cycle_rows")


def stage_cycles(conn: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int:
    """Stage every stored cycle of `table` for the next publish; returns the row count."""
    _create(conn, table)
    key = ", ".join(published_table(table).key)
    conn.execute(f"create schema if not exists {staged(table).split('.')[0]}")
    conn.execute(f"create or replace table {staged(table)} as select * from {STORES[table]} order by {key}")
    record_staging(conn, run_id, table)
    [(rows,)] = conn.execute(f"select count(*) from {staged(table)}").fetchall()
    return int(rows)


def stored_cycles(conn: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pd.DataFrame:
    """`columns` of every stored cycle of `table`."""
    _create(conn, table)
    names = ", ".join(f'"{c}"' for c in columns)
    return conn.execute(f"select {names} from {STORES[table]} order by all").df()
