with latest as (
    {{ latest_version(source('raw', 'purchase_orders'), ['po_id', 'po_line']) }}
),

first_promises as (
    -- the promise of the first version loaded: an ERP that moves the promised day when the supplier slips
    -- must not make every receipt look on time
    select po_id, po_line, promised_at as first_promised_date
    from (
        select
            po_id,
            po_line,
            promised_at,
            row_number() over (
                partition by po_id, po_line order by _file_date, _ingested_at, _row_number
            ) as version_order
        from {{ source('raw', 'purchase_orders') }}
    ) as versions
    where version_order = 1
)

select
    latest.po_id,
    latest.po_line,
    latest.supplier_id,
    latest.sku,
    latest.destination_node as node,
    latest.quantity,
    latest.ordered_at as ordered_date,
    latest.promised_at as promised_date,
    first_promises.first_promised_date,
    latest.received_at as received_date,
    latest.status
from latest
inner join first_promises on first_promises.po_id = latest.po_id and first_promises.po_line = latest.po_line
