with latest as (
    {{ latest_version(source('raw', 'inventory_snapshots'), ['snapshot_date', 'node', 'sku']) }}
)

select
    snapshot_date,
    node,
    sku,
    on_hand
from latest
