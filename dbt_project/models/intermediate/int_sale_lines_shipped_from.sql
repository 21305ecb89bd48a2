-- sale lines up to the planning date, each with the node it left from and its
-- carrier: the origin node of the order's tracked shipment when there is one,
-- else the line's ship node (the export's fulfilment node, or its market's).
-- The compliance tables price a parcel from that node under the rules of the
-- border it crosses, and count a market's routes from it.
with planning_date as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

sale_lines as (
    select order_lines.*
    from {{ ref('int_order_lines_eur') }} as order_lines
    cross join planning_date
    where order_lines.line_type = 'sale'
        and order_lines.order_date <= planning_date.as_of
),

order_shipments as (
    -- an order's shipments normally leave one node with one carrier: the smallest names them
    select order_id, min(origin_node) as origin_node, min(carrier) as carrier
    from {{ ref('int_shipments') }}
    group by order_id
)

select
    sale_lines.order_id,
    sale_lines.line_id,
    sale_lines.order_date,
    sale_lines.market,
    sale_lines.ship_to_country,
    coalesce(order_shipments.origin_node, sale_lines.ship_node) as ship_from_node,
    order_shipments.carrier,
    sale_lines.sku,
    sale_lines.quantity,
    sale_lines.unit_price,
    sale_lines.currency,
    sale_lines.units_per_eur
from sale_lines
left join order_shipments on order_shipments.order_id = sale_lines.order_id
