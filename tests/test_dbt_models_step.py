"""The Dagster step that runs `dbt build` (orchestration/defs/dbt/assets.py): what it reports, and what it skips.

The step reports every dbt test as an asset check (source tests too) and the
row count of every table from one query once dbt has exited; its dbt resource
(orchestration/lib/resources.py DbtCli) skips dagster-dbt's per-call `dbt
--version` and in-process adapter, which the step does not use. The whole
step runs in tests/test_end_to_end.py (every table's row count, every check).
"""
from __future__ import annotations

import json
import logging
import sys
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource
from orchestration.lib.retries import WarehouseResource
from packaging.version import Version

from crossdock.dbt_cli import dbt_executable
from crossdock.settings import DBT_PROJECT_DIR
from orchestration.defs.dbt.assets import FAILING_ROWS_SHOWN, with_failing_rows, with_row_counts
from orchestration.lib.resources import DbtCli

MANIFEST = {"nodes": {
    "model.crossdock.daily": {"schema": "marts", "name": "daily", "alias": "daily", "config": {"materialized": "table"}},
    "seed.crossdock.codes": {"schema": "reference", "name": "codes", "alias": "codes", "config": {"materialized": "seed"}},
    "model.crossdock.stg": {"schema": "staging", "name": "stg", "alias": "stg", "config": {"materialized": "view"}},
}}


def built(unique_id: str) -> dg.Output:
    return dg.Output(None, output_name=unique_id.split(".")[-1], metadata={"unique_id": unique_id})


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts; create schema reference; create schema staging")
        conn.execute("create table marts.daily as select range as day from range(5)")
        conn.execute("create table reference.codes as select 'x' as code")
        conn.execute("create view staging.stg as select * from marts.daily")
    return WarehouseResource(database=str(path))


def context():
    return SimpleNamespace(log=logging.getLogger("test_dbt_models_step"))


def row_count(event) -> int | None:
    value = event.metadata.get("dagster/row_count")
    return None if value is None else value.value


def test_every_table_and_seed_gets_its_row_count_and_views_and_checks_are_left_as_they_are(warehouse):
    check = dg.AssetCheckResult(asset_key=dg.AssetKey(["marts", "daily"]), check_name="not_null_daily_day", passed=True)
    events = [built("model.crossdock.daily"), built("model.crossdock.stg"), check, built("seed.crossdock.codes")]
    counted = with_row_counts(context(), events, MANIFEST, warehouse)
    assert [row_count(e) if isinstance(e, dg.Output) else e for e in counted] == [5, None, check, 1]
    assert counted[0].metadata["unique_id"].value == "model.crossdock.daily"  # dagster-dbt's own metadata is kept


def test_a_count_that_fails_leaves_the_events_as_dbt_sent_them(warehouse, caplog):
    events = [built("model.crossdock.daily")]
    missing = {"nodes": {"model.crossdock.daily": {**MANIFEST["nodes"]["model.crossdock.daily"], "alias": "gone"}}}
    with caplog.at_level(logging.WARNING):
        assert with_row_counts(context(), events, missing, warehouse) == events
    assert "row counts of the dbt tables not fetched" in caplog.text


def dbt_check(name: str, passed: bool) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["marts", "daily"]), check_name=name, passed=passed,
        metadata={"unique_id": f"test.crossdock.{name}.0"},
    )


def run_results(tmp_path: Path, compiled: dict[str, str]) -> Path:
    results = [
        {"unique_id": f"test.crossdock.{name}.0", "message": "Got 2 results, configured to fail if != 0", "compiled_code": sql}
        for name, sql in compiled.items()
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    return tmp_path


def test_a_failed_dbt_check_is_described_by_its_failing_rows_and_the_others_are_left_as_they_are(warehouse, tmp_path):
    """A merged test's check name does not say which column failed; its rows do, in the check's description."""
    failed, other_failed, passed = dbt_check("ranges", False), dbt_check("unknown", False), dbt_check("fine", True)
    target = run_results(tmp_path, {
        "ranges": "select 'day' as column_name, count(*) as failing_rows, min(day) as lowest_value"
        " from marts.daily where day > 2",
        "fine": "select * from marts.daily where false",
    })
    events = [built("model.crossdock.daily"), failed, other_failed, passed]
    described = with_failing_rows(context(), events, target, warehouse)
    assert described[0] is events[0] and described[2:] == [other_failed, passed]
    assert described[1].description == (
        "Got 2 results, configured to fail if != 0: column_name=day, failing_rows=2, lowest_value=3"
    )
    assert (described[1].check_name, described[1].passed, described[1].metadata) == ("ranges", False, failed.metadata)


def test_a_failed_check_quotes_its_first_rows_only(warehouse, tmp_path):
    target = run_results(tmp_path, {"wide": "select * from range(100) as t(n)"})
    [described] = with_failing_rows(context(), [dbt_check("wide", False)], target, warehouse)
    assert described.description.endswith(f"n={FAILING_ROWS_SHOWN - 1}; ...")
    assert described.description.count("n=") == FAILING_ROWS_SHOWN


def test_failing_rows_that_cannot_be_read_leave_the_check_as_dbt_sent_it(warehouse, tmp_path, caplog):
    events = [dbt_check("gone", False)]
    target = run_results(tmp_path, {"gone": "select * from marts.no_such_table"})
    with caplog.at_level(logging.WARNING):
        assert with_failing_rows(context(), events, target, warehouse) == events
    assert "failing rows of the failed dbt tests not fetched" in caplog.text


def test_dbt_source_tests_are_asset_checks_of_the_source_asset():
    """Not observations "executed due to dbt indirect selection": the checks of reference/fx_rates."""
    from orchestration.defs.dbt.assets import dbt_model_assets

    checks = {(k.asset_key.to_user_string(), k.name) for k in dbt_model_assets().check_keys}
    assert ("reference/fx_rates", "source_not_null_columns_reference_fx_rates") in checks
    assert {name for key, name in checks if name.startswith("source_")} == {
        "source_not_null_columns_reference_fx_rates",
        "source_unique_combination_of_columns_reference_fx_rates_rate_date__currency",
    }


def test_the_dbt_resource_knows_its_dbt_version_without_running_dbt():
    """DbtCli overrides two private members of dagster-dbt's resource: fail here if an upgrade renames them."""
    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), type(DbtCli.__dict__["_cli_version"]))
    assert callable(DbtCliResource.__dict__.get("_initialize_dbt_core_adapter"))
    assert Path(dbt_executable()).parent == Path(sys.executable).parent
    dbt = DbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
    assert dbt._cli_version == Version(version("dbt-core"))
    assert dbt._initialize_dbt_core_adapter(["build"]) is None


def test_a_step_dated_by_the_planning_calendar_says_to_ingest_orders_when_it_is_empty():
    """A merchant whose every orders file was rejected: the compliance plan failed with KeyError: Index(['day'])
    while the forecast said what to do. Every step dated by the calendar now says it alike."""
    from orchestration.lib.dbt_models import required_planning_date

    conn = duckdb.connect()
    conn.execute("create schema intermediate; create table intermediate.int_planning_calendar (calendar_date date)")
    with pytest.raises(dg.Failure, match=r"the compliance plan has no planning date: no order has been loaded .*"
                                         r"ingest some orders first \(landing/orders/\)"):
        required_planning_date(conn, "the compliance plan")
    conn.execute("insert into intermediate.int_planning_calendar values ('2026-10-30'), ('2026-10-31')")
    assert str(required_planning_date(conn, "the compliance plan")) == "2026-10-31"
