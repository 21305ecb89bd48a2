"""The compliance assets: price every SKU x market x route and every order under the rules of its day.

Thin wiring: the SQL gathers the facts, compliance/ applies the rules. Both
tables are written for any merchant (no catalogue, a catch-all market, orders
older than the reference data): what cannot be priced is null and named in
their `unknowns` column, never a failed step.
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from compliance.documents import flag_counts
from compliance.orders import order_landed_costs
from compliance.plan import build_compliance_plan
from compliance.policy import CompliancePolicy
from compliance.rulebook import Rulebook
from crossdock.publish import stage_table, staged
from crossdock.warehouse import read_sql
from orchestration.assets.dbt import model_key, planning_date
from orchestration.column_schemas import documented_table
from orchestration.resources import WAREHOUSE_POOL

COMPLIANCE_PLAN = dg.AssetKey(["publish", "compliance_plan"])
ORDER_LANDED_COST = dg.AssetKey(["publish", "order_landed_cost"])

INPUTS = [
    model_key("intermediate", "int_sku_market_compliance"),
    model_key("intermediate", "int_sku_duty_rates"),
    model_key("intermediate", "int_order_lines_eur"),
    model_key("intermediate", "int_shipments"),
    model_key("intermediate", "int_fx_daily"),
    model_key("intermediate", "int_planning_calendar"),
    model_key("publish", "customs_risk"),
    *(model_key("reference", seed) for seed in ("de_minimis", "vat_rates", "import_fees", "markets", "nodes", "countries")),
]


class ComplianceConfig(dg.Config):
    default_incoterm: str = CompliancePolicy.default_incoterm  # DDP (seller pays duty and tax) or DAP (shopper pays at the door)
    incoterms: dict[str, str] = {}  # per market, e.g. {"CA": "DAP"}
    registrations: list[str] = []  # IOSS, GB_VAT, VOEC, AU_GST, CH_VAT held beyond those a node gives
    claimed_agreements: list[str] = []  # agreements whose origin proof is on file, e.g. ["CUSMA"]
    parcel_eur_per_kg: float = CompliancePolicy.parcel_eur_per_kg
    parcel_min_eur: float = CompliancePolicy.parcel_min_eur
    inbound_eur_per_kg: float = CompliancePolicy.inbound_eur_per_kg
    customs_hold_flag_rate: float = CompliancePolicy.customs_hold_flag_rate
    postal_carriers: list[str] = list(CompliancePolicy.postal_carriers)
    basket_days: int = CompliancePolicy.basket_days

    def policy(self) -> CompliancePolicy:
        for market, term in {"default": self.default_incoterm, **self.incoterms}.items():
            if term not in ("DDP", "DAP"):
                raise ValueError(f"incoterm for {market} is {term!r}: use DDP or DAP")
        return CompliancePolicy(
            parcel_eur_per_kg=self.parcel_eur_per_kg, parcel_min_eur=self.parcel_min_eur,
            inbound_eur_per_kg=self.inbound_eur_per_kg, default_incoterm=self.default_incoterm,
            incoterms=dict(self.incoterms), registrations=frozenset(self.registrations),
            claimed_agreements=frozenset(self.claimed_agreements),
            customs_hold_flag_rate=self.customs_hold_flag_rate, basket_days=self.basket_days,
            postal_carriers=frozenset(self.postal_carriers),
        )


def read_rulebook(conn) -> Rulebook:
    return Rulebook(
        de_minimis=read_sql(conn, "select * from reference.de_minimis order by all"),
        vat_rates=read_sql(conn, "select * from reference.vat_rates order by all"),
        fees=read_sql(conn, "select * from reference.import_fees order by all"),
        fx=read_sql(conn, "select calendar_date, currency, units_per_eur from intermediate.int_fx_daily order by all"),
    )


SHIP_FROM = """
    select l.*, coalesce(s.origin_node, l.ship_node) as ship_from_node, s.carrier
    from intermediate.int_order_lines_eur as l
    left join (
        select order_id, min(origin_node) as origin_node, min(carrier) as carrier from intermediate.int_shipments group by order_id
    ) as s using (order_id)
    where l.line_type = 'sale'
        and l.order_date <= (select max(calendar_date) from intermediate.int_planning_calendar)  -- up to the planning date
"""


def read_routes(conn, as_of, days: int) -> pd.DataFrame:
    """Each market's own node plus every node that shipped there in the last `days` days, with its share of orders."""
    return read_sql(conn, f"""
        with recent as (
            select market, ship_from_node as node, count(distinct order_id) as orders
            from ({SHIP_FROM}) as lines
            where order_date > cast(? as date) - {int(days)}
            group by market, ship_from_node
        ),
        own as (select market_code as market, fulfilment_node as node from reference.markets),
        routes as (
            select coalesce(recent.market, own.market) as market, coalesce(recent.node, own.node) as node,
                coalesce(recent.orders, 0) as orders, own.node is not null as is_primary_route
            from recent full outer join own on own.market = recent.market and own.node = recent.node
        )
        select routes.market, routes.node, nodes.country as node_country, node_countries.customs_territory as node_territory,
            routes.is_primary_route,
            routes.orders * 1.0 / nullif(sum(routes.orders) over (partition by routes.market), 0) as route_share
        from routes
        inner join reference.nodes as nodes on nodes.node_code = routes.node  -- a node the config does not declare is no route
        left join reference.countries as node_countries on node_countries.alpha_2 = nodes.country  -- a node's country need not be a market
        order by all
    """, [as_of])


def read_baskets(conn, as_of, days: int) -> pd.DataFrame:
    """The SKU's usual units per order line and price in the market; SKUs not sold there take their price elsewhere.

    unit_price_local is null when the market has no currency (a catch-all may
    not) or no ECB rate on as_of; unit_price_eur then carries the EUR price.
    Prices are averaged as decimal(38, 9): DuckDB adds doubles in thread order,
    which changed their last bits from run to run (see macros/exact_aggregates.sql).
    """
    return read_sql(conn, f"""
        with recent as (
            select l.sku, l.market, l.quantity, l.unit_price_eur, l.unit_price, l.currency = m.currency as in_market_currency
            from intermediate.int_order_lines_eur as l
            inner join reference.markets as m on m.market_code = l.market
            where l.line_type = 'sale' and l.order_date > cast(? as date) - {int(days)} and l.order_date <= cast(? as date)
        ),
        in_market as (
            select sku, market, greatest(1, round(median(quantity))) as basket_units,
                avg(cast(unit_price as decimal(38, 9))) filter (where in_market_currency) as unit_price_local,
                avg(cast(unit_price_eur as decimal(38, 9))) as unit_price_eur
            from recent group by sku, market
        ),
        anywhere as (select sku, avg(cast(unit_price_eur as decimal(38, 9))) as unit_price_eur from recent group by sku),
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


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            COMPLIANCE_PLAN, deps=INPUTS, group_name="compliance", kinds={"python", "duckdb"}, owners=["team:compliance"],
            metadata=documented_table("publish", "compliance_plan"),
            description="Per SKU x destination market x route (the node parcels leave from): HS code, duty (MFN or "
            "preferential), VAT, the de minimis regime in force and how it treats a typical basket, the basket's landed "
            "cost (goods, shipping, duty, VAT, fees; DDP or DAP), the merchant's landed cost per unit, customs-hold risk, "
            "flags, documents and the action to take.",
        ),
        dg.AssetSpec(
            ORDER_LANDED_COST, deps=INPUTS, group_name="compliance", kinds={"python", "duckdb"}, owners=["team:compliance"],
            metadata=documented_table("publish", "order_landed_cost"),
            description="Per order: the landed cost under the rules in force on the order's day (regime, duty, VAT and "
            "who collects it, fees, what the shopper pays at the door).",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def compliance_tables(context: dg.AssetExecutionContext, config: ComplianceConfig, warehouse: DuckDBResource):
    policy = config.policy()
    with warehouse.get_connection() as conn:
        as_of = planning_date(conn)
        rules = read_rulebook(conn)
        facts = read_sql(conn, "select * from intermediate.int_sku_market_compliance order by all")
        duty_rates = read_sql(conn, """
            select sku, customs_territory, mfn_rate, preferential_agreement, preferential_rate from intermediate.int_sku_duty_rates
            order by all
        """)
        countries = read_sql(conn, "select alpha_2, customs_territory from reference.countries order by all")
        routes = read_routes(conn, as_of, policy.basket_days)
        baskets = read_baskets(conn, as_of, policy.basket_days)
        risk = read_sql(conn, f"""
            select origin_country, destination_country, hs_chapter,
                max(smoothed_hold_rate) as hold_rate, max(expected_added_days) as added_days
            from {staged('customs_risk')} group by all order by all
        """)
        lines = read_sql(conn, f"""
            select order_id, order_date, market, ship_to_country, ship_from_node, carrier, sku, quantity, unit_price, currency,
                units_per_eur
            from ({SHIP_FROM}) as lines
            order by all  -- an order's lines add up in the same order on every run (float sums are order-dependent)
        """)
        nodes = read_sql(conn, """
            select nodes.node_code, nodes.country, countries.customs_territory
            from reference.nodes as nodes left join reference.countries as countries on countries.alpha_2 = nodes.country
            order by all
        """)

    plan = build_compliance_plan(facts, routes, baskets, rules, policy, as_of, risk)
    context.log.info(f"compliance plan: {len(plan):,} SKU x market x route rows; pricing {lines['order_id'].nunique():,} orders")
    node_territories = {r.node_code: (r.country, r.customs_territory) for r in nodes.itertuples(index=False)}
    country_territories = dict(zip(countries["alpha_2"], countries["customs_territory"]))
    orders = order_landed_costs(lines, facts, node_territories, rules, policy, country_territories, duty_rates)
    _log_unknowns(context, plan, orders)

    with warehouse.get_connection() as conn:
        stage_table(conn, "compliance_plan", plan, context.run_id)
        stage_table(conn, "order_landed_cost", orders, context.run_id)

    yield dg.MaterializeResult(asset_key=COMPLIANCE_PLAN, metadata=_plan_metadata(plan))
    yield dg.MaterializeResult(asset_key=ORDER_LANDED_COST, metadata=_order_metadata(orders))


def _unknown_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per unknown (a row with several counts once under each)."""
    names = frame["unknowns"].dropna().str.split(",").explode()
    return names.value_counts().rename_axis("unknown").reset_index(name="rows")


def _log_unknowns(context: dg.AssetExecutionContext, plan: pd.DataFrame, orders: pd.DataFrame) -> None:
    for name, frame in (("compliance plan rows", plan), ("orders", orders)):
        counts = _unknown_counts(frame)
        if len(counts):
            context.log.warning(f"{name} not fully priced: " + ", ".join(f"{r.unknown} unknown in {r.rows:,}" for r in counts.itertuples()))


def _plan_metadata(plan: pd.DataFrame) -> dict:
    by_market = plan.groupby(["market", "import_flow"], dropna=False).agg(
        rows=("sku", "size"), flagged=("flag_count", lambda s: int((s > 0).sum())),
        landed_eur_per_unit=("landed_cost_eur_per_unit", "mean"), basket_duty_eur=("basket_duty_eur", "mean"),
    ).reset_index()
    return {
        "dagster/row_count": len(plan),
        "as_of": str(plan["as_of"].iloc[0]) if len(plan) else "",
        "flags_by_type": dg.MetadataValue.md(flag_counts(plan).to_markdown(index=False)),
        "unknowns": dg.MetadataValue.md(_unknown_counts(plan).to_markdown(index=False)),
        "rows_with_unknowns": int(plan["unknowns"].notna().sum()),
        "by_market_and_route": dg.MetadataValue.md(by_market.round(2).to_markdown(index=False)),
    }


def _order_metadata(orders: pd.DataFrame) -> dict:
    by_regime = orders.groupby(["market", orders["import_flow"].fillna("-"), orders["regime"].fillna("-")]).agg(
        orders=("order_id", "size"), duty_eur=("duty_eur", "sum"), vat_eur=("vat_eur", "sum"), fees_eur=("fees_eur", "sum"),
        landed_eur=("landed_cost_eur", "sum"),
    ).reset_index()
    return {
        "dagster/row_count": len(orders),
        "by_market_and_regime": dg.MetadataValue.md(by_regime.round(0).to_markdown(index=False)),
        "unknowns": dg.MetadataValue.md(_unknown_counts(orders).to_markdown(index=False)),
        "orders_with_unknowns": int(orders["unknowns"].notna().sum()),
    }
