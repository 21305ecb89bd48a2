"""The inventory plan asset: calls planning/ on warehouse inputs, publishes the result."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from crossdock.warehouse import read_sql, replace_table
from orchestration.assets.dbt import model_key
from orchestration.resources import WAREHOUSE_POOL
from planning.inventory_plan import build_inventory_plan
from planning.policy import PlanningPolicy


class InventoryPlanConfig(dg.Config):
    service_level: float = PlanningPolicy.service_level
    order_cost_eur: float = PlanningPolicy.order_cost_eur
    annual_carrying_rate: float = PlanningPolicy.annual_carrying_rate
    review_period_days: float = PlanningPolicy.review_period_days


@dg.asset(
    key=["publish", "inventory_plan"],
    deps=[
        dg.AssetKey(["publish", "demand_forecast"]),
        model_key("marts", "dim_sku"),
        model_key("intermediate", "int_stock_position"),
        model_key("intermediate", "int_sku_lead_times"),
        model_key("reference", "markets"),
    ],
    group_name="plans",
    kinds={"python", "duckdb"},
    owners=["team:planning"],
    pool=WAREHOUSE_POOL,
    description="Per SKU x fulfilment node: on hand, on order, safety stock from demand and lead-time variability, reorder point, order quantity, days of cover, projected stock-out and the action to take.",
)
def inventory_plan(context: dg.AssetExecutionContext, config: InventoryPlanConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        forecast = read_sql(conn, "select sku, market, forecast_date, p10, p50, p90, mean, as_of from publish.demand_forecast")
        position = read_sql(conn, "select sku, node, on_hand, on_order from intermediate.int_stock_position")
        lead_times = read_sql(
            conn,
            "select sku, n_receipts, lead_time_mean_days, lead_time_std_days, quoted_lead_time_days from intermediate.int_sku_lead_times",
        )
        skus = read_sql(conn, "select sku, category, unit_cost_eur, moq, pack_size from marts.dim_sku")
        market_nodes = read_sql(conn, "select market_code as market, fulfilment_node as node from reference.markets")
    as_of = pd.Timestamp(forecast["as_of"].max()).date()
    policy = PlanningPolicy(
        service_level=config.service_level,
        order_cost_eur=config.order_cost_eur,
        annual_carrying_rate=config.annual_carrying_rate,
        review_period_days=config.review_period_days,
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
    )
    with warehouse.get_connection() as conn:
        rows = replace_table(conn, "publish.inventory_plan", plan)
    actions = plan["action"].value_counts().rename_axis("action").reset_index(name="sku_nodes")
    context.log.info(f"inventory plan: {rows} SKU x node rows; actions {dict(plan['action'].value_counts())}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "skus_to_reorder": int(plan["action"].str.startswith("reorder now").sum()),
            "safety_stock_value_eur": float(plan["safety_stock_value_eur"].sum()),
            "actions": dg.MetadataValue.md(actions.to_markdown(index=False)),
        }
    )
