"""What the S&OP dashboard shows, as plain SQL over the BI snapshot (no Streamlit here).

The dashboard reads `CROSSDOCK_EXPORTS/bi/crossdock_publish.duckdb`, the
read-only copy of schema `publish` that the asset `exports/bi_publish_copies`
replaces whole after each publish. It never opens the live warehouse, so a
planner with the dashboard open cannot block the next run.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from crossdock.bi_export import SNAPSHOT_NAME
from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS
from crossdock.plan_labels import AS_PLANNED, EXPEDITE, fallback_baseline, is_fallback_version
from crossdock.settings import Settings, load_settings
from crossdock.warehouse import read_sql

RISK_HORIZON_DAYS = 28  # "at risk" = projected to stock out within four weeks


class SnapshotMissing(RuntimeError):
    """The BI snapshot has not been written yet."""


def snapshot_path(settings: Settings | None = None) -> Path:
    return (settings or load_settings()).exports / "bi" / SNAPSHOT_NAME


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SnapshotMissing(
            f"No BI snapshot at {path}. Run the planning job first (`make demo`, or materialize "
            "`exports/bi_publish_copies` in the Dagster UI); it writes the snapshot after each publish."
        )
    return duckdb.connect(str(path), read_only=True)


def as_of(conn: duckdb.DuckDBPyConnection) -> str:
    """The plan date every page is about."""
    return str(conn.execute("select max(as_of)::date from publish.inventory_plan").fetchall()[0][0])


def plan_source(conn: duckdb.DuckDBPyConnection) -> str:
    """Which run the plan on screen is from (publish.plan_runs): after a failed run it is still the last good one."""
    row = has_tables(conn, "plan_runs") and conn.execute(
        "select run_id, published_at from publish.plan_runs order by published_at desc limit 1"
    ).fetchone()
    return f"run {row[0]}, published {row[1]:%Y-%m-%d %H:%M} UTC" if row else "a run not recorded (no publish.plan_runs)"


def forecast_source(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The published forecast's source in a planner's words when it is not the model's: a baseline's, published in the
    model's place (ml/fallback_forecast.py); None for the model's (or a snapshot without a forecast)."""
    if not has_tables(conn, "demand_forecast"):
        return None
    versions = [v for (v,) in conn.execute("select distinct model_version from publish.demand_forecast").fetchall()]
    baselines = sorted(v for v in versions if is_fallback_version(v))
    if not baselines:
        return None
    names = [str(fallback_baseline(v)) for v in baselines]
    scores = dict(conn.execute(
        "select model, weekly_wape from publish.forecast_accuracy where scope = 'overall' and list_contains(?, model)",
        [[*names, "lightgbm"]]).fetchall()) if has_tables(conn, "forecast_accuracy") else {}
    scored = "".join(f"; backtest weekly WAPE {name} {scores[name]:.3f}" for name in names if scores.get(name) is not None)
    if scored and scores.get("lightgbm") is not None:
        scored += f", the model {scores['lightgbm']:.3f}"
    return (f"the forecast is the {', '.join(names)} baseline's, not the model's: the model lost its backtest, or the "
            f"history is too short for one (`crossdock summary` says which){scored}")


def forecast_accuracy_by_market(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Backtest accuracy of the LightGBM forecast per market: weekly WAPE (the gate's), daily p50 WAPE, bias, naive beside it."""
    return read_sql(conn, """
        with lightgbm as (
            select scope_value as market, weekly_wape, weekly_wape_ratio_to_naive, wape, bias, wape_ratio_to_naive,
                   actual_units, n_series
            from publish.forecast_accuracy
            where scope = 'market' and model = 'lightgbm'
        ),
        naive as (
            select scope_value as market, weekly_wape as naive_weekly_wape, wape as naive_wape
            from publish.forecast_accuracy
            where scope = 'market' and model = 'seasonal_naive_7'
        )
        select lightgbm.market, lightgbm.n_series, lightgbm.actual_units,
               lightgbm.weekly_wape, naive.naive_weekly_wape, lightgbm.weekly_wape_ratio_to_naive,
               lightgbm.wape, naive.naive_wape, lightgbm.wape_ratio_to_naive, lightgbm.bias
        from lightgbm
        left join naive using (market)
        order by lightgbm.market
    """)


def forecast_vs_actual_daily(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Units per market and day in the backtest windows: what sold against what was forecast."""
    return read_sql(conn, """
        with backtest_days as (
            select market, forecast_date::date as day,
                   sum(actual) as actual_units, sum(mean) as forecast_units
            from publish.forecast_backtest
            group by market, forecast_date::date
        )
        select * from backtest_days order by market, day
    """)


def upcoming_demand_by_market(conn: duckdb.DuckDBPyConnection, days: int = RISK_HORIZON_DAYS) -> pd.DataFrame:
    """Expected units per market over the next `days` days of the published forecast."""
    return read_sql(conn, """
        with upcoming as (
            select market, sum(mean) as forecast_units, sum(p10) as p10_units, sum(p90) as p90_units
            from publish.demand_forecast
            where horizon <= ?
            group by market
        )
        select * from upcoming order by market
    """, [days])


def stockout_risk(conn: duckdb.DuckDBPyConnection, within_days: int = RISK_HORIZON_DAYS) -> pd.DataFrame:
    """SKU × node rows projected to run out within `within_days`, soonest first.

    `before_lead_time` marks the ones an order placed today cannot save:
    they run out before a new purchase would arrive.
    """
    return read_sql(conn, """
        with projected as (
            select sku, node, category, action, on_hand, inventory_position, safety_stock,
                   projected_stockout_date::date as stockout_date,
                   date_diff('day', as_of::date, projected_stockout_date::date) as days_to_stockout,
                   lead_time_days, days_of_cover, purchase_after_transfers
            from publish.inventory_plan
            where projected_stockout_date is not null
        )
        select *, days_to_stockout < lead_time_days as before_lead_time
        from projected
        where days_to_stockout <= ?
        order by stockout_date, node, sku
    """, [within_days])


def stockout_risk_by_node(conn: duckdb.DuckDBPyConnection, within_days: int = RISK_HORIZON_DAYS) -> pd.DataFrame:
    risk = stockout_risk(conn, within_days)
    planned = read_sql(conn, "select node, count(*) as sku_nodes from publish.inventory_plan group by node")
    at_risk = risk.groupby("node").agg(at_risk=("sku", "size"), before_lead_time=("before_lead_time", "sum"))
    return (
        planned.set_index("node").join(at_risk).fillna(0).astype({"at_risk": int, "before_lead_time": int})
        .reset_index().sort_values("node", ignore_index=True)
    )


SCENARIO_COLUMNS = ["scenario", "changes", "sku_nodes_earlier", "new_stockouts", "shortfall_units", "contingency_cost_eur",
                    "without_feasible_fix", "outcome"]


def scenario_outcomes(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every scenario the plan was stressed with and what it broke (publish.scenario_summary): the plan as it stands
    first, the scenarios run, then those the data could not give; none from a snapshot older than the table."""
    if not has_tables(conn, "scenario_summary"):
        return pd.DataFrame(columns=SCENARIO_COLUMNS)
    return read_sql(conn, f"""
        select {", ".join(SCENARIO_COLUMNS)}
        from publish.scenario_summary
        order by scenario <> ?, sku_nodes_earlier is null, scenario  -- a scenario not run has no totals
    """, [AS_PLANNED])


def reorder_list(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What to buy: every SKU × node with something still to buy after the recommended transfers in, most urgent
    first, with its supplier and terms, and whether those terms are assumed (recommended_order_qty, before
    transfers, beside it)."""
    return read_sql(conn, """
        with to_order as (
            select sku, node, category, action, supplier_id, purchase_after_transfers, moq, pack_size,
                   order_terms_assumed, order_by_date::date as order_by_date,
                   purchase_value_eur as order_value_eur,
                   recommended_order_qty, on_hand, inventory_position, reorder_point, days_of_cover,
                   projected_stockout_date::date as projected_stockout_date
            from publish.inventory_plan
            where purchase_after_transfers > 0
        )
        select * from to_order order by order_by_date nulls last, node, sku
    """)


def landed_cost_by_market(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per market, on the primary route: what a unit costs landed and what all orders paid at the border.

    Averages and sums skip what could not be priced (a null: an unknown rule or fact), so each says how much it
    left out: the SKUs without a landed cost per unit and the orders without a landed cost.
    """
    return read_sql(conn, """
        with plan as (
            select market,
                   avg(landed_cost_eur_per_unit) as landed_cost_eur_per_unit,
                   avg(duty_eur_per_unit) as duty_eur_per_unit,
                   avg(vat_eur_per_unit) as vat_eur_per_unit,
                   count(*) filter (where landed_cost_eur_per_unit is null) as skus_not_priced
            from publish.compliance_plan
            where is_primary_route
            group by market
        ),
        orders as (
            select market, count(*) as orders, sum(goods_value_eur) as goods_value_eur,
                   sum(duty_eur) as duty_eur, sum(vat_eur) as vat_eur, sum(fees_eur) as fees_eur,
                   sum(landed_cost_eur) as landed_cost_eur,
                   count(*) filter (where landed_cost_eur is null) as orders_not_priced
            from publish.order_landed_cost
            group by market
        )
        select plan.*, orders.orders, orders.goods_value_eur, orders.duty_eur, orders.vat_eur,
               orders.fees_eur, orders.landed_cost_eur, orders.orders_not_priced
        from plan
        left join orders using (market)
        order by plan.market
    """)


def compliance_flags_by_market(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Flag counts per market and flag type (the text before ':' in each '; '-separated flag), all routes."""
    return read_sql(conn, """
        with flags as (
            select market, trim(unnest(string_split(flags, '; '))) as flag
            from publish.compliance_plan
            where flags is not null and flags <> ''
        ),
        flag_types as (
            select market, split_part(flag, ':', 1) as flag_type
            from flags
            where flag <> ''
        )
        select market, flag_type, count(*) as flags
        from flag_types
        group by market, flag_type
        order by market, flag_type
    """)


def market_overview(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The S&OP one-pager: per market, demand ahead, forecast quality, landed cost and open compliance flags."""
    demand = upcoming_demand_by_market(conn)[["market", "forecast_units"]]
    accuracy = forecast_accuracy_by_market(conn)[["market", "weekly_wape", "weekly_wape_ratio_to_naive"]]
    landed = landed_cost_by_market(conn)[["market", "landed_cost_eur_per_unit", "orders"]]
    flags = compliance_flags_by_market(conn).groupby("market", as_index=False)["flags"].sum()
    overview = demand.merge(accuracy, on="market", how="outer").merge(landed, on="market", how="outer")
    return overview.merge(flags, on="market", how="left").fillna({"flags": 0}).sort_values("market", ignore_index=True)


SKU_HISTORY_DAYS = 182  # the SKU page's history: half a year before the plan date
LAST_YEAR_DAYS = SAME_WEEKDAY_LAST_YEAR_DAYS


def sku_markets(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every SKU x market the forecast covers, with the node that serves it and the plan's verdict there.

    The most urgent first (the plan's own priority: expedite, reorder now,
    reorder soon), so the SKU page opens on what needs a look.
    """
    return read_sql(conn, """
        with served as (
            select sku, market, arg_max(fulfilment_node, calendar_date) as node
            from publish.supply_chain_view
            group by sku, market
        ),
        forecast as (
            select distinct sku, market
            from publish.demand_forecast
        )
        select forecast.sku, forecast.market, served.node, plan.action
        from forecast
        left join served using (sku, market)
        left join publish.inventory_plan as plan on plan.sku = forecast.sku and plan.node = served.node
        order by case plan.action when ? then 0 when 'reorder now' then 1 when 'reorder soon' then 2 else 3 end,
                 forecast.sku, forecast.market
    """, [EXPEDITE])


def sku_demand(conn: duckdb.DuckDBPyConnection, sku: str, market: str) -> pd.DataFrame:
    """Per day: units sold over the last SKU_HISTORY_DAYS to the plan date, then the forecast's band and mean, the
    consensus the plan runs on (null throughout on a snapshot from before the demand plan), and what the same
    weekday 52 weeks before sold: a season ahead shows as last year's line rising beside a flat forecast (the
    backtest never scores the weeks ahead; publish.exceptions raises unlike_last_year)."""
    consensus_source = ("publish.demand_plan" if has_tables(conn, "demand_plan") else
                        "(select null::varchar as sku, null::varchar as market, null::date as demand_date, "
                        "null::double as mean, null::date as planning_date)")
    return read_sql(conn, f"""
        with plan_date as (
            select max(as_of)::date as as_of from publish.inventory_plan
        ),
        history as (
            select calendar_date as day, sum(units_sold) as actual_units
            from publish.supply_chain_view, plan_date
            where sku = ? and market = ? and calendar_date > as_of - {SKU_HISTORY_DAYS} and calendar_date <= as_of
            group by calendar_date
        ),
        forecast as (
            select forecast_date::date as day, p10, p50, p90, mean
            from publish.demand_forecast
            where sku = ? and market = ?
        ),
        consensus as (
            select demand_date::date as day, mean as consensus
            from {consensus_source}, plan_date
            where sku = ? and market = ? and planning_date = as_of
        ),
        last_year as (
            select (calendar_date + {LAST_YEAR_DAYS})::date as day, sum(units_sold) as last_year_units
            from publish.supply_chain_view, plan_date
            where sku = ? and market = ? and calendar_date > as_of - {SKU_HISTORY_DAYS} - {LAST_YEAR_DAYS}
              and calendar_date <= as_of
            group by calendar_date
        )
        select coalesce(history.day, forecast.day) as day, history.actual_units,
               forecast.p10, forecast.p50, forecast.p90, forecast.mean, consensus.consensus, last_year.last_year_units
        from history
        full join forecast using (day)
        left join consensus on consensus.day = coalesce(history.day, forecast.day)
        left join last_year on last_year.day = coalesce(history.day, forecast.day)
        order by day
    """, [sku, market, sku, market, sku, market, sku, market])


def has_tables(conn: duckdb.DuckDBPyConnection, *tables: str) -> bool:
    """Whether the snapshot has every one of `tables` in schema publish (an older snapshot may lack newer ones)."""
    [(found,)] = conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'publish' and list_contains(?, table_name)",
        [list(tables)],
    ).fetchall()
    return found == len(tables)


def sku_projection(conn: duckdb.DuckDBPyConnection, sku: str, node: str) -> pd.DataFrame:
    """The node's day-by-day stock for the SKU: opening, arrivals (open purchase orders), demand, closing, SS, ROP."""
    return read_sql(conn, """
        select date::date as day, opening_on_hand, arrivals, demand, closing_on_hand, safety_stock, reorder_point
        from publish.inventory_projection
        where sku = ? and node = ?
        order by date
    """, [sku, node])


def sku_plan(conn: duckdb.DuckDBPyConnection, sku: str, node: str) -> pd.DataFrame:
    """The plan's row for the SKU at the node (none when the node is not planned) and the fix priced for it, if any."""
    return read_sql(conn, """
        with fix as (
            select sku, node, contingency, contingency_detail, contingency_cost_eur
            from publish.scenario_impact
            where scenario = ?
        )
        select plan.action, plan.on_hand, plan.on_order, plan.mean_daily_demand, plan.lead_time_days,
               plan.safety_stock, plan.reorder_point, plan.purchase_after_transfers, plan.order_by_date::date as order_by_date,
               plan.projected_stockout_date::date as projected_stockout_date, plan.days_of_cover,
               fix.contingency, fix.contingency_detail, fix.contingency_cost_eur
        from publish.inventory_plan as plan
        left join fix using (sku, node)
        where plan.sku = ? and plan.node = ?
    """, [AS_PLANNED, sku, node])


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_eur(value: float) -> str:
    return f"€{value:,.2f}"


def fmt_pct(value: float) -> str:
    return f"{value:.1%}"
