"""The plan's exceptions: read the run's plan tables and the owners' updates, raise, fold, stage, log.

Thin wiring: sop/exceptions.py raises, sop/exception_status.py folds the
updates and the history in, sop/exception_log.py keeps the history. The asset
runs after the plan, the scenarios, the forecast and the compliance plan have
staged their tables (their keys are its deps) and before the publish step,
which copies publish.exceptions with the rest of the plan.
"""

import dagster as dg
import pandas as pd

from crossdock.bulk_days import WINDOW_DAYS
from crossdock.engine import Warehouse
from crossdock.plan_labels import EXCEPTION_TYPES, fallback_baseline
from crossdock.publish import PUBLISH_SCHEMA, stage_table, staged
from orchestration.defs.sop import SOP_ASSET_SETTINGS
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import model_key
from orchestration.lib.held_back import held_back_markets_in
from orchestration.lib.resources import WAREHOUSE_POOL, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource
from sop.exception_log import read_log, write_log
from sop.exception_status import CLOSED, UPDATE_COLUMNS, fold_status, unknown_updates
from sop.exceptions import BORDER_RULES, HELD_BACK_COLUMNS, no_held_back, raise_exceptions
from sop.last_year import last_year_figures, no_last_year
from sop.purchase_order_exceptions import OPEN_LINE_COLUMNS
from sop.stopped_figures import stopped_series_figures
from sop.value_added import consensus_value_added

EXCEPTIONS = dg.AssetKey(["publish", "exceptions"])
INPUTS = [
    dg.AssetKey(["publish", "inventory_plan"]),
    dg.AssetKey(["publish", "scenario_impact"]),
    dg.AssetKey(["publish", "forecast_backtest"]),
    dg.AssetKey(["publish", "demand_forecast"]),
    dg.AssetKey(["publish", "demand_plan"]),
    dg.AssetKey(["publish", "compliance_plan"]),
    dg.AssetKey(["publish", "forecast_value_added"]),
    model_key("staging", "stg_exception_updates"),
    model_key("marts", "fct_daily_demand"),
    model_key("intermediate", "int_open_po_arrivals"),
]
COMPLIANCE_COLUMNS = ", ".join(
    ["sku", "market", "fulfilment_node", "is_primary_route", "landed_cost_eur_per_unit", *BORDER_RULES])


def _read(tables: Warehouse) -> dict[str, pd.DataFrame | None]:
    previous = f"{PUBLISH_SCHEMA}.compliance_plan"  # the published plan, until this run's publish step replaces it
    return {
        "plan": tables.query(f"select * from {staged('inventory_plan')} order by sku, node"),
        "impact": tables.query(f"select * from {staged('scenario_impact')} order by all"),
        "backtest": tables.query(f'select "window", sku, market, forecast_date, {published_mean(tables)} as mean, '
                                 f"actual_regular from {staged('forecast_backtest')} order by all"),
        "compliance_now": tables.query(f"select {COMPLIANCE_COLUMNS} from {staged('compliance_plan')} order by all"),
        "compliance_before": tables.query(f"select {COMPLIANCE_COLUMNS} from {previous} order by all")
        if tables.exists(previous) else None,
        "updates": tables.query(f"select {', '.join(UPDATE_COLUMNS)} from staging.stg_exception_updates "
                                "order by exception_id, updated_at_utc"),
        "value_added": tables.query("select cycle, scope, scope_value, stage, value_added, days_scored, horizon_days, "
                                    "actual_units "
                                    f"from {staged('forecast_value_added')} order by all"),
        "log": read_log(tables),
        "stopped": _stopped_series(tables),
        "open_lines": tables.query(f"select {', '.join(OPEN_LINE_COLUMNS)} from intermediate.int_open_po_arrivals "
                                   "order by po_id, po_line"),
    }


def published_mean(tables: Warehouse) -> str:
    """The forecast_backtest column of the forecast the plan runs on, which forecast_bias judges: the model's mean,
    or the baseline's published in its place (ml/fallback_forecast.py), so an exception never blames a forecast the
    plan does not use."""
    if "model_version" not in tables.columns(staged("demand_forecast")):
        return "mean"
    names = {fallback_baseline(v) for (v,) in tables.rows(f"select distinct model_version from {staged('demand_forecast')}")}
    name = names.pop() if len(names) == 1 else None
    return f'"{name}"' if name is not None and name in tables.columns(staged("forecast_backtest")) else "mean"


def _stopped_series(tables: Warehouse) -> pd.DataFrame:
    """The series the forecast put at 0 because they stopped selling: their last sale, the days since, and the units
    they sold in the forecast's horizon of days up to that sale (the demand a zero forecast leaves out of the plan
    if they are out of stock rather than off sale)."""
    selling_days = tables.query(f"""
        with stopped_series as (
            select sku, market, max(as_of) as as_of, count(distinct forecast_date) as horizon_days
            from {staged('demand_forecast')} where stopped group by sku, market
        )
        select stopped_series.sku, stopped_series.market, stopped_series.as_of, stopped_series.horizon_days,
            demand.demand_date, demand.units_sold
        from stopped_series left join marts.fct_daily_demand as demand
            on stopped_series.sku = demand.sku and stopped_series.market = demand.market and demand.units_sold > 0
        order by 1, 2, 5
    """)
    return stopped_series_figures(selling_days)


def _held_back_markets(tables: Warehouse, as_of: object) -> pd.DataFrame:
    """The markets the training-data gate held back (worked out from the data as the forecast does), with their
    last sale, the days since, and their units of the 364 days to `as_of` and those units' share of all markets'."""
    held = held_back_markets_in(tables, "marts.fct_daily_demand")
    if not held or as_of is None:
        return no_held_back()
    as_of = pd.Timestamp(as_of)
    figures = tables.query(
        """
        with demand_to_the_planning_date as (
            select market, demand_date, units_sold from marts.fct_daily_demand where demand_date <= ?
        ),
        per_market as (
            select market,
                max(case when units_sold > 0 then demand_date end) as last_sale_date,
                sum(case when demand_date > ? then units_sold else 0 end) as units_year
            from demand_to_the_planning_date group by market
        )
        select market, last_sale_date, units_year, units_year / nullif(sum(units_year) over (), 0) as share_year
        from per_market
        """,
        [as_of.date(), (as_of - pd.Timedelta(days=364)).date()],
    )
    figures = figures[figures["market"].isin(held)].reset_index(drop=True)
    catch_all = {str(m).strip().upper() for (m,) in tables.rows("select market_code from reference.markets where is_catch_all")}
    figures["is_catch_all"] = figures["market"].isin(catch_all)
    figures["catch_all_exists"] = bool(catch_all)
    figures["last_sale_date"] = pd.to_datetime(figures["last_sale_date"])
    figures["quiet_days"] = (as_of - figures["last_sale_date"]).dt.days.astype(float)
    return figures.loc[:, list(HELD_BACK_COLUMNS)]


def _last_year_figures(tables: Warehouse, as_of: object) -> pd.DataFrame:
    """The consensus plan's units per SKU x market over its horizon beside the same weeks last year and its market's
    growth (`sop.last_year.last_year_figures`), from the daily sales of the two years to `as_of`."""
    if as_of is None:
        return no_last_year()
    as_of = pd.Timestamp(as_of)
    # the staged table holds every stored cycle (sop/cycle_store.py): this run's is the one of its planning date
    plan = tables.query(f"select sku, market, sum(mean) as plan_units, min(demand_date) as first_day, "
                        f"max(demand_date) as last_day from {staged('demand_plan')} where planning_date = ? "
                        "group by sku, market order by sku, market", [as_of.date()])
    if plan.empty:
        return no_last_year()
    history = tables.query("select sku, market, demand_date, units_sold from marts.fct_daily_demand "
                           "where demand_date > ? and demand_date <= ? order by sku, market, demand_date",
                           [(as_of - pd.Timedelta(days=WINDOW_DAYS)).date(), as_of.date()])
    return last_year_figures(plan, history, as_of)


@dg.asset(
    key=EXCEPTIONS,
    deps=INPUTS,
    **SOP_ASSET_SETTINGS,
    pool=WAREHOUSE_POOL,
    metadata=documented_table("publish", "exceptions"),
    description="The plan's exceptions with an owner, a status and a history: a market the training-data gate "
    "held back (no forecast for it in this plan), stock-out before a purchase can land "
    "(the fix priced), below safety stock, excess, forecast bias, a series forecast 0 because it stopped selling, "
    "a plan unlike the same weeks last year, negative forecast value added, a landed-cost "
    "jump after a border rule change, a supplier's minimum order that outlasts demand, and a purchase order "
    "long past its expected arrival that the plan still counts on. Status and owner from the owners' updates "
    "(landing/exceptions/).",
)
def plan_exceptions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, merchant_config: MerchantConfigFile
) -> dg.MaterializeResult:
    settings = merchant_config.exceptions()
    with warehouse.open() as tables:
        frames = _read(tables)
        [(as_of,)] = tables.rows(f"select max(as_of)::date from {staged('demand_forecast')}")
        held_back = _held_back_markets(tables, as_of)
        last_year = _last_year_figures(tables, as_of)
    raised = raise_exceptions(frames["plan"], frames["impact"], frames["backtest"], frames["compliance_now"],
                              frames["compliance_before"], consensus_value_added(frames["value_added"]), settings,
                              frames["stopped"], held_back, last_year, frames["open_lines"], as_of)
    exceptions, day_rows = fold_status(raised, frames["log"], frames["updates"], as_of, settings)
    with warehouse.open() as tables:
        rows = stage_table(tables, "exceptions", exceptions, context.run_id)
        write_log(tables, day_rows, as_of, context.run_id)
    strays = unknown_updates(frames["updates"], exceptions)
    if strays:
        context.log.warning(f"{len(strays)} exception update(s) name an id no plan raised: {', '.join(strays[:10])}")
    counts = _counts(exceptions)
    context.log.info(f"exceptions as of {as_of}: {int(exceptions['is_open'].sum())} open of {rows} ever raised")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "open": int(exceptions["is_open"].sum()),
        "raised_today": int(exceptions["raised"].sum()),
        "updates_for_unknown_ids": len(strays),
        "by_type": dg.MetadataValue.md(counts.to_markdown(index=False)),
    })


def _counts(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Per type: raised today, open, closed by their owners, and the EUR at stake in the open ones."""
    grouped = exceptions.groupby("type")
    counts = pd.DataFrame({
        "raised": grouped["raised"].sum(),
        "open": grouped["is_open"].sum(),
        "resolved_or_dismissed": grouped["status"].agg(lambda s: int(s.isin(CLOSED).sum())),
        "open_value_eur": exceptions[exceptions["is_open"]].groupby("type")["value_eur"].sum(),
    }).reindex(list(EXCEPTION_TYPES)).fillna(0)
    return counts.astype({"raised": int, "open": int, "resolved_or_dismissed": int}).round(2).rename_axis("type").reset_index()
