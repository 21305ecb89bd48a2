"""The swap from plan_next into publish: all tables or none, and the run it came from on record."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from crossdock.publish import (
    DuplicateKey,
    PlanIncomplete,
    UndeclaredColumns,
    last_published,
    publish_plan,
    record_staging,
    stage_table,
    unpublished_staging,
)
from crossdock.settings import Settings
from cli.summary import collect_summary
from cli.summary_lines import format_summary

# dbt-built tables the summary only counts, so small tables stand for them
TABLES = ("lane_performance", "customs_risk", "supply_chain_view")


def fingerprint(conn: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple]:
    """Rows and an order-free hash of every table of `schema`."""
    names = [t for (t,) in conn.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
    return {t: conn.execute(f"select count(*), sum(hash(t)) from {schema}.{t} as t").fetchone() for t in names}


def stage_dbt_table(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, run_id: str) -> None:
    """Stage `frame` as dbt does a model of models/publish: a table in plan_next, the build noted in the log."""
    conn.execute("create schema if not exists plan_next")
    conn.execute(f"create or replace table plan_next.{table} as select * from frame")
    record_staging(conn, run_id, table)


def stage_plan(conn: duckdb.DuckDBPyConnection, run_id: str, units: int) -> None:
    for table in TABLES:
        frame = pd.DataFrame({"sku": ["A", "B"], "units": [units, units + 1], "as_of": pd.Timestamp("2026-10-30")})
        stage_dbt_table(conn, table, frame, run_id)


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def test_publishing_copies_every_staged_table_and_records_the_run(conn):
    stage_plan(conn, "run-1", units=5)
    plan = publish_plan(conn, "run-1", pd.Timestamp("2026-10-30").date(), TABLES)
    assert plan.rows_by_table == {t: 2 for t in TABLES}
    for table in TABLES:
        assert conn.execute(f"select units from publish.{table} order by sku").fetchall() == [(5,), (6,)]
    assert last_published(conn) == plan
    [(run_id, tables, rows)] = conn.execute("select run_id, tables, rows_by_table from publish.plan_runs").fetchall()
    assert (run_id, tables, json.loads(rows)) == ("run-1", 3, {t: 2 for t in TABLES})
    assert unpublished_staging(conn) is None


def test_a_table_missing_from_the_staging_publishes_nothing(conn):
    stage_plan(conn, "run-1", units=5)
    publish_plan(conn, "run-1", None, TABLES)
    before = fingerprint(conn, "publish")
    conn.execute("drop table plan_next.customs_risk")
    stage_dbt_table(conn, "lane_performance", pd.DataFrame({"sku": ["A"], "units": [99]}), "run-2")
    with pytest.raises(PlanIncomplete, match="customs_risk"):
        publish_plan(conn, "run-2", None, TABLES)
    assert fingerprint(conn, "publish") == before


def test_a_copy_that_fails_half_way_rolls_every_table_back(conn):
    """The third table's copy fails after two were replaced: the transaction undoes both."""
    stage_plan(conn, "run-1", units=5)
    publish_plan(conn, "run-1", None, TABLES)
    before = fingerprint(conn, "publish")
    stage_plan(conn, "run-2", units=50)
    conn.execute("drop table plan_next.supply_chain_view")
    conn.execute("create view plan_next.supply_chain_view as select error('disk full') as sku")
    with pytest.raises(duckdb.Error, match="disk full"):
        publish_plan(conn, "run-2", None, TABLES)
    assert fingerprint(conn, "publish") == before
    assert last_published(conn).run_id == "run-1"


def test_a_first_run_that_stopped_before_publishing_is_not_told_to_run_again_as_if_none_had(conn, tmp_path):
    """The DataCo export's first run failed the forecast's gate: 'nothing published yet: run crossdock run' only
    repeated the failure."""
    stage_dbt_table(conn, "supply_chain_view", pd.DataFrame({"sku": ["A"], "units": [7]}), "run-1")
    out = format_summary(Settings.under(tmp_path), collect_summary(conn))
    assert "NOT PUBLISHED: run run-1 staged a new plan" in out
    assert "nothing published yet: the run above stopped before publishing" in out and "(or `crossdock demo`)" not in out


def test_a_run_that_staged_and_did_not_publish_is_named_beside_the_last_good_plan(conn, tmp_path):
    stage_plan(conn, "run-1", units=5)
    publish_plan(conn, "run-1", pd.Timestamp("2026-10-30").date(), TABLES)
    stage_dbt_table(conn, "supply_chain_view", pd.DataFrame({"sku": ["A"], "units": [7]}), "run-2")
    stage_dbt_table(conn, "customs_risk", pd.DataFrame({"sku": ["A"], "units": [7]}), "run-2")

    pending = unpublished_staging(conn)
    assert pending.run_id == "run-2" and pending.staged == ("customs_risk", "supply_chain_view")
    out = format_summary(Settings.under(tmp_path), collect_summary(conn))
    assert "published plan: run run-1, planning date 2026-10-30" in out
    assert "NOT PUBLISHED: run run-2 staged a new plan" in out
    assert "publish unchanged: last good plan from run run-1 (planning date 2026-10-30)" in out

    stage_plan(conn, "run-2", units=7)
    publish_plan(conn, "run-2", None, TABLES)
    assert unpublished_staging(conn) is None
    out = format_summary(Settings.under(tmp_path), collect_summary(conn))
    assert "published plan: run run-2" in out and "NOT PUBLISHED" not in out


def test_after_a_run_that_did_not_publish_its_datas_assumptions_are_said_to_be_its_own(conn, tmp_path):
    """A failed run rebuilt marts.dim_sku from a new catalogue: the summary counted its SKUs without terms under
    the last good plan's date, as if that plan had assumed them."""
    stage_plan(conn, "run-1", units=5)
    publish_plan(conn, "run-1", pd.Timestamp("2026-10-30").date(), TABLES)
    conn.execute("create schema marts")
    conn.execute("create table marts.dim_sku as select * from (values ('A', 'catalogue', 'SUP-1', 3.0, true)) "
                 "as t(sku, cost_basis, primary_supplier_id, unit_cost_eur, order_terms_assumed)")
    assumed = "assumed: MOQ n/a or pack size n/a for 1 SKU whose supplier line names none"
    out = format_summary(Settings.under(tmp_path), collect_summary(conn))
    assert f"\n{assumed}" in out and "did not publish" not in out  # published: the plan's own data

    stage_dbt_table(conn, "supply_chain_view", pd.DataFrame({"sku": ["A"], "units": [7]}), "run-2")
    out = format_summary(Settings.under(tmp_path), collect_summary(conn))
    said = out.split("\n")
    at = said.index("the latest data, of run run-2, which has not published (failed, or still running; the published "
                    "plan may rest on other figures):")
    assert said[at + 1].startswith(f"  {assumed}")
