-- where each SKU sells: first and last sale per market.
with demand as (
    select * from {{ ref('fct_daily_demand') }}
)

select
    demand.sku,
    demand.market,
    min(demand.category) as category,
    min(case when demand.units_sold > 0 then demand.demand_date end) as first_sale_date,
    max(case when demand.units_sold > 0 then demand.demand_date end) as last_sale_date
from demand
group by demand.sku, demand.market
