"""The whole job on Spark builds the same tables as on DuckDB (issue 18).

One small generated merchant runs twice, at once. On Spark, `crossdock
spark-run` does the whole job in one process: every feed ingested (each file
read and checked by DuckDB, what it loads kept on Spark), the dbt project
built with `--target spark`, every Python step after dbt (backtest, forecast
and their checks, consensus, inventory plan, scenarios, compliance plan and
orders' landed cost, exceptions, the monthly view) and the publish. On
DuckDB, the same steps one by one: the ingest assets, `dbt build --target
local`, `crossdock spark-plan --engine duckdb`. Both stage the published
models in plan_next, as a run of the job does.

Every source the ingest kept, every table dbt builds (seeds, reference,
intermediate, marts, publish) and every table the Python steps stage must
agree: the same rows, the same nulls and distinct values per column, and the
same sums to rounding. Spark's managed tables are Parquet folders, so DuckDB
reads both sides and no second JVM is needed. Then each engine has published
the whole plan.

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

import duckdb
import pytest

from crossdock.dbt_cli import dbt_executable
from crossdock.settings import DBT_PROJECT_DIR, PATH_VARIABLES, PROJECT_ROOT, Settings, settings_variables
from crossdock.spark_build import model_sources

try:
    from spark_support import java_or_skip, small_merchant
except ImportError:  # tests/ imported as a package
    from tests.spark_support import java_or_skip, small_merchant

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REL_TOLERANCE = 1e-9  # sums of doubles added in another order
ABS_TOLERANCE = 1e-6


def _ingest_on_duckdb(settings: Settings) -> None:
    """The steps before dbt on the DuckDB file, from the project's own definitions (`cli.spark.run_ingest_steps`)."""
    from cli.spark import run_ingest_steps

    with pytest.MonkeyPatch.context() as env:
        for var in PATH_VARIABLES:
            env.delenv(var, raising=False)
        outcome = run_ingest_steps(settings, "duckdb")
    assert outcome["success"], outcome


def _environment(settings: Settings, spark_home: Path) -> dict[str, str]:
    return {
        **os.environ, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
        "CROSSDOCK_SPARK_HOME": str(spark_home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def _own_folders(root: Path, engine: str) -> dict[str, str]:
    """Each engine's model and plot folders: the two plans run at once."""
    return {"CROSSDOCK_MODELS": str(root / engine / "models"), "CROSSDOCK_EXPORTS": str(root / engine / "exports")}


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    """The whole job on Spark (`crossdock spark-run`: ingest, dbt, the plan, publish) and, at the same time, the
    same steps on DuckDB (the ingest, `dbt build --target local`, `crossdock spark-plan --engine duckdb`)."""
    java_or_skip()
    root = tmp_path_factory.mktemp("spark")
    settings, spark_home = small_merchant(root)
    environment = _environment(settings, spark_home)
    spark_landing = root / "spark_landing"  # its own copy: an ingest moves the files it rejects
    shutil.copytree(settings.landing, spark_landing)
    spark = subprocess.Popen(
        [sys.executable, "-m", "cli", "spark-run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**environment, **_own_folders(root, "spark"), "CROSSDOCK_LANDING": str(spark_landing)}, cwd=PROJECT_ROOT,
    )
    try:
        _ingest_on_duckdb(settings)
        built = subprocess.run(
            [dbt_executable(), "build", "--target", "local", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(root / "duckdb_target")],
            env=environment, capture_output=True, text=True, cwd=PROJECT_ROOT,
        )
        assert built.returncode == 0, built.stdout[-3000:]
        duck = subprocess.run([sys.executable, "-m", "cli", "spark-plan", "--engine", "duckdb"], capture_output=True,
                              text=True, env={**environment, **_own_folders(root, "duckdb")}, cwd=PROJECT_ROOT)
        assert duck.returncode == 0, duck.stdout[-3000:] + duck.stderr[-6000:]
        out, err = spark.communicate(timeout=1500)
    finally:
        spark.kill()
    manifest = json.loads((spark_home / "dbt_target" / "manifest.json").read_text())
    return {"settings": settings, "root": root, "spark_home": spark_home, "manifest": manifest, "spark_returncode": spark.returncode,
            "spark_out": out, "spark_err": err, "spark": _last_json(out) if spark.returncode in (0, 1) else {},
            "duckdb": _last_json(duck.stdout)}


PLAN_STEP_TABLES = (
    "forecast_accuracy", "forecast_backtest", "demand_forecast", "forecast_totals",  # the forecast
    "demand_plan", "forecast_overrides", "forecast_value_added",  # the consensus
    "inventory_plan", "inventory_projection", "service_level_tradeoff", "transfer_recommendations", "service_classes",
    "scenario_impact",
    "compliance_plan", "order_landed_cost", "exceptions", "sop_monthly",  # compliance and S&OP
)


@pytest.fixture(scope="module")
def plan_steps(both_engines):
    """What the steps after dbt did on each engine: materialized, checks, seconds."""
    assert both_engines["spark_returncode"] == 0, both_engines["spark_out"][-3000:] + both_engines["spark_err"][-6000:]
    return {"duckdb": both_engines["duckdb"], "spark": both_engines["spark"]["plan"]}


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


def test_spark_run_ingests_builds_every_seed_model_and_test_and_publishes(both_engines):
    assert both_engines["spark_returncode"] == 0, both_engines["spark_out"][-4000:] + both_engines["spark_err"][-6000:]
    outcome = both_engines["spark"]
    assert outcome["ingest"]["success"] and outcome["dbt"]["ok"] and outcome["plan"]["success"], outcome
    assert not outcome["dbt"]["failed"]
    nodes = both_engines["manifest"]["nodes"].values()
    assert sum(node["resource_type"] in ("seed", "model", "test") for node in nodes) > 100


def test_the_sources_ingested_on_spark_equal_duckdbs(both_engines):
    """What the ingest keeps on Spark (feeds/kept_rows.py) is what it keeps in the DuckDB file, but the load time."""
    sources = model_sources(both_engines["manifest"])
    assert "raw.orders" in sources and "config.markets" in sources and "reference.fx_rates" in sources
    mismatches = {}
    with duckdb.connect(str(both_engines["settings"].warehouse), read_only=True) as conn:
        for table in [*sources, "audit.ingest_ledger", "audit.quarantine"]:
            schema, name = table.split(".")
            folder = both_engines["spark_home"] / "tables" / f"{schema}.db" / name
            duck_profile = _profile(conn, table)
            if not any(folder.glob("*.parquet")):  # a table Spark never wrote a row to has no file
                assert duck_profile["rows"] == 0, f"{table}: {duck_profile['rows']} rows on DuckDB, none on Spark"
                continue
            spark_profile = _profile(conn, f"read_parquet('{folder}/*.parquet')")
            # when it was loaded, and from where: each engine reads its own copy of the landing folder
            for column in ("_ingested_at", "ingested_at", "quarantined_at", "file_path"):
                spark_profile.pop(column, None), duck_profile.pop(column, None)
            if found := _differences(duck_profile, spark_profile):
                mismatches[table] = found
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


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
    expected = sorted([*(f"publish/{table}" for table in (*PLAN_STEP_TABLES, "plan_runs")), "exports/bi_publish_copies"])
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


def test_each_engine_copies_the_published_plan_for_bi_alike(both_engines, plan_steps):
    """The BI copies (crossdock/bi_export.py) from Spark have the tables, rows and column types of DuckDB's."""
    copies = {engine: both_engines["root"] / engine / "exports" / "bi" / "parquet" for engine in ("duckdb", "spark")}
    assert sorted(p.name for p in copies["spark"].glob("*.parquet")) == sorted(p.name for p in copies["duckdb"].glob("*.parquet"))
    differing = {}
    for parquet in sorted(copies["duckdb"].glob("*.parquet")):
        described = [duckdb.sql(f"describe select * from '{folder / parquet.name}'").fetchall() for folder in copies.values()]
        counts = [duckdb.sql(f"select count(*) from '{folder / parquet.name}'").fetchall()[0][0] for folder in copies.values()]
        if described[0] != described[1] or counts[0] != counts[1]:
            differing[parquet.stem] = {"rows": counts, "types": [d for d in described[0] if d not in described[1]]}
    assert not differing, differing
