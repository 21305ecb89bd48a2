-- order lines, latest version of each (order_id, line_id): a line re-sent in a
-- later file is an update, never a second sale.
with latest as (
    {{ latest_version(source('raw', 'orders'), ['order_id', 'line_id']) }}
),

typed as (
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
),

not_stocked_skus as (
    -- whether a SKU is a good to stock is the product's, not the line's: a SKU once sent as
    -- not_stocked (shipping protection) is no good on its refunds and cancellations either, nor on
    -- the lines an older mapping loaded as sales
    select distinct sku from typed where line_type = 'not_stocked' and sku is not null
)

select
    typed.*,
    typed.line_type <> 'not_stocked' and not_stocked_skus.sku is null as stocked
from typed
left join not_stocked_skus on not_stocked_skus.sku = typed.sku
