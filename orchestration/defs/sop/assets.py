"""The consensus demand plan: the run's forecast with the planners' overrides, kept per S&OP cycle, and scored.

One multi-asset, after the forecast and before the plans: it reads the run's
staged forecast and the override revisions the run may know, builds the
cycle's consensus (sop/cycle.py), stores it as the cycle's snapshot
(sop/cycle_store.py), stages every cycle, and scores every cycle's stages
against the actuals that have arrived (sop/value_added.py). The inventory plan
reads the current cycle's consensus from it.
"""

import dagster as dg
import pandas as pd

from crossdock.engine import Warehouse
from crossdock.publish import stage_table, staged
from orchestration.defs.sop import SOP_ASSET_SETTINGS
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key
from orchestration.lib.held_back import held_back_series_in
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource
from sop.consensus import SUPERSEDED
from sop.cycle import CycleFrames, build_cycle
from sop.cycle_store import later_snapshot, save_cycle, stage_cycles, stored_cycles
from sop.overrides import APPLIED, EXPIRED, WITHDRAWN
from sop.value_added import OVERRIDE_COLUMNS, PLAN_COLUMNS, value_added

DEMAND_PLAN = dg.AssetKey(["publish", "demand_plan"])
OVERRIDES = dg.AssetKey(["publish", "forecast_overrides"])
VALUE_ADDED = dg.AssetKey(["publish", "forecast_value_added"])
INPUTS = [
    dg.AssetKey(["publish", "demand_forecast"]),
    model_key("intermediate", "int_forecast_overrides_known"),
    model_key("marts", "fct_daily_demand"),
    model_key("marts", "dim_sku"),
]
SPEC_SETTINGS = dict(**SOP_ASSET_SETTINGS, deps=INPUTS)


def _read(tables: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    forecast = tables.query("select sku, market, category, forecast_date, p10, p50, p90, mean, as_of "
                              f"from {staged('demand_forecast')} order by sku, market, forecast_date")
    revisions = tables.query("select * from intermediate.int_forecast_overrides_known order by override_id, entered_at_utc")
    history = tables.query("select sku, market, demand_date, units_sold from marts.fct_daily_demand "
                           f"where demand_date > (select max(as_of) - 7 from {staged('demand_forecast')}) order by all")
    catalogue = tables.query("select sku, category from marts.dim_sku order by sku")
    return forecast, revisions, history, catalogue


def _score(tables: Warehouse, cycle: CycleFrames, run_id: str) -> pd.DataFrame:
    """Every stored cycle's stages against the actuals up to this cycle's planning date, staged."""
    plans = stored_cycles(tables, "demand_plan", list(PLAN_COLUMNS))
    overrides = stored_cycles(tables, "forecast_overrides", list(OVERRIDE_COLUMNS))
    actuals = tables.query("select sku, market, demand_date, units_sold from marts.fct_daily_demand "
                           "where demand_date > (select min(planning_date) from audit.demand_plan_cycles) order by all")
    scores = value_added(plans, overrides, actuals, cycle.planning_date)
    stage_table(tables, "forecast_value_added", scores, run_id)
    return scores


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DEMAND_PLAN, **SPEC_SETTINGS, metadata=documented_table("publish", "demand_plan"),
            description="The consensus demand plan per S&OP cycle (the month of the planning date): per SKU x market x "
            "day, the seasonal naive, statistical and consensus forecasts; past cycles kept as last agreed.",
        ),
        dg.AssetSpec(
            OVERRIDES, **SPEC_SETTINGS, metadata=documented_table("publish", "forecast_overrides"),
            description="Every override each cycle weighed, whether it applied (or why not) and the units it moved.",
        ),
        dg.AssetSpec(
            VALUE_ADDED, **SPEC_SETTINGS, metadata=documented_table("publish", "forecast_value_added"),
            description="Forecast value added per cycle: seasonal naive, statistical and consensus scored on the same "
            "weeks with actuals, overall and by market, category, planner and reason code.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def consensus_demand_plan(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.open() as tables:
        forecast, revisions, history, catalogue = _read(tables)
        markets = [code for (code,) in tables.rows("select market_code from reference.markets")]
        held_back = held_back_series_in(tables, "marts.fct_daily_demand", pd.Timestamp(forecast["as_of"].max()).date())
    cycle = build_cycle(forecast, revisions, history, catalogue, markets, held_back)
    not_applied = cycle.overrides[cycle.overrides["status"] != APPLIED]
    for row in not_applied.itertuples():  # withdrawn or expired is the planner's choice; the others need a fix
        log = context.log.info if row.status in (WITHDRAWN, EXPIRED) or row.status.startswith(SUPERSEDED) else context.log.warning
        log(f"override {row.override_id} ({row.author}) not applied in cycle {cycle.cycle}: {row.status}")
    frames = {"demand_plan": cycle.plan, "forecast_overrides": cycle.overrides}
    with warehouse.open() as tables:
        agreed = later_snapshot(tables, cycle.cycle, cycle.planning_date)
        if agreed is None:
            save_cycle(tables, cycle.cycle, frames)
        else:
            context.log.warning(
                f"cycle {cycle.cycle} was agreed as of {agreed} and a later plan is stored, so this run, back-dated to "
                f"{cycle.planning_date}, keeps that snapshot as agreed: its own consensus is published for its own plan "
                "only (the next run publishes the agreed one again)")
        rows = {table: stage_cycles(tables, table, context.run_id, None if agreed is None else (cycle.cycle, frame))
                for table, frame in frames.items()}
        scores = _score(tables, cycle, context.run_id)
    context.log.info(f"cycle {cycle.cycle}: {cycle.applied} of {len(cycle.overrides)} overrides applied, "
                     f"{cycle.units_moved:+,.0f} units against the statistical forecast")
    yield dg.MaterializeResult(asset_key=DEMAND_PLAN, metadata={
        "dagster/row_count": rows["demand_plan"],
        "cycle": cycle.cycle,
        "planning_date": cycle.planning_date.isoformat(),
        "units_statistical": float(cycle.plan["statistical_mean"].sum()),
        "units_consensus": float(cycle.plan["mean"].sum()),
    })
    yield dg.MaterializeResult(asset_key=OVERRIDES, metadata={
        "dagster/row_count": rows["forecast_overrides"],
        "overrides_applied": cycle.applied,
        "overrides_not_applied": len(not_applied),
        "not_applied": dg.MetadataValue.md(
            not_applied[["override_id", "author", "status"]].to_markdown(index=False) if len(not_applied) else "none"
        ),
    })
    overall = scores[scores["scope"] == "all"]
    yield dg.MaterializeResult(asset_key=VALUE_ADDED, metadata={
        "dagster/row_count": len(scores),
        "cycles_scored": int(overall["cycle"].nunique()),
        "overall": dg.MetadataValue.md(
            overall[["cycle", "stage", "days_scored", "wape", "bias", "value_added"]].to_markdown(index=False, floatfmt=".3f")
            if len(overall) else "no cycle has actuals yet"
        ),
    })
