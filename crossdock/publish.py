"""One plan or none: a run builds its plan in schema `plan_next`; one transaction copies it into `publish`.

The published tables come from several steps (dbt models, the forecast, the
plans, the scenarios, the compliance tables). Written straight into
`publish`, a run that failed half-way left some tables new and some from the
previous run: a schema that described no plan at all. So every step writes
its tables into `plan_next` (the staging schema, same table names), and the
last step copies all of them into `publish` in ONE DuckDB transaction and
records the run in `publish.plan_runs`. A reader of `publish` (BI, the
summary, the BI copies) sees the whole previous plan or the whole new one.

`plan_next.stage_log` notes which run staged what and when, so the summary
can tell a plan that a run started and never published from the published one.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from crossdock.warehouse import replace_table, table_exists

STAGING_SCHEMA = "plan_next"
PUBLISH_SCHEMA = "publish"
PLAN_RUNS = "plan_runs"  # publish.plan_runs: one row per published plan, the run it came from
STAGE_LOG = "stage_log"  # plan_next.stage_log: one row per table (or dbt build) a run staged

PLAN_TABLES = (
    "supply_chain_view",
    "demand_forecast",
    "forecast_accuracy",
    "forecast_backtest",
    "inventory_plan",
    "inventory_projection",
    "service_level_tradeoff",
    "service_classes",
    "transfer_recommendations",
    "scenario_impact",
    "supplier_risk",
    "lane_performance",
    "delivery_promise",
    "delivery_promise_by_chapter",
    "customs_risk",
    "compliance_plan",
    "order_landed_cost",
    "market_coverage",
)

PLAN_RUNS_DDL = f"""
create table if not exists {PUBLISH_SCHEMA}.{PLAN_RUNS} (
    run_id varchar not null,
    as_of date,
    published_at timestamp not null,
    tables integer not null,
    rows_by_table varchar not null
)
"""
STAGE_LOG_DDL = f"""
create table if not exists {STAGING_SCHEMA}.{STAGE_LOG} (
    run_id varchar not null,
    staged varchar not null,
    staged_at timestamp not null
)
"""


class PlanIncomplete(RuntimeError):
    """plan_next lacks a table of the plan: publishing would leave publish with a table from another run."""


@dataclass(frozen=True)
class PublishedPlan:
    run_id: str
    as_of: dt.date | None
    published_at: dt.datetime
    rows_by_table: dict[str, int]


@dataclass(frozen=True)
class UnpublishedStaging:
    """A run staged tables after the last publish and did not publish them (failed, or still running)."""

    run_id: str
    staged_at: dt.datetime
    staged: tuple[str, ...]


def staged(table: str) -> str:
    """The staging name of a published table: where the run writes it before the swap."""
    return f"{STAGING_SCHEMA}.{table}"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def record_staging(conn: duckdb.DuckDBPyConnection, run_id: str, what: str) -> None:
    """Note in plan_next.stage_log that `run_id` staged `what` (a table, or the dbt build) now."""
    conn.execute(f"create schema if not exists {STAGING_SCHEMA}")
    conn.execute(STAGE_LOG_DDL)
    conn.execute(f"insert into {STAGING_SCHEMA}.{STAGE_LOG} values (?, ?, ?)", [run_id, what, _utc_now()])


def stage_table(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, run_id: str) -> int:
    """Write `frame` as plan_next.`table` for the next publish; returns the row count."""
    rows = replace_table(conn, staged(table), frame)
    record_staging(conn, run_id, table)
    return rows


def publish_plan(
    conn: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date | None, tables: tuple[str, ...] = PLAN_TABLES
) -> PublishedPlan:
    """Copy every plan_next table into publish and record the run, all in one transaction.

    Raises PlanIncomplete (publish untouched) when a table is not staged;
    any error inside the transaction rolls it back whole.
    """
    missing = [t for t in tables if not table_exists(conn, staged(t))]
    if missing:
        raise PlanIncomplete(f"not staged in {STAGING_SCHEMA}: {', '.join(missing)}")
    published_at = _utc_now()
    conn.execute("begin transaction")
    try:
        conn.execute(f"create schema if not exists {PUBLISH_SCHEMA}")
        rows: dict[str, int] = {}
        for table in tables:
            conn.execute(f"create or replace table {PUBLISH_SCHEMA}.{table} as select * from {staged(table)}")
            rows[table] = conn.execute(f"select count(*) from {PUBLISH_SCHEMA}.{table}").fetchall()[0][0]
        conn.execute(PLAN_RUNS_DDL)
        conn.execute(
            f"insert into {PUBLISH_SCHEMA}.{PLAN_RUNS} values (?, ?, ?, ?, ?)",
            [run_id, as_of, published_at, len(rows), json.dumps(rows, sort_keys=True)],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return PublishedPlan(run_id, as_of, published_at, rows)


def last_published(conn: duckdb.DuckDBPyConnection) -> PublishedPlan | None:
    """The plan publish holds now (the latest publish.plan_runs row), or None before the first publish."""
    if not table_exists(conn, f"{PUBLISH_SCHEMA}.{PLAN_RUNS}"):
        return None
    row = conn.execute(
        f"select run_id, as_of, published_at, rows_by_table from {PUBLISH_SCHEMA}.{PLAN_RUNS} "
        "order by published_at desc limit 1"
    ).fetchone()
    if row is None:
        return None
    run_id, as_of, published_at, rows = row
    return PublishedPlan(run_id, as_of, published_at, json.loads(rows))


def unpublished_staging(conn: duckdb.DuckDBPyConnection) -> UnpublishedStaging | None:
    """The latest run that staged tables after the last publish without publishing them, or None."""
    if not table_exists(conn, f"{STAGING_SCHEMA}.{STAGE_LOG}"):
        return None
    published = last_published(conn)
    since = published.published_at if published else dt.datetime.min
    row = conn.execute(
        f"""
        with after_publish as (
            select run_id, staged, staged_at from {STAGING_SCHEMA}.{STAGE_LOG}
            where staged_at > ? and run_id <> ?
        ),
        latest_run as (
            select run_id from after_publish order by staged_at desc limit 1
        )
        select run_id, max(staged_at), list(distinct staged order by staged)
        from after_publish
        where run_id = (select run_id from latest_run)
        group by run_id
        """,
        [since, published.run_id if published else ""],
    ).fetchone()
    if row is None:
        return None
    run_id, staged_at, names = row
    return UnpublishedStaging(run_id, staged_at, tuple(names))
