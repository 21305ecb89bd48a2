-- carrier performance per lane (origin node -> destination country) x carrier x
-- service: transit percentiles, customs holds, exceptions, returns, how often
-- the market's delivery promise was kept, and whether transit is getting
-- slower. Trend windows are taken on delivery dates: windowed on pickups, the
-- last weeks would lose their slow shipments (still in transit) and always
-- look faster than they are.
with plan as (
    -- the planning date every row belongs to (a BI tool comparing runs joins on it)
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

shipments as (
    select
        *,
        cast(picked_up_at_utc as date) as pickup_date,
        cast(delivered_at_utc as date) as delivered_date,
        delivered_at_utc is not null and transit_days is not null as is_delivered
    from {{ ref('int_shipments') }}
),

trend_window as (
    select max(delivered_date) as trend_window_end
    from shipments
    where is_delivered
),

promise_window as (
    select min(window_start) as window_start, max(window_end) as window_end
    from {{ ref('delivery_promise') }}
),

windowed as (
    select
        shipments.*,
        trend_window.trend_window_end,
        shipments.is_delivered
            and shipments.delivered_date > {{ dbt.dateadd('day', -var('lane_trend_window_days'), 'trend_window.trend_window_end') }}
            as in_recent_window,
        shipments.is_delivered
            and shipments.delivered_date <= {{ dbt.dateadd('day', -var('lane_trend_window_days'), 'trend_window.trend_window_end') }}
            and shipments.delivered_date > {{ dbt.dateadd('day', -2 * var('lane_trend_window_days'), 'trend_window.trend_window_end') }}
            as in_prior_window,
        shipments.is_delivered
            and shipments.delivered_date between promise_window.window_start and promise_window.window_end
            as in_promise_window
    from shipments
    cross join trend_window
    cross join promise_window
),

promises as (
    select market, origin_node, promise_days
    from {{ ref('delivery_promise') }}
),

lanes as (
    select
        origin_node,
        origin_country,
        destination_country,
        carrier,
        service,
        count(*) as shipments,
        count(*) filter (where is_delivered) as delivered,
        percentile_cont(0.5) within group (order by case when is_delivered then transit_days end) as p50_transit_days,
        percentile_cont(0.9) within group (order by case when is_delivered then transit_days end) as p90_transit_days,
        {{ exact_avg('case when is_delivered then transit_days end') }} as mean_transit_days,
        avg(case when had_customs_hold then 1 else 0 end) as customs_hold_rate,
        {{ exact_avg('customs_hold_days') }} as mean_customs_hold_days,
        avg(case when had_exception then 1 else 0 end) as exception_rate,
        avg(case when was_returned then 1 else 0 end) as return_rate,
        count(*) filter (where in_recent_window) as recent_delivered,
        count(*) filter (where in_prior_window) as prior_delivered,
        percentile_cont(0.5) within group (order by case when in_recent_window then transit_days end) as recent_p50_transit_days,
        percentile_cont(0.5) within group (order by case when in_prior_window then transit_days end) as prior_p50_transit_days,
        -- the promise a shopper who picks this service can be given, made as the market's is (the promise
        -- window's deliveries, transit + handling at the confidence): the market's promise blends every service,
        -- and an economy service broke it a third of the time where express never did
        count(*) filter (where in_promise_window) as service_promise_shipments,
        cast(ceiling(percentile_cont({{ var('promise_confidence') }}) within group (
            order by case when in_promise_window then transit_days + {{ var('promise_handling_days') }} end)
        ) as bigint) as service_promise_days,
        min(pickup_date) as first_pickup_date,
        max(pickup_date) as last_pickup_date,
        max(trend_window_end) as trend_window_end
    from windowed
    group by origin_node, origin_country, destination_country, carrier, service
),

promise_kept as (
    -- a delivery kept the promise when transit plus handling fitted in the
    -- market's promise from that node (the promise of the latest window)
    select
        windowed.origin_node,
        windowed.origin_country,
        windowed.destination_country,
        windowed.carrier,
        windowed.service,
        max(promises.promise_days) as promise_days,
        avg(
            case when windowed.transit_days + {{ var('promise_handling_days') }} <= promises.promise_days then 1 else 0 end
        ) as on_time_rate
    from windowed
    inner join promises
        on promises.market = windowed.destination_country
        and promises.origin_node = windowed.origin_node
    where windowed.is_delivered
    group by windowed.origin_node, windowed.origin_country, windowed.destination_country, windowed.carrier, windowed.service
)

select
    plan.as_of,
    lanes.origin_node,
    lanes.origin_country,
    lanes.destination_country,
    lanes.origin_country || '-' || lanes.destination_country as lane,
    lanes.carrier,
    lanes.service,
    lanes.shipments,
    lanes.delivered,
    lanes.p50_transit_days,
    lanes.p90_transit_days,
    lanes.mean_transit_days,
    promise_kept.promise_days,
    promise_kept.on_time_rate,
    lanes.service_promise_days,
    lanes.service_promise_shipments,
    lanes.customs_hold_rate,
    lanes.mean_customs_hold_days,
    lanes.exception_rate,
    lanes.return_rate,
    lanes.recent_p50_transit_days,
    lanes.prior_p50_transit_days,
    lanes.recent_p50_transit_days - lanes.prior_p50_transit_days as transit_trend_days,
    lanes.recent_delivered,
    lanes.prior_delivered,
    lanes.trend_window_end,
    lanes.first_pickup_date,
    lanes.last_pickup_date
from lanes
left join promise_kept
    on promise_kept.origin_node = lanes.origin_node
    and promise_kept.origin_country = lanes.origin_country
    and promise_kept.destination_country = lanes.destination_country
    and promise_kept.carrier = lanes.carrier
    and promise_kept.service = lanes.service
cross join plan
where lanes.delivered >= 1
