"""The inventory planning assets: read the plan's sources, call `planning.run.build_plan`, stage, report.

One multi-asset, five tables: they come from one computation (the classes set
the service levels, the plan's safety stock draws the projection's line and
prices the trade-off), so they are always materialized together. How they are
composed is planning's (planning/run.py); this module only wires it.
"""

from pathlib import Path

import dagster as dg

from crossdock.engine import Warehouse
from crossdock.settings import PROJECT_ROOT
from crossdock.publish import stage_table, staged
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key
from orchestration.lib.held_back import held_back_series
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource
from planning.inputs import PlanSources
from planning.inventory_plan import DEMAND_UNKNOWN, held_back_rows
from planning.plan_outputs import PlanOutputs
from planning.policy import PlanningPolicy
from planning.run import build_plan
from planning.service_classes import ServiceLevelConfig, load_service_level_config

PLAN = dg.AssetKey(["publish", "inventory_plan"])
PROJECTION = dg.AssetKey(["publish", "inventory_projection"])
TRADEOFF = dg.AssetKey(["publish", "service_level_tradeoff"])
CLASSES = dg.AssetKey(["publish", "service_classes"])
TRANSFERS = dg.AssetKey(["publish", "transfer_recommendations"])


def read_plan_sources(warehouse: Warehouse) -> PlanSources:
    """The warehouse tables the plan (and its scenarios) start from.

    The run's own forecast and customs risk (plan_next, not yet published); every
    query sorted, so pandas sums over its rows add in the same order on every run.
    """
    queries = {
        # the current cycle's consensus: the statistical forecast with the planners' overrides (sop/consensus.py)
        "forecast": "select sku, market, demand_date as forecast_date, p10, p50, p90, mean, planning_date as as_of "
        f"from {staged('demand_plan')} where planning_date = (select max(as_of) from {staged('demand_forecast')})",
        "position": "select sku, node, on_hand, on_order from intermediate.int_stock_position",
        "lead_times": "select sku, n_receipts, lead_time_mean_days, lead_time_std_days, quoted_lead_time_days, "
        "lead_time_basis from intermediate.int_sku_lead_times",
        # nodes any inventory snapshot (up to the plan date) speaks for: elsewhere stock is unknown, not zero
        "snapshot_nodes": "select distinct node from intermediate.int_stock_position where snapshot_date is not null",
        "skus": "select sku, category, unit_cost_eur, moq, pack_size, cost_basis, weight_kg, primary_supplier_id, "
                "order_terms_assumed "
        "from marts.dim_sku",
        "market_nodes": "select market_code as market, fulfilment_node as node from reference.markets",
        "history": "select sku, market, category, demand_date, units_sold, units_returned, revenue_eur from marts.fct_daily_demand",
        "arrivals": "select sku, node, supplier_id, expected_arrival_date, quantity from intermediate.int_open_po_arrivals",
        "lanes": "select * from reference.node_transfer_lanes",
        "nodes": "select node_code, country from reference.nodes",
        "territories": "select alpha_2, customs_territory from reference.countries",
        "sku_hs": "select sku, hs_code from marts.dim_sku",
        "customs_risk": "select origin_node, origin_country, destination_country, hs_chapter, conservative_added_days, "
        f"lane_conservative_added_days from {staged('customs_risk')}",
    }
    return PlanSources(**{name: warehouse.query(f"{sql} order by all") for name, sql in queries.items()})


class InventoryPlanConfig(dg.Config):
    service_level: float = PlanningPolicy.service_level  # for rows without a class
    order_cost_eur: float = PlanningPolicy.order_cost_eur
    annual_carrying_rate: float = PlanningPolicy.annual_carrying_rate
    review_period_days: float = PlanningPolicy.review_period_days
    excess_cover_days: float = PlanningPolicy.excess_cover_days
    reorder_soon_days: int = PlanningPolicy.reorder_soon_days
    # a YAML like planning/service_levels.yaml (relative to the project root); empty = the packaged defaults
    service_levels_file: str = ""
    seed: int = 7

    def policy(self) -> PlanningPolicy:
        return PlanningPolicy(
            service_level=self.service_level, order_cost_eur=self.order_cost_eur,
            annual_carrying_rate=self.annual_carrying_rate, review_period_days=self.review_period_days,
            excess_cover_days=self.excess_cover_days, reorder_soon_days=self.reorder_soon_days,
        )

    def service_levels(self) -> ServiceLevelConfig:
        """The file's class targets (a relative path is from the project root), or the packaged defaults."""
        if not self.service_levels_file:
            return load_service_level_config(None)
        path = Path(self.service_levels_file)
        return load_service_level_config(path if path.is_absolute() else PROJECT_ROOT / path)


INPUTS = [
    dg.AssetKey(["publish", "demand_forecast"]),
    dg.AssetKey(["publish", "demand_plan"]),
    model_key("marts", "dim_sku"),
    model_key("marts", "fct_daily_demand"),
    model_key("intermediate", "int_stock_position"),
    model_key("intermediate", "int_sku_lead_times"),
    model_key("intermediate", "int_open_po_arrivals"),
    model_key("reference", "markets"),
    model_key("reference", "node_transfer_lanes"),
    model_key("reference", "nodes"),
    model_key("reference", "countries"),
    model_key("publish", "customs_risk"),
]
SPEC_SETTINGS = dict(group_name="plans", kinds={"python", "duckdb"}, owners=["team:planning"], deps=INPUTS)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PLAN, **SPEC_SETTINGS, metadata=documented_table("publish", "inventory_plan"),
            description="Per SKU x fulfilment node: class and target service level, safety stock (normal formula or "
            "simulated lead-time demand by class), reorder point, order quantity (EOQ, MOQ, packs), projected stock-out "
            "and below-safety-stock dates with open POs on their expected day, excess and obsolete stock, action.",
        ),
        dg.AssetSpec(
            PROJECTION, **SPEC_SETTINGS, metadata=documented_table("publish", "inventory_projection"),
            description="Day-by-day projected stock per SKU x node over the forecast horizon: opening, expected PO "
            "arrivals, expected demand (forecast mean), closing (negative = unserved), safety stock and reorder point.",
        ),
        dg.AssetSpec(
            TRADEOFF, **SPEC_SETTINGS, metadata=documented_table("publish", "service_level_tradeoff"),
            description="Per class (ABC x demand pattern): safety-stock value and carrying cost at a ladder of service "
            "levels, priced with the plan's own method, and the extra cost per point of service; the current target marked.",
        ),
        dg.AssetSpec(
            TRANSFERS, **SPEC_SETTINGS, metadata=documented_table("publish", "transfer_recommendations"),
            description="Stock to move between nodes before buying: per SKU short at a node, the idle stock (excess, and "
            "obsolete stock beyond what the node's forecast still expects) at other nodes on the transfer lanes, cheapest first, with its freight cost against the order and carrying "
            "cost it saves, the customs delay of the SKU's HS chapter on lanes crossing a customs border "
            "(publish.customs_risk), arrival date, and whether it is recommended (cheaper and, customs included, no "
            "slower than a purchase).",
        ),
        dg.AssetSpec(
            CLASSES, **SPEC_SETTINGS, metadata=documented_table("publish", "service_classes"),
            description="Per SKU x market: annual revenue and ABC class, ADI and CV2 with the Syntetos-Boylan pattern, "
            "target cycle service level and safety-stock method from planning/service_levels.yaml.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def inventory_planning(context: dg.AssetExecutionContext, config: InventoryPlanConfig, warehouse: WarehouseResource):
    with warehouse.open() as tables:
        sources = read_plan_sources(tables)
        held_back = held_back_series(tables, sources.history, sources.as_of)
    outputs = build_plan(sources, config.policy(), config.service_levels(), config.seed, held_back_series=held_back)
    _log_left_out(context, outputs)
    with warehouse.open() as tables:
        rows = {name: stage_table(tables, name, frame, context.run_id) for name, frame in outputs.tables().items()}
    context.log.info(f"inventory plan: {rows['inventory_plan']} SKU x node rows; actions {dict(outputs.plan['action'].value_counts())}")
    for key, table in TABLES.items():
        yield dg.MaterializeResult(asset_key=key, metadata={"dagster/row_count": rows[table], **REPORTS[table](outputs)})


def _log_left_out(context: dg.AssetExecutionContext, outputs: PlanOutputs) -> None:
    set_aside = list(outputs.not_planned)
    if set_aside:
        context.log.warning(
            f"{len(set_aside)} SKU(s) held in stock or on order have no catalogue cost (none, 0 or in a currency without "
            f"an ECB rate) and were never sold, so there is no cost to plan them with; they are left out of the plan: "
            f"{', '.join(set_aside[:20])}"
            + (" ..." if len(set_aside) > 20 else "")
        )
    if outputs.held_back_pairs:
        nodes = sorted({node for _, node in outputs.held_back_pairs})
        basis = outputs.plan.loc[held_back_rows(outputs.plan, outputs.held_back_pairs), "demand_basis"]
        planned, wholly = len(basis), int((basis == DEMAND_UNKNOWN).sum())
        unplanned = len(outputs.held_back_pairs) - planned
        context.log.warning(
            f"{planned} SKU x node row(s) of the plan at {', '.join(nodes)} sell in a market the training-data gate held "
            "back: part of their demand is not forecast"
            + (f" (all of it for {wholly}: no forecast market sells the SKU there)" if wholly else "")
            + ", so their stock is not called idle or moved away, and no projection is drawn for them"
            + (f"; {unplanned} more sell there and have neither stock nor other demand, so they are not in this plan"
               if unplanned else "")
        )
    if outputs.stock_unknown_nodes:
        context.log.warning(
            f"no inventory snapshot for node(s) {', '.join(sorted(outputs.stock_unknown_nodes))}: their stock is unknown, "
            "so the plan gives targets (safety stock, reorder point, order-up-to) but no reorder verdict or stock-out date there"
        )


def _plan_report(outputs: PlanOutputs) -> dict:
    plan = outputs.plan
    actions = plan["action"].value_counts().rename_axis("action").reset_index(name="sku_nodes")
    by_class = (
        plan.groupby(["abc", "pattern", "ss_method"], dropna=False)
        .agg(rows=("sku", "size"), service_level=("service_level", "first"), safety_stock_value_eur=("safety_stock_value_eur", "sum"))
        .reset_index()
    )
    return {
        "as_of": str(outputs.as_of),
        # rows with an order to place, whatever their verdict: an 'expedite or transfer' row carries one too
        "skus_to_reorder": int((plan["recommended_order_qty"].fillna(0) > 0).sum()),
        "safety_stock_value_eur": float(plan["safety_stock_value_eur"].sum()),
        "excess_value_eur": float(plan["excess_value_eur"].sum()),
        "actions": dg.MetadataValue.md(actions.to_markdown(index=False)),
        "safety_stock_by_class": dg.MetadataValue.md(by_class.round(3).to_markdown(index=False)),
        "skus_not_planned": dg.MetadataValue.json(list(outputs.not_planned)),
    }


def _tradeoff_report(outputs: PlanOutputs) -> dict:
    current = outputs.tradeoff[outputs.tradeoff["is_target"]].drop(columns="as_of")  # the run's date, said once
    return {"at_targets": dg.MetadataValue.md(current.round(2).to_markdown(index=False))}


def _transfers_report(outputs: PlanOutputs) -> dict:
    transfers = outputs.transfers
    recommended = transfers[transfers["recommended"]]
    return {
        "recommended_transfers": len(recommended),
        "units_moved": int(recommended["units"].sum()),
        "saving_eur": float(recommended["saving_eur"].sum()),
        "options_delayed_by_customs": int((transfers["customs_days"] > 0).sum()),
        "customs_basis": dg.MetadataValue.md(
            transfers["customs_basis"].value_counts().rename_axis("customs_basis").reset_index(name="options")
            .to_markdown(index=False)
        ),
    }


def _classes_report(outputs: PlanOutputs) -> dict:
    series = outputs.classes.groupby(["abc", "pattern"]).size().rename("series").reset_index()
    return {"series_by_class": dg.MetadataValue.md(series.to_markdown(index=False))}


# each asset's table, in the order the results are reported, and what its materialization says beyond its rows
TABLES = {
    PLAN: "inventory_plan", PROJECTION: "inventory_projection", TRADEOFF: "service_level_tradeoff",
    TRANSFERS: "transfer_recommendations", CLASSES: "service_classes",
}
REPORTS = {
    "inventory_plan": _plan_report, "inventory_projection": lambda outputs: {},
    "service_level_tradeoff": _tradeoff_report, "transfer_recommendations": _transfers_report,
    "service_classes": _classes_report,
}
