-- sold, returned, cancelled and written-off units per SKU x market x day: the forecast's
-- training data. Sparse: a day without a row sold nothing. The forecast learns
-- gross demand (units ordered); returns and cancellations stay visible beside it.
-- Only days of the planning calendar (up to the planning date, as_of): a run
-- planning as of a past day neither trains on nor publishes what came after.
with calendar as (
    select calendar_date from {{ ref('int_planning_calendar') }}
),

lines as (
    select * from {{ ref('int_order_lines_eur') }}
    where order_date in (select calendar_date from calendar)
),

daily as (
    select
        sku,
        market,
        order_date as demand_date,
        -- DuckDB's sum() of bigints is a hugeint: units are published as bigint
        cast(sum(case when line_type = 'sale' then quantity else 0 end) as bigint) as units_sold,
        cast(sum(case when line_type = 'return' then abs(quantity) else 0 end) as bigint) as units_returned,
        cast(sum(case when line_type = 'cancellation' then abs(quantity) else 0 end) as bigint) as units_cancelled,
        cast(sum(case when line_type = 'write_off' then abs(quantity) else 0 end) as bigint) as units_written_off,
        count(*) as order_lines,
        -- money adds exactly (macros/exact_aggregates.sql): the same bits on every run
        {{ exact_sum("case when line_type = 'sale' then line_value_eur else 0 end") }} as revenue_eur,
        {{ exact_sum("case when line_type = 'return' then abs(line_value_eur) else 0 end") }} as refunds_eur
    from lines
    group by sku, market, order_date
)

select
    daily.sku,
    daily.market,
    coalesce(dim_sku.category, 'unknown') as category,
    daily.demand_date,
    daily.units_sold,
    daily.units_returned,
    daily.units_cancelled,
    daily.units_written_off,
    daily.order_lines,
    daily.revenue_eur,
    daily.refunds_eur
from daily
left join {{ ref('dim_sku') }} as dim_sku on dim_sku.sku = daily.sku
