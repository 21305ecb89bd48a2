with latest as (
    {{ latest_version(source('raw', 'carrier_events'), ['event_id']) }}
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
from latest
