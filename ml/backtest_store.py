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
import hashlib
import json
from collections.abc import Sequence

import pandas as pd

from crossdock.engine import Warehouse, WarehouseLike, as_warehouse, first_row
from crossdock.publish import declared_frame, record_staging, staged
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
    quantile_scales varchar,
    mean_weight double,
    zero_stopped boolean,
    data_digest varchar
)
"""
# a store from before the gate's verdict was kept (backtest method 2) gets the column, null: its record
# falls back on the old rule (BacktestRecord.passed), and its fingerprint differs anyway
# and one from before the hierarchy (method 4) gets reconciliation null: the forecast then sums up (bottom_up);
# one from before the blend (method 6) gets mean_weight null: the forecast then publishes the model's mean;
# one from before the stopped rule (method 8) gets zero_stopped null: the forecast then keeps stopped series
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("gate_passed", "boolean"),
    ("reconciliation", "varchar"),
    ("quantile_scales", "varchar"),
    ("mean_weight", "double"),
    ("zero_stopped", "boolean"),
    ("data_digest", "varchar"),
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def last_backtest(target: WarehouseLike) -> BacktestRecord | None:
    """The latest backtest that ran and whose result is stored, or None (never ran, or the store was dropped)."""
    warehouse = as_warehouse(target)
    if not all(warehouse.exists(t) for t in (RUNS, ACCURACY, PREDICTIONS)):
        return None
    columns = warehouse.columns(RUNS)
    row = first_row(
        warehouse,
        f"""
        with latest as (
            select * from {RUNS} order by ran_at desc limit 1
        )
        select as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, run_id, ran_at,
            {"gate_passed" if "gate_passed" in columns else "null::boolean"},
            {"reconciliation" if "reconciliation" in columns else "null::varchar"},
            {"quantile_scales" if "quantile_scales" in columns else "null::varchar"},
            {"mean_weight" if "mean_weight" in columns else "null::double"},
            {"zero_stopped" if "zero_stopped" in columns else "null::boolean"},
            {"data_digest" if "data_digest" in columns else "null::varchar"}
        from latest
        """,
    )
    if row is None:
        return None
    as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, run_id, ran_at, gate_passed, method, scales, weight, zero, digest = row
    return BacktestRecord(
        as_of=as_of, fingerprint=fingerprint, shape=DataShape(tuple(markets), int(n_series), digest or ""), seconds=float(seconds),
        wape_model=float(wape_model), wape_naive=float(wape_naive), run_id=run_id, ran_at=ran_at, gate_passed=gate_passed,
        reconciliation=method, quantile_scales={k: tuple(v) for k, v in json.loads(scales).items()} if scales else None,
        mean_weight=float(weight) if weight is not None else None, zero_stopped=zero,
    )


def _migrate_runs(warehouse: Warehouse) -> None:
    """Give an audit.backtest_runs of an older release the columns added since, null in its rows, on either
    engine: Spark stores were written by releases before the blend's weight too."""
    have = warehouse.columns(RUNS)
    for name, type_ in ADDED_COLUMNS:
        if name not in have:
            warehouse.execute(f"alter table {RUNS} add column {name} {type_}")


def save_backtest(target: WarehouseLike, record: BacktestRecord, reason: str) -> None:
    """Keep the backtest this run just staged (plan_next, typed and key-checked by stage_table) with its record.

    Copies plan_next.forecast_accuracy / forecast_backtest into the store and
    adds the record row, in one transaction (on Spark, which has none, the
    record row is written last, so it never names a result not yet stored).
    """
    warehouse = as_warehouse(target)
    warehouse.execute(f"create schema if not exists {SCHEMA}")
    warehouse.execute(RUNS_DDL)
    _migrate_runs(warehouse)
    with warehouse.transaction():
        for stored, table in STAGED_AS.items():
            warehouse.create_table_as(stored, f"select * from {staged(table)}")
        warehouse.execute(
            f"insert into {RUNS} (run_id, as_of, fingerprint, markets, n_series, seconds, wape_model, wape_naive, reason, "
            "ran_at, gate_passed, reconciliation, quantile_scales, mean_weight, zero_stopped, data_digest) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record.run_id, record.as_of, record.fingerprint, list(record.shape.markets), record.shape.n_series,
             record.seconds, record.wape_model, record.wape_naive, reason, record.ran_at or _utc_now(), record.gate_passed,
             record.reconciliation, json.dumps(record.quantile_scales) if record.quantile_scales is not None else None,
             record.mean_weight, record.zero_stopped, record.shape.digest or None],
        )


def stage_last_backtest(target: WarehouseLike, run_id: str) -> dict[str, int]:
    """Stage the stored result as plan_next.forecast_accuracy / forecast_backtest for `run_id`; rows per table.

    Cast to the tables' declared types as `stage_table` does (its key was
    checked when the backtest was first staged). A column added to or
    dropped from the declaration since raises UndeclaredColumns; the
    fingerprint (`ml.backtest_cadence.model_fingerprint`) holds the declared
    layout, so such a change runs the backtest instead of reaching here.
    """
    warehouse = as_warehouse(target)
    rows: dict[str, int] = {}
    with warehouse.transaction():
        for stored, table in STAGED_AS.items():
            columns = warehouse.query(f"select * from {stored} limit 0")
            rows[table] = warehouse.create_table_as(staged(table), f"select {declared_frame(table, columns)} from {stored}")
    for table in STAGED_AS.values():
        record_staging(warehouse, run_id, table)
    return rows


def first_sale_day(target: WarehouseLike, demand_table: str, as_of: dt.date) -> dt.date | None:
    """The first day with units sold on or before `as_of` (where `ml.panel.build_panel` starts), None when none."""
    [(first,)] = as_warehouse(target).rows(
        f"select min(demand_date) from {demand_table} where units_sold > 0 and demand_date <= ?", [as_of])
    return None if first is None else pd.Timestamp(first).date()


def _outside(held_back: Sequence[str]) -> tuple[str, list[str]]:
    """A SQL condition leaving out the `held_back` markets' rows, and its parameters."""
    if not held_back:
        return "true", []
    return f"market not in ({', '.join('?' for _ in held_back)})", list(held_back)


def active_shape(target: WarehouseLike, demand_table: str, as_of: dt.date, inactive_after_days: int,
                 held_back: Sequence[str] = ()) -> DataShape:
    """The data shape the backtest would see at `as_of`, in SQL without loading the history.

    Active series as `ml.series_selection.active_series` defines them: a sale (units
    sold > 0) on a day from as_of - `inactive_after_days` to as_of; outside the markets the
    training-data gate holds back, which the backtest leaves out.
    """
    since = as_of - dt.timedelta(days=inactive_after_days)
    outside, markets_held = _outside(held_back)
    [(markets, n_series)] = as_warehouse(target).rows(
        f"""
        with selling_days as (
            select sku, market from {demand_table}
            where units_sold > 0 and demand_date between ? and ? and {outside}
        ),
        active as (
            select distinct sku, market from selling_days
        )
        select coalesce(list(distinct market order by market), []), count(*) from active
        """,
        [since, as_of, *markets_held],
    )
    digest = history_digest(target, demand_table, as_of, held_back)
    return DataShape(tuple(sorted(markets)), int(n_series), digest, tuple(held_back))  # Spark's collect_list keeps no order


def history_digest(target: WarehouseLike, demand_table: str, as_of: dt.date, held_back: Sequence[str] = ()) -> str:
    """A hash of what the backtest reads up to `as_of`: per series (sku, market, category), its days, units sold
    and units weighted by their day, so a corrected export (a unit moved, a SKU recoded, a category changed)
    hashes apart. One row per series is read; rounded, as either engine sums the doubles in its own order."""
    outside, markets_held = _outside(held_back)
    per_series = as_warehouse(target).query(
        f"""
        select sku, market, category, count(*) as days, sum(units_sold) as units,
            sum(units_sold * (year(demand_date) * 1000 + dayofyear(demand_date))) as unit_days
        from {demand_table} where demand_date <= ? and {outside} group by sku, market, category
        """,
        [as_of, *markets_held],
    )
    if per_series.empty:
        return hashlib.sha256(b"").hexdigest()[:16]
    per_series = per_series.astype({"sku": str, "market": str, "category": str}).sort_values(["sku", "market", "category"])
    lines = (f"{r.sku}|{r.market}|{r.category}|{int(r.days)}|{float(r.units or 0):.6f}|{float(r.unit_days or 0):.3f}"
             for r in per_series.itertuples(index=False))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
