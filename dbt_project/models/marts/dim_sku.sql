-- one row per SKU: its primary supplier's terms, customs identity and cost in EUR.
-- A SKU sold but in no catalogue (no catalogue yet, or a new SKU) is here too,
-- never held back: its unit cost is the assumed share of its median selling
-- price and its MOQ and pack size the assumed ones (config.assumptions), and
-- cost_basis says so. So is a catalogue SKU whose cost is no cost to plan with
-- (0, or in a currency with no ECB rate on the planning date): its other terms
-- and customs identity stay the catalogue's. One such line stopped every SKU's
-- plan (order quantities and carrying cost need a cost above 0). A catalogue
-- line that names no MOQ or pack size gives its SKU the assumed ones.
with catalogue as (
    select * from {{ ref('stg_supplier_catalogue') }}
),

primary_lines as (
    -- each line ranked by macros/primary_line.sql; a SKU with no line flagged primary takes its lowest supplier
    -- id's (the test skus_without_a_primary_line warns of it)
    select
        *,
        {{ primary_line_rank() }} as pick
    from catalogue
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
        primary_lines.unit_cost / as_of_fx.units_per_eur as catalogue_cost_eur,
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
    catalogue_skus.sku,
    catalogue_skus.product_name,
    catalogue_skus.category,
    catalogue_skus.hs_code,
    catalogue_skus.hs_chapter,
    catalogue_skus.origin_country,
    catalogue_skus.primary_supplier_id,
    catalogue_skus.unit_cost,
    catalogue_skus.cost_currency,
    case
        when catalogue_skus.catalogue_cost_eur > 0 then catalogue_skus.catalogue_cost_eur
        else sold_prices.median_price_eur * assumptions.unit_cost_share_of_price
    end as unit_cost_eur,
    coalesce(catalogue_skus.moq, assumptions.moq) as moq,
    coalesce(catalogue_skus.pack_size, assumptions.pack_size) as pack_size,
    catalogue_skus.quoted_lead_time_days,
    catalogue_skus.weight_kg,
    case
        when catalogue_skus.catalogue_cost_eur > 0 then 'catalogue'
        else 'assumed: share of median selling price (catalogue cost '
            || coalesce(cast(catalogue_skus.unit_cost as string), 'none') || ' '
            || coalesce(catalogue_skus.cost_currency, '')
            || case when catalogue_skus.catalogue_cost_eur is null then ' has no EUR rate' else ' is no cost' end
            || ' to plan with)'
    end as cost_basis,
    catalogue_skus.moq is null or catalogue_skus.pack_size is null as order_terms_assumed
from catalogue_skus
left join sold_prices on sold_prices.sku = catalogue_skus.sku
cross join assumptions

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
    'assumed: share of median selling price' as cost_basis,
    true as order_terms_assumed
from sold_only
cross join assumptions
