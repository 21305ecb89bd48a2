"""Small helpers to move DataFrames in and out of the DuckDB warehouse."""
from __future__ import annotations

import duckdb
import pandas as pd


def read_sql(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, params or []).df()


def replace_table(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace `schema.table` with `frame` atomically; returns the row count.

    Replacing (not appending) keeps re-runs idempotent: a published table is
    always the output of exactly one run.
    """
    schema = table.split(".")[0]
    conn.execute(f"create schema if not exists {schema}")
    conn.register("_frame_to_publish", frame)
    try:
        conn.execute(f"create or replace table {table} as select {_typed_columns(frame)} from _frame_to_publish")
    finally:
        conn.unregister("_frame_to_publish")
    return len(frame)


def _typed_columns(frame: pd.DataFrame) -> str:
    """The select list, with text columns that hold only nulls cast to varchar.

    DuckDB types an object column of nothing but None as NULL, which Parquet
    and BI tools cannot read as text (publish.order_landed_cost.registration_needed
    was NULL-typed on every demo run where no order needed a registration).
    """
    def column(name: str) -> str:
        quoted = '"' + str(name).replace('"', '""') + '"'
        if frame[name].dtype == object and frame[name].isna().all():
            return f"cast({quoted} as varchar) as {quoted}"
        return quoted

    return ", ".join(column(name) for name in frame.columns) if len(frame.columns) else "*"


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    rows = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    return rows[0][0] > 0
