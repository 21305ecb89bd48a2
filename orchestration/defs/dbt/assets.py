"""The dbt project as Dagster assets; dbt tests become asset checks.

Keys follow the warehouse: a model in schema `marts` is ["marts", name], so
what a user sees in the UI is what they query in the warehouse.

A run may set the planning date (`DbtBuildConfig.as_of`, `crossdock run
--as-of`): dbt then builds as of that past day (`var('as_of')`), and every
asset downstream plans from it.
"""

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from pydantic import Field

from crossdock.dbt_cli import keep_partial_parse, prune_invocation_folders
from crossdock.engine import WarehouseLike, as_warehouse
from crossdock.planning_date import parse_as_of
from crossdock.publish import PUBLISH_SCHEMA, STAGING_SCHEMA, record_staging
from orchestration.lib.resources import DBT_TARGETS, WAREHOUSE_POOL, dbt_project
from orchestration.lib.retries import WarehouseResource, retry_if_transient
from orchestration.lib.warm_imports import warm_imports

GROUP_BY_SCHEMA = {
    "reference": "reference_data",
    "staging": "staging",
    "intermediate": "intermediate",
    "marts": "marts",
    "publish": "publish",
}
# dbt builds the published models into the staging schema; their assets keep the
# key of the table BI reads (publish/<model>), which publish/plan_runs fills.
ASSET_SCHEMA = {STAGING_SCHEMA: PUBLISH_SCHEMA}


class CrossdockTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props["schema"]
        return dg.AssetKey([ASSET_SCHEMA.get(schema, schema), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        schema = dbt_resource_props.get("schema", "")
        return GROUP_BY_SCHEMA.get(ASSET_SCHEMA.get(schema, schema), "dbt")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-platform"]


# dbt's tests on sources (reference.fx_rates) are asset checks of the source's asset too: without the setting
# dagster-dbt logged each as an AssetObservation with a warning ("executed due to dbt indirect selection").
TRANSLATOR = CrossdockTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)


class DbtBuildConfig(dg.Config):
    as_of: str | None = Field(
        default=None,
        description="Plan as of this past day (YYYY-MM-DD, between the first and the last order day): the "
        "demand history, stock snapshot and open POs stop there and the forecast starts the day after. "
        "Empty = the last order day.",
    )


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    """`dbt build`, with `--vars '{"as_of": ...}'` when the run sets a planning date (checked: YYYY-MM-DD)."""
    if not config.as_of:
        return ["build"]
    try:
        as_of = parse_as_of(config.as_of)
    except ValueError as error:
        raise dg.Failure(description=str(error)) from None
    return ["build", "--vars", json.dumps({"as_of": as_of.isoformat()})]


def as_of_outside_the_orders(conn: WarehouseLike, as_of: str) -> str | None:
    """Why dbt would refuse to plan as of `as_of`, from the order days loaded in raw.orders; None if it would not.

    Checked before `dbt build` so that a planning date outside the orders fails
    in a second, not after dbt has parsed the project and built every model
    that does not depend on it. int_planning_calendar keeps the rule (and says
    the same): its order days are those of stg_orders' lines of goods (`stocked`:
    a day of gift cards alone is none), read here from that view when a run
    has built it. Before, from raw.orders: each line's latest version lies
    within raw's days, so a day outside raw's is outside the calendar too.
    Only the days the calendar counts are read (not after today + 2 days);
    with no orders table dbt is left to say what is wrong.
    """
    day = parse_as_of(as_of)
    tables = as_warehouse(conn)
    if not tables.exists("raw.orders"):  # no orders feed yet: int_planning_calendar fails with the reason
        return None
    lines = ("(select order_date from staging.stg_orders where stocked)"
             if "stocked" in tables.columns("staging.stg_orders") else "raw.orders")
    [(first_day, last_day)] = tables.rows(
        f"select min(order_date), max(order_date) from {lines} as lines "
        "where order_date between cast('1970-01-01' as date) and current_date + 2"
    )
    if last_day is None:
        return None
    if day > last_day:
        return (f"as_of {day} is after the last order day {last_day}: plan as of a day the orders reach, "
                "or leave as_of unset for the last order day")
    if day < first_day:
        return f"as_of {day} is before the first order day {first_day}"
    return None


DBT_MODELS_OP = "crossdock_dbt_models"
"""The name of the op that builds every dbt model: run config and step keys address it by this name."""


@cache
def dbt_model_assets() -> dg.AssetsDefinition:
    """The dbt models as one multi-asset, read from the manifest when the definitions are built.

    `@dbt_assets` needs the manifest when it decorates, so it is applied here
    and not at import, where it would read (or, via dbt_project(), parse) the
    dbt project as a side effect of importing this module.
    """
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name=DBT_MODELS_OP,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
    )
    def crossdock_dbt_models(
        context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """Seeds, staging, intermediate, marts and the dbt-built published tables (into plan_next until the publish)."""
        args = dbt_build_args(config)
        if config.as_of:
            context.log.info(f"planning as of {config.as_of} (dbt var as_of)")
        refuse_another_engine(dbt, warehouse)
        with warehouse.open() as tables:  # on DuckDB closed before dbt opens the file itself
            refused = as_of_outside_the_orders(tables, config.as_of) if config.as_of else None
            if refused:
                raise dg.Failure(description=refused)
            record_staging(tables, context.run_id, "dbt models")
        events, failure, invocation = [], None, None
        warming = warm_imports()  # this process mostly waits on dbt's: import what the later steps need meanwhile
        try:
            invocation = dbt.cli(args, context=context)
            for event in invocation.stream():  # kept also when dbt fails half-way: what it built is reported
                events.append(event)
        except Exception as error:  # dbt opens the warehouse itself: a lock held elsewhere is worth a retry
            failure = error
        finally:
            warming.join()  # no step after this one imports beside it
        if invocation is not None:
            events = with_failing_rows(context, events, Path(invocation.target_path), warehouse)
            yield from with_row_counts(context, events, invocation.manifest, warehouse)
            keep_partial_parse(Path(invocation.target_path), Path(invocation.target_path).parent)  # the next run parses less
            removed = prune_invocation_folders(Path(invocation.target_path).parent, DBT_MODELS_OP)
            if removed:
                context.log.debug(f"removed {len(removed)} old dbt invocation folders from {removed[0].parent}")
        if failure is not None:
            retry_if_transient(context, failure)

    return crossdock_dbt_models


def refuse_another_engine(dbt: DbtCliResource, warehouse: WarehouseResource) -> None:
    """Fail unless dbt builds on the warehouse's engine, and, on Spark, unless dbt's process can reach the catalogue.

    Both resources follow CROSSDOCK_WAREHOUSE_ENGINE (orchestration/lib/resources.py);
    one replaced alone would build dbt's tables where the steps after it do not
    read. On Spark dbt-spark runs in its own process beside this one's
    session, which a local Derby catalogue does not admit: a metastore service
    must serve it (crossdock/spark_metastore.py).
    """
    target = DBT_TARGETS[warehouse.engine]
    if (dbt.target or None) != target:
        raise dg.Failure(description=f"the dbt resource builds target {dbt.target or 'local (the default)'} and the "
                         f"warehouse engine is {warehouse.engine} (target {target or 'local'}): set both with "
                         "CROSSDOCK_WAREHOUSE_ENGINE (docs/spark.md)")
    if warehouse.engine == "spark":
        from crossdock.spark_metastore import require_metastore

        try:
            require_metastore("the dbt step runs dbt-spark in a process of its own beside this one's Spark session")
        except (RuntimeError, ValueError) as error:
            raise dg.Failure(description=str(error)) from None


def with_row_counts(
    context: dg.AssetExecutionContext, events: list, manifest: Mapping[str, Any], warehouse: WarehouseResource
) -> list:
    """`events` with dagster/row_count on each table dbt built (views are not counted), from one query.

    dbt holds the DuckDB file while it runs, so rows are counted once it has
    exited and the events are handed to Dagster then (as fetch_row_counts did).
    dagster-dbt's fetch_row_counts opened dbt's adapter in this process and ran
    one query per table, and its thread pool polled in a loop for the whole
    dbt build, one core busy beside dbt's two threads; here one
    `select count(*) ... union all` on the warehouse counts every table.
    A failed count leaves the events without it and says so: it never fails the run.
    """
    tables = {}
    for index, event in enumerate(events):
        if isinstance(event, (dg.Output, dg.AssetMaterialization)) and "unique_id" in event.metadata:
            node = manifest["nodes"].get(event.metadata["unique_id"].value) or {}
            if node and node.get("config", {}).get("materialized") != "view":
                tables[index] = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
    if not tables:
        return events
    query = " union all ".join(f"select {i} as event, count(*) as row_count from {relation}" for i, relation in tables.items())
    try:
        with warehouse.open() as opened:
            counts = dict(opened.rows(query))
    except Exception as error:  # the row counts are for the UI: the run does not depend on them
        context.log.warning(f"row counts of the dbt tables not fetched: {error}")
        return events
    return [
        event.with_metadata({**event.metadata, "dagster/row_count": dg.MetadataValue.int(counts[i])}) if i in counts else event
        for i, event in enumerate(events)
    ]


FAILING_ROWS_SHOWN = 5
"""A failed dbt test's check description quotes at most this many of its failing rows, in at most
FAILING_ROWS_CHARS characters (a test such as expression_is_true returns whole rows of its model)."""
FAILING_ROWS_CHARS = 1500


def with_failing_rows(
    context: dg.AssetExecutionContext, events: list, target_path: Path, warehouse: WarehouseResource
) -> list:
    """`events` with dbt's message and the first failing rows as the description of each failed dbt test's check.

    A model's column rules are one test per model, not per column
    (not_null_columns, non_negative_columns, accepted_ranges), so the check's
    name does not say which column failed: the test's rows do (the column, how
    many rows, the values), but dbt only counts them ("Got 2 results"). They are read here
    once dbt has exited (it holds the DuckDB file while it runs), with the
    test's compiled SQL from run_results.json: one query per failed test, none
    when every test passes. The console and the UI show the description. A
    query that fails leaves the check as dbt reported it and says so.
    """
    failed = {
        index: event.metadata["unique_id"].value
        for index, event in enumerate(events)
        if isinstance(event, dg.AssetCheckResult) and not event.passed and "unique_id" in event.metadata
    }
    if not failed:
        return events
    try:
        results = json.loads((target_path / "run_results.json").read_text())["results"]
        tests = {result["unique_id"]: result for result in results if result.get("compiled_code")}
        described = {}
        with warehouse.open() as tables:
            for index, unique_id in failed.items():
                if unique_id not in tests:
                    continue
                test = tests[unique_id]
                failing = f"select * from ({test['compiled_code']}) as failing"
                names = list(tables.query(f"{failing} limit 0").columns)
                rows = tables.rows(f"{failing} limit {FAILING_ROWS_SHOWN + 1}")
                quoted = [", ".join(f"{name}={value}" for name, value in zip(names, row)) for row in rows[:FAILING_ROWS_SHOWN]]
                more = "; ..." if len(rows) > FAILING_ROWS_SHOWN else ""
                text = "; ".join(quoted) + more
                text = text if len(text) <= FAILING_ROWS_CHARS else text[: FAILING_ROWS_CHARS - 3] + "..."
                described[index] = f"{test.get('message') or 'failed'}: {text}"
    except Exception as error:  # the rows explain a failure dbt has already reported: never fail the run for them
        context.log.warning(f"failing rows of the failed dbt tests not fetched: {error}")
        return events
    return [event._replace(description=described[i]) if i in described else event for i, event in enumerate(events)]


def as_of_run_config(as_of: str | None) -> dict:
    """The run_config that makes a job with the dbt assets plan as of `as_of` (None: the last order day)."""
    if not as_of:
        return {}
    return {"ops": {DBT_MODELS_OP: {"config": DbtBuildConfig(as_of=as_of).model_dump()}}}


def __getattr__(name: str) -> object:
    """`crossdock_dbt_models`, the dbt multi-asset, for callers written when it was built at import.

    Prefer dbt_model_assets(), or DBT_MODELS_OP for the op's name.
    """
    if name == "crossdock_dbt_models":
        return dbt_model_assets()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
