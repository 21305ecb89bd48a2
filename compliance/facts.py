"""What the compliance tables price, gathered from the warehouse in SQL.

The joins that are a pure function of the warehouse are dbt models
(`int_sku_market_compliance`, `int_sale_lines_shipped_from`); what depends on
the run's policy (how many days of sales make a route and a basket) is here,
next to the rules that use it, so the Dagster asset only calls
`read_compliance_sources` and every number is computed where it is tested.
Every query is sorted: the Python sums over its rows add in the same order on
every run (float sums are order-dependent).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from compliance.rulebook import Rulebook
from crossdock.engine import WarehouseLike, as_warehouse


@dataclass(frozen=True)
class ComplianceSources:
    """Everything `compliance.run.build_compliance` prices, for one planning date.

    Attributes:
        as_of: the planning date (the last day of int_planning_calendar).
        rules: the border rules and ECB rates (`Rulebook`).
        facts: intermediate.int_sku_market_compliance (compliance.plan.FACT_COLUMNS).
        duty_rates: sku, customs_territory, mfn_rate, preferential_agreement, preferential_rate,
            preferential_parties.
        countries: alpha_2, customs_territory.
        nodes: node_code, country, customs_territory.
        routes: compliance.plan.ROUTE_COLUMNS (`read_routes`).
        baskets: compliance.plan.BASKET_COLUMNS plus unit_price_eur (`read_baskets`).
        customs_risk: compliance.plan.RISK_COLUMNS (`read_customs_risk`).
        lines: the sale lines to price as orders (`read_sale_lines`); None when read without them (the
            Dagster asset prices only new or changed orders, compliance/order_store.py, and reads their lines there).
    """

    as_of: date
    rules: Rulebook
    facts: pd.DataFrame
    duty_rates: pd.DataFrame
    countries: pd.DataFrame
    nodes: pd.DataFrame
    routes: pd.DataFrame
    baskets: pd.DataFrame
    customs_risk: pd.DataFrame
    lines: pd.DataFrame | None


def read_rulebook(target: WarehouseLike) -> Rulebook:
    """The reference seeds the rules come from, and the ECB rates in force on each day."""
    warehouse = as_warehouse(target)
    return Rulebook(
        de_minimis=warehouse.query("select * from reference.de_minimis order by all"),
        vat_rates=warehouse.query("select * from reference.vat_rates order by all"),
        fees=warehouse.query("select * from reference.import_fees order by all"),
        fx=warehouse.query("select calendar_date, currency, units_per_eur from intermediate.int_fx_daily order by all"),
    )


def read_routes(target: WarehouseLike, as_of: date, days: int) -> pd.DataFrame:
    """Each market's own node plus every node that shipped there in the last `days` days, with its share of orders.

    A node the config does not declare is no route; a node's country need not
    be a market (its customs territory then comes from reference.countries).
    """
    return as_warehouse(target).query(f"""
        with recent_orders as (
            select market, ship_from_node as node, count(distinct order_id) as orders
            from intermediate.int_sale_lines_shipped_from
            where order_date > cast(? as date) - {int(days)}
            group by market, ship_from_node
        ),
        own_nodes as (select market_code as market, fulfilment_node as node from reference.markets),
        routes as (
            select coalesce(recent_orders.market, own_nodes.market) as market,
                coalesce(recent_orders.node, own_nodes.node) as node,
                coalesce(recent_orders.orders, 0) as orders, own_nodes.node is not null as is_primary_route
            from recent_orders
            full outer join own_nodes on own_nodes.market = recent_orders.market and own_nodes.node = recent_orders.node
        )
        select routes.market, routes.node, nodes.country as node_country, node_countries.customs_territory as node_territory,
            routes.is_primary_route,
            routes.orders * 1.0 / nullif(sum(routes.orders) over (partition by routes.market), 0) as route_share
        from routes
        inner join reference.nodes as nodes on nodes.node_code = routes.node
        left join reference.countries as node_countries on node_countries.alpha_2 = nodes.country
        order by all
    """, [as_of])


def read_baskets(target: WarehouseLike, as_of: date, days: int) -> pd.DataFrame:
    """The SKU's usual units per order line and price in the market; SKUs not sold there take their price elsewhere.

    unit_price_local is null when the market has no currency (a catch-all may
    not) or no ECB rate on as_of; unit_price_eur then carries the EUR price.
    Prices are averaged as decimal(38, 9): DuckDB adds doubles in thread order,
    which changed their last bits from run to run (see macros/exact_aggregates.sql).
    """
    return as_warehouse(target).query(f"""
        with recent_lines as (
            select l.sku, l.market, l.quantity, l.unit_price_eur, l.unit_price, l.currency = m.currency as in_market_currency
            from intermediate.int_order_lines_eur as l
            inner join reference.markets as m on m.market_code = l.market
            where l.line_type = 'sale' and l.order_date > cast(? as date) - {int(days)} and l.order_date <= cast(? as date)
        ),
        in_market as (
            select sku, market, greatest(1, round(median(quantity))) as basket_units,
                avg(cast(unit_price as decimal(38, 9))) filter (where in_market_currency) as unit_price_local,
                avg(cast(unit_price_eur as decimal(38, 9))) as unit_price_eur
            from recent_lines group by sku, market
        ),
        anywhere as (select sku, avg(cast(unit_price_eur as decimal(38, 9))) as unit_price_eur from recent_lines group by sku),
        fx as (select currency, units_per_eur from intermediate.int_fx_daily where calendar_date = cast(? as date))
        select skus.sku, m.market_code as market, coalesce(in_market.basket_units, 1) as basket_units,
            coalesce(in_market.unit_price_local, anywhere.unit_price_eur * fx.units_per_eur) as unit_price_local,
            coalesce(in_market.unit_price_eur, anywhere.unit_price_eur) as unit_price_eur,
            case when in_market.unit_price_local is not null then 'market'
                 when m.currency is null and in_market.unit_price_eur is not null then 'market'
                 when anywhere.unit_price_eur is not null then 'sku_other_markets' end as price_basis
        from marts.dim_sku as skus
        cross join reference.markets as m
        left join in_market on in_market.sku = skus.sku and in_market.market = m.market_code
        left join anywhere on anywhere.sku = skus.sku
        left join fx on fx.currency = m.currency
        order by all
    """, [as_of, as_of, as_of])


def read_customs_risk(target: WarehouseLike, table: str) -> pd.DataFrame:
    """Customs-hold risk per origin country x destination x HS chapter, the worst of its lanes' nodes.

    `table` is the run's own customs_risk (the caller knows where the run
    stages it: crossdock.publish.staged).
    """
    return as_warehouse(target).query(f"""
        select origin_country, destination_country, hs_chapter,
            max(smoothed_hold_rate) as hold_rate, max(expected_added_days) as added_days
        from {table} group by all order by all
    """)


SALE_LINES = "intermediate.int_sale_lines_shipped_from"
# the columns order pricing reads from a sale line (compliance.orders.LINE_COLUMNS and ship_to_country), in order
SALE_LINE_COLUMNS: tuple[str, ...] = (
    "order_id", "order_date", "market", "ship_to_country", "ship_from_node", "carrier", "sku", "quantity", "unit_price",
    "currency", "units_per_eur",
)


def read_sale_lines(target: WarehouseLike, orders: str | None = None) -> pd.DataFrame:
    """The sale lines to price as orders, sorted; only those of the order ids in table `orders` when given.

    The same select and sort either way, so an order's lines reach the pricing
    in the same order (and its sums add in the same order) whether it is priced
    with every order or alone.
    """
    only = f"semi join {orders} as only_orders on only_orders.order_id = lines.order_id" if orders else ""
    columns = ", ".join(f"lines.{c}" for c in SALE_LINE_COLUMNS)
    return as_warehouse(target).query(f"select {columns} from {SALE_LINES} as lines {only} order by all")


def read_compliance_sources(
    target: WarehouseLike, as_of: date, basket_days: int, customs_risk_table: str, with_lines: bool = True
) -> ComplianceSources:
    """All of `ComplianceSources` for the planning date, routes and baskets over the last `basket_days` days.

    `customs_risk_table` names the run's publish.customs_risk as staged (`read_customs_risk`).
    Without `with_lines` the sale lines are not read (`lines` is None).
    """
    warehouse = as_warehouse(target)
    return ComplianceSources(
        as_of=as_of,
        rules=read_rulebook(warehouse),
        facts=warehouse.query("select * from intermediate.int_sku_market_compliance order by all"),
        duty_rates=warehouse.query("""
            select sku, customs_territory, mfn_rate, preferential_agreement, preferential_rate, preferential_parties
            from intermediate.int_sku_duty_rates order by all
        """),
        countries=warehouse.query("select alpha_2, customs_territory from reference.countries order by all"),
        nodes=warehouse.query("""
            select nodes.node_code, nodes.country, countries.customs_territory
            from reference.nodes as nodes left join reference.countries as countries on countries.alpha_2 = nodes.country
            order by all
        """),
        routes=read_routes(warehouse, as_of, basket_days),
        baskets=read_baskets(warehouse, as_of, basket_days),
        customs_risk=read_customs_risk(warehouse, customs_risk_table),
        lines=read_sale_lines(warehouse) if with_lines else None,
    )
