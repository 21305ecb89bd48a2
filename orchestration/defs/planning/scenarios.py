"""The scenario assets: re-run the inventory plan under disruptions and publish what breaks, the cheapest fix, and
one line per scenario run."""

import dagster as dg
import pandas as pd

from crossdock.publish import stage_table, staged
from orchestration.defs.planning.assets import CLASSES, INPUTS, PLAN, read_plan_sources
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key
from orchestration.lib.held_back import held_back_series
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource
from planning.run import scenario_inputs
from planning.scenarios import (
    ContingencyCosts,
    Scenario,
    pick_default_scenarios,
    scenario_impact,
    scenario_summary,
)

SCENARIO_IMPACT = dg.AssetKey(["publish", "scenario_impact"])
SCENARIO_SUMMARY = dg.AssetKey(["publish", "scenario_summary"])


class ScenarioConfig(dg.Config):
    supplier_out_weeks: int = 4  # the primary supplier of the most SKUs stops shipping this long
    lane_delay_days: int = 7  # the slowest inbound node's lanes take this much longer
    demand_uplift: float = 0.3  # extra demand in the largest market (0.3 = +30%)
    expedite_eur_per_kg: float = ContingencyCosts.expedite_eur_per_kg
    reroute_eur_per_kg: float = ContingencyCosts.transfer_eur_per_kg


def _published(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """The spec of the published table `key` (publish/<table>), after the plan and its inputs."""
    return dg.AssetSpec(
        key, deps=[PLAN, CLASSES, *INPUTS, model_key("publish", "supplier_risk")], group_name="plans",
        kinds={"python", "duckdb"}, owners=["team:planning"], metadata=documented_table(*key.path), description=description,
    )


@dg.multi_asset(
    name="scenarios",
    specs=[
        _published(
            SCENARIO_IMPACT,
            "Per scenario (a supplier out N weeks, a node's lanes slowed N days, demand +X% in a market) x SKU x node "
            "that would stock out earlier than in the plan: both stock-out dates, the shortfall, and the cheapest "
            "feasible contingency (expedite, alternative supplier, reroute from another node, customs delay of the "
            "SKU's HS chapter included) with the options weighed; first, the plan's own rows that run out before a "
            "purchase placed today could land ('as planned'), their fix priced the same way.",
        ),
        _published(
            SCENARIO_SUMMARY,
            "One row per scenario the run stressed, whether it broke anything or not: what it changes, how many SKU x "
            "node stock out earlier (and newly), the units short, the cost of the cheapest fixes and how many have none, "
            "in one sentence too; a default scenario the data could not give says why it did not run.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def scenario_tables(context: dg.AssetExecutionContext, config: ScenarioConfig, warehouse: WarehouseResource):
    with warehouse.open() as tables:
        sources = read_plan_sources(tables)
        alternatives = tables.query(
            "select sku, supplier_id, unit_cost_eur, quoted_lead_time_days, is_primary "
            f"from {staged('supplier_risk')} order by all",
        )
        # the classes the plan was built with (its service_levels_file included), not a re-classification
        classes = tables.query(
            "select sku, market, annual_units, annual_revenue_eur, abc, pattern, target_service_level, ss_method "
            f"from {staged('service_classes')} order by all",
        )
        held_back = held_back_series(tables, sources.history, sources.as_of)  # their stock is never a reroute's donor
        # the scenarios start from the plan with its recommended transfers made
        transfers = tables.query(
            f"select sku, from_node, to_node, units, arrival_date from {staged('transfer_recommendations')} "
            "where recommended order by all"
        )
    plan_inputs = scenario_inputs(sources, alternatives, classes, held_back_series=held_back, transfers=transfers)
    picked = pick_default_scenarios(plan_inputs, config.supplier_out_weeks, config.lane_delay_days, config.demand_uplift)
    scenarios = picked.run
    costs = ContingencyCosts(expedite_eur_per_kg=config.expedite_eur_per_kg, transfer_eur_per_kg=config.reroute_eur_per_kg)
    impact = scenario_impact(plan_inputs, scenarios, costs)
    summary = scenario_summary(impact, scenarios, picked.left_out)
    as_of = pd.Timestamp(plan_inputs.as_of)
    with warehouse.open() as tables:
        rows = stage_table(tables, "scenario_impact", impact.assign(as_of=as_of), context.run_id)
        stage_table(tables, "scenario_summary", summary.assign(as_of=as_of), context.run_id)
    for line in summary.itertuples():
        context.log.info(f"scenario {line.scenario}: {line.outcome}")
    yield dg.MaterializeResult(asset_key=SCENARIO_IMPACT, metadata={"dagster/row_count": rows, **_report(impact, scenarios)})
    yield dg.MaterializeResult(asset_key=SCENARIO_SUMMARY, metadata={
        "dagster/row_count": len(summary),
        "by_scenario": dg.MetadataValue.md(summary[["scenario", "outcome"]].to_markdown(index=False)),
    })


def _report(impact: pd.DataFrame, scenarios: list[Scenario]) -> dict:
    summary = (
        impact.groupby(["scenario", "contingency"]).agg(rows=("sku", "size"), cost_eur=("contingency_cost_eur", "sum")).reset_index()
        if not impact.empty
        else pd.DataFrame({"scenario": [s.name for s in scenarios]})
    )
    return {
        "scenarios": dg.MetadataValue.json([s.name for s in scenarios]),
        "by_scenario": dg.MetadataValue.md(summary.round(2).to_markdown(index=False)),
    }
