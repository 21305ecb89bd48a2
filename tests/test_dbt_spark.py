"""The same dbt project, and the same forecast steps, on Spark build the same tables as on DuckDB (issue 18).

One small generated merchant is ingested by the real Dagster assets into a
DuckDB warehouse (its sources only). dbt then builds the project twice from
those sources: on DuckDB (`--target local`) and, through `crossdock
spark-build`, on a local Spark session (`--target spark`). Every table dbt
builds (seeds, reference, intermediate, marts, publish) must agree: the same
rows, the same nulls and distinct values per column, and the same sums to
rounding. Spark's managed tables are Parquet folders, so DuckDB reads both
sides and no second JVM is needed.

Both builds stage the published models in plan_next, as a run of the job does.
Then every Python step after dbt (backtest, forecast and their checks,
consensus, inventory plan, scenarios, compliance plan and orders' landed cost,
exceptions, the monthly view) runs from the product's definitions on each
engine (`crossdock spark-plan --engine spark|duckdb`, the warehouse resource's
`engine`): they read the tables each engine built and stage theirs there, and
every staged table must agree as well; then each engine publishes the plan.

Spark needs Java: without it the module skips, except under CI
(CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where a missing JVM fails.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crossdock.dbt_cli import dbt_executable
from crossdock.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, settings_variables
from demo.generate import generate
from demo.network import install_demo_config
from job_runs import PATH_VARIABLES

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REL_TOLERANCE = 1e-9  # sums of doubles added in another order
ABS_TOLERANCE = 1e-6


def _java_or_skip() -> None:
    if shutil.which("java") is None:
        message = "no Java on PATH: the Spark target needs Java 17 (Debian: openjdk-17-jre-headless)"
        if os.environ.get("CROSSDOCK_REQUIRE_SPARK") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _ingest_sources(settings: Settings, tables: list[str]) -> None:
    """Materialize only the assets that write the dbt sources, with the project's own definitions."""
    from orchestration.defs.automation.jobs import run_tags_for
    from orchestration.definitions import build_definitions
    from orchestration.lib.run_inputs import all_landing_files

    with pytest.MonkeyPatch.context() as env:
        for var in PATH_VARIABLES:
            env.delenv(var, raising=False)
        definitions = build_definitions(settings)
        selection = dg.AssetSelection.assets(*(dg.AssetKey(table.split(".")) for table in tables))
        keys = selection.required_multi_asset_neighbors().resolve(definitions.resolve_asset_graph())
        result = definitions.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=list(keys),
            tags=run_tags_for(all_landing_files(settings.landing)),
        )
    assert result.success


def _environment(settings: Settings, spark_home: Path) -> dict[str, str]:
    return {
        **os.environ, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
        "CROSSDOCK_SPARK_HOME": str(spark_home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    _java_or_skip()
    root = tmp_path_factory.mktemp("spark")
    settings, spark_home = Settings.under(root), root / "spark"
    generate(settings.landing, scale=0.05, seed=11)
    install_demo_config(settings.config)
    from crossdock.spark_build import model_sources
    from orchestration.lib.resources import dbt_project

    sources = model_sources(json.loads(dbt_project().manifest_path.read_text()))
    _ingest_sources(settings, sources)
    environment = _environment(settings, spark_home)

    duckdb_target = root / "duckdb_target"
    built = subprocess.run(
        [dbt_executable(), "build", "--target", "local", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(duckdb_target)],
        env=environment, capture_output=True, text=True, cwd=PROJECT_ROOT,
    )
    assert built.returncode == 0, built.stdout[-3000:]

    spark = subprocess.run([sys.executable, "-m", "cli", "spark-build", "--plan-schema", "plan_next"], env=environment, capture_output=True,
                           text=True, cwd=PROJECT_ROOT)
    manifest = json.loads((spark_home / "dbt_target" / "manifest.json").read_text())
    return {"settings": settings, "spark_home": spark_home, "spark": spark, "manifest": manifest, "sources": sources,
            "environment": environment, "root": root}


PLAN_STEP_TABLES = (
    "forecast_accuracy", "forecast_backtest", "demand_forecast", "forecast_totals",  # the forecast
    "demand_plan", "forecast_overrides", "forecast_value_added",  # the consensus
    "inventory_plan", "inventory_projection", "service_level_tradeoff", "transfer_recommendations", "service_classes",
    "scenario_impact",
    "compliance_plan", "order_landed_cost", "exceptions", "sop_monthly",  # compliance and S&OP
)


@pytest.fixture(scope="module")
def plan_steps(both_engines):
    """The plan steps run on each engine at once (two processes), each with its own model and plot folders."""
    assert both_engines["spark"].returncode == 0, "the Spark build failed: see the test of spark-build"
    runs = {}
    for engine in ("duckdb", "spark"):
        folders = {"CROSSDOCK_MODELS": str(both_engines["root"] / engine / "models"),
                   "CROSSDOCK_EXPORTS": str(both_engines["root"] / engine / "exports")}
        runs[engine] = subprocess.Popen(
            [sys.executable, "-m", "cli", "spark-plan", "--engine", engine],
            env={**both_engines["environment"], **folders}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=PROJECT_ROOT,
        )
    outcomes = {}
    for engine, run in runs.items():
        out, err = run.communicate(timeout=1200)
        assert run.returncode == 0, f"{engine}: {out[-3000:]}{err[-6000:]}"
        outcomes[engine] = json.loads(out.strip().splitlines()[-1])
    return outcomes


def _tables(manifest: dict) -> list[tuple[str, str]]:
    """(schema, name) of every table dbt builds: seeds and table models (views are not stored)."""
    return sorted(
        (node["schema"], node["alias"]) for node in manifest["nodes"].values()
        if node["resource_type"] == "seed"
        or (node["resource_type"] == "model" and node["config"]["materialized"] == "table")
    )


def _profile(conn: duckdb.DuckDBPyConnection, relation: str) -> dict:
    """Rows, then per column: nulls, distinct values, and the sum of a number or the min/max of anything else."""
    columns = conn.sql(f"describe select * from {relation}").fetchall()
    parts = ["count(*)"]
    for name, kind, *_ in columns:
        column = f'"{name}"'
        parts += [f"count(*) - count({column})", f"count(distinct {column})"]
        if any(word in kind for word in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL")):
            parts.append(f"sum(cast({column} as double))")
        elif "STRUCT" in kind or "[]" in kind or "MAP" in kind:
            parts.append("null")
        else:
            # an instant as UTC wall time: DuckDB keeps timestamptz, Spark's Parquet reads back without the zone
            value = f"timezone('UTC', {column})" if "TIME ZONE" in kind else column
            parts.append(f"cast(min({value}) as varchar) || ' .. ' || cast(max({value}) as varchar)")
    [values] = conn.execute(f"select {', '.join(parts)} from {relation}").fetchall()
    profile = {"rows": values[0]}
    for index, (name, *_rest) in enumerate(columns):
        profile[name] = values[1 + 3 * index: 4 + 3 * index]
    return profile


def _differences(duck: dict, spark: dict) -> list[str]:
    found = []
    if duck["rows"] != spark["rows"]:
        return [f"rows {duck['rows']} on DuckDB, {spark['rows']} on Spark"]
    if set(duck) != set(spark):
        return [f"columns differ: only on DuckDB {sorted(set(duck) - set(spark))}, only on Spark {sorted(set(spark) - set(duck))}"]
    for column in duck.keys() - {"rows"}:
        (duck_nulls, duck_distinct, duck_value), (spark_nulls, spark_distinct, spark_value) = duck[column], spark[column]
        if duck_nulls != spark_nulls:
            found.append(f"{column}: {duck_nulls} nulls on DuckDB, {spark_nulls} on Spark")
        if isinstance(duck_value, float) or isinstance(spark_value, float):
            if duck_value is None or spark_value is None or not math.isclose(duck_value, spark_value, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE):
                found.append(f"{column}: sum {duck_value} on DuckDB, {spark_value} on Spark")
        else:
            if duck_distinct != spark_distinct:
                found.append(f"{column}: {duck_distinct} distinct values on DuckDB, {spark_distinct} on Spark")
            if duck_value != spark_value:
                found.append(f"{column}: range {duck_value} on DuckDB, {spark_value} on Spark")
    return found


def test_spark_build_copies_the_sources_and_every_seed_model_and_test_passes(both_engines):
    spark = both_engines["spark"]
    assert spark.returncode == 0, spark.stdout[-4000:] + spark.stderr[-4000:]
    assert f"sources copied from DuckDB: {len(both_engines['sources'])} tables" in spark.stdout
    nodes = both_engines["manifest"]["nodes"].values()
    for kind, status in (("seed", "success"), ("model", "success"), ("test", "pass")):
        count = sum(node["resource_type"] == kind for node in nodes)
        assert f"dbt {kind}s: {count} {status}\n" in spark.stdout, spark.stdout


def test_every_table_dbt_builds_on_spark_equals_duckdbs(both_engines):
    tables = _tables(both_engines["manifest"])
    assert ("plan_next", "supply_chain_view") in tables and ("reference", "hs_codes") in tables
    mismatches = {}
    with duckdb.connect(str(both_engines["settings"].warehouse), read_only=True) as conn:
        for schema, name in tables:
            folder = both_engines["spark_home"] / "tables" / f"{schema}.db" / name
            spark_profile = _profile(conn, f"read_parquet('{folder}/*.parquet')")
            duck_profile = _profile(conn, f"{schema}.{name}")
            if found := _differences(duck_profile, spark_profile):
                mismatches[f"{schema}.{name}"] = found
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


def test_the_plan_steps_run_on_spark_as_on_duckdb(plan_steps):
    expected = sorted(f"publish/{table}" for table in (*PLAN_STEP_TABLES, "plan_runs"))
    for engine, outcome in plan_steps.items():
        assert outcome["success"] and outcome["materialized"] == expected, (engine, outcome)
    assert plan_steps["spark"]["checks"] == plan_steps["duckdb"]["checks"]
    assert plan_steps["spark"]["checks"]["publish/demand_forecast:forecast_quality_gate"] is True


def test_the_tables_the_plan_steps_stage_on_spark_equal_duckdbs(both_engines, plan_steps):
    mismatches, rows = {}, {}
    with duckdb.connect(str(both_engines["settings"].warehouse), read_only=True) as conn:
        for table in PLAN_STEP_TABLES:
            folder = both_engines["spark_home"] / "tables" / "plan_next.db" / table
            spark_profile = _profile(conn, f"read_parquet('{folder}/*.parquet')")
            duck_profile = _profile(conn, f"plan_next.{table}")
            rows[table] = duck_profile["rows"]
            if found := _differences(duck_profile, spark_profile):
                mismatches[table] = found
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)
    # value added stays empty until a cycle has actuals; the others hold this run's plan
    assert all(rows[table] > 0 for table in ("demand_forecast", "demand_plan", "inventory_plan", "scenario_impact")), rows


def test_each_engine_publishes_the_whole_plan_it_staged(both_engines, plan_steps):
    """publish.plan_runs names one plan on each engine, and every plan table is in schema publish as staged."""
    from crossdock.publish import plan_tables

    spark_tables = both_engines["spark_home"] / "tables"
    with duckdb.connect(str(both_engines["settings"].warehouse), read_only=True) as conn:
        def rows(relation: str) -> int:
            return conn.execute(f"select count(*) from {relation}").fetchone()[0]

        def on_spark(schema: str, table: str) -> int:
            return rows(f"read_parquet('{spark_tables / f'{schema}.db' / table}/*.parquet')")

        assert on_spark("publish", "plan_runs") == rows("publish.plan_runs") == 1
        for table in plan_tables():
            staged_rows = rows(f"plan_next.{table}")
            assert on_spark("publish", table) == on_spark("plan_next", table) == rows(f"publish.{table}") == staged_rows, table
