-- every ISO country and the market its orders are planned in: the country's
-- own market when crossdock.yaml declares it, else the catch-all market when
-- there is one, else none (not_covered: its orders are counted in
-- publish.market_coverage and left out of the plan, never dropped silently).
with countries as (
    select alpha_2, name from {{ ref('countries') }}
),

markets as (
    select market_code, is_catch_all from {{ ref('markets') }}
),

catch_all as (
    select market_code from markets where is_catch_all
)

select
    countries.alpha_2 as country,
    countries.name as country_name,
    coalesce(declared.market_code, catch_all.market_code) as market_code,
    case
        when declared.market_code is not null then 'market'
        when catch_all.market_code is not null then 'catch_all'
        else 'not_covered'
    end as coverage
from countries
left join markets as declared on declared.market_code = countries.alpha_2 and not declared.is_catch_all
left join catch_all on 1 = 1
