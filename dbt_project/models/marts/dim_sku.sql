-- one row per SKU: its primary supplier's terms, customs identity and cost in EUR.
with catalogue as (
    select * from {{ ref('stg_supplier_catalogue') }}
),

supplier_counts as (
    select sku, count(distinct supplier_id) as n_suppliers
    from catalogue
    group by sku
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
)

select
    primary_lines.sku,
    primary_lines.product_name,
    primary_lines.category,
    primary_lines.hs_code,
    primary_lines.origin_country,
    primary_lines.supplier_id as primary_supplier_id,
    suppliers.supplier_name as primary_supplier_name,
    primary_lines.unit_cost,
    primary_lines.cost_currency,
    primary_lines.unit_cost / as_of_fx.units_per_eur as unit_cost_eur,
    primary_lines.moq,
    primary_lines.pack_size,
    primary_lines.quoted_lead_time_days,
    primary_lines.weight_kg,
    supplier_counts.n_suppliers
from primary_lines
left join supplier_counts on supplier_counts.sku = primary_lines.sku
left join {{ ref('stg_suppliers') }} as suppliers on suppliers.supplier_id = primary_lines.supplier_id
left join as_of_fx on as_of_fx.currency = primary_lines.cost_currency
where primary_lines.pick = 1
