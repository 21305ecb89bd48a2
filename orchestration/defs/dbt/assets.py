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
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource
from pydantic import Field

from crossdock.planning_date import parse_as_of
from crossdock.publish import PUBLISH_SCHEMA, STAGING_SCHEMA, record_staging
from orchestration.lib.resources import WAREHOUSE_POOL, dbt_project
from orchestration.lib.retries import retry_if_transient

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
        context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, warehouse: DuckDBResource
    ):
        """Seeds, staging, intermediate, marts and the dbt-built published tables (into plan_next until the publish)."""
        args = dbt_build_args(config)
        if config.as_of:
            context.log.info(f"planning as of {config.as_of} (dbt var as_of)")
        with warehouse.get_connection() as conn:  # closed before dbt opens the file itself
            record_staging(conn, context.run_id, "dbt models")
        try:
            # row counts of the tables (not views), counted once dbt has let go of the DuckDB file
            yield from dbt.cli(args, context=context).stream().fetch_row_counts()
        except Exception as error:  # dbt opens the warehouse itself: a lock held elsewhere is worth a retry
            retry_if_transient(context, error)
        finally:
            release_dbt_duckdb_handle()

    return crossdock_dbt_models


def release_dbt_duckdb_handle() -> None:
    """Close the warehouse handle dbt-duckdb keeps in this process after counting rows.

    fetch_row_counts opens the warehouse through dbt's adapter, and
    dbt-duckdb caches that DuckDB instance for the life of the process. In
    a single-process run (`execute_in_process`, the tests) every later step
    then fails with "Can't open a connection to same database file with a
    different configuration". dbt-duckdb has no public call for this; it
    closes the same object itself when its credentials change.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


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
