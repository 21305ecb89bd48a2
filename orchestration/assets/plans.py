"""The inventory planning assets: call planning/ on warehouse inputs, publish the results.

One multi-asset, five tables: they come from one computation (the classes set
the service levels, the plan's safety stock draws the projection's line and
prices the trade-off), so they are always materialized together.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from crossdock.settings import PROJECT_ROOT
from crossdock.publish import stage_table, staged
from crossdock.warehouse import read_sql
from orchestration.assets.dbt import model_key
from orchestration.column_schemas import documented_table
from orchestration.resources import WAREHOUSE_POOL
from planning.inputs import set_aside_skus_without_terms
from planning.inventory_plan import build_inventory_plan
from planning.plan_outputs import plan_projection, plan_tradeoff
from planning.policy import PlanningPolicy
from planning.service_classes import classify_series, load_service_level_config, node_targets
from planning.transfers import apply_transfers, customs_days, node_pairs, recommend_transfers

PLAN = dg.AssetKey(["publish", "inventory_plan"])
PROJECTION = dg.AssetKey(["publish", "inventory_projection"])
TRADEOFF = dg.AssetKey(["publish", "service_level_tradeoff"])
CLASSES = dg.AssetKey(["publish", "service_classes"])
TRANSFERS = dg.AssetKey(["publish", "transfer_recommendations"])


def read_plan_inputs(conn) -> dict[str, pd.DataFrame]:
    """The warehouse tables the plan (and its scenarios) start from, by name.

    The run's own forecast and customs risk (plan_next, not yet published); every
    query sorted, so pandas sums over its rows add in the same order on every run.
    """
    queries = {
        "forecast": f"select sku, market, forecast_date, p10, p50, p90, mean, as_of from {staged('demand_forecast')}",
        "position": "select sku, node, on_hand, on_order from intermediate.int_stock_position",
        "lead_times": "select sku, n_receipts, lead_time_mean_days, lead_time_std_days, quoted_lead_time_days, "
        "lead_time_basis from intermediate.int_sku_lead_times",
        # nodes any inventory snapshot (up to the plan date) speaks for: elsewhere stock is unknown, not zero
        "snapshot_nodes": "select distinct node from intermediate.int_stock_position where snapshot_date is not null",
        "skus": "select sku, category, unit_cost_eur, moq, pack_size, cost_basis, weight_kg, primary_supplier_id "
        "from marts.dim_sku",
        "market_nodes": "select market_code as market, fulfilment_node as node from reference.markets",
        "history": "select sku, market, category, demand_date, units_sold, revenue_eur from marts.fct_daily_demand",
        "arrivals": "select sku, node, supplier_id, expected_arrival_date, quantity from intermediate.int_open_po_arrivals",
        "lanes": "select * from reference.node_transfer_lanes",
        "nodes": "select node_code, country from reference.nodes",
        "territories": "select alpha_2, customs_territory from reference.countries",
        "sku_hs": "select sku, hs_code from marts.dim_sku",
        "customs_risk": "select origin_node, origin_country, destination_country, hs_chapter, conservative_added_days, "
        f"lane_conservative_added_days from {staged('customs_risk')}",
    }
    frames = {name: read_sql(conn, f"{sql} order by all") for name, sql in queries.items()}
    # stock of a SKU with no cost to plan it with is set aside and named, not fatal to every other SKU's plan
    frames["position"], not_planned = set_aside_skus_without_terms(frames["position"], frames["skus"], frames["lead_times"])
    frames["arrivals"] = frames["arrivals"][~frames["arrivals"]["sku"].isin(not_planned)].reset_index(drop=True)
    frames["not_planned"] = pd.DataFrame({"sku": not_planned}, dtype="object")
    return frames


def stock_unknown_nodes(frames: dict[str, pd.DataFrame]) -> set[str]:
    """Nodes no inventory snapshot speaks for (no inventory feed yet): their stock is unknown, not zero."""
    nodes = set(frames["market_nodes"]["node"]) | set(frames["position"]["node"])
    return nodes - set(frames["snapshot_nodes"]["node"])


def move_customs_days(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Customs days per SKU x node pair (planning.transfers.customs_days) from `read_plan_inputs` frames."""
    pairs = node_pairs(frames["nodes"], frames["territories"], frames["lanes"])
    return customs_days(pairs, frames["sku_hs"], frames["customs_risk"])


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


INPUTS = [
    dg.AssetKey(["publish", "demand_forecast"]),
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
            description="Stock to move between nodes before buying: per SKU short at a node, the idle stock (excess) at "
            "other nodes on the transfer lanes, cheapest first, with its freight cost against the order and carrying "
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
def inventory_planning(context: dg.AssetExecutionContext, config: InventoryPlanConfig, warehouse: DuckDBResource):
    with warehouse.get_connection() as conn:
        frames = read_plan_inputs(conn)
    forecast, position, lead_times, skus, market_nodes, history, arrivals = (
        frames[k] for k in ("forecast", "position", "lead_times", "skus", "market_nodes", "history", "arrivals")
    )
    as_of = pd.Timestamp(forecast["as_of"].max()).date()
    policy = PlanningPolicy(
        service_level=config.service_level,
        order_cost_eur=config.order_cost_eur,
        annual_carrying_rate=config.annual_carrying_rate,
        review_period_days=config.review_period_days,
        excess_cover_days=config.excess_cover_days,
        reorder_soon_days=config.reorder_soon_days,
    )
    levels_file = Path(config.service_levels_file)
    if config.service_levels_file and not levels_file.is_absolute():
        levels_file = PROJECT_ROOT / levels_file
    service_config = load_service_level_config(levels_file if config.service_levels_file else None)
    classes = classify_series(history, as_of, service_config)
    unknown_stock = stock_unknown_nodes(frames)
    set_aside = frames["not_planned"]["sku"].tolist()
    if set_aside:
        context.log.warning(
            f"{len(set_aside)} SKU(s) held in stock or on order are in no catalogue and were never sold, so there is no "
            f"cost to plan them with; they are left out of the plan: {', '.join(set_aside[:20])}"
            + (" ..." if len(set_aside) > 20 else "")
        )
    plan = build_inventory_plan(
        forecast=forecast.drop(columns=["as_of"]),
        on_hand=position[["sku", "node", "on_hand"]],
        open_orders=position[["sku", "node", "on_order"]],
        lead_times=lead_times,
        skus=skus,
        market_nodes=market_nodes,
        as_of=as_of,
        policy=policy,
        classes=node_targets(classes, market_nodes),
        demand_history=history,
        arrivals=arrivals,
        seed=config.seed,
        stock_unknown_nodes=unknown_stock,
    )
    if unknown_stock:
        context.log.warning(
            f"no inventory snapshot for node(s) {', '.join(sorted(unknown_stock))}: their stock is unknown, so the plan "
            "gives targets (safety stock, reorder point, order-up-to) but no reorder verdict or stock-out date there"
        )
    transfers = recommend_transfers(
        plan, frames["lanes"], skus[["sku", "weight_kg"]], as_of, policy.order_cost_eur, policy.annual_carrying_rate,
        customs=move_customs_days(frames),
    )
    plan = apply_transfers(plan, transfers, skus)
    # a projection from unknown stock would draw stock-outs that nobody knows of
    known = plan[~plan["node"].isin(unknown_stock)]
    projection = plan_projection(known, forecast.drop(columns=["as_of"]), market_nodes, arrivals, as_of)
    tradeoff = plan_tradeoff(
        plan, history, market_nodes, as_of, policy.review_period_days, policy.annual_carrying_rate, config.seed
    )
    with warehouse.get_connection() as conn:
        rows = {
            PLAN: stage_table(conn, "inventory_plan", plan, context.run_id),
            PROJECTION: stage_table(conn, "inventory_projection", projection, context.run_id),
            TRADEOFF: stage_table(conn, "service_level_tradeoff", tradeoff, context.run_id),
            CLASSES: stage_table(conn, "service_classes", classes.assign(as_of=pd.Timestamp(as_of)), context.run_id),
            TRANSFERS: stage_table(conn, "transfer_recommendations", transfers.assign(as_of=pd.Timestamp(as_of)), context.run_id),
        }
    actions = plan["action"].value_counts().rename_axis("action").reset_index(name="sku_nodes")
    by_class = (
        plan.groupby(["abc", "pattern", "ss_method"], dropna=False)
        .agg(rows=("sku", "size"), service_level=("service_level", "first"), safety_stock_value_eur=("safety_stock_value_eur", "sum"))
        .reset_index()
    )
    context.log.info(f"inventory plan: {rows[PLAN]} SKU x node rows; actions {dict(plan['action'].value_counts())}")
    yield dg.MaterializeResult(
        asset_key=PLAN,
        metadata={
            "dagster/row_count": rows[PLAN],
            "as_of": str(as_of),
            "skus_to_reorder": int(plan["action"].str.startswith("reorder now").sum()),
            "safety_stock_value_eur": float(plan["safety_stock_value_eur"].sum()),
            "excess_value_eur": float(plan["excess_value_eur"].sum()),
            "actions": dg.MetadataValue.md(actions.to_markdown(index=False)),
            "safety_stock_by_class": dg.MetadataValue.md(by_class.round(3).to_markdown(index=False)),
            "skus_not_planned": dg.MetadataValue.json(set_aside),
        },
    )
    yield dg.MaterializeResult(asset_key=PROJECTION, metadata={"dagster/row_count": rows[PROJECTION]})
    current = tradeoff[tradeoff["is_target"]]
    yield dg.MaterializeResult(
        asset_key=TRADEOFF,
        metadata={
            "dagster/row_count": rows[TRADEOFF],
            "at_targets": dg.MetadataValue.md(current.round(2).to_markdown(index=False)),
        },
    )
    recommended = transfers[transfers["recommended"]]
    yield dg.MaterializeResult(
        asset_key=TRANSFERS,
        metadata={
            "dagster/row_count": rows[TRANSFERS],
            "recommended_transfers": len(recommended),
            "units_moved": int(recommended["units"].sum()),
            "saving_eur": float(recommended["saving_eur"].sum()),
            "options_delayed_by_customs": int((transfers["customs_days"] > 0).sum()),
            "customs_basis": dg.MetadataValue.md(
                transfers["customs_basis"].value_counts().rename_axis("customs_basis").reset_index(name="options")
                .to_markdown(index=False)
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CLASSES,
        metadata={
            "dagster/row_count": rows[CLASSES],
            "series_by_class": dg.MetadataValue.md(
                classes.groupby(["abc", "pattern"]).size().rename("series").reset_index().to_markdown(index=False)
            ),
        },
    )
