-- one row per shipment: its lane, the first pickup, the delivery, and whether
-- and how long customs held it.
with events as (
    select * from {{ ref('stg_carrier_events') }}
),

milestones as (
    select
        shipment_id,
        min(order_id) as order_id,
        min(carrier) as carrier,
        min(service) as service,
        min(origin_node) as origin_node,
        min(origin_country) as origin_country,
        min(destination_country) as destination_country,
        min(case when event_type = 'picked_up' then event_at_utc end) as picked_up_at_utc,
        max(case when event_type = 'delivered' then event_at_utc end) as delivered_at_utc,
        max(case when event_type = 'exception' then 1 else 0 end) = 1 as had_exception,
        max(case when event_type = 'returned' then 1 else 0 end) = 1 as was_returned
    from events
    group by shipment_id
),

customs_holds as (
    select
        shipment_id,
        min(case when event_type = 'customs_hold' then event_at_utc end) as held_at_utc,
        max(case when event_type = 'customs_cleared' then event_at_utc end) as cleared_at_utc
    from events
    group by shipment_id
)

select
    milestones.*,
    milestones.origin_country || '-' || milestones.destination_country as lane,
    customs_holds.held_at_utc is not null as had_customs_hold,
    {{ hours_between('milestones.picked_up_at_utc', 'milestones.delivered_at_utc') }} / 24 as transit_days,
    {{ hours_between('customs_holds.held_at_utc', 'customs_holds.cleared_at_utc') }} / 24 as customs_hold_days
from milestones
inner join customs_holds on customs_holds.shipment_id = milestones.shipment_id
