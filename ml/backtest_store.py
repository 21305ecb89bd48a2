"""The backtest's durable record in the warehouse: what ran, when, on what, and its result.

`audit.backtest_runs` gets one row per backtest that actually ran (planning
date, model fingerprint, data shape, seconds, the gate's two WAPEs, why it
ran). `audit.backtest_accuracy` and `audit.backtest_predictions` hold the
latest backtest's result, the tables published as `publish.forecast_accuracy`
and `publish.forecast_backtest`, copied from plan_next after `stage_table`
typed and checked them. All three are written in one transaction, so the
latest record always describes the result beside it.

Why not keep the result in `plan_next` only: that schema is the publish
step's staging area (crossdock/publish.py), the next run's tables by design,
not a store. Every run, fresh or reusing, stages the stored result into
`plan_next` with its own run id, so publishing and its staleness check work
the same either way, and the published tables always carry a result.
"""
from __future__ import annotations

import datetime as dt
import json

import duckdb

from crossdock.publish import STAGING_SCHEMA, declared_frame, record_staging, staged
from crossdock.warehouse import table_columns, table_exists, transaction
from ml.backtest_cadence import BacktestRecord, DataShape

SCHEMA = "audit"
RUNS = f"{SCHEMA}.backtest_runs"
ACCURACY = f"{SCHEMA}.backtest_accuracy"
PREDICTIONS = f"{SCHEMA}.backtest_predictions"
# the published table each stored result is staged as
STAGED_AS = {ACCURACY: "forecast_accuracy", PREDICTIONS: "forecast_backtest"}

RUNS_DDL = f"""
create table if not exists {RUNS} (
    run_id varchar not null,
    as_of date not null,
    fingerprint varchar not null,
    markets varchar[] not null,
    n_series integer not null,
    seconds double not null,
    wape_model double,
    wape_naive double,
    reason varchar,
    ran_at timestamp not null,
    gate_passed boolean,
    reconciliation varchar,
    quantile_scales varchar
)
"""
# a store from before the gate's verdict was kept (backtest method 2) gets the column, null: its record
# falls back on the old rule (BacktestRecord.passed), and its fingerprint differs anyway
# and one from before the hierarchy (method 4) gets reconciliation null: the forecast then sums up (bottom_up)
RUNS_MIGRATIONS = (
    f"alter table {RUNS} add column if not exists gate_passed boolean",
    f"alter table {RUNS} add column if not exists reconciliation varchar",
    f"alter table {RUNS} add column if not exists quantile_scales varchar",
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def last_backtest(conn: duckdb.DuckDBPyConnection) -> BacktestRecord | None:
    """The latest backtest that ran and whose result is stored, or None (never ran, or the store was dropped)."""
    if not all(table_exists(conn, t) for t in (RUNS, ACCURACY, PREDICTIONS)):
        return None
    columns = table_columns(conn, RUNS)
    row = conn.execute(
        f"""
        with latest as (
            select * from {RUNS} order by ran_at desc limit 1
        )
        select as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, run_id, ran_at,
            {"gate_passed" if "gate_passed" in columns else "null::boolean"},
            {"reconciliation" if "reconciliation" in columns else "null::varchar"},
            {"quantile_scales" if "quantile_scales" in columns else "null::varchar"}
        from latest
        """
    ).fetchone()
    if row is None:
        return None
    as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, run_id, ran_at, gate_passed, method, scales = row
    return BacktestRecord(
        as_of=as_of, fingerprint=fingerprint, shape=DataShape(tuple(markets), int(n_series)), seconds=float(seconds),
        wape_model=float(wape_model), wape_naive=float(wape_naive), run_id=run_id, ran_at=ran_at, gate_passed=gate_passed,
        reconciliation=method, quantile_scales={k: tuple(v) for k, v in json.loads(scales).items()} if scales else None,
    )


def save_backtest(conn: duckdb.DuckDBPyConnection, record: BacktestRecord, reason: str) -> None:
    """Keep the backtest this run just staged (plan_next, typed and key-checked by stage_table) with its record.

    Copies plan_next.forecast_accuracy / forecast_backtest into the store and
    adds the record row, in one transaction.
    """
    conn.execute(f"create schema if not exists {SCHEMA}")
    conn.execute(RUNS_DDL)
    for migration in RUNS_MIGRATIONS:
        conn.execute(migration)
    with transaction(conn):
        for stored, table in STAGED_AS.items():
            conn.execute(f"create or replace table {stored} as select * from {staged(table)}")
        conn.execute(
            f"insert into {RUNS} (run_id, as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, reason, "
            "ran_at, gate_passed, reconciliation, quantile_scales) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record.run_id, record.as_of, record.fingerprint, list(record.shape.markets), record.shape.n_series,
             record.seconds, record.wape_model, record.wape_naive, reason, record.ran_at or _utc_now(), record.gate_passed,
             record.reconciliation, json.dumps(record.quantile_scales) if record.quantile_scales is not None else None],
        )


def stage_last_backtest(conn: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Stage the stored result as plan_next.forecast_accuracy / forecast_backtest for `run_id`; rows per table.

    Cast to the tables' declared types as `stage_table` does (its key was
    checked when the backtest was first staged). A column added to or
    dropped from the declaration since raises UndeclaredColumns; the
    fingerprint (`ml.backtest_cadence.model_fingerprint`) holds the declared
    layout, so such a change runs the backtest instead of reaching here.
    """
    rows: dict[str, int] = {}
    conn.execute(f"create schema if not exists {STAGING_SCHEMA}")
    with transaction(conn):
        for stored, table in STAGED_AS.items():
            columns = conn.execute(f"select * from {stored} limit 0").df()
            conn.execute(f"create or replace table {staged(table)} as select {declared_frame(table, columns)} from {stored}")
            rows[table] = conn.execute(f"select count(*) from {staged(table)}").fetchall()[0][0]
    for table in STAGED_AS.values():
        record_staging(conn, run_id, table)
    return rows


def active_shape(
    conn: duckdb.DuckDBPyConnection, demand_table: str, as_of: dt.date, inactive_after_days: int
) -> DataShape:
    """The data shape the forecast would see at `as_of`, in SQL without loading the history.

    Active series as `ml.series_selection.active_series` defines them: a sale (units
    sold > 0) on a day from as_of - `inactive_after_days` to as_of.
    """
    since = as_of - dt.timedelta(days=inactive_after_days)
    markets, n_series = conn.execute(
        f"""
        with selling_days as (
            select sku, market from {demand_table}
            where units_sold > 0 and demand_date between ? and ?
        ),
        active as (
            select distinct sku, market from selling_days
        )
        select coalesce(list(distinct market order by market), []), count(*) from active
        """,
        [since, as_of],
    ).fetchone()
    return DataShape(tuple(markets), int(n_series))
