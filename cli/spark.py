"""`crossdock spark-build`, `spark-plan` and `spark-run`: the job, or parts of it, on a local Spark session; and
`crossdock run` with CROSSDOCK_WAREHOUSE_ENGINE=spark: the Dagster job itself on Spark."""
from __future__ import annotations

import json
import sys

from crossdock.settings import Settings

INSTALL_HINT = (
    "the Spark target needs pyspark and dbt-spark (pip install -e '.[spark]') and Java 17 "
    "(Debian: apt-get install openjdk-17-jre-headless); see docs/spark.md"
)


def _without_spark(command: str, with_dbt: bool = True) -> bool:
    """Whether pyspark (and dbt-spark, which the dbt builds need) is missing; says what to install when it is."""
    try:
        import pyspark  # noqa: F401
        if with_dbt:
            from dbt.adapters import spark as _spark_adapter  # noqa: F401
    except ImportError as missing:
        print(f"crossdock {command}: {missing}; {INSTALL_HINT}", flush=True)
        return True
    return False


def spark_build(settings: Settings, plan_schema: str = "publish") -> int:
    """Build on Spark and print the sources copied, dbt's result per kind of node and the time of each step."""
    if _without_spark("spark-build"):
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


def run_plan_steps(settings: Settings, engine: str) -> dict[str, object]:
    """Materialize every Python step after dbt, on `engine`, in this process, and publish the plan.

    The backtest and forecast (with their checks), the consensus demand plan,
    the inventory plan, the scenarios, the compliance plan with the orders'
    landed cost, the exceptions, the monthly S&OP view and the publish step,
    from the definitions the product loads, with the warehouse resource on
    `engine`: they read the tables the dbt build left there (on Spark:
    `crossdock spark-build --plan-schema plan_next`), stage theirs beside them,
    the publish step copies the whole plan into schema publish, and the BI
    copies are made from it (CROSSDOCK_EXPORTS/bi). The dbt
    models are recorded as built before this run in its (ephemeral) instance,
    so the publish step's check that plan_next is one plan sees them.
    Returns whether the run succeeded, the tables materialized, each check's
    verdict and the seconds.
    """
    import dagster as dg

    from orchestration.defs.compliance.assets import COMPLIANCE_PLAN, ORDER_LANDED_COST
    from orchestration.defs.forecast.assets import ACCURACY, BACKTEST, FORECAST, TOTALS
    from orchestration.defs.planning.assets import TABLES as PLAN_TABLES
    from orchestration.defs.publish.assets import PUBLISHED_PLAN
    from orchestration.defs.publish.bi import BI_EXPORTS
    from orchestration.defs.sop.assets import DEMAND_PLAN, OVERRIDES, VALUE_ADDED
    from orchestration.defs.sop.exceptions import EXCEPTIONS
    from orchestration.defs.sop.monthly import SOP_MONTHLY

    steps = [ACCURACY, BACKTEST, FORECAST, TOTALS, DEMAND_PLAN, OVERRIDES, VALUE_ADDED, *PLAN_TABLES,
             dg.AssetKey(["publish", "scenario_impact"]), COMPLIANCE_PLAN, ORDER_LANDED_COST, EXCEPTIONS, SOP_MONTHLY,
             PUBLISHED_PLAN, BI_EXPORTS]
    return _materialize(settings, engine, steps, dbt_built_before=True)


def run_ingest_steps(settings: Settings, engine: str) -> dict[str, object]:
    """Materialize the steps before dbt on `engine`: every feed's ingest, the merchant's config and the ECB rates."""
    import dagster as dg

    from orchestration.defs.ingest.assets import INGEST_ASSETS
    from orchestration.defs.ingest.merchant_config import merchant_network
    from orchestration.defs.reference.assets import FX_RATES

    steps = [key for assets in (*INGEST_ASSETS, merchant_network) for key in assets.keys] + [FX_RATES]
    # without checks: dbt's tests of its sources (reference.fx_rates) are checks of these assets, and dbt runs them
    return _materialize(settings, engine, dg.AssetSelection.assets(*steps).without_checks(), dbt_built_before=False)


def _materialize(settings: Settings, engine: str, steps: object, dbt_built_before: bool) -> dict[str, object]:
    """Materialize `steps` (asset keys, or an AssetSelection) from the product's definitions with the warehouse on `engine`, in this process."""
    import time

    import dagster as dg

    from cli.run import record_failures
    from orchestration.definitions import build_definitions
    from orchestration.defs.dbt.assets import dbt_model_assets
    from orchestration.lib.market_partitions import every_market_tags
    from orchestration.lib.resources import build_resources
    from orchestration.lib.retries import WarehouseResource

    started = time.perf_counter()
    definitions = build_definitions(settings)
    warehouse = WarehouseResource(database=str(settings.warehouse), engine=engine)
    instance = dg.DagsterInstance.ephemeral()
    if dbt_built_before:
        for key in dbt_model_assets().keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, description="built by dbt before the plan steps"))
    result = dg.materialize(
        [*definitions.assets, *definitions.asset_checks], selection=steps,
        resources={**build_resources(settings), "warehouse": warehouse}, instance=instance, raise_on_error=False,
        tags=every_market_tags(instance, settings.config),
    )
    if not result.success:  # in the warehouse the steps ran on, as `crossdock run` records its failed runs
        record_failures(settings, instance, [result.run_id], engine)
    return {
        "success": result.success,
        # a set: the forecast is materialized once per market partition
        "materialized": sorted({event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}),
        "checks": {f"{check.asset_key.to_user_string()}:{check.check_name}": check.passed
                   for check in result.get_asset_check_evaluations()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def spark_run(settings: Settings) -> int:
    """The whole job on the local Spark session, from the landing folder: ingest, dbt, every step after it, publish.

    One process, so dbt and the steps share the session's JVM (a local Derby
    catalogue admits one). Prints each stage and ends with a JSON line.
    """
    if _without_spark("spark-run"):
        return 2
    from crossdock.spark import spark_home
    from crossdock.spark_build import build_on_spark

    print(f"running the whole job on Spark (tables and catalogue in {spark_home()}) from {settings.landing}", flush=True)
    ingest = run_ingest_steps(settings, "spark")
    print(f"  ingest: {len(ingest['materialized'])} tables in {ingest['seconds']:.0f} s"
          f"{'' if ingest['success'] else '; a step failed: see the log above'}", flush=True)
    outcome: dict[str, object] = {"ingest": ingest}
    if ingest["success"]:
        build = build_on_spark(settings, "plan_next", copy_sources=False)
        outcome["dbt"] = {"ok": build.ok, "failed": build.failed(), "seconds": round(build.seconds["dbt build"], 1)}
        print(f"  dbt build: {len(build.statuses)} nodes, {len(build.failed())} failed, "
              f"{build.seconds['dbt build']:.0f} s", flush=True)
        if build.ok:
            plan = run_plan_steps(settings, "spark")
            outcome["plan"] = plan
            _print_plan(plan)
    print(json.dumps(outcome), flush=True)
    return 0 if outcome.get("plan", {}).get("success") else 1


def _print_plan(outcome: dict[str, object]) -> None:
    print(f"  staged: {', '.join(outcome['materialized']) or 'nothing'}", flush=True)
    for check, passed in sorted(outcome["checks"].items()):
        print(f"  check {check}: {'passed' if passed else 'FAILED'}", flush=True)
    print(f"  plan steps {outcome['seconds']:.0f} s; {'done' if outcome['success'] else 'a step failed: see the log above'}",
          flush=True)


def spark_plan(settings: Settings, engine: str = "spark") -> int:
    """Run the plan steps on Spark (or DuckDB, to compare) and publish: print what they staged and how their checks
    judged it."""
    if engine == "spark":
        if _without_spark("spark-plan", with_dbt=False):
            return 2
        from crossdock.spark import spark_home

        where = f"Spark (tables in {spark_home()})"
    else:
        where = f"DuckDB ({settings.warehouse})"
    print(f"running the plan steps on {where}, staged in plan_next, then published", flush=True)
    outcome = run_plan_steps(settings, engine)
    _print_plan(outcome)
    print(json.dumps(outcome), flush=True)  # the whole outcome, for scripts (tests/test_dbt_spark.py, bench/engines.py)
    return 0 if outcome["success"] else 1


def run_job_on_spark(settings: Settings, as_of: str | None) -> int:
    """`crossdock run` with CROSSDOCK_WAREHOUSE_ENGINE=spark: the Dagster job daily_planning on Spark, in this process.

    The same job and definitions as on DuckDB, every step on the warehouse
    resource's Spark session and the dbt step on `--target spark`. Its dbt
    step runs dbt-spark in a subprocess beside this process's session, so a
    metastore service must serve the catalogue: checked here first, so a run
    without one fails in a second and not after the ingest. Always runs: the
    up-to-date check of `crossdock run` reads the DuckDB file's plan, and so
    does its summary, which is not printed.
    """
    if _without_spark("run"):
        return 2
    from crossdock.spark import spark_home
    from crossdock.spark_metastore import require_metastore

    try:
        uri = require_metastore("the job's dbt step runs dbt-spark in a process of its own beside this one's Spark session")
    except (RuntimeError, ValueError) as error:
        print(f"crossdock run: {error}", file=sys.stderr, flush=True)
        return 2
    from cli.run import run_planning_job

    print(f"the daily_planning job on Spark: tables in {spark_home()}, catalogue served at {uri}", flush=True)
    ok = run_planning_job(settings, as_of, force=True)
    print(f"the plan is published on Spark, in schema publish ({spark_home() / 'tables' / 'publish.db'}); "
          "`crossdock summary` reads the DuckDB file" if ok else "the run on Spark failed: see the log above", flush=True)
    return 0 if ok else 1
