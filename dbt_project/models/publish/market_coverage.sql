-- every ship-to country the orders name and how the plan covers it: as a
-- market of its own, inside the catch-all market, or not at all (its orders
-- are left out of the forecast and plans until crossdock.yaml covers it).
-- This is where nothing is dropped silently.
with plan as (
    -- the planning date every row belongs to (a BI tool comparing runs joins on it)
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

lines as (
    -- lines of goods: a gift card or a tip is no market's sale and may ship nowhere
    select ship_to_country, order_date, line_type, quantity from {{ ref('stg_orders') }}
    where stocked
),

coverage as (
    select country, country_name, market_code, coverage from {{ ref('country_markets') }}
),

per_country as (
    select
        ship_to_country,
        count(*) as order_lines,
        sum(case when line_type = 'sale' then quantity else 0 end) as units_sold,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from lines
    group by ship_to_country
)

select
    plan.as_of,
    per_country.ship_to_country as country,
    coverage.country_name,
    coalesce(coverage.coverage, 'not_covered') as coverage,
    coverage.market_code as market,
    cast(per_country.order_lines as bigint) as order_lines,
    cast(per_country.units_sold as bigint) as units_sold,
    per_country.first_order_date,
    per_country.last_order_date
from per_country
left join coverage on coverage.country = per_country.ship_to_country
cross join plan
