"""`crossdock run` with CROSSDOCK_WAREHOUSE_ENGINE=spark (the Dagster job daily_planning on Spark) and `crossdock
spark-build` (the dbt project alone on a local Spark session, its sources copied from the DuckDB file)."""
from __future__ import annotations

import contextlib
import os
import sys

from crossdock.settings import Settings

INSTALL_HINT = (
    "the Spark target needs pyspark and dbt-spark (pip install -e '.[spark]') and Java 17 "
    "(Debian: apt-get install openjdk-17-jre-headless); see docs/spark.md"
)


def without_spark(command: str, with_dbt: bool = True) -> bool:
    """Whether pyspark (and dbt-spark, which the dbt builds need) is missing; says what to install when it is."""
    try:
        import pyspark  # noqa: F401
        if with_dbt:
            from dbt.adapters import spark as _spark_adapter  # noqa: F401
    except ImportError as missing:
        print(f"crossdock {command}: {missing}; {INSTALL_HINT}", flush=True)
        return True
    return False


def catalogue_held_elsewhere(command: str) -> bool:
    """Whether another process has the local Spark catalogue open, so `crossdock <command>`'s own session could not
    open it; says what to do when it has (`refuse_a_catalogue_in_use`). A process told to ask a metastore service
    is never held back."""
    from crossdock.spark_metastore import refuse_a_catalogue_in_use

    try:
        refuse_a_catalogue_in_use(f"crossdock {command}", unless_served=True)
    except RuntimeError as error:
        print(error, flush=True)
        return True
    return False


def spark_build(settings: Settings, plan_schema: str = "publish") -> int:
    """Build on Spark and print the sources copied, dbt's result per kind of node and the time of each step."""
    if without_spark("spark-build"):
        return 2
    if not settings.warehouse.exists():
        print(f"crossdock spark-build: no warehouse at {settings.warehouse}: run `crossdock run` first, "
              "the sources are copied from it", flush=True)
        return 2
    from crossdock.spark import spark_home
    from crossdock.spark_build import build_on_spark

    print(f"building the dbt project on Spark (tables and catalogue in {spark_home()}; published models in "
          f"{plan_schema})", flush=True)
    build = build_on_spark(settings, plan_schema)
    rows = sum(build.sources.values())
    print(f"  sources copied from DuckDB: {len(build.sources)} tables, {rows:,} rows", flush=True)
    by_kind: dict[str, dict[str, int]] = {}
    for node, status in build.statuses.items():
        counts = by_kind.setdefault(node.split(".")[0], {})
        counts[status] = counts.get(status, 0) + 1
    for kind, counts in sorted(by_kind.items()):
        print(f"  dbt {kind}s: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())), flush=True)
    print("  " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in build.seconds.items()), flush=True)
    for node in build.failed():
        print(f"  ! {node}: {build.statuses[node]}", flush=True)
    return 0 if build.ok else 1


def run_ingest_steps(settings: Settings, engine: str) -> dict[str, object]:
    """Materialize the steps before dbt on `engine`, in this process: every feed's ingest, the merchant's config and
    the ECB rates.

    The sources of `crossdock spark-build`'s comparison of dbt alone on both
    engines (bench/engines.py), loaded by the job's own assets without the rest
    of the job. Returns whether it succeeded, the tables materialized and the seconds.
    """
    import time

    import dagster as dg

    from cli.run import record_failures
    from orchestration.definitions import build_definitions
    from orchestration.defs.ingest.assets import INGEST_ASSETS
    from orchestration.defs.ingest.merchant_config import merchant_network
    from orchestration.defs.reference.assets import FX_RATES
    from orchestration.lib.resources import build_resources
    from orchestration.lib.retries import WarehouseResource

    started = time.perf_counter()
    steps = [key for assets in (*INGEST_ASSETS, merchant_network) for key in assets.keys] + [FX_RATES]
    definitions = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*definitions.assets, *definitions.asset_checks],
        # without checks: dbt's tests of its sources (reference.fx_rates) are checks of these assets, and dbt runs them
        selection=dg.AssetSelection.assets(*steps).without_checks(),
        resources={**build_resources(settings), "warehouse": WarehouseResource(database=str(settings.warehouse), engine=engine)},
        instance=instance, raise_on_error=False,
    )
    if not result.success:  # in the warehouse the steps ran on, as `crossdock run` records its failed runs
        record_failures(settings, instance, [result.run_id], engine)
    return {
        "success": result.success,
        "materialized": sorted({event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}),
        "seconds": round(time.perf_counter() - started, 1),
    }


def run_job_on_spark(settings: Settings, as_of: str | None, force: bool = False, last_cycle: bool = False) -> int:
    """`crossdock run` (and `crossdock demo`, `last_cycle` its --last-cycle) with CROSSDOCK_WAREHOUSE_ENGINE=spark:
    the Dagster job daily_planning on Spark, in this process.

    The same job and definitions as on DuckDB, every step on the warehouse
    resource's Spark session and the dbt step on `--target spark`. Its dbt
    step runs dbt-spark in a subprocess beside this process's session, so a
    metastore service must serve the catalogue: the one
    CROSSDOCK_SPARK_METASTORE_URI names (checked first, so a run whose service
    is down fails in a second, not after the ingest), else one served for this
    run alone. As on DuckDB, a plan already published on Spark from the same
    inputs is not made again unless `force`. The summary is read from the tables on Spark while the
    catalogue is still served, as `crossdock summary` reads them later.
    """
    if without_spark("run"):
        return 2
    from cli.run import make_the_plan
    from cli.summary import print_summary
    from crossdock.spark import spark_home, spark_log
    from crossdock.spark_metastore import METASTORE_URI_VARIABLE, metastore_for_this_process

    if not os.environ.get(METASTORE_URI_VARIABLE, "").strip():
        print(f"no {METASTORE_URI_VARIABLE}: serving the catalogue of {spark_home()} for this run "
              "(`crossdock spark-serve` keeps one for many processes: the UI, the daemon)", flush=True)
    with contextlib.ExitStack() as service:
        try:
            uri = service.enter_context(metastore_for_this_process(
                "the job's dbt step runs dbt-spark in a process of its own beside this one's Spark session"))
        except (RuntimeError, ValueError) as error:  # a service named that does not answer, or one that would not start
            print(f"crossdock run: {error}", file=sys.stderr, flush=True)
            return 2
        print(f"the daily_planning job on Spark: tables in {spark_home()}, catalogue served at {uri}; "
              f"Spark's own warnings go to {spark_log()}", flush=True)
        ok = make_the_plan(settings, as_of, force, last_cycle)
        print_summary(settings)  # what publish holds: this run's plan, or the last good one when it failed
    print(f"the plan is published on Spark, in schema publish ({spark_home() / 'tables' / 'publish.db'})"
          if ok else "the run on Spark failed: see the log above", flush=True)
    return 0 if ok else 1
