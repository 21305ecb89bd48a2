-- customs risk per lane (origin node, origin country, destination country) that
-- crosses a customs border x HS chapter (first two digits of the SKU's HS code,
-- 'unknown' when the code is missing or shorter than 6 digits, as the
-- compliance plan treats it): how often customs holds a parcel carrying the
-- chapter, for how long, and the days a planner should add for it.
--
-- A shipment counts once for every chapter it carries (customs holds the whole
-- parcel, so a parcel with cosmetics and a t-shirt is evidence for both). Only
-- shipments whose journey is over (delivered or returned) count: one still in
-- transit may yet be held, and a hold's length needs its clearance.
--
-- Small cells are shrunk toward their lane: a chapter seen on 3 parcels with 1
-- hold is not a 33 % risk. Additive smoothing adds var('customs_prior_shipments')
-- (20) virtual shipments that behave like the lane (their holds at the lane's
-- rate, lasting the lane's mean), so the rate moves from the lane's toward the
-- chapter's own as its shipments outnumber the prior, and a chapter never seen
-- held still shows the lane's residual risk. Why 20: at hold rates near 10 %, 20
-- parcels hold about 2 holds and the rate's standard error (~0.07) is as large as
-- the rate itself, so below ~20 the chapter's own count is mostly noise; at 20 a
-- cell weighs half its own, half the lane's, at 200 it is ~90 % its own.
--
-- The customs delay of a parcel of chapter c is modelled as: none with
-- probability 1 - smoothed_hold_rate, else a hold whose length follows the
-- lane's hold lengths scaled by hold_days_factor (the chapter's smoothed mean
-- hold / the lane's mean): a cell's few hold lengths are too few for a shape of
-- their own, but enough to say its holds run longer. conservative_added_days is
-- the var('customs_planning_quantile') (0.9) quantile of that delay over all the
-- cell's parcels, held or not: 0 when holds are rarer than 1 - 0.9 = 10 %,
-- else the hold length reached by that share. delivery_promise_by_chapter and
-- the inventory plan's transfers use this same model.
with plan as (
    -- the planning date every row belongs to (a BI tool comparing runs joins on it)
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

countries as (
    select alpha_2, customs_territory from {{ ref('countries') }}
),

settled as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.origin_node,
        shipments.origin_country,
        shipments.destination_country,
        shipments.picked_up_at_utc,
        shipments.had_customs_hold,
        case when shipments.had_customs_hold then shipments.customs_hold_days end as hold_days
    from {{ ref('int_shipments') }} as shipments
    left join countries as origin on origin.alpha_2 = shipments.origin_country
    left join countries as destination on destination.alpha_2 = shipments.destination_country
    -- a border is between customs territories (NL -> DE is inside the EU's);
    -- a country missing from the seed is its own territory
    where coalesce(origin.customs_territory, shipments.origin_country)
        <> coalesce(destination.customs_territory, shipments.destination_country)
        and (shipments.delivered_at_utc is not null or shipments.was_returned)
),

later_orders as (
    -- orders after the planning date (a back-dated run): what their parcels met was not known that day, and their
    -- lines, cut at the planning date, would leave them under chapter 'unknown'
    select distinct order_id from {{ ref('stg_orders') }}
    where order_date > (select as_of from plan)
),

order_chapters as (
    select distinct
        lines.order_id,
        coalesce(skus.hs_chapter, {{ hs_chapter('cast(null as string)') }}) as hs_chapter
    from {{ ref('int_order_lines_eur') }} as lines
    left join {{ ref('dim_sku') }} as skus on skus.sku = lines.sku
    where lines.quantity > 0
),

shipment_chapters as (
    -- a shipment whose order lines are missing still counts, as 'unknown'
    select
        settled.*,
        coalesce(order_chapters.hs_chapter, 'unknown') as hs_chapter
    from settled
    left join order_chapters on order_chapters.order_id = settled.order_id
    left join later_orders on later_orders.order_id = settled.order_id
    where later_orders.order_id is null
),

lanes as (
    select
        origin_node,
        origin_country,
        destination_country,
        count(*) as lane_shipments,
        count(*) filter (where had_customs_hold) as lane_holds,
        avg(case when had_customs_hold then 1 else 0 end) as lane_hold_rate,
        {{ exact_avg('hold_days') }} as lane_mean_hold_days
    from settled
    group by origin_node, origin_country, destination_country
),

lane_hold_lengths as (
    -- the lane's hold lengths with the share of its holds at or below each
    select
        origin_node,
        origin_country,
        destination_country,
        hold_days,
        cume_dist() over (partition by origin_node, origin_country, destination_country order by hold_days) as share_at_or_below
    from settled
    where hold_days is not null
),

cells as (
    select
        origin_node,
        origin_country,
        destination_country,
        hs_chapter,
        count(*) as shipments,
        count(*) filter (where had_customs_hold) as holds,
        count(hold_days) as timed_holds,
        coalesce({{ exact_sum('hold_days') }}, 0) as total_hold_days,
        {{ exact_avg('hold_days') }} as mean_hold_days,
        percentile_cont(0.9) within group (order by hold_days) as p90_hold_days,
        min(cast(picked_up_at_utc as date)) as first_pickup_date,
        max(cast(picked_up_at_utc as date)) as last_pickup_date
    from shipment_chapters
    group by origin_node, origin_country, destination_country, hs_chapter
),

smoothed as (
    -- the prior: var('customs_prior_shipments') virtual shipments held at the
    -- lane's rate for the lane's mean hold length
    select
        cells.*,
        lanes.lane_shipments,
        lanes.lane_holds,
        lanes.lane_hold_rate,
        lanes.lane_mean_hold_days,
        (cells.holds + {{ var('customs_prior_shipments') }} * lanes.lane_hold_rate)
            / (cells.shipments + {{ var('customs_prior_shipments') }}) as smoothed_hold_rate,
        (cells.total_hold_days + {{ var('customs_prior_shipments') }} * lanes.lane_hold_rate * coalesce(lanes.lane_mean_hold_days, 0))
            / nullif(cells.timed_holds + {{ var('customs_prior_shipments') }} * lanes.lane_hold_rate, 0) as smoothed_mean_hold_days
    from cells
    inner join lanes
        on lanes.origin_node = cells.origin_node
        and lanes.origin_country = cells.origin_country
        and lanes.destination_country = cells.destination_country
),

delay_models as (
    -- each cell's delay model, and the lane's own (its rate, factor 1)
    select
        *,
        coalesce(smoothed_mean_hold_days / nullif(lane_mean_hold_days, 0), 1.0) as hold_days_factor,
        ({{ var('customs_planning_quantile') }} - (1 - smoothed_hold_rate)) / nullif(smoothed_hold_rate, 0) as hold_share_needed,
        ({{ var('customs_planning_quantile') }} - (1 - lane_hold_rate)) / nullif(lane_hold_rate, 0) as lane_hold_share_needed
    from smoothed
),

conservative as (
    -- the planning quantile of the delay: 0 when enough parcels pass unheld,
    -- else the first lane hold length whose share of holds reaches what is
    -- still needed, scaled to the cell (the lane's own figure unscaled)
    select
        delay_models.origin_node,
        delay_models.origin_country,
        delay_models.destination_country,
        delay_models.hs_chapter,
        case
            when delay_models.hold_share_needed is null or delay_models.hold_share_needed <= 0 then 0.0
            else delay_models.hold_days_factor * min(case
                when lane_hold_lengths.share_at_or_below >= delay_models.hold_share_needed - 1e-9
                    then lane_hold_lengths.hold_days
            end)
        end as conservative_added_days,
        case
            when delay_models.lane_hold_share_needed is null or delay_models.lane_hold_share_needed <= 0 then 0.0
            else min(case
                when lane_hold_lengths.share_at_or_below >= delay_models.lane_hold_share_needed - 1e-9
                    then lane_hold_lengths.hold_days
            end)
        end as lane_conservative_added_days
    from delay_models
    left join lane_hold_lengths
        on lane_hold_lengths.origin_node = delay_models.origin_node
        and lane_hold_lengths.origin_country = delay_models.origin_country
        and lane_hold_lengths.destination_country = delay_models.destination_country
    group by
        delay_models.origin_node,
        delay_models.origin_country,
        delay_models.destination_country,
        delay_models.hs_chapter,
        delay_models.hold_share_needed,
        delay_models.lane_hold_share_needed,
        delay_models.hold_days_factor
)

select
    plan.as_of,
    delay_models.origin_node,
    delay_models.origin_country,
    delay_models.destination_country,
    delay_models.origin_country || '-' || delay_models.destination_country as lane,
    delay_models.hs_chapter,
    delay_models.shipments,
    delay_models.holds,
    delay_models.holds / delay_models.shipments as hold_rate,
    delay_models.smoothed_hold_rate,
    delay_models.mean_hold_days,
    delay_models.p90_hold_days,
    delay_models.smoothed_mean_hold_days,
    delay_models.hold_days_factor,
    delay_models.smoothed_hold_rate * coalesce(delay_models.smoothed_mean_hold_days, 0) as expected_added_days,
    coalesce(conservative.conservative_added_days, 0.0) as conservative_added_days,
    delay_models.lane_shipments,
    delay_models.lane_holds,
    delay_models.lane_hold_rate,
    delay_models.lane_mean_hold_days,
    delay_models.lane_hold_rate * coalesce(delay_models.lane_mean_hold_days, 0) as lane_expected_added_days,
    coalesce(conservative.lane_conservative_added_days, 0.0) as lane_conservative_added_days,
    cast({{ var('customs_prior_shipments') }} as double) as prior_shipments,
    cast({{ var('customs_planning_quantile') }} as double) as planning_quantile,
    delay_models.first_pickup_date,
    delay_models.last_pickup_date
from delay_models
inner join conservative
    on conservative.origin_node = delay_models.origin_node
    and conservative.origin_country = delay_models.origin_country
    and conservative.destination_country = delay_models.destination_country
    and conservative.hs_chapter = delay_models.hs_chapter
cross join plan
