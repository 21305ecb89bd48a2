-- order lines of goods with their value in EUR (the ECB's base) and in the reporting
-- currency (CROSSDOCK_REPORTING_CURRENCY, default EUR), both at the ECB rate of
-- the order day; the original currency and amount are kept. Each line gets the
-- market it is planned in (crossdock.yaml via reference.country_markets); lines
-- to a country the config does not cover are left out here and counted in
-- publish.market_coverage. A line whose export names no fulfilment node is
-- taken as shipped by its market's node, and marked so. Only the days of the
-- planning calendar: a run back-dated with `crossdock run --as-of` sees the
-- lines up to its planning date, as that day knew them (the later ones had no
-- rate on its calendar and warned of thousands of lines without a EUR value).
-- Goods only (stg_orders.stocked): a gift card, a tip or shipping protection
-- is no good to plan; stg_orders keeps it, and nothing from here on sees it.
{% set reporting_currency = env_var('CROSSDOCK_REPORTING_CURRENCY', 'EUR') | upper %}

with planning_days as (
    select min(calendar_date) as first_day, max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

order_lines as (
    select
        stg_orders.order_id,
        stg_orders.line_id,
        stg_orders.order_date,
        stg_orders.channel,
        stg_orders.customer_key,
        stg_orders.sku,
        stg_orders.quantity,
        stg_orders.line_type,
        stg_orders.unit_price,
        stg_orders.currency,
        stg_orders.ship_to_country,
        stg_orders.fulfilment_node
    from {{ ref('stg_orders') }} as stg_orders
    inner join planning_days on stg_orders.order_date between planning_days.first_day and planning_days.as_of
    where stg_orders.stocked
),

planned_markets as (
    select country_markets.country, country_markets.market_code, markets.fulfilment_node as market_node
    from {{ ref('country_markets') }} as country_markets
    inner join {{ ref('markets') }} as markets on markets.market_code = country_markets.market_code
),

lines as (
    select
        order_lines.*,
        planned_markets.market_code as market,
        coalesce(order_lines.fulfilment_node, planned_markets.market_node) as ship_node,
        order_lines.fulfilment_node is null as ship_node_assumed
    from order_lines
    inner join planned_markets on planned_markets.country = order_lines.ship_to_country
),

fx as (
    select calendar_date, currency, units_per_eur from {{ ref('int_fx_daily') }}
),

reporting_fx as (
    select calendar_date, units_per_eur as reporting_units_per_eur
    from fx
    where currency = '{{ reporting_currency }}'
)

select
    lines.*,
    lines.quantity * lines.unit_price as line_value,
    fx.units_per_eur,
    lines.unit_price / fx.units_per_eur as unit_price_eur,
    lines.quantity * lines.unit_price / fx.units_per_eur as line_value_eur,
    '{{ reporting_currency }}' as reporting_currency,
    lines.quantity * lines.unit_price / fx.units_per_eur * reporting_fx.reporting_units_per_eur as line_value_reporting
from lines
left join fx
    on fx.calendar_date = lines.order_date
    and fx.currency = lines.currency
left join reporting_fx
    on reporting_fx.calendar_date = lines.order_date
