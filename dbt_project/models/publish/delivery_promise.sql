-- the delivery promise, in whole days from order release, that each market can
-- keep from each node shipping to it at the chosen confidence: the confidence
-- quantile of (carrier transit + warehouse handling) over the shipments
-- delivered in the last days of data. The window is taken on delivery dates, not
-- pickups: pickups of the last days that are still in transit would drop out
-- and flatter the promise.
with plan as (
    -- the planning date every row belongs to (a BI tool comparing runs joins on it)
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

delivered as (
    select
        destination_country as market,
        origin_node,
        cast(delivered_at_utc as date) as delivered_date,
        transit_days + {{ var('promise_handling_days') }} as order_to_door_days
    from {{ ref('int_shipments') }}
    where delivered_at_utc is not null and transit_days is not null
),

data_window as (
    select
        {{ dbt.dateadd('day', 1 - var('promise_window_days'), 'max(delivered_date)') }} as window_start,
        max(delivered_date) as window_end
    from delivered
),

recent as (
    select delivered.*
    from delivered
    cross join data_window
    where delivered.delivered_date between cast(data_window.window_start as date) and data_window.window_end
),

promises as (
    select
        market,
        origin_node,
        count(*) as shipments,
        percentile_cont(0.5) within group (order by order_to_door_days) as p50_days,
        -- unrounded, for delivery_promise_by_chapter to shift by a chapter's customs delay
        percentile_cont({{ var('promise_confidence') }}) within group (order by order_to_door_days) as promise_quantile_days,
        cast(ceiling(
            percentile_cont({{ var('promise_confidence') }}) within group (order by order_to_door_days)
        ) as bigint) as promise_days
    from recent
    group by market, origin_node
),

achieved as (
    select
        promises.market,
        promises.origin_node,
        avg(case when recent.order_to_door_days <= promises.promise_days then 1 else 0 end) as achieved_share
    from promises
    inner join recent on recent.market = promises.market and recent.origin_node = promises.origin_node
    group by promises.market, promises.origin_node
),

ranked as (
    select
        promises.*,
        achieved.achieved_share,
        row_number() over (partition by promises.market order by promises.shipments desc, promises.origin_node) as node_rank
    from promises
    inner join achieved on achieved.market = promises.market and achieved.origin_node = promises.origin_node
)

select
    plan.as_of,
    ranked.market,
    ranked.origin_node,
    ranked.node_rank = 1 as is_primary_node,
    cast(data_window.window_start as date) as window_start,
    data_window.window_end,
    ranked.shipments,
    cast({{ var('promise_confidence') }} as double) as confidence,
    cast({{ var('promise_handling_days') }} as bigint) as handling_days,
    ranked.p50_days,
    ranked.promise_quantile_days,
    ranked.promise_days,
    ranked.achieved_share
from ranked
cross join data_window
cross join plan
