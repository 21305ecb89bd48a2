-- what each node holds and has on order per SKU when the plan starts. With
-- var('as_of'), the counts and receipts up to that day and the lines open on
-- it (macros/planning_date.sql).
-- On hand is each SKU's count since its node's last full count, plus the
-- purchase-order lines received after that count. A file counting a handful
-- of a node's SKUs (most of its lines quarantined, or one line sent to fix a
-- quarantined one) updates those SKUs and leaves the rest at the full count:
-- taken as the node's whole count, it set every SKU it left out to 0 and the
-- plan expedited them. A full count leaving a SKU out means none on hand.
-- A receipt after the count is no longer open, so it was counted nowhere and
-- the plan ordered again what had arrived. Sales since the count are not
-- taken off (docs/planning.md, "On hand").
{% set as_of = planning_as_of() %}
with snapshots as (
    select node, sku, snapshot_date, on_hand
    from {{ ref('stg_inventory_snapshots') }}
    {% if as_of %}where snapshot_date <= {{ as_of }}{% endif %}
),

count_days as (
    select node, snapshot_date, count(*) as skus_counted
    from snapshots
    group by node, snapshot_date
),

latest_count_day as (
    select node, max(snapshot_date) as snapshot_date
    from count_days
    group by node
),

most_counted as (
    -- the most SKUs one count of the node's last five weeks held: what a full count holds now
    select count_days.node, max(count_days.skus_counted) as skus_counted
    from count_days
    inner join latest_count_day
        on latest_count_day.node = count_days.node
        and count_days.snapshot_date > {{ dbt.dateadd('day', -35, 'latest_count_day.snapshot_date') }}
    group by count_days.node
),

full_count_day as (
    select count_days.node, max(count_days.snapshot_date) as snapshot_date
    from count_days
    inner join most_counted on most_counted.node = count_days.node
    where count_days.skus_counted * 2 >= most_counted.skus_counted
    group by count_days.node
),

counts_since_full as (
    select
        snapshots.node,
        snapshots.sku,
        snapshots.snapshot_date,
        snapshots.on_hand,
        row_number() over (partition by snapshots.node, snapshots.sku order by snapshots.snapshot_date desc) as recency
    from snapshots
    inner join full_count_day
        on full_count_day.node = snapshots.node
        and snapshots.snapshot_date >= full_count_day.snapshot_date
),

counted as (
    select node, sku, snapshot_date, on_hand from counts_since_full where recency = 1
),

received_after_count as (
    -- only at a node that counts its stock: without a count, on hand is unknown, not the receipts alone
    select
        po.node,
        po.sku,
        full_count_day.snapshot_date as full_count_date,
        cast(sum(po.quantity) as bigint) as received_units
    from {{ ref('stg_purchase_orders') }} as po
    inner join full_count_day on full_count_day.node = po.node
    left join counted on counted.node = po.node and counted.sku = po.sku
    where {{ po_received_by_planning_date('po') }}
        and po.received_date > coalesce(counted.snapshot_date, full_count_day.snapshot_date)
    group by po.node, po.sku, full_count_day.snapshot_date
),

node_counts as (
    select latest_count_day.node, latest_count_day.snapshot_date as latest_count_date,
        full_count_day.snapshot_date as full_count_date
    from latest_count_day
    inner join full_count_day on full_count_day.node = latest_count_day.node
),

on_hand as (
    select
        coalesce(counted.node, received_after_count.node) as node,
        coalesce(counted.sku, received_after_count.sku) as sku,
        coalesce(counted.snapshot_date, received_after_count.full_count_date) as snapshot_date,
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
    coalesce(open_orders.on_order, 0) as on_order,
    node_counts.full_count_date,
    node_counts.latest_count_date
from on_hand
full outer join open_orders
    on open_orders.node = on_hand.node
    and open_orders.sku = on_hand.sku
left join node_counts on node_counts.node = coalesce(on_hand.node, open_orders.node)
