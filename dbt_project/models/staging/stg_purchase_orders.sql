with versions as (
    select
        *,
        row_number() over (partition by po_id, po_line order by _ingested_at desc, _row_number desc) as version_rank
    from {{ source('raw', 'purchase_orders') }}
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
from versions
where version_rank = 1
