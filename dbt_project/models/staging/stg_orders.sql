-- order lines, latest version of each (order_id, line_id): a line re-sent in a
-- later file is an update, never a second sale.
with versions as (
    select
        *,
        row_number() over (
            partition by order_id, line_id order by _ingested_at desc, _row_number desc
        ) as version_rank
    from {{ source('raw', 'orders') }}
),

latest as (
    select * from versions where version_rank = 1
)

select
    order_id,
    line_id,
    ordered_at as ordered_at_utc,
    order_date,
    channel,
    customer_key,
    sku,
    quantity,
    quantity < 0 as is_return,
    cast(unit_price as double) as unit_price,
    currency,
    ship_to_country as market,
    fulfilment_node,
    _file_id as source_file_id
from latest
