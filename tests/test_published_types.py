"""Published tables a BI tool takes as they are: one declaration per table, one type per meaning.

The declaration (dbt_project/models/publish/*.yml, read by crossdock.published)
is checked against the type rules (tests/published_type_rules.py); the writer
of the Python tables (crossdock.publish.stage_table) is checked to give every
one of them its declared types from frames typed the way pandas types them;
and the list of published tables is checked to be exactly the assets Dagster
publishes. That dbt and Python write what is declared is
tests/test_end_to_end.py::test_every_column_schema_in_the_ui_matches_the_table_the_run_wrote,
which can call published_type_rules.assert_published_types on its warehouse too.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from crossdock.publish import PLAN_RUNS, DuplicateKey, UndeclaredColumns, plan_tables, stage_table
from crossdock.published import published_tables
from crossdock.settings import DBT_PROJECT_DIR
from published_type_rules import (
    assert_published_types,
    published_columns,
    type_rule_breaches,
    warehouse_columns,
    wide_integer_breaches,
)

PYTHON_TABLES = tuple(name for name, table in published_tables().items() if table.built_by == "python" and name != PLAN_RUNS)


def pandas_value(type_: str, row: int):
    """A value of `type_` as the Python writers hold it in pandas (dates as datetime64[ns], counts as int64)."""
    return {
        "varchar": f"v{row}",
        "boolean": row % 2 == 0,
        "bigint": np.int64(row),
        "double": row + 0.5,
        "date": pd.Timestamp("2026-10-30") + pd.Timedelta(days=row),
        "timestamp": pd.Timestamp("2026-10-30 08:15:00") + pd.Timedelta(hours=row),
    }[type_]


def pandas_frame(table: str, rows: int = 3) -> pd.DataFrame:
    declared = published_tables()[table]
    frame = pd.DataFrame({name: [pandas_value(type_, i) for i in range(rows)] for name, type_ in declared.schema})
    for name, type_ in declared.schema:
        if type_ == "date":
            frame[name] = frame[name].astype("datetime64[ns]")  # what pandas and the planning code make of a day
    if "as_of" in frame:
        frame["as_of"] = pd.Timestamp(dt.date(2026, 10, 30))  # a Timestamp constant: DuckDB read it as timestamp_s
    return frame


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def test_the_declared_published_tables_follow_the_type_rules():
    declared = [(t.name, c.name, c.type) for t in published_tables().values() for c in t.columns]
    assert declared and all(type_ for _, _, type_ in declared), "a declared column has no data_type"
    assert type_rule_breaches(declared) == []


def test_every_published_table_declares_its_key():
    """A BI tool joins and deduplicates on the key, and staging refuses a frame that repeats it: a table declared
    without one staged duplicates unsaid. dbt models take it from their uniqueness test, Python tables from meta."""
    from crossdock.published import read_declarations

    keyless = {t.name: t.built_by for t in read_declarations().values() if not t.key}
    assert keyless == {}, (
        f"published tables without a key: {keyless}. A dbt model: a `unique_combination_of_columns` test in its "
        "yml's data_tests (or `unique` on one column); a table Python writes: `meta: {key: [..]}` in "
        "_published_by_dagster.yml"
    )


# The published tables keyed by a date or a cycle of their own, which say the planning date some other way.
DATED_BY_THEIR_OWN_KEY = {
    "supply_chain_view": "calendar_date",  # one row per day of history, up to the planning date
    "order_landed_cost": "order_date",  # one row per order, every order priced so far
    "demand_plan": "planning_date",  # each S&OP cycle's agreed snapshot, with the planning date it was made on
    "forecast_overrides": "cycle",  # the planners' log of every cycle
    "forecast_value_added": "cycle",  # each cycle's score
}


def test_every_published_table_names_the_planning_date_its_rows_belong_to():
    """A BI tool comparing two plans, or joining two tables of one, needs the planning date on each row: a table
    without one (the lanes, promises, customs risk and coverage had none) cannot be told from last week's copy."""
    tables = published_tables()
    undated = sorted(name for name, table in tables.items()
                     if "as_of" not in dict(table.schema) and name not in DATED_BY_THEIR_OWN_KEY)
    assert undated == [], f"published tables without as_of (a date column, the run's planning date): {undated}"
    for name, column in DATED_BY_THEIR_OWN_KEY.items():
        assert column in dict(tables[name].schema), f"{name} no longer has {column}: give it as_of"
    assert {dict(table.schema)["as_of"] for table in tables.values() if "as_of" in dict(table.schema)} == {"date"}


def test_the_rules_name_hugeints_nanosecond_timestamps_and_a_name_with_two_types():
    breaches = type_rule_breaches([
        ("a", "units_sold", "HUGEINT"),
        ("a", "as_of", "date"),
        ("b", "as_of", "TIMESTAMP_S"),
        ("c", "forecast_date", "timestamp_ns"),
        ("c", "promise_days", "INTEGER"),
        ("d", "order_date", "timestamp"),
        ("d", "published_at", "timestamp"),
    ])
    assert breaches == [
        "a.units_sold is hugeint (a count or sum of integers: cast it to bigint)",
        "b.as_of is timestamp_s (a pandas Timestamp constant: a day is a date, an instant a timestamp)",
        "c.forecast_date is timestamp_ns (a pandas datetime64[ns]: a day is a date, an instant a timestamp)",
        "c.promise_days is integer (a whole number: bigint, like every other whole number published)",
        "d.order_date is timestamp: it names a day, so it is a date",
        "as_of has 2 types across the published tables: date in a; timestamp_s in b",
    ]


def declared_dbt_columns() -> list[tuple[str, str, str]]:
    """(model or source table, column, data_type) of every column declared in dbt_project/models/**/*.yml."""
    columns = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        declared = yaml.safe_load(path.read_text()) or {}
        tables = [*declared.get("models", []), *(t for s in declared.get("sources", []) for t in s.get("tables", []))]
        columns += [(t["name"], c["name"], str(c.get("data_type") or "")) for t in tables for c in t.get("columns") or []]
    return columns


def test_no_dbt_model_declares_a_hugeint_in_any_schema():
    """Not only publish: marts and intermediate are read by the planning code, the dashboard and BI queries
    (and a pandas read of a hugeint gives float counts). A model's actual types are held to these
    declarations by tests/test_end_to_end.py::test_every_column_schema_in_the_ui_matches_the_table_the_run_wrote,
    so a sum() left uncast fails there, or here if its yml follows the warehouse."""
    declared = declared_dbt_columns()
    assert {("fct_daily_demand", "units_sold"), ("int_stock_position", "on_order")} <= {(t, c) for t, c, _ in declared}
    assert wide_integer_breaches(declared) == []


def test_a_sum_of_integers_is_named_in_whatever_schema_it_lands(conn):
    """DuckDB's sum() of bigints is a hugeint; the rule finds it in a marts table as in publish."""
    conn.execute("create schema marts")
    conn.execute("create table marts.daily as select sum(q) as units_sold, cast(sum(q) as bigint) as units_cast, "
                 "count(*) as order_lines from (select 1::bigint as q)")
    assert wide_integer_breaches(warehouse_columns(conn)) == [
        "marts.daily.units_sold is hugeint (a count or sum of integers: cast it to bigint)"]


def test_every_python_table_is_staged_with_its_declared_types_from_a_pandas_frame(conn):
    """The Python writers hand over pandas frames (datetime64[ns] days, a Timestamp as_of); the staged tables
    have the declared types, in declared order, and so pass the rules."""
    assert PYTHON_TABLES, "no Python-written table declared"
    for table in PYTHON_TABLES:
        frame = pandas_frame(table)
        assert stage_table(conn, table, frame[list(reversed(frame.columns))], "run-1") == 3
    staged = published_columns(conn, "plan_next")
    for table in PYTHON_TABLES:
        assert [(c, t) for name, c, t in staged if name == table] == list(published_tables()[table].schema), table
    assert type_rule_breaches([row for row in staged if row[0] in PYTHON_TABLES]) == []
    [(day,)] = conn.execute("select distinct as_of from plan_next.inventory_plan").fetchall()
    assert day == dt.date(2026, 10, 30)


def test_an_all_null_text_column_and_an_empty_frame_keep_their_declared_types(conn):
    frame = pandas_frame("order_landed_cost")
    frame["registration_needed"] = None  # DuckDB alone would type it "NULL"
    stage_table(conn, "order_landed_cost", frame, "run-1")
    stage_table(conn, "transfer_recommendations", pandas_frame("transfer_recommendations").iloc[0:0].astype(object), "run-1")
    types = {(t, c): ty for t, c, ty in published_columns(conn, "plan_next")}
    assert types[("order_landed_cost", "registration_needed")] == "varchar"
    assert types[("transfer_recommendations", "arrival_date")] == "date"
    assert types[("transfer_recommendations", "units")] == "bigint"


def test_a_frame_that_differs_from_its_declaration_or_repeats_a_key_is_not_staged(conn):
    frame = pandas_frame("inventory_plan")
    with pytest.raises(UndeclaredColumns, match=r"missing \['action'\], undeclared \['note'\]"):
        stage_table(conn, "inventory_plan", frame.drop(columns="action").assign(note="x"), "run-1")
    twice = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKey, match=r"2 rows share the key \(sku, node\)"):
        stage_table(conn, "inventory_plan", twice, "run-1")
    assert conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'plan_next' and table_name = 'inventory_plan'"
    ).fetchone() == (0,)


def test_an_older_plan_runs_table_gets_its_declared_types_on_the_next_publish(conn):
    from crossdock.publish import publish_plan

    conn.execute("create schema publish")
    conn.execute("create table publish.plan_runs (run_id varchar, as_of date, published_at timestamp, "
                 "tables integer, rows_by_table varchar)")
    conn.execute("insert into publish.plan_runs values ('run-0', null, timestamp '2026-10-29 06:00:00', 19, '{}')")
    stage_table(conn, "order_landed_cost", pandas_frame("order_landed_cost"), "run-1")
    publish_plan(conn, "run-1", dt.date(2026, 10, 30), ("order_landed_cost",))
    assert_published_types(conn)
    assert conn.execute("select run_id, tables from publish.plan_runs order by published_at").fetchall() == [
        ("run-0", 19), ("run-1", 1)]


def test_the_published_tables_are_the_declared_ones_and_dagster_publishes_each():
    """One list: the declaration. Every publish/<table> asset is declared, every declared table has its asset."""
    from orchestration.definitions import defs

    keys = defs.resolve_asset_graph().get_all_asset_keys()
    published = {key.path[-1] for key in keys if key.path[0] == "publish"}
    assert published == set(published_tables())
    assert set(plan_tables()) == published - {PLAN_RUNS}
