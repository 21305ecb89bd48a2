"""audit.run_failures: one row per failed step of a failed run, so an operator finds failures with SQL.

Written by the run-failure sensor (orchestration/defs/automation/failures.py), `crossdock run`
and the Spark commands, through the warehouse interface (DuckDB or Spark); kept here
without Dagster so it is tested without a daemon. Recording the same run twice replaces
its rows: sensors can be re-evaluated after a restart.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from crossdock.engine import WarehouseLike, as_warehouse

TABLE = "audit.run_failures"
# name, type, nullable: the one declaration of the table, its DDL and the cast of the rows written
SCHEMA: tuple[tuple[str, str, bool], ...] = (
    ("run_id", "varchar", False),
    ("job_name", "varchar", False),
    ("step_key", "varchar", False),
    ("asset_keys", "varchar", True),
    ("failed_at", "timestamp", False),
    ("error_type", "varchar", True),
    ("error_message", "varchar", True),
    ("recorded_at", "timestamp", False),
)
KEY = ("run_id", "step_key")
RUN_LEVEL = "(run)"  # step_key of a run that failed before or outside any step (bad config, lost worker)
MAX_MESSAGE = 4000  # a stack of nested errors can be huge; the run's logs keep the full text


@dataclass(frozen=True)
class StepFailure:
    step_key: str
    asset_keys: tuple[str, ...]
    error_type: str | None
    error_message: str | None


def table_ddl(keyed: bool) -> str:
    """`create table if not exists audit.run_failures`; with its primary key on DuckDB (Spark's file tables have
    none, and record_run_failure's replace keeps the key unique there too)."""
    columns = [f"{name} {type_}{'' if nullable else ' not null'}" for name, type_, nullable in SCHEMA]
    key = [f"primary key ({', '.join(KEY)})"] if keyed else []
    return f"create table if not exists {TABLE} ({', '.join(columns + key)})"


def record_run_failure(
    target: WarehouseLike, run_id: str, job_name: str, failed_at: datetime, steps: list[StepFailure],
    run_message: str | None = None,
) -> int:
    """Replace the rows of `run_id` with one per failed step (or one run-level row); returns the rows written."""
    warehouse = as_warehouse(target)
    rows = steps or [StepFailure(RUN_LEVEL, (), None, run_message)]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    when = failed_at.astimezone(timezone.utc).replace(tzinfo=None) if failed_at.tzinfo else failed_at
    frame = pd.DataFrame(
        [(run_id, job_name, s.step_key, ", ".join(s.asset_keys) or None, when, s.error_type,
          (s.error_message or "")[:MAX_MESSAGE] or None, now) for s in rows],
        columns=[name for name, _, _ in SCHEMA],
    )
    warehouse.execute("create schema if not exists audit")
    warehouse.execute(table_ddl(keyed=warehouse.engine == "duckdb"))
    typed = ", ".join(f"cast({name} as {type_}) as {name}" for name, type_, _ in SCHEMA)
    warehouse.replace_rows(TABLE, "run_id = ?", [run_id], frame, typed)  # one transaction on DuckDB
    return len(rows)
