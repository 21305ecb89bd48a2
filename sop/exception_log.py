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

import pandas as pd

from crossdock.engine import WarehouseLike, as_warehouse
from sop.exception_status import LOG_COLUMNS

LOG_TABLE = "audit.exception_log"

LOG_TYPES: tuple[tuple[str, str], ...] = (
    ("exception_id", "varchar not null"),
    ("type", "varchar not null"),
    ("sku", "varchar"),
    ("market", "varchar"),
    ("node", "varchar"),
    ("subject", "varchar"),
    ("problem", "varchar"),
    ("units_affected", "double"),
    ("value_eur", "double"),
    ("measure", "double"),
    ("fix", "varchar"),
    ("fix_cost_eur", "double"),
    ("default_owner", "varchar"),
    ("as_of", "date not null"),
    ("run_id", "varchar not null"),
    ("logged_at", "timestamp not null"),
)
LOG_DDL = f"create table if not exists {LOG_TABLE} ({', '.join(f'{name} {kind}' for name, kind in LOG_TYPES)})"
# a frame's columns cast to the table's types, so Spark's rewrite of the table keeps them (crossdock/engine.py)
_LOG_SELECT = ", ".join(f"cast({name} as {kind.removesuffix(' not null')}) as {name}" for name, kind in LOG_TYPES)


def read_log(target: WarehouseLike) -> pd.DataFrame:
    """Every logged day's exceptions (LOG_COLUMNS and logged_at, when its run wrote them), oldest day first; empty
    before the first run."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(LOG_TABLE):
        return pd.DataFrame(columns=[*LOG_COLUMNS, "logged_at"])
    return warehouse.query(f"select {', '.join(LOG_COLUMNS)}, logged_at from {LOG_TABLE} order by as_of, exception_id")


def write_log(target: WarehouseLike, day_rows: pd.DataFrame, as_of: dt.date, run_id: str) -> int:
    """Replace the rows of planning day `as_of` with `day_rows` (LOG_COLUMNS); returns the rows written."""
    warehouse = as_warehouse(target)
    warehouse.execute("create schema if not exists audit")
    warehouse.execute(LOG_DDL)
    frame = day_rows.loc[:, list(LOG_COLUMNS)].assign(
        as_of=pd.Timestamp(as_of), run_id=run_id, logged_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    return warehouse.replace_rows(LOG_TABLE, "as_of = ?", [as_of], frame, _LOG_SELECT)
