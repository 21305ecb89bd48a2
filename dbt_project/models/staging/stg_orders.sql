-- order lines, latest version of each (order_id, line_id): a line re-sent in a
-- later file is an update, never a second sale.
with latest as (
    {{ latest_version(source('raw', 'orders'), ['order_id', 'line_id']) }}
)

select
    order_id,
    line_id,
    order_date,
    channel,
    customer_key,
    sku,
    quantity,
    -- a negative line at price 0 with no shopper is stock written off (damaged,
    -- thrown away), not a customer's return
    coalesce(
        line_type,
        case
            when quantity < 0 and unit_price = 0 and customer_key is null then 'write_off'
            when quantity < 0 then 'return'
            else 'sale'
        end
    ) as line_type,
    cast(unit_price as double) as unit_price,
    currency,
    ship_to_country,
    fulfilment_node
from latest
