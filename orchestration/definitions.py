"""The one Definitions object crossdock loads (workspace.yaml points here): it merges the domains of defs/.

Nothing is built at import: Dagster calls `crossdock_definitions` (a
`@dg.definitions` loader) when it loads the code location, and tests call
build_definitions with their own settings. Building is what exports the
paths to the environment for dbt, creates the warehouse folder, parses the
dbt project when it changed and reads the manifest.
"""

from functools import cache

import dagster as dg

from crossdock.settings import Settings, load_settings
from orchestration.defs.automation.freshness import with_freshness
from orchestration.defs.automation.failures import run_failures_to_audit
from orchestration.defs.automation.jobs import daily_planning_job, ingest_job
from orchestration.defs.automation.recovery import recover_killed_runs
from orchestration.defs.automation.schedules import daily_planning_schedule
from orchestration.defs.automation.sensors import landing_files_sensor
from orchestration.defs.compliance.assets import compliance_tables
from orchestration.defs.dbt.assets import dbt_model_assets
from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import (
    forecast_quality_gate, model_beats_the_baselines, training_data_quality_gate,
)
from orchestration.defs.ingest.assets import INGEST_ASSETS
from orchestration.defs.ingest.merchant_config import merchant_network
from orchestration.defs.planning.assets import inventory_planning
from orchestration.defs.planning.scenarios import scenario_tables
from orchestration.defs.publish.assets import published_plan_asset
from orchestration.defs.publish.bi import bi_publish_copies
from orchestration.defs.reference.assets import ecb_fx_rates
from orchestration.defs.sop.assets import consensus_demand_plan
from orchestration.defs.sop.exceptions import plan_exceptions
from orchestration.defs.sop.monthly import sop_monthly
from orchestration.lib.column_schemas import with_documented_columns
from orchestration.lib.executors import IN_PROCESS_UNLESS_ASKED
from orchestration.lib.market_partitions import with_forecast_runs
from orchestration.lib.pool_wait import install as sleep_while_waiting_for_a_pool
from orchestration.lib.resources import build_resources


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions bound to `settings` (default: from the environment); tests pass their own."""
    sleep_while_waiting_for_a_pool()  # every process that runs our jobs loads these definitions
    settings = settings or load_settings()
    resources = build_resources(settings)  # first: it exports the paths dbt's parse reads
    return dg.Definitions(
        assets=[
            *_documented([*INGEST_ASSETS, ecb_fx_rates, merchant_network]),
            *dg.map_asset_specs(with_freshness, [
                dbt_model_assets(),
                *_documented([
                    with_forecast_runs(demand_forecast, settings.forecast_runs), forecast_accuracy, consensus_demand_plan, inventory_planning, scenario_tables,
                    compliance_tables, plan_exceptions, sop_monthly, published_plan_asset(), bi_publish_copies,
                ]),
            ]),
        ],
        asset_checks=[training_data_quality_gate, model_beats_the_baselines, forecast_quality_gate],
        jobs=[daily_planning_job, ingest_job],
        schedules=[daily_planning_schedule],
        sensors=[landing_files_sensor, run_failures_to_audit, recover_killed_runs],
        resources=resources,
        # every step in the run's process (orchestration/lib/executors.py); on Spark always, for its one session
        executor=dg.in_process_executor if resources["warehouse"].engine == "spark" else IN_PROCESS_UNLESS_ASKED,
    )


def _documented(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The Python assets with the column schemas dbt documents for their tables (lib/column_schemas.py)."""
    return dg.map_asset_specs(with_documented_columns, assets)


@dg.definitions
def crossdock_definitions() -> dg.Definitions:
    """What `dagster dev` / `dagster definitions validate -w workspace.yaml` load: the definitions from the environment."""
    return build_definitions()


def __getattr__(name: str) -> object:
    """`defs`, the definitions from the environment, built on first use (for tests and scripts written when it was
    built at import)."""
    if name == "defs":
        return _definitions_from_environment()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _definitions_from_environment() -> dg.Definitions:
    return build_definitions()
