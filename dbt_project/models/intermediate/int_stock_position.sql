-- the latest on-hand snapshot and the open purchase orders per SKU per node:
-- the starting point of the inventory plan. With var('as_of'), the latest
-- snapshot on or before it and the lines open on that day (macros/planning_date.sql).
{% set as_of = planning_as_of() %}
with latest_day as (
    select node, max(snapshot_date) as snapshot_date
    from {{ ref('stg_inventory_snapshots') }}
    {% if as_of %}where snapshot_date <= {{ as_of }}{% endif %}
    group by node
),

on_hand as (
    select snap.node, snap.sku, snap.snapshot_date, snap.on_hand
    from {{ ref('stg_inventory_snapshots') }} as snap
    inner join latest_day
        on latest_day.node = snap.node
        and latest_day.snapshot_date = snap.snapshot_date
),

open_orders as (
    select
        node,
        sku,
        cast(sum(quantity) as bigint) as on_order  -- sum() of bigints is a hugeint
    from {{ ref('stg_purchase_orders') }} as po
    where {{ po_open_on_planning_date('po') }}
    group by node, sku
)

select
    coalesce(on_hand.node, open_orders.node) as node,
    coalesce(on_hand.sku, open_orders.sku) as sku,
    on_hand.snapshot_date,
    coalesce(on_hand.on_hand, 0) as on_hand,
    coalesce(open_orders.on_order, 0) as on_order
from on_hand
full outer join open_orders
    on open_orders.node = on_hand.node
    and open_orders.sku = on_hand.sku
