with versions as (
    select
        *,
        row_number() over (partition by snapshot_date, node, sku order by _ingested_at desc, _row_number desc) as version_rank
    from {{ source('raw', 'inventory_snapshots') }}
)

select
    snapshot_date,
    node,
    sku,
    on_hand
from versions
where version_rank = 1
