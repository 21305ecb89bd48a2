-- observed supplier lead time per SKU from its primary supplier's receipts;
-- the planning maths falls back to the quoted lead time when receipts are few.
-- With var('as_of'), only receipts up to that day (macros/planning_date.sql).
with primary_lines as (
    select sku, supplier_id, quoted_lead_time_days
    from {{ ref('stg_supplier_catalogue') }}
    where is_primary
),

receipts as (
    select
        po.sku,
        po.supplier_id,
        {{ dbt.datediff('po.ordered_date', 'po.received_date', 'day') }} as lead_time_days,
        {{ dbt.datediff('po.promised_date', 'po.received_date', 'day') }} as days_late
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
        stddev_samp(receipts.lead_time_days) as lead_time_std_days,
        avg(case when receipts.days_late > 0 then 1.0 else 0.0 end) as late_share
    from primary_lines
    left join receipts
        on receipts.sku = primary_lines.sku
        and receipts.supplier_id = primary_lines.supplier_id
    group by primary_lines.sku, primary_lines.supplier_id, primary_lines.quoted_lead_time_days
)

select * from stats
