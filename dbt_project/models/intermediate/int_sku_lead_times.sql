-- observed supplier lead time per SKU from its primary supplier's receipts (dim_sku's pick);
-- the planning maths falls back to the quoted lead time when receipts are few.
-- With var('as_of'), only receipts up to that day (macros/planning_date.sql).
-- A SKU that no catalogue describes but that was received on purchase orders
-- takes the receipts of the supplier it was last ordered from, with the
-- assumed lead time (config.assumptions) standing in for a quote:
-- lead_time_basis = 'purchase orders'. A SKU sold with neither gets the
-- assumed lead time, lead_time_basis = 'assumed'.
with ranked_lines as (
    -- the line dim_sku plans with (macros/primary_line.sql), so the lead time is observed on the quoted line
    select
        sku,
        supplier_id,
        quoted_lead_time_days,
        {{ primary_line_rank() }} as pick
    from {{ ref('stg_supplier_catalogue') }}
),

primary_lines as (
    select sku, supplier_id, quoted_lead_time_days from ranked_lines where pick = 1
),

receipts as (
    select
        po.sku,
        po.supplier_id,
        po.ordered_date,
        {{ dbt.datediff('po.ordered_date', 'po.received_date', 'day') }} as lead_time_days
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_received_by_planning_date('po') }}
),

stats as (
    select
        primary_lines.sku,
        primary_lines.supplier_id,
        primary_lines.quoted_lead_time_days,
        count(receipts.lead_time_days) as n_receipts,
        avg(receipts.lead_time_days) as lead_time_mean_days,
        {{ exact_stddev_samp_of_integers('receipts.lead_time_days') }} as lead_time_std_days  -- the same bits every run
    from primary_lines
    left join receipts
        on receipts.sku = primary_lines.sku
        and receipts.supplier_id = primary_lines.supplier_id
    group by primary_lines.sku, primary_lines.supplier_id, primary_lines.quoted_lead_time_days
),

uncatalogued_receipts_ranked as (
    select
        receipts.sku,
        receipts.supplier_id,
        row_number() over (
            partition by receipts.sku order by receipts.ordered_date desc, receipts.supplier_id
        ) as recency
    from receipts
    left join primary_lines on primary_lines.sku = receipts.sku
    where primary_lines.sku is null
),

last_supplier as (
    select sku, supplier_id from uncatalogued_receipts_ranked where recency = 1
),

observed_only as (
    select
        last_supplier.sku,
        last_supplier.supplier_id,
        cast(assumptions.lead_time_days as bigint) as quoted_lead_time_days,
        count(receipts.lead_time_days) as n_receipts,
        avg(receipts.lead_time_days) as lead_time_mean_days,
        {{ exact_stddev_samp_of_integers('receipts.lead_time_days') }} as lead_time_std_days
    from last_supplier
    inner join receipts
        on receipts.sku = last_supplier.sku
        and receipts.supplier_id = last_supplier.supplier_id
    cross join {{ source('config', 'assumptions') }} as assumptions
    group by last_supplier.sku, last_supplier.supplier_id, assumptions.lead_time_days
),

sold_skus as (
    select distinct sku from {{ ref('int_order_lines_eur') }}
),

assumed as (
    select
        sold_skus.sku,
        cast(null as string) as supplier_id,
        cast(assumptions.lead_time_days as bigint) as quoted_lead_time_days,
        cast(0 as bigint) as n_receipts,
        cast(null as double) as lead_time_mean_days,
        cast(null as double) as lead_time_std_days
    from sold_skus
    cross join {{ source('config', 'assumptions') }} as assumptions
    left join stats on stats.sku = sold_skus.sku
    left join observed_only on observed_only.sku = sold_skus.sku
    where stats.sku is null and observed_only.sku is null
)

select stats.*, 'supplier' as lead_time_basis from stats
union all
select observed_only.*, 'purchase orders' as lead_time_basis from observed_only
union all
select assumed.*, 'assumed' as lead_time_basis from assumed
