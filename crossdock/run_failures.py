"""audit.run_failures: one row per failed step of a failed run, so an operator finds failures with SQL.

Written by the run-failure sensor (orchestration/defs/automation/failures.py); kept here as
plain DuckDB so it is tested without a Dagster daemon. Recording the same
run twice replaces its rows: sensors can be re-evaluated after a restart.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

DDL = """
create schema if not exists audit;
create table if not exists audit.run_failures (
    run_id varchar not null,
    job_name varchar not null,
    step_key varchar not null,
    asset_keys varchar,
    failed_at timestamp not null,
    error_type varchar,
    error_message varchar,
    recorded_at timestamp not null,
    primary key (run_id, step_key)
)
"""
RUN_LEVEL = "(run)"  # step_key of a run that failed before or outside any step (bad config, lost worker)
MAX_MESSAGE = 4000  # a stack of nested errors can be huge; the run's logs keep the full text


@dataclass(frozen=True)
class StepFailure:
    step_key: str
    asset_keys: tuple[str, ...]
    error_type: str | None
    error_message: str | None


def record_run_failure(
    conn: duckdb.DuckDBPyConnection, run_id: str, job_name: str, failed_at: datetime, steps: list[StepFailure],
    run_message: str | None = None,
) -> int:
    """Replace the rows of `run_id` with one per failed step (or one run-level row); returns the rows written."""
    rows = steps or [StepFailure(RUN_LEVEL, (), None, run_message)]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    when = failed_at.astimezone(timezone.utc).replace(tzinfo=None) if failed_at.tzinfo else failed_at
    conn.execute(DDL)
    conn.execute("begin")
    conn.execute("delete from audit.run_failures where run_id = ?", [run_id])
    conn.executemany(
        "insert into audit.run_failures values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (run_id, job_name, s.step_key, ", ".join(s.asset_keys) or None, when, s.error_type,
             (s.error_message or "")[:MAX_MESSAGE] or None, now)
            for s in rows
        ],
    )
    conn.execute("commit")
    return len(rows)
