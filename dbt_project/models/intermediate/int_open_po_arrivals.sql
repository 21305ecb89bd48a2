-- open purchase-order lines with the day they are expected to arrive: the
-- supplier's promise moved by how late that supplier has actually been. The
-- inventory projection books each line on that day. With var('as_of'), the
-- lines open on that day and the receipts up to it (macros/planning_date.sql).
with open_lines as (
    select po_id, po_line, supplier_id, sku, node, quantity, ordered_date, promised_date
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_open_on_planning_date('po') }}
),

supplier_delay as (
    select
        supplier_id,
        avg({{ dbt.datediff('promised_date', 'received_date', 'day') }}) as mean_days_late
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_received_by_planning_date('po') }}
    group by supplier_id
),

expected as (
    select
        open_lines.*,
        coalesce(greatest(round(supplier_delay.mean_days_late), 0), 0)::integer as expected_delay_days
    from open_lines
    left join supplier_delay on supplier_delay.supplier_id = open_lines.supplier_id
)

select
    po_id,
    po_line,
    supplier_id,
    sku,
    node,
    quantity,
    ordered_date,
    promised_date,
    {{ dbt.dateadd('day', 'expected_delay_days', 'promised_date') }}::date as expected_arrival_date
from expected
