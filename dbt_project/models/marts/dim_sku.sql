-- one row per SKU: its primary supplier's terms, customs identity and cost in EUR.
-- A SKU sold but in no catalogue (no catalogue yet, or a new SKU) is here too,
-- never held back: its unit cost is the assumed share of its median selling
-- price and its MOQ and pack size the assumed ones (config.assumptions), and
-- cost_basis says so.
with catalogue as (
    select * from {{ ref('stg_supplier_catalogue') }}
),

primary_lines as (
    select
        *,
        row_number() over (partition by sku order by supplier_id) as pick
    from catalogue
    where is_primary
),

as_of_fx as (
    select fx.currency, fx.units_per_eur
    from {{ ref('int_fx_daily') }} as fx
    inner join (select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}) as plan
        on fx.calendar_date = plan.as_of
),

catalogue_skus as (
    select
        primary_lines.sku,
        primary_lines.product_name,
        primary_lines.category,
        primary_lines.hs_code,
        {{ hs_chapter('primary_lines.hs_code') }} as hs_chapter,
        primary_lines.origin_country,
        primary_lines.supplier_id as primary_supplier_id,
        primary_lines.unit_cost,
        primary_lines.cost_currency,
        primary_lines.unit_cost / as_of_fx.units_per_eur as unit_cost_eur,
        primary_lines.moq,
        primary_lines.pack_size,
        primary_lines.quoted_lead_time_days,
        primary_lines.weight_kg
    from primary_lines
    left join as_of_fx on as_of_fx.currency = primary_lines.cost_currency
    where primary_lines.pick = 1
),

sold_prices as (
    select
        sku,
        percentile_cont(0.5) within group (order by unit_price_eur) as median_price_eur
    from {{ ref('int_order_lines_eur') }}
    where line_type = 'sale' and unit_price_eur > 0
    group by sku
),

assumptions as (
    select * from {{ source('config', 'assumptions') }}
),

sold_only as (
    select sold_prices.sku, sold_prices.median_price_eur
    from sold_prices
    left join catalogue_skus on catalogue_skus.sku = sold_prices.sku
    where catalogue_skus.sku is null
)

select
    catalogue_skus.*,
    'catalogue' as cost_basis
from catalogue_skus

union all

select
    sold_only.sku,
    cast(null as string) as product_name,
    'unknown' as category,
    cast(null as string) as hs_code,
    {{ hs_chapter('cast(null as string)') }} as hs_chapter,
    cast(null as string) as origin_country,
    cast(null as string) as primary_supplier_id,
    cast(null as double) as unit_cost,
    cast(null as string) as cost_currency,
    sold_only.median_price_eur * assumptions.unit_cost_share_of_price as unit_cost_eur,
    assumptions.moq,
    assumptions.pack_size,
    cast(null as bigint) as quoted_lead_time_days,
    cast(null as double) as weight_kg,
    'assumed: share of median selling price' as cost_basis
from sold_only
cross join assumptions
