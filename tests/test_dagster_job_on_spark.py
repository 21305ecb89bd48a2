"""The Dagster job daily_planning runs end to end on Spark, from the same definitions as on DuckDB (issue 18).

One switch, CROSSDOCK_WAREHOUSE_ENGINE=spark, puts the whole job on Spark:
the ingest keeps its rows there, the dbt step runs `dbt build --target
spark` (dbt-spark in dagster-dbt's subprocess) and the Python steps read and
write through the Spark warehouse. The dbt subprocess and the job's own
session are two JVMs on one catalogue, so a metastore service serves it
(crossdock/spark_metastore.py), started here on a throwaway catalogue.

A small generated merchant (test_dbt_spark.py's) runs through `crossdock run`,
which executes the job in its process (the in-process executor: every step
shares the one session), and the plan must be published on Spark:
publish.plan_runs names one run and every plan table in publish holds the
rows staged in plan_next. Spark's managed tables are Parquet folders, so
DuckDB reads them and the test needs no JVM of its own; the DuckDB file is
never made.

Without a service named, `crossdock run` on Spark fails at once and says what
to start.

Spark needs Java: without it the module skips, except under CI
(CROSSDOCK_REQUIRE_SPARK=1, set by .ci/run), where a missing JVM fails.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from crossdock.settings import PROJECT_ROOT, Settings, settings_variables

try:
    from spark_support import free_port, java_or_skip, small_merchant
except ImportError:  # tests/ imported as a package
    from tests.spark_support import free_port, java_or_skip, small_merchant

pytestmark = [pytest.mark.slow, pytest.mark.spark]

ENGINE = {"CROSSDOCK_WAREHOUSE_ENGINE": "spark"}


def _environment(settings: Settings, spark_home: Path) -> dict[str, str]:
    environment = {
        **os.environ, **settings_variables(settings), **ENGINE, "DAGSTER_HOME": str(settings.dagster_home),
        "CROSSDOCK_SPARK_HOME": str(spark_home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    environment.pop("CROSSDOCK_SPARK_METASTORE_URI", None)
    return environment


def _crossdock_run(environment: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "run"], env=environment, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def job_on_spark(tmp_path_factory) -> Iterator[dict]:
    """A metastore service over a throwaway Spark home, and `crossdock run` of a small merchant with the engine spark."""
    java_or_skip()
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, start_metastore, stop_metastore

    root = tmp_path_factory.mktemp("job_on_spark")
    settings, spark_home = small_merchant(root)
    environment = _environment(settings, spark_home)
    port = free_port()
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CROSSDOCK_SPARK_HOME", str(spark_home))
        service = start_metastore(port)
    print(f"metastore up in {time.perf_counter() - started:.1f} s")
    try:
        started = time.perf_counter()
        run = _crossdock_run({**environment, METASTORE_URI_VARIABLE: f"thrift://127.0.0.1:{port}"}, timeout=1500)
        seconds = time.perf_counter() - started
        print(f"crossdock run on Spark: exit {run.returncode} in {seconds:.0f} s\n{run.stdout[-6000:]}")
        yield {"settings": settings, "spark_home": spark_home, "run": run}
    finally:
        stop_metastore(service)


def test_crossdock_run_on_spark_without_a_metastore_service_says_what_to_start(tmp_path):
    """Before any JVM starts: the dbt step's dbt-spark could not open the catalogue the job's session holds."""
    run = _crossdock_run(_environment(Settings.under(tmp_path), tmp_path / "spark"), timeout=120)
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


def test_the_daily_planning_job_publishes_the_plan_on_spark(job_on_spark):
    from crossdock.publish import plan_tables

    run = job_on_spark["run"]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
    assert "run " in run.stdout and ": success" in run.stdout
    tables = job_on_spark["spark_home"] / "tables"

    def rows(schema: str, table: str) -> int:
        folder = tables / f"{schema}.db" / table
        if not any(folder.glob("*.parquet")) and not any(folder.glob("*/*.parquet")):
            return 0
        [(count,)] = duckdb.sql(f"select count(*) from read_parquet('{folder}/**/*.parquet')").fetchall()
        return count

    assert rows("publish", "plan_runs") == 1
    published = {table: rows("publish", table) for table in plan_tables()}
    staged = {table: rows("plan_next", table) for table in plan_tables()}
    assert published == staged
    # dbt's tables (the supply chain view), the forecast, the consensus and the plans hold this run's plan
    assert all(published[table] > 0 for table in (
        "supply_chain_view", "demand_forecast", "demand_plan", "inventory_plan", "scenario_impact")), published
    assert rows("raw", "orders") > 0 and rows("audit", "ingest_ledger") > 0  # the ingest kept its rows on Spark
    assert not job_on_spark["settings"].warehouse.exists(), "a step opened the DuckDB file in a run on Spark"
