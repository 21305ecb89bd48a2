-- per SKU x supplier offering it in the catalogue (primary and alternatives):
-- how exposed the SKU is to that supplier and how reliably the supplier has
-- delivered. Delivery statistics are supplier-wide (all its received PO lines)
-- because alternatives have rarely been ordered from and one SKU's handful of
-- receipts is too few for a rate; the SKU's own receipts are shown beside them.
with plan as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

catalogue as (
    select sku, supplier_id, unit_cost, cost_currency, quoted_lead_time_days
    from {{ ref('stg_supplier_catalogue') }}
),

primary_lines as (
    -- dim_sku's primary (the catalogue flag, lowest supplier id if several are flagged), at its catalogue cost:
    -- dim_sku's unit_cost_eur is an assumed one where that cost cannot be planned with (0, no EUR rate)
    select sku, primary_supplier_id, unit_cost as primary_unit_cost, cost_currency as primary_cost_currency,
        quoted_lead_time_days
    from {{ ref('dim_sku') }}
),

supplier_counts as (
    select sku, count(distinct supplier_id) as suppliers_for_sku
    from catalogue
    group by sku
),

fx_as_of as (
    select fx.currency, fx.units_per_eur
    from {{ ref('int_fx_daily') }} as fx
    inner join plan on fx.calendar_date = plan.as_of
),

receipts as (
    select
        supplier_id,
        sku,
        case when received_date <= first_promised_date then 1 else 0 end as on_time,
        {{ dbt.datediff('first_promised_date', 'received_date', 'day') }} as days_late,
        {{ dbt.datediff('ordered_date', 'received_date', 'day') }} as lead_time_days
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_received_by_planning_date('po') }}
),

supplier_delivery as (
    select
        supplier_id,
        count(*) as receipts,
        avg(on_time) as on_time_rate,
        avg(days_late) as mean_days_late,
        avg(lead_time_days) as lead_time_mean_days,
        {{ exact_stddev_samp_of_integers('lead_time_days') }} / nullif(avg(lead_time_days), 0) as lead_time_cv
    from receipts
    group by supplier_id
),

sku_receipts as (
    select supplier_id, sku, count(*) as sku_receipts
    from receipts
    group by supplier_id, sku
),

open_orders as (
    select supplier_id, sku, cast(sum(quantity) as bigint) as open_po_units
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_open_on_planning_date('po') }}
    group by supplier_id, sku
),

offers as (
    select
        catalogue.sku,
        catalogue.supplier_id,
        suppliers.supplier_name,
        coalesce(catalogue.supplier_id = primary_lines.primary_supplier_id, false) as is_primary,
        supplier_counts.suppliers_for_sku,
        supplier_counts.suppliers_for_sku = 1 as single_sourced,
        catalogue.unit_cost,
        catalogue.cost_currency,
        catalogue.unit_cost / fx_as_of.units_per_eur as unit_cost_eur,
        catalogue.unit_cost / fx_as_of.units_per_eur
            - primary_lines.primary_unit_cost / primary_fx.units_per_eur as cost_diff_vs_primary_eur,
        catalogue.quoted_lead_time_days,
        catalogue.quoted_lead_time_days - primary_lines.quoted_lead_time_days as lead_time_diff_vs_primary_days,
        coalesce(supplier_delivery.receipts, 0) as receipts,
        coalesce(sku_receipts.sku_receipts, 0) as sku_receipts,
        supplier_delivery.on_time_rate,
        supplier_delivery.mean_days_late,
        supplier_delivery.lead_time_mean_days,
        supplier_delivery.lead_time_cv,
        coalesce(open_orders.open_po_units, 0) as open_po_units
    from catalogue
    left join supplier_counts on supplier_counts.sku = catalogue.sku
    left join primary_lines on primary_lines.sku = catalogue.sku
    left join {{ ref('stg_suppliers') }} as suppliers on suppliers.supplier_id = catalogue.supplier_id
    left join fx_as_of on fx_as_of.currency = catalogue.cost_currency
    left join fx_as_of as primary_fx on primary_fx.currency = primary_lines.primary_cost_currency
    left join supplier_delivery on supplier_delivery.supplier_id = catalogue.supplier_id
    left join sku_receipts on sku_receipts.supplier_id = catalogue.supplier_id and sku_receipts.sku = catalogue.sku
    left join open_orders on open_orders.supplier_id = catalogue.supplier_id and open_orders.sku = catalogue.sku
),

flagged as (
    select
        offers.*,
        coalesce(offers.on_time_rate < {{ var('late_supplier_threshold') }}, false) as is_late_supplier,
        coalesce(offers.lead_time_cv > {{ var('variable_lead_time_cv') }}, false) as has_variable_lead_time,
        offers.receipts = 0 as has_no_receipt_history
    from offers
)

select
    plan.as_of,
    flagged.sku,
    flagged.supplier_id,
    flagged.supplier_name,
    flagged.is_primary,
    flagged.suppliers_for_sku,
    flagged.single_sourced,
    flagged.unit_cost,
    flagged.cost_currency,
    flagged.unit_cost_eur,
    flagged.cost_diff_vs_primary_eur,
    flagged.quoted_lead_time_days,
    flagged.lead_time_diff_vs_primary_days,
    flagged.receipts,
    flagged.sku_receipts,
    flagged.on_time_rate,
    flagged.mean_days_late,
    flagged.lead_time_mean_days,
    flagged.lead_time_cv,
    flagged.open_po_units,
    nullif(concat_ws(', ',
        case when flagged.single_sourced then 'single_sourced' end,
        case when flagged.is_late_supplier then 'late_supplier' end,
        case when flagged.has_variable_lead_time then 'variable_lead_time' end,
        case when flagged.has_no_receipt_history then 'no_receipt_history' end
    ), '') as risk_flags,
    case
        when flagged.single_sourced
            and (flagged.is_late_supplier or flagged.has_variable_lead_time or flagged.has_no_receipt_history) then 'high'
        when flagged.single_sourced
            or flagged.is_late_supplier or flagged.has_variable_lead_time or flagged.has_no_receipt_history then 'medium'
        else 'low'
    end as risk_level
from flagged
cross join plan
