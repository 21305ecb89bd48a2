"""Hand-made BI snapshots for the dashboard's tests: what a run staged, published as the BI copy holds it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb


def publish_staged(conn: duckdb.DuckDBPyConnection, tables: Iterable[str], as_of: dt.date) -> None:
    """Copy the staged `tables` into schema publish and leave only publish, as the BI snapshot has it, with the
    plan date every page reads (publish.inventory_plan.as_of)."""
    conn.execute("create schema publish")
    for table in tables:
        conn.execute(f"create table publish.{table} as select * from plan_next.{table}")
    for schema in ("plan_next", "audit"):
        conn.execute(f"drop schema if exists {schema} cascade")
    conn.execute(f"create table publish.inventory_plan as select date '{as_of}' as as_of")
