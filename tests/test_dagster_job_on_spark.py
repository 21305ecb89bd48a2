"""The Dagster job daily_planning runs on Spark and builds the same tables as on DuckDB (issue 18).

One switch, CROSSDOCK_WAREHOUSE_ENGINE=spark, puts the whole job on Spark:
the ingest keeps its rows there (each file read and checked by DuckDB:
feeds/kept_rows.py), the dbt step runs `dbt build --target spark` (dbt-spark
in dagster-dbt's subprocess) and the Python steps read and write through the
Spark warehouse. The dbt subprocess and the job's own session are two JVMs on
one catalogue, so a metastore service serves it (crossdock/spark_metastore.py):
`crossdock run` starts one for its run when the environment names none.

One small generated merchant runs through `crossdock run` twice, at once: on
Spark and on DuckDB, each from its own copy of the landing folder (an ingest
moves the files it rejects), its own Dagster instance, model and export
folders. Both runs must succeed with the same assets materialized and every
check judging alike; then every source the ingest kept, every table dbt builds
(seeds, reference, intermediate, marts, the published models staged in
plan_next) and every table the Python steps stage must agree: the same rows,
the same nulls and distinct values per column, and the same sums to rounding.
Spark's managed tables are Parquet folders, so DuckDB reads both sides and the
test needs no JVM of its own. Each engine publishes the whole plan it staged,
and the BI copies agree. A run on Spark never makes the DuckDB file.

A second run with nothing new reads the plan published on Spark, through a
service the test starts as a deployment would, and runs nothing. A service
named that does not answer fails `crossdock run` at once, saying what to start.

Spark needs Java: without it the module skips, except under CI
(CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where a missing JVM fails.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from crossdock.settings import PROJECT_ROOT, Settings, settings_variables
from crossdock.spark_build import model_sources

try:
    from spark_support import free_port, java_or_skip, small_merchant
except ImportError:  # tests/ imported as a package
    from tests.spark_support import free_port, java_or_skip, small_merchant

pytestmark = [pytest.mark.slow, pytest.mark.spark]

REL_TOLERANCE = 1e-9  # sums of doubles added in another order
ABS_TOLERANCE = 1e-6
RUN_TIMEOUT = 1500

PLAN_STEP_TABLES = (
    "forecast_accuracy", "forecast_backtest", "demand_forecast", "forecast_totals",  # the forecast
    "demand_plan", "forecast_overrides", "forecast_value_added",  # the consensus
    "inventory_plan", "inventory_projection", "service_level_tradeoff", "transfer_recommendations", "service_classes",
    "scenario_impact", "scenario_summary",
    "compliance_plan", "order_landed_cost", "exceptions", "sop_monthly",  # compliance and S&OP
)


def _environment(settings: Settings, spark_home: Path, engine: str) -> dict[str, str]:
    environment = {
        **os.environ, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
        "CROSSDOCK_SPARK_HOME": str(spark_home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "CROSSDOCK_WAREHOUSE_ENGINE": engine,
    }
    environment.pop("CROSSDOCK_SPARK_METASTORE_URI", None)
    return environment


def _crossdock_run(environment: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "run"], env=environment, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _spark_side(root: Path, duck: Settings) -> Settings:
    """The Spark run's own landing copy, Dagster instance, model and export folders; its DuckDB path must stay unmade."""
    own = dataclasses.replace(Settings.under(root / "on_spark"), config=duck.config)
    shutil.copytree(duck.landing, own.landing)
    return own


def _run_outcome(dagster_home: Path) -> dict:
    """What the one run in an instance did: the assets it materialized and each check's verdict."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        [run] = instance.get_runs()
        events = instance.all_logs(run.run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION,
                                                        dg.DagsterEventType.ASSET_CHECK_EVALUATION})
        materialized, checks = set(), {}
        for entry in events:
            event = entry.dagster_event
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialized.add(event.asset_key.to_user_string())  # a set: the forecast is materialized per market
            else:
                evaluation = event.event_specific_data
                checks[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"] = evaluation.passed
        return {"status": run.status.value, "materialized": sorted(materialized), "checks": checks}
    finally:
        instance.dispose()


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory) -> dict:
    """`crossdock run` of a small merchant with the engine spark (no service named: the command serves the
    catalogue for its run) and, at the same time, with the engine duckdb."""
    java_or_skip()
    root = tmp_path_factory.mktemp("job_on_both_engines")
    duck, spark_home = small_merchant(root)
    on_spark = _spark_side(root, duck)
    started = time.perf_counter()
    spark = subprocess.Popen([sys.executable, "-m", "cli", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=_environment(on_spark, spark_home, "spark"), cwd=PROJECT_ROOT)
    try:
        on_duckdb = _crossdock_run(_environment(duck, root / "unused_spark_home", "duckdb"), timeout=RUN_TIMEOUT)
        print(f"crossdock run on DuckDB: exit {on_duckdb.returncode} in {time.perf_counter() - started:.0f} s")
        out, err = spark.communicate(timeout=RUN_TIMEOUT)
    finally:
        spark.kill()
    print(f"crossdock run on Spark: exit {spark.returncode} in {time.perf_counter() - started:.0f} s\n{out[-6000:]}")
    from orchestration.lib.resources import dbt_project

    return {
        "duck": duck, "on_spark": on_spark, "root": root, "spark_home": spark_home,
        "manifest": json.loads(dbt_project().manifest_path.read_text()),
        "runs": {"duckdb": (on_duckdb.returncode, on_duckdb.stdout, on_duckdb.stderr), "spark": (spark.returncode, out, err)},
    }


@pytest.fixture(scope="module")
def runs(both_engines) -> dict[str, dict]:
    """Each engine's run, once both exited 0: its materializations and check verdicts from its Dagster instance."""
    for engine, (code, out, err) in both_engines["runs"].items():
        assert code == 0, f"crossdock run on {engine}: exit {code}\n{out[-4000:]}\n{err[-6000:]}"
    return {"duckdb": _run_outcome(both_engines["duck"].dagster_home),
            "spark": _run_outcome(both_engines["on_spark"].dagster_home)}


def _on_spark(both_engines: dict, schema: str, table: str) -> str:
    """A Spark table as DuckDB reads it: the Parquet files of its managed folder."""
    return f"read_parquet('{both_engines['spark_home'] / 'tables' / f'{schema}.db' / table}/**/*.parquet')"


def _has_files(both_engines: dict, schema: str, table: str) -> bool:
    return any((both_engines["spark_home"] / "tables" / f"{schema}.db" / table).rglob("*.parquet"))


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


def _mismatches(both_engines: dict, tables: list[tuple[str, str]], ignored: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Each table's differences between the DuckDB file and Spark's folders; a table Spark never wrote a row to has
    no file, and must be empty on DuckDB too."""
    found = {}
    with duckdb.connect(str(both_engines["duck"].warehouse), read_only=True) as conn:
        for schema, name in tables:
            duck_profile = _profile(conn, f"{schema}.{name}")
            if not _has_files(both_engines, schema, name):
                if duck_profile["rows"]:
                    found[f"{schema}.{name}"] = [f"{duck_profile['rows']} rows on DuckDB, none on Spark"]
                continue
            spark_profile = _profile(conn, _on_spark(both_engines, schema, name))
            for column in ignored:
                spark_profile.pop(column, None), duck_profile.pop(column, None)
            if differences := _differences(duck_profile, spark_profile):
                found[f"{schema}.{name}"] = differences
    return found


def _summary(out: str, roots: tuple[Path, ...]) -> list[str]:
    """The lines of the summary a command printed, with what differs by run rather than by plan made neutral: the
    run's id and time, and each side's own folders."""
    lines = out.splitlines()
    start = lines.index("=== crossdock summary ===")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("done in ", "the plan is published")))
    text = "\n".join(lines[start + 2:end])  # from the line after "warehouse: ...", which names the engine
    for root in roots:
        text = text.replace(str(root), "<root>")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<run>", text)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", text).splitlines()


def test_crossdock_run_on_spark_with_a_service_named_that_does_not_answer_says_what_to_start(tmp_path):
    """Before any JVM starts: the dbt step's dbt-spark could not open the catalogue the job's session holds."""
    environment = _environment(Settings.under(tmp_path), tmp_path / "spark", "spark")
    run = _crossdock_run({**environment, "CROSSDOCK_SPARK_METASTORE_URI": f"thrift://127.0.0.1:{free_port()}"}, timeout=120)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    assert "crossdock spark-serve" in run.stderr and "CROSSDOCK_SPARK_METASTORE_URI" in run.stderr, run.stderr


def test_the_dbt_step_refuses_another_engine_than_the_warehouses_and_spark_without_a_service(monkeypatch):
    """What a run launched from the UI or the schedule meets, checked before dbt starts (no JVM here)."""
    import dagster as dg

    from crossdock.dbt_cli import dbt_executable
    from crossdock.settings import DBT_PROJECT_DIR
    from orchestration.defs.dbt.assets import refuse_another_engine
    from orchestration.lib.resources import DbtCli
    from orchestration.lib.retries import WarehouseResource

    def dbt(target: str | None) -> DbtCli:
        return DbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                      dbt_executable=dbt_executable(), target=target)

    spark = WarehouseResource(database="unused.duckdb", engine="spark")
    refuse_another_engine(dbt(None), WarehouseResource(database="unused.duckdb"))  # DuckDB: the default target
    with pytest.raises(dg.Failure, match="builds target local .* warehouse engine is spark"):
        refuse_another_engine(dbt(None), spark)
    monkeypatch.delenv("CROSSDOCK_SPARK_METASTORE_URI", raising=False)
    with pytest.raises(dg.Failure, match="crossdock spark-serve.*CROSSDOCK_SPARK_METASTORE_URI"):
        refuse_another_engine(dbt("spark"), spark)
    monkeypatch.setenv("CROSSDOCK_SPARK_METASTORE_URI", f"thrift://127.0.0.1:{free_port()}")
    with pytest.raises(dg.Failure, match="no Spark metastore answers"):
        refuse_another_engine(dbt("spark"), spark)


def test_the_job_materializes_the_same_assets_and_checks_judge_alike_on_both_engines(both_engines, runs):
    assert runs["spark"]["status"] == runs["duckdb"]["status"] == "SUCCESS"
    assert runs["spark"]["materialized"] == runs["duckdb"]["materialized"]
    materialized = set(runs["spark"]["materialized"])
    assert {f"publish/{table}" for table in (*PLAN_STEP_TABLES, "plan_runs")} <= materialized, materialized
    assert {"raw/orders", "publish/supply_chain_view", "exports/bi_publish_copies"} <= materialized, materialized
    assert runs["spark"]["checks"] == runs["duckdb"]["checks"]
    assert runs["spark"]["checks"]["publish/demand_forecast:forecast_quality_gate"] is True
    assert len(runs["spark"]["checks"]) > 100  # dbt's tests are the dbt models' checks
    _, out, _ = both_engines["runs"]["spark"]
    assert "serving the catalogue" in out and ": success" in out and "the plan is published on Spark" in out


def test_the_sources_ingested_on_spark_equal_duckdbs(both_engines, runs):
    """What the ingest keeps on Spark (feeds/kept_rows.py) is what it keeps in the DuckDB file, but when it was
    loaded and from where: each engine reads its own copy of the landing folder."""
    sources = model_sources(both_engines["manifest"])
    assert "raw.orders" in sources and "config.markets" in sources and "reference.fx_rates" in sources
    tables = [tuple(table.split(".")) for table in [*sources, "audit.ingest_ledger", "audit.quarantine"]]
    mismatches = _mismatches(both_engines, tables, ignored=("_ingested_at", "ingested_at", "quarantined_at", "file_path"))
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


def test_every_table_dbt_builds_on_spark_equals_duckdbs(both_engines, runs):
    tables = _tables(both_engines["manifest"])
    assert ("plan_next", "supply_chain_view") in tables and ("reference", "hs_codes") in tables
    mismatches = _mismatches(both_engines, tables)
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)


def test_the_tables_the_plan_steps_stage_on_spark_equal_duckdbs(both_engines, runs):
    mismatches = _mismatches(both_engines, [("plan_next", table) for table in PLAN_STEP_TABLES])
    assert not mismatches, json.dumps(mismatches, indent=1, default=str)
    with duckdb.connect(str(both_engines["duck"].warehouse), read_only=True) as conn:
        rows = {table: conn.execute(f"select count(*) from plan_next.{table}").fetchone()[0] for table in PLAN_STEP_TABLES}
    # value added stays empty until a cycle has actuals; the others hold this run's plan
    assert all(rows[table] > 0 for table in ("demand_forecast", "demand_plan", "inventory_plan", "scenario_impact")), rows


def test_each_engine_publishes_the_whole_plan_it_staged(both_engines, runs):
    """publish.plan_runs names one plan on each engine, and every plan table is in schema publish as staged."""
    from crossdock.publish import plan_tables

    with duckdb.connect(str(both_engines["duck"].warehouse), read_only=True) as conn:
        def rows(relation: str) -> int:
            return conn.execute(f"select count(*) from {relation}").fetchone()[0]

        def on_spark(schema: str, table: str) -> int:
            return rows(_on_spark(both_engines, schema, table)) if _has_files(both_engines, schema, table) else 0

        assert on_spark("publish", "plan_runs") == rows("publish.plan_runs") == 1
        for table in plan_tables():
            staged_rows = rows(f"plan_next.{table}")
            assert on_spark("publish", table) == on_spark("plan_next", table) == rows(f"publish.{table}") == staged_rows, table
    assert not both_engines["on_spark"].warehouse.exists(), "a step opened the DuckDB file in a run on Spark"


def test_crossdock_run_prints_the_same_summary_on_both_engines(both_engines, runs):
    """The summary reads through the warehouse interface: the same figures from the tables on Spark as from the
    DuckDB file, and the header names where they are."""
    outs = {engine: out for engine, (_, out, _) in both_engines["runs"].items()}
    assert f"warehouse: on Spark, {both_engines['spark_home']}" in outs["spark"]
    assert f"warehouse: {both_engines['duck'].warehouse}" in outs["duckdb"]
    roots = (both_engines["on_spark"].models.parent, both_engines["duck"].models.parent, both_engines["root"])
    summaries = {engine: _summary(out, roots) for engine, out in outs.items()}
    assert any(line.startswith("forecast backtest weekly WAPE: LightGBM") for line in summaries["duckdb"])
    assert any(line.startswith("compliance: ") for line in summaries["duckdb"]), summaries["duckdb"]
    assert summaries["spark"] == summaries["duckdb"]


def test_each_engine_copies_the_published_plan_for_bi_alike(both_engines, runs):
    """The BI copies (crossdock/bi_export.py) from Spark have the tables, rows and column types of DuckDB's."""
    copies = {engine: settings.exports / "bi" / "parquet"
              for engine, settings in (("duckdb", both_engines["duck"]), ("spark", both_engines["on_spark"]))}
    assert sorted(p.name for p in copies["spark"].glob("*.parquet")) == sorted(p.name for p in copies["duckdb"].glob("*.parquet"))
    assert any(copies["duckdb"].glob("*.parquet"))
    differing = {}
    for parquet in sorted(copies["duckdb"].glob("*.parquet")):
        described = [duckdb.sql(f"describe select * from '{folder / parquet.name}'").fetchall() for folder in copies.values()]
        counts = [duckdb.sql(f"select count(*) from '{folder / parquet.name}'").fetchall()[0][0] for folder in copies.values()]
        if described[0] != described[1] or counts[0] != counts[1]:
            differing[parquet.stem] = {"rows": counts, "types": [d for d in described[0] if d not in described[1]]}
    assert not differing, differing


_SPARK_LOG_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (WARN|INFO) ", re.MULTILINE)


def test_spark_keeps_its_warnings_in_its_own_log_whose_path_the_run_prints(both_engines, runs):
    """Spark's default profile printed 184 warnings between the steps' lines of this run ("Namespace raw was
    created concurrently"); they go to <Spark home>/logs/spark.log now (crossdock/spark_log4j2.properties)."""
    _code, out, err = both_engines["runs"]["spark"]
    assert not _SPARK_LOG_LINE.findall(out + err)
    log = both_engines["spark_home"] / "logs" / "spark.log"
    assert f"Spark's own warnings go to {log}" in out
    assert _SPARK_LOG_LINE.search(log.read_text())


def test_a_run_on_spark_with_nothing_new_reads_the_plan_published_there_and_stops(both_engines, runs):
    """The up-to-date check of `crossdock run` reads Spark's publish.plan_runs (through a service the deployment
    runs, here started by the test), so nothing is run again and the DuckDB file is still never made."""
    import dagster as dg

    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, start_metastore, stop_metastore

    on_spark, port = both_engines["on_spark"], free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CROSSDOCK_SPARK_HOME", str(both_engines["spark_home"]))
        service = start_metastore(port)
    try:
        again = _crossdock_run({**_environment(on_spark, both_engines["spark_home"], "spark"),
                                METASTORE_URI_VARIABLE: f"thrift://127.0.0.1:{port}"}, timeout=600)
        # not told of the service, a process that would open the catalogue itself is told what to do, without a JVM
        alone = subprocess.run([sys.executable, "-m", "cli", "summary"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               env=_environment(on_spark, both_engines["spark_home"], "spark"), timeout=120)
    finally:
        stop_metastore(service)
    assert "is open in another process" in alone.stdout and METASTORE_URI_VARIABLE in alone.stdout, alone.stdout
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "nothing new" in again.stdout and "serving the catalogue" not in again.stdout, again.stdout
    _, first, _ = both_engines["runs"]["spark"]
    roots = (on_spark.models.parent,)
    assert _summary(again.stdout, roots) == _summary(first, roots)  # read again through the deployment's service
    instance = dg.DagsterInstance.from_config(str(on_spark.dagster_home))
    try:
        assert len(instance.get_runs()) == 1
    finally:
        instance.dispose()
    assert not on_spark.warehouse.exists()

