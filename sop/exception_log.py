"""audit.exception_log: what each planning day's plan raised, so an exception keeps its history after it is gone.

One row per exception and planning day (as_of) with that day's figures, the
run that wrote it and when. A run replaces its own day's rows in one
transaction (delete that day, insert), so running a day again, or a run that
failed after this step and is run again, leaves one set of rows per day. The
rows are written when the exceptions are staged, before the plan is
published: a run that then fails leaves its day logged, and the next run of
that day rewrites it. The columns are those dbt's yml declares for the source
table audit.exception_log.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from crossdock.warehouse import read_sql, table_exists, transaction
from sop.exception_status import LOG_COLUMNS

LOG_TABLE = "audit.exception_log"

LOG_DDL = f"""
create table if not exists {LOG_TABLE} (
    exception_id varchar not null,
    type varchar not null,
    sku varchar,
    market varchar,
    node varchar,
    subject varchar,
    problem varchar,
    units_affected double,
    value_eur double,
    measure double,
    fix varchar,
    fix_cost_eur double,
    default_owner varchar,
    as_of date not null,
    run_id varchar not null,
    logged_at timestamp not null
)
"""


def read_log(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every logged day's exceptions (LOG_COLUMNS), oldest day first; empty before the first run."""
    if not table_exists(conn, LOG_TABLE):
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    return read_sql(conn, f"select {', '.join(LOG_COLUMNS)} from {LOG_TABLE} order by as_of, exception_id")


def write_log(conn: duckdb.DuckDBPyConnection, day_rows: pd.DataFrame, as_of: dt.date, run_id: str) -> int:
    """Replace the rows of planning day `as_of` with `day_rows` (LOG_COLUMNS); returns the rows written."""
    conn.execute("create schema if not exists audit")
    conn.execute(LOG_DDL)
    frame = day_rows.loc[:, list(LOG_COLUMNS)].assign(
        as_of=pd.Timestamp(as_of), run_id=run_id, logged_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    conn.register("_exception_log_rows", frame)
    try:
        with transaction(conn):
            conn.execute(f"delete from {LOG_TABLE} where as_of = ?", [as_of])
            columns = ", ".join([*LOG_COLUMNS, "run_id", "logged_at"])
            conn.execute(f"insert into {LOG_TABLE} ({columns}) select {columns} from _exception_log_rows")
    finally:
        conn.unregister("_exception_log_rows")
    return len(frame)
