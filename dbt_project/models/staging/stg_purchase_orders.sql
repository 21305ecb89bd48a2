with latest as (
    {{ latest_version(source('raw', 'purchase_orders'), ['po_id', 'po_line']) }}
)

select
    po_id,
    po_line,
    supplier_id,
    sku,
    destination_node as node,
    quantity,
    ordered_at as ordered_date,
    promised_at as promised_date,
    received_at as received_date,
    status
from latest
