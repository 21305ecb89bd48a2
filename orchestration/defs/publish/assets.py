"""The publish step: after every plan asset (and the blocking checks before them), swap plan_next into publish.

Every asset keyed ["publish", <table>] builds its table into plan_next
(crossdock/publish.py says why); this asset alone writes schema publish, in
one transaction, and records the run in publish.plan_runs. When any plan
asset fails or a blocking check stops it, this asset does not run, and
publish keeps the last good plan whole.

The asset depends on every plan table dbt's yml declares, so it is built when
the definitions are (`published_plan_asset()`), not at import.
"""

from dataclasses import dataclass
from functools import cache

import dagster as dg

from crossdock.publish import PLAN_RUNS, PlanIncomplete, last_published, plan_tables, publish_plan, staged
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource
from orchestration.lib.run_inputs import INPUTS_TAG

PUBLISHED_PLAN = dg.AssetKey(["publish", PLAN_RUNS])


def plan_keys() -> list[dg.AssetKey]:
    """The asset keys of the plan tables the publish step copies (crossdock.publish.plan_tables)."""
    return [dg.AssetKey(["publish", table]) for table in plan_tables()]


@dataclass(frozen=True)
class StaleTable:
    """A plan table older than its inputs: `parent` rebuilt since by `runs`, or never built (`parent` None; `runs`
    then the runs that built its inputs last)."""

    table: dg.AssetKey
    parent: dg.AssetKey | None
    runs: frozenset[str]

    def __str__(self) -> str:
        if self.parent is None:
            return f"{self.table.to_user_string()} (never built)"
        return f"{self.table.to_user_string()} (older than {self.parent.to_user_string()} of run {min(self.runs)})"


def stale_plan_tables(context: dg.AssetExecutionContext) -> list[StaleTable]:
    """Plan tables whose last build is older than an input rebuilt by another run since.

    Such a plan_next mixes two plans (say, a run rebuilt the dbt models and
    failed before the forecast, and a later run materialized only the
    scenarios): publishing it would recreate the problem the staging solves.
    Within one run Dagster's step order already guarantees inputs come first.
    """
    graph = context.job_def.asset_layer.asset_graph  # set in every run, in process too (the repository is not)
    parents = {key: sorted(graph.get(key).parent_keys) for key in plan_keys()}
    # one lookup for every key: asked one key at a time, the ~100 keys cost ~100 event-log queries
    # (on SQLite each a connection opened and closed), ~2 s of a daily run
    latest = context.instance.get_latest_materialization_events({*parents, *(p for ps in parents.values() for p in ps)})
    stale = []
    for key, upstreams in parents.items():
        built = latest.get(key)
        if built is None:
            stale.append(StaleTable(key, None, frozenset(latest[p].run_id for p in upstreams if latest.get(p))))
            continue
        for parent in upstreams:
            upstream = latest.get(parent)
            if upstream and upstream.run_id != built.run_id and upstream.timestamp > built.timestamp:
                stale.append(StaleTable(key, parent, frozenset([upstream.run_id])))
    return stale


def older_than_their_inputs(context: dg.AssetExecutionContext) -> list[str]:
    """`stale_plan_tables`, as the lines the publish step's failure names."""
    return [str(stale) for stale in stale_plan_tables(context)]


def behind_this_run(context: dg.AssetExecutionContext, stale: list[StaleTable]) -> list[str]:
    """The partitioned plan tables (the forecast, by market) among `stale` that are older than an input this run
    rebuilt.

    A run can rebuild the forecast's inputs without the forecast: a
    selection materialized from the UI, or a backfill whose markets run each
    in a run of their own (CROSSDOCK_FORECAST_RUNS). The forecast then follows
    in its own run, and the plans after it; the publish step of the first run
    waits for them rather than failing.
    """
    graph = context.job_def.asset_layer.asset_graph
    return sorted({entry.table.to_user_string() for entry in stale
                   if graph.get(entry.table).is_partitioned and context.run_id in entry.runs})


def publish_the_plan(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The body of the publish asset (published_plan_asset); publishes nothing, said, while the forecast follows
    in its own run (behind_this_run)."""
    with warehouse.open() as tables:
        previous = last_published(tables)
        kept = f"last good plan from run {previous.run_id} published at {previous.published_at:%Y-%m-%d %H:%M:%S} UTC" \
            if previous else "nothing published yet"
        stale = stale_plan_tables(context)
        behind = behind_this_run(context, stale)
        if behind and {entry.table.to_user_string() for entry in stale} <= set(behind):
            context.log.warning(f"publish waits ({kept}): {', '.join(behind)} is partitioned by market and follows in "
                                "its own run, after the inputs this run rebuilt; the plans after it publish then")
            return
        if stale:
            raise dg.Failure(description=f"publish unchanged ({kept}): plan_next is not one plan: {'; '.join(map(str, stale))}. "
                             "Run daily_planning to rebuild the whole plan.")
        [(as_of,)] = tables.rows(f"select max(as_of)::date from {staged('demand_forecast')}")
        try:
            plan = publish_plan(tables, context.run_id, as_of, inputs=context.run.tags.get(INPUTS_TAG))
        except PlanIncomplete as error:
            raise dg.Failure(description=f"publish unchanged ({kept}): {error}") from None
        [(runs,)] = tables.rows(f"select count(*) from publish.{PLAN_RUNS}")
    context.log.info(f"published the plan of run {plan.run_id} as of {plan.as_of}: {sum(plan.rows_by_table.values()):,} "
                     f"rows in {len(plan.rows_by_table)} tables (replaces: {kept})")
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": runs,
        "run_id": plan.run_id,
        "as_of": str(plan.as_of),
        "published_at": f"{plan.published_at:%Y-%m-%d %H:%M:%S} UTC",
        "replaces": previous.run_id if previous else "",
        "rows_by_table": dg.MetadataValue.json(plan.rows_by_table),
    })


@cache
def published_plan_asset() -> dg.AssetsDefinition:
    """The publish asset, made when the definitions are built: it depends on the plan tables dbt's yml declares."""
    return dg.asset(
        key=PUBLISHED_PLAN,
        deps=plan_keys(),
        group_name="publish",
        kinds={"duckdb"},
        owners=["team:data-platform"],
        pool=WAREHOUSE_POOL,
        output_required=False,  # not published while the forecast follows in its own run (behind_this_run)
        metadata=documented_table("publish", PLAN_RUNS),
        description="Publishes the plan: copies every table the run built into plan_next to publish.<table> in one "
        "transaction and adds the run to publish.plan_runs (run id, planning date, time, rows per table). Runs only "
        "after every plan asset succeeded, so a failed run leaves publish on the last good plan, whole.",
    )(publish_the_plan)
