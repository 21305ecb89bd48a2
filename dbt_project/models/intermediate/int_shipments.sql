-- one row per shipment: its lane, the first pickup, the delivery, and whether
-- and how long customs held it. With var('as_of'), only the events up to that
-- day: a parcel delivered later is still in transit then, and the lane and
-- customs statistics, delivery promises and transfers' customs days are those
-- the plan could have known.
with events as (
    select * from {{ ref('stg_carrier_events') }}
    where {{ known_by_planning_date('event_at_utc') }}
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
        min(case when event_type = 'customs_hold' then event_at_utc end) as customs_hold_at_utc,
        max(case when event_type = 'customs_cleared' then event_at_utc end) as customs_cleared_at_utc,
        max(case when event_type = 'exception' then 1 else 0 end) = 1 as had_exception,
        min(case when event_type = 'returned' then event_at_utc end) as returned_at_utc
    from events
    group by shipment_id
)

select
    shipment_id,
    order_id,
    carrier,
    service,
    origin_node,
    origin_country,
    destination_country,
    picked_up_at_utc,
    delivered_at_utc,
    had_exception,
    returned_at_utc,
    returned_at_utc is not null as was_returned,
    origin_country || '-' || destination_country as lane,
    customs_hold_at_utc is not null as had_customs_hold,
    {{ hours_between('picked_up_at_utc', 'delivered_at_utc') }} / 24 as transit_days,
    {{ hours_between('customs_hold_at_utc', 'customs_cleared_at_utc') }} / 24 as customs_hold_days
from milestones
