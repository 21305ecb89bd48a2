"""The monthly S&OP view: read the run's staged plan tables, call sop/monthly_view.py, stage publish.sop_monthly.

Thin wiring: it runs after the consensus (every stored cycle's demand plan),
the inventory plan and projection and the compliance plan have staged their
tables, and before the publish step, which copies sop_monthly with the rest.
"""

import dagster as dg
import pandas as pd

from crossdock.engine import Warehouse
from crossdock.publish import stage_table, staged
from orchestration.defs.sop import SOP_ASSET_SETTINGS
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.retries import WarehouseResource
from sop.cycle_store import cycle_of
from sop.monthly_view import (
    ACTUAL_COLUMNS, COMPLIANCE_COLUMNS, INVENTORY_COLUMNS, LAST_PLAN, ORDER_COLUMNS, PLAN, PLAN_COLUMNS, PRICE_DAYS,
    PROJECTION_COLUMNS, REFUND_DAYS, monthly_view,
)

SOP_MONTHLY = dg.AssetKey(["publish", "sop_monthly"])
INPUTS = [
    dg.AssetKey(["publish", "demand_plan"]),
    dg.AssetKey(["publish", "inventory_plan"]),
    dg.AssetKey(["publish", "inventory_projection"]),
    dg.AssetKey(["publish", "compliance_plan"]),
    dg.AssetKey(["publish", "order_landed_cost"]),
    model_key("marts", "fct_daily_demand"),
    model_key("intermediate", "int_order_lines_eur"),
    model_key("reference", "markets"),
]


def _read(tables: Warehouse) -> dict[str, pd.DataFrame]:
    def columns(names: tuple[str, ...]) -> str:
        return ", ".join(names)

    [(as_of,)] = tables.rows(f"select max(as_of)::date from {staged('inventory_plan')}")
    return {
        "as_of": as_of,
        "plans": tables.query(f"select {columns(PLAN_COLUMNS)} from {staged('demand_plan')} order by all"),
        # the months the horizon touches begin at most a month before as_of; prices need PRICE_DAYS before it,
        # refund rates REFUND_DAYS
        "actuals": tables.query(f"select {columns(ACTUAL_COLUMNS)} from marts.fct_daily_demand "
                                f"where demand_date > date '{as_of}' - {max(PRICE_DAYS, REFUND_DAYS) + 31} order by all"),
        "compliance": tables.query(f"select {columns(COMPLIANCE_COLUMNS)} from {staged('compliance_plan')} order by all"),
        "inventory": tables.query(f"select {columns(INVENTORY_COLUMNS)} from {staged('inventory_plan')} order by all"),
        "projection": tables.query(f"select {columns(PROJECTION_COLUMNS)} from {staged('inventory_projection')} "
                                   "order by all"),
        "markets": tables.query("select market_code as market, fulfilment_node as node from reference.markets order by all"),
        # the priced orders of the price window and what their shoppers paid: the VAT split of the pairs the
        # compliance plan does not split (sop/monthly_view.market_net_shares)
        "orders": tables.query(f"select {columns(ORDER_COLUMNS)} from {staged('order_landed_cost')} "
                               f"where order_date > date '{as_of}' - {PRICE_DAYS} order by all"),
        "order_values": tables.query(
            "select order_id, sum(line_value_eur) as sale_value_eur from intermediate.int_order_lines_eur "
            f"where line_type = 'sale' and order_date > date '{as_of}' - {PRICE_DAYS} group by order_id order by all"),
    }


@dg.asset(
    key=SOP_MONTHLY,
    deps=INPUTS,
    **SOP_ASSET_SETTINGS,
    pool=WAREHOUSE_POOL,
    metadata=documented_table("publish", "sop_monthly"),
    description="The monthly S&OP view in money: per product family x market x month, this cycle's plan beside the "
    "last cycle's and the actuals (units, revenue net of VAT, landed cost, gross margin), with the plan's stock "
    "value, cash tied up, purchases to place and projected fill rate.",
)
def sop_monthly(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.open() as tables:
        frames = _read(tables)
    as_of = frames.pop("as_of")
    cycle = cycle_of(as_of)  # the plan runs on its planning date's cycle
    view = monthly_view(cycle=cycle, as_of=as_of, **frames)
    with warehouse.open() as tables:
        rows = stage_table(tables, "sop_monthly", view, context.run_id)
    totals = view.groupby(["month", "version"], as_index=False)[
        ["sales_units", "revenue_eur", "gross_margin_eur", "inventory_value_eur", "cash_tied_up_eur",
         "purchases_to_place_eur"]].sum(min_count=1)
    totals["month"] = totals["month"].dt.strftime("%Y-%m")
    with_unknowns = int(view["unknowns"].notna().sum())
    if with_unknowns:
        context.log.warning(f"sop_monthly: {with_unknowns} rows leave something out (see their unknowns)")
    plan = view[view["version"] == PLAN]
    last = view.loc[view["version"] == LAST_PLAN, "cycle"].dropna()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "cycle": cycle,
        "last_cycle": last.iloc[0] if len(last) else "none stored",
        "plan_revenue_eur": float(plan["revenue_eur"].sum()),
        "plan_gross_margin_eur": float(plan["gross_margin_eur"].sum()),
        "rows_with_unknowns": with_unknowns,
        "by_month": dg.MetadataValue.md(totals.to_markdown(index=False, floatfmt=",.0f")),
    })
