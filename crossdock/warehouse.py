"""Small helpers to open the DuckDB warehouse and move DataFrames in and out of it."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

LOCK_MARKERS: tuple[str, ...] = (
    "Could not set lock on file",  # DuckDB: another process holds the warehouse
    "Conflicting lock is held",
)
LOCK_WAIT_SECONDS = 300.0  # how long a writer waits for another process's lock before it fails
FIRST_WAIT_SECONDS = 1.0
LONGEST_WAIT_SECONDS = 30.0

_log = logging.getLogger("crossdock.warehouse")


def is_lock_conflict(error: BaseException) -> bool:
    """True when DuckDB refused the file because another process holds its lock (it goes away by itself)."""
    return isinstance(error, duckdb.Error) and any(marker in str(error) for marker in LOCK_MARKERS)


def lock_waits(total_seconds: float, first: float = FIRST_WAIT_SECONDS, longest: float = LONGEST_WAIT_SECONDS) -> Iterator[float]:
    """The sleeps between attempts: doubling from `first`, capped at `longest`, adding up to `total_seconds`.

    Capped doubling keeps a short lock (a query in a shell) cheap to wait out and
    a long one (a BI tool left open) to one attempt every `longest` seconds.
    """
    waited, wait = 0.0, first
    while waited < total_seconds:
        step = min(wait, longest, total_seconds - waited)
        yield step
        waited += step
        wait *= 2


def connect(
    database: str,
    read_only: bool = False,
    config: dict | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    log: logging.Logger | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, sleeping (never spinning) while another process holds its lock.

    DuckDB takes the file lock when the connection opens and keeps it until it
    closes, so retrying the connect is the whole of a writer's lock retry: once
    open, no statement can meet another process's lock. Any other error, and a
    lock still held after `wait_seconds`, is raised as DuckDB raised it (its
    message names the process holding the lock).
    """
    log = log or _log
    waits = lock_waits(wait_seconds)
    waited = 0.0
    while True:
        try:
            return duckdb.connect(database, read_only=read_only, config=config or {})
        except duckdb.Error as error:
            wait = next(waits, None) if is_lock_conflict(error) else None
            if wait is None:
                raise
            log.warning(
                f"the warehouse {database} is locked by another process; waited {waited:.0f} s of "
                f"{wait_seconds:.0f} s, next try in {wait:.0f} s: {error}"
            )
            time.sleep(wait)
            waited += wait


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction around the block: committed when it ends, rolled back when it raises (and the
    error raised on), so a reader never sees half of what the block wrote."""
    conn.execute("begin transaction")
    try:
        yield conn
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


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
        conn.execute(f"create or replace table {table} as select {typed_columns(frame)} from _frame_to_publish")
    finally:
        conn.unregister("_frame_to_publish")
    return len(frame)


def typed_columns(frame: pd.DataFrame) -> str:
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


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The column names of `schema.table` (empty when it does not exist): what an older warehouse's table has."""
    schema, name = table.split(".")
    return {row[0] for row in conn.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()}


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    rows = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    return rows[0][0] > 0
