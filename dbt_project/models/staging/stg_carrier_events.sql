with versions as (
    select
        *,
        row_number() over (partition by event_id order by _ingested_at desc, _row_number desc) as version_rank
    from {{ source('raw', 'carrier_events') }}
)

select
    event_id,
    shipment_id,
    order_id,
    carrier,
    service,
    origin_node,
    origin_country,
    destination_country,
    event_type,
    event_at as event_at_utc
from versions
where version_rank = 1
