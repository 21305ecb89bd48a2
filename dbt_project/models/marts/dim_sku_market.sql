-- where each SKU sells: first and last sale per market and recent volume.
with demand as (
    select * from {{ ref('fct_daily_demand') }}
),

plan as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
)

select
    demand.sku,
    demand.market,
    min(demand.category) as category,
    min(case when demand.units_sold > 0 then demand.demand_date end) as first_sale_date,
    max(case when demand.units_sold > 0 then demand.demand_date end) as last_sale_date,
    sum(case when demand.demand_date > {{ dbt.dateadd('day', -91, 'plan.as_of') }} then demand.units_sold else 0 end) as units_last_91d,
    sum(demand.units_sold) as units_all_time
from demand
cross join plan
group by demand.sku, demand.market
