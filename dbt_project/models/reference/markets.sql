-- the markets crossdock plans, as the merchant declared them in crossdock.yaml
-- (config.markets), with each country's name and customs territory. The
-- catch-all market stands for many countries: it has no single name, border
-- or currency, and says so with nulls rather than borrowing one.
with declared as (
    select * from {{ source('config', 'markets') }}
),

countries as (
    select alpha_2, name, customs_territory from {{ ref('countries') }}
)

select
    declared.market_code,
    case when declared.is_catch_all then 'Other countries' else countries.name end as country_name,
    declared.currency,
    declared.timezone,
    declared.fulfilment_node,
    declared.region,
    case when declared.is_catch_all then null else countries.customs_territory end as customs_territory,
    declared.holiday_subdivision,
    declared.southern_hemisphere,
    declared.is_catch_all
from declared
left join countries on countries.alpha_2 = declared.market_code
