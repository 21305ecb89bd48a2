-- the delivery promise per market x origin node x HS chapter, for the lanes that
-- cross a customs border (those in customs_risk; elsewhere customs does not
-- depend on what the parcel holds and delivery_promise is the promise).
--
-- Why a shift of the lane's promise rather than a promise of the chapter's own:
-- a chapter ships a fraction of the lane's parcels, too few for a 90 % quantile
-- of its own, while the only thing that differs between chapters on one lane is
-- customs. So the lane's door-to-door time is rebuilt twice from the same recent
-- deliveries (delivery_promise's window): each delivery's transit without its
-- customs hold plus handling, plus a customs delay drawn from customs_risk's
-- model (none with probability smoothed_hold_rate's complement, else one of the
-- lane's hold lengths scaled by hold_days_factor), once with the chapter's
-- delay and once with the lane's own (lane_hold_rate, factor 1). The chapter's
-- promise is the lane's unrounded confidence quantile (promise_quantile_days)
-- moved by the difference of the two quantiles, rounded up. Hence:
-- - a chapter as risky as its lane keeps exactly the lane's promise;
-- - chapters with few shipments are shrunk toward the lane in customs_risk, so
--   their promise falls back toward the lane's;
-- - a chapter held more often and at least as long as the lane is never
--   promised faster (its delay is stochastically larger), and a safer one may
--   be promised faster.
-- The delay is assumed independent of the carrier's transit.
with promises as (
    select as_of, market, origin_node, window_start, window_end, confidence, promise_quantile_days, promise_days
    from {{ ref('delivery_promise') }}
),

customs as (
    select * from {{ ref('customs_risk') }}
),

recent as (
    -- delivery_promise's deliveries, with the customs hold taken out
    select
        shipments.destination_country as market,
        shipments.origin_node,
        shipments.transit_days - coalesce(shipments.customs_hold_days, 0) + {{ var('promise_handling_days') }} as door_days_without_customs
    from {{ ref('int_shipments') }} as shipments
    inner join promises
        on promises.market = shipments.destination_country
        and promises.origin_node = shipments.origin_node
    where shipments.delivered_at_utc is not null
        and shipments.transit_days is not null
        and cast(shipments.delivered_at_utc as date) between promises.window_start and promises.window_end
),

recent_values as (
    select market, origin_node, door_days_without_customs, count(*) as deliveries
    from recent
    group by market, origin_node, door_days_without_customs
),

lane_hold_lengths as (
    -- the lane's timed holds over the parcels whose journey is over, as in customs_risk,
    -- one row per hold length with how many holds lasted so long: a row per hold would
    -- make the outcomes below grow with the shipments (17 GB at 10 million order lines)
    select
        destination_country as market,
        origin_node,
        customs_hold_days as hold_days,
        count(*) as holds,
        sum(count(*)) over (partition by destination_country, origin_node) as lane_timed_holds
    from {{ ref('int_shipments') }}
    where had_customs_hold
        and customs_hold_days is not null
        and (delivered_at_utc is not null or was_returned)
    group by destination_country, origin_node, customs_hold_days
),

delay_models as (
    -- each chapter's customs delay, and the lane's own to measure it against
    select
        destination_country as market,
        origin_node,
        hs_chapter,
        false as is_lane,
        smoothed_hold_rate as hold_rate,
        hold_days_factor
    from customs
    union all
    select distinct
        destination_country as market,
        origin_node,
        '' as hs_chapter,
        true as is_lane,
        lane_hold_rate as hold_rate,
        1.0 as hold_days_factor
    from customs
),

delays as (
    -- the delay as weighted outcomes: no hold, or one of the lane's hold lengths
    select market, origin_node, hs_chapter, is_lane, 0.0 as delay_days, 1.0 - hold_rate as weight
    from delay_models
    union all
    select
        delay_models.market,
        delay_models.origin_node,
        delay_models.hs_chapter,
        delay_models.is_lane,
        lane_hold_lengths.hold_days * delay_models.hold_days_factor as delay_days,
        delay_models.hold_rate * lane_hold_lengths.holds / lane_hold_lengths.lane_timed_holds as weight
    from delay_models
    inner join lane_hold_lengths
        on lane_hold_lengths.market = delay_models.market
        and lane_hold_lengths.origin_node = delay_models.origin_node
),

door_days as (
    -- every recent delivery's time without customs plus every delay outcome
    select
        delays.market,
        delays.origin_node,
        delays.hs_chapter,
        delays.is_lane,
        recent_values.door_days_without_customs + delays.delay_days as days,
        recent_values.deliveries * delays.weight as weight
    from delays
    inner join recent_values
        on recent_values.market = delays.market
        and recent_values.origin_node = delays.origin_node
),

cumulative as (
    select
        *,
        sum(weight) over (
            partition by market, origin_node, hs_chapter, is_lane
            order by days
            rows between unbounded preceding and current row
        ) as weight_at_or_below,
        sum(weight) over (partition by market, origin_node, hs_chapter, is_lane) as total_weight
    from door_days
),

modelled_quantiles as (
    -- smallest door time reached by the confidence share of the weight
    select
        cumulative.market,
        cumulative.origin_node,
        cumulative.hs_chapter,
        cumulative.is_lane,
        min(cumulative.days) as quantile_days
    from cumulative
    inner join promises on promises.market = cumulative.market and promises.origin_node = cumulative.origin_node
    where cumulative.weight_at_or_below >= promises.confidence * cumulative.total_weight * (1 - 1e-12)
    group by cumulative.market, cumulative.origin_node, cumulative.hs_chapter, cumulative.is_lane
),

shifts as (
    select
        chapter.market,
        chapter.origin_node,
        chapter.hs_chapter,
        -- rounded to a second or so: float noise must not tip a whole-day ceiling
        round(chapter.quantile_days - lane.quantile_days, 5) as customs_shift_days
    from modelled_quantiles as chapter
    inner join modelled_quantiles as lane
        on lane.market = chapter.market
        and lane.origin_node = chapter.origin_node
        and lane.is_lane
    where not chapter.is_lane
)

select
    promises.as_of,
    promises.market,
    promises.origin_node,
    customs.lane,
    customs.hs_chapter,
    customs.shipments as chapter_shipments,
    customs.smoothed_hold_rate,
    customs.lane_hold_rate,
    customs.hold_days_factor,
    promises.window_start,
    promises.window_end,
    promises.confidence,
    promises.promise_days as lane_promise_days,
    shifts.customs_shift_days,
    greatest(cast(ceiling(promises.promise_quantile_days + shifts.customs_shift_days) as bigint), 0) as promise_days,
    greatest(cast(ceiling(promises.promise_quantile_days + shifts.customs_shift_days) as bigint), 0)
        - promises.promise_days as extra_days_vs_lane
from customs
inner join promises
    on promises.market = customs.destination_country
    and promises.origin_node = customs.origin_node
inner join shifts
    on shifts.market = customs.destination_country
    and shifts.origin_node = customs.origin_node
    and shifts.hs_chapter = customs.hs_chapter
