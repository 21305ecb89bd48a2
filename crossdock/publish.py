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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import pandas as pd

from crossdock.engine import Warehouse, WarehouseLike, as_warehouse, first_row, partition_filter
from crossdock.published import PublishedTable, published_table, published_tables

STAGING_SCHEMA = "plan_next"
PUBLISH_SCHEMA = "publish"
PLAN_RUNS = "plan_runs"  # publish.plan_runs: one row per published plan, the run it came from
STAGE_LOG = "stage_log"  # plan_next.stage_log: one row per table (or dbt build) a run staged


@cache
def plan_tables() -> tuple[str, ...]:
    """The tables a run stages and publishes: every publish table dbt's yml declares but plan_runs, which the
    publish step itself writes (read on first use)."""
    return tuple(name for name in published_tables() if name != PLAN_RUNS)


def _create_table_ddl(schema: str, table: PublishedTable) -> str:
    columns = ", ".join(f'"{name}" {type_}' for name, type_ in table.schema)
    return f"create table if not exists {schema}.{table.name} ({columns})"


@cache
def plan_runs_ddl() -> str:
    """`create table if not exists publish.plan_runs (...)` with the columns dbt's yml declares (read on first use)."""
    return _create_table_ddl(PUBLISH_SCHEMA, published_table(PLAN_RUNS))


def _retype_plan_runs(warehouse: Warehouse) -> None:
    """Give a publish.plan_runs from an older release its declared columns and types (tables was an integer,
    inputs did not exist). Those releases wrote DuckDB only, and a Spark table is made with the declared ones."""
    if warehouse.engine != "duckdb":
        return
    actual = dict(warehouse.rows(
        "select column_name, lower(data_type) from information_schema.columns where table_schema = ? and table_name = ?",
        [PUBLISH_SCHEMA, PLAN_RUNS],
    ))
    for name, type_ in published_table(PLAN_RUNS).schema:
        if name not in actual:
            warehouse.execute(f'alter table {PUBLISH_SCHEMA}.{PLAN_RUNS} add column "{name}" {type_}')
        elif actual[name] != type_:
            warehouse.execute(f'alter table {PUBLISH_SCHEMA}.{PLAN_RUNS} alter column "{name}" set data type {type_}')
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
    inputs: str | None = None  # the fingerprint of what the plan was made from (orchestration/lib/run_inputs.py)


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


def record_staging(target: WarehouseLike, run_id: str, what: str) -> None:
    """Note in plan_next.stage_log that `run_id` staged `what` (a table, or the dbt build) now."""
    warehouse = as_warehouse(target)
    warehouse.execute(f"create schema if not exists {STAGING_SCHEMA}")
    warehouse.execute(STAGE_LOG_DDL)
    warehouse.execute(f"insert into {STAGING_SCHEMA}.{STAGE_LOG} values (?, ?, ?)", [run_id, what, _utc_now()])


class UndeclaredColumns(ValueError):
    """A frame to stage lacks a declared column or has one the declaration does not name."""


class DuplicateKey(ValueError):
    """A frame to stage has two rows with the same declared key."""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def declared_frame(table: str, frame: pd.DataFrame) -> str:
    """The select list that gives `frame` its declared columns, in declared order, each cast to its declared type.

    pandas decides the types otherwise: datetime64[ns] would become
    timestamp_ns, a date set from a Timestamp timestamp_s, an all-null text
    column NULL. BI tools read a date as a date, so the writer casts to the
    declaration rather than each asset shaping its dtypes.
    """
    declared = published_table(table)
    missing = [c for c in declared.column_names if c not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in declared.column_names]
    if missing or extra:
        raise UndeclaredColumns(
            f"publish.{table}: the frame's columns differ from its declaration in "
            f"dbt_project/models/publish/*.yml: missing {missing}, undeclared {extra}"
        )
    return ", ".join(f"cast({_quoted(name)} as {type_}) as {_quoted(name)}" for name, type_ in declared.schema)


def _check_key(warehouse: Warehouse, table: str, where: str = "true", params: Sequence[object] = ()) -> None:
    """No two rows (of those matching `where`) share the declared key."""
    key = published_table(table).key
    if not key:
        return
    columns = ", ".join(_quoted(c) for c in key)
    duplicate = first_row(
        warehouse, f"select {columns}, count(*) from {staged(table)} where {where} group by all "
        "having count(*) > 1 limit 1", params,
    )
    if duplicate:
        raise DuplicateKey(f"publish.{table}: {duplicate[-1]} rows share the key ({', '.join(key)}) = {duplicate[:-1]}")


def stage_table(target: WarehouseLike, table: str, frame: pd.DataFrame, run_id: str) -> int:
    """Write `frame` as plan_next.`table`, typed and checked as declared, for the next publish; returns the row count.

    Raises UndeclaredColumns or DuplicateKey (the run stops; on DuckDB nothing is staged for the table, on
    Spark, which has no transactions, the staged table is left for the next run to replace) when the frame
    and the declaration disagree.
    """
    warehouse = as_warehouse(target)
    select_list = declared_frame(table, frame)
    with warehouse.transaction():
        warehouse.write_frame(staged(table), frame, select_list)
        _check_key(warehouse, table)
    record_staging(warehouse, run_id, table)
    return len(frame)


def stage_rows(target: WarehouseLike, table: str, frame: pd.DataFrame, run_id: str, column: str,
               values: tuple[str, ...], known: tuple[str, ...] | None = None) -> int:
    """Replace in plan_next.`table` the rows whose `column` is one of `values` with `frame`, keeping the others
    (those of `known` values only, when given: a market taken out of crossdock.yaml has no run that would
    replace its rows); returns the row count staged.

    How a run over some of the markets stages its share of a table that runs
    over the other markets fill too (orchestration/lib/market_partitions.py).
    Typed and checked as `stage_table`; a frame row outside `values` is a
    ValueError, since the next run over its market would delete it unseen. A
    staged table of another layout (staged by an older release) is rebuilt in
    the declared one, its kept rows carried over (a new column null in them).
    """
    if not values:
        raise ValueError(f"publish.{table}: no {column} to stage rows of")
    warehouse = as_warehouse(target)
    outside = sorted(set(frame[column].astype(str)) - set(values)) if column in frame.columns else []
    if outside:
        raise ValueError(f"publish.{table}: rows of {column} {outside} staged by a run over {list(values)}")
    if not warehouse.exists(staged(table)):
        return stage_table(warehouse, table, frame, run_id)
    select_list = declared_frame(table, frame)  # first: a frame of undeclared columns fails before any write
    declared = list(published_table(table).column_names)
    if warehouse.columns(staged(table)) != set(declared):
        where, params = partition_filter(column, values, known)
        kept = warehouse.query(f"select * from {staged(table)} where not coalesce(({where}), false)", params)
        stage_table(warehouse, table, pd.concat([kept.reindex(columns=declared), frame[declared]], ignore_index=True), run_id)
        return len(frame)
    with warehouse.transaction():
        warehouse.replace_partitions(staged(table), column, values, frame, select_list, keep=known)
        # its own rows only when the key holds `column` (two runs' rows can then never share a key): the others'
        # are another run's, which may be replacing them right now (on Spark)
        own, params = partition_filter(column, values) if column in published_table(table).key else ("true", [])
        _check_key(warehouse, table, own, params)
    record_staging(warehouse, run_id, table)
    return len(frame)


def publish_plan(
    target: WarehouseLike, run_id: str, as_of: dt.date | None, tables: tuple[str, ...] | None = None,
    inputs: str | None = None,
) -> PublishedPlan:
    """Copy every plan_next table (`tables`, default plan_tables()) into publish and record the run, all in one
    transaction.

    Raises PlanIncomplete (publish untouched) when a table is not staged;
    any error inside the transaction rolls it back whole. On Spark, which has
    no transactions, the tables are copied one by one and the run is recorded
    last: publish.plan_runs still names the previous plan until every table is
    in (docs/spark.md).
    """
    warehouse = as_warehouse(target)
    tables = plan_tables() if tables is None else tables
    missing = [t for t in tables if not warehouse.exists(staged(t))]
    if missing:
        raise PlanIncomplete(f"not staged in {STAGING_SCHEMA}: {', '.join(missing)}")
    published_at = _utc_now()
    with warehouse.transaction():
        warehouse.execute(f"create schema if not exists {PUBLISH_SCHEMA}")
        rows: dict[str, int] = {}
        for table in tables:
            rows[table] = warehouse.create_table_as(f"{PUBLISH_SCHEMA}.{table}", f"select * from {staged(table)}")
        warehouse.execute(plan_runs_ddl())
        _retype_plan_runs(warehouse)
        warehouse.execute(
            f"insert into {PUBLISH_SCHEMA}.{PLAN_RUNS} (run_id, as_of, published_at, tables, rows_by_table, inputs) "
            "values (?, ?, ?, ?, ?, ?)",
            [run_id, as_of, published_at, len(rows), json.dumps(rows, sort_keys=True), inputs],
        )
    return PublishedPlan(run_id, as_of, published_at, rows, inputs)


def last_published(target: WarehouseLike) -> PublishedPlan | None:
    """The plan publish holds now (the latest publish.plan_runs row), or None before the first publish."""
    warehouse = as_warehouse(target)
    table = f"{PUBLISH_SCHEMA}.{PLAN_RUNS}"
    if not warehouse.exists(table):
        return None
    inputs = "inputs" if "inputs" in warehouse.columns(table) else "null"  # a table from before inputs were kept
    row = first_row(
        warehouse, f"select run_id, as_of, published_at, rows_by_table, {inputs} from {table} "
        "order by published_at desc limit 1"
    )
    if row is None:
        return None
    run_id, as_of, published_at, rows, fingerprint = row
    return PublishedPlan(run_id, as_of, published_at, json.loads(rows), fingerprint)


def unpublished_staging(target: WarehouseLike) -> UnpublishedStaging | None:
    """The latest run that staged tables after the last publish without publishing them, or None."""
    warehouse = as_warehouse(target)
    if not warehouse.exists(f"{STAGING_SCHEMA}.{STAGE_LOG}"):
        return None
    published = last_published(warehouse)
    since = published.published_at if published else dt.datetime.min
    row = first_row(
        warehouse,
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
    )
    if row is None:
        return None
    run_id, staged_at, names = row
    return UnpublishedStaging(run_id, staged_at, tuple(sorted(names)))  # Spark's collect_list keeps no order
