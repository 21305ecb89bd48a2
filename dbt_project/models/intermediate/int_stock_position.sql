-- the latest on-hand snapshot and the open purchase orders per SKU per node:
-- the starting point of the inventory plan. With var('as_of'), the latest
-- snapshot on or before it and the lines open on that day (macros/planning_date.sql).
-- A line received after the node's latest count is on hand too: it is no
-- longer open, so counted nowhere the plan ordered and expedited again what had
-- arrived (the demo's first buyer found 85 % of a week's order value so). Sales
-- since the count are not taken off (docs/planning.md, "On hand").
{% set as_of = planning_as_of() %}
with latest_day as (
    select node, max(snapshot_date) as snapshot_date
    from {{ ref('stg_inventory_snapshots') }}
    {% if as_of %}where snapshot_date <= {{ as_of }}{% endif %}
    group by node
),

counted as (
    select snap.node, snap.sku, snap.snapshot_date, snap.on_hand
    from {{ ref('stg_inventory_snapshots') }} as snap
    inner join latest_day
        on latest_day.node = snap.node
        and latest_day.snapshot_date = snap.snapshot_date
),

received_after_count as (
    -- only at a node that counts its stock: without a count, on hand is unknown, not the receipts alone
    select
        po.node,
        po.sku,
        latest_day.snapshot_date,
        cast(sum(po.quantity) as bigint) as received_units
    from {{ ref('stg_purchase_orders') }} as po
    inner join latest_day
        on latest_day.node = po.node
        and po.received_date > latest_day.snapshot_date
    where {{ po_received_by_planning_date('po') }}
    group by po.node, po.sku, latest_day.snapshot_date
),

on_hand as (
    select
        coalesce(counted.node, received_after_count.node) as node,
        coalesce(counted.sku, received_after_count.sku) as sku,
        coalesce(counted.snapshot_date, received_after_count.snapshot_date) as snapshot_date,
        coalesce(counted.on_hand, 0) + coalesce(received_after_count.received_units, 0) as on_hand,
        coalesce(received_after_count.received_units, 0) as received_after_snapshot
    from counted
    full outer join received_after_count
        on received_after_count.node = counted.node
        and received_after_count.sku = counted.sku
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
    coalesce(on_hand.received_after_snapshot, 0) as received_after_snapshot,
    coalesce(open_orders.on_order, 0) as on_order
from on_hand
full outer join open_orders
    on open_orders.node = on_hand.node
    and open_orders.sku = on_hand.sku
