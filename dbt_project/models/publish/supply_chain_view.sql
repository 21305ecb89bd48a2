-- the unified supply chain view: one row per SKU x market x day, from the
-- SKU's first sale in the market to the planning date. Stock and inbound
-- belong to the node that serves the market (shared by its markets).
with calendar as (
    select calendar_date from {{ ref('int_planning_calendar') }}
),

sku_markets as (
    select sku_market.sku, sku_market.market, sku_market.category, sku_market.first_sale_date, markets.fulfilment_node
    from {{ ref('dim_sku_market') }} as sku_market
    inner join {{ ref('markets') }} as markets on markets.market_code = sku_market.market
    where sku_market.first_sale_date is not null
),

grid as (
    select sku_markets.*, calendar.calendar_date
    from sku_markets
    inner join calendar on calendar.calendar_date >= sku_markets.first_sale_date
),

demand as (
    select sku, market, demand_date, units_sold, units_returned, revenue_eur
    from {{ ref('fct_daily_demand') }}
),

snapshot_periods as (
    -- a snapshot holds until the next one, at most a week (snapshots are weekly)
    select
        node,
        sku,
        on_hand,
        snapshot_date as valid_from,
        coalesce(
            lead(snapshot_date) over (partition by node, sku order by snapshot_date),
            {{ dbt.dateadd('day', 7, 'snapshot_date') }}
        ) as valid_to
    from {{ ref('stg_inventory_snapshots') }}
),

node_stock as (
    select grid.sku, grid.fulfilment_node, grid.calendar_date, max(snapshot_periods.on_hand) as node_on_hand
    from (select distinct sku, fulfilment_node, calendar_date from grid) as grid
    inner join snapshot_periods
        on snapshot_periods.sku = grid.sku
        and snapshot_periods.node = grid.fulfilment_node
        and grid.calendar_date >= snapshot_periods.valid_from
        and grid.calendar_date < snapshot_periods.valid_to
    group by grid.sku, grid.fulfilment_node, grid.calendar_date
),

open_po_days as (
    select po.sku, po.node, calendar.calendar_date, sum(po.quantity) as node_inbound_units
    from {{ ref('stg_purchase_orders') }} as po
    inner join calendar
        on calendar.calendar_date >= po.ordered_date
        and (
            calendar.calendar_date < po.received_date
            or (po.received_date is null and po.status = 'open')
        )
    where po.status <> 'cancelled'
    group by po.sku, po.node, calendar.calendar_date
),

shipped_lines as (
    select
        lines.sku,
        shipments.destination_country as market,
        cast(shipments.picked_up_at_utc as date) as shipped_date,
        -- on its way to the market until delivered or sent back, whichever came first (least skips a null on
        -- both engines): a returned parcel counted in transit for ever
        cast(coalesce(least(shipments.delivered_at_utc, shipments.returned_at_utc), cast('2999-12-31' as date)) as date)
            as delivered_date,
        lines.quantity
    from {{ ref('int_shipments') }} as shipments
    inner join {{ ref('stg_orders') }} as lines
        on lines.order_id = shipments.order_id
        and lines.line_type = 'sale'
    where shipments.picked_up_at_utc is not null
),

in_transit as (
    select shipped_lines.sku, shipped_lines.market, calendar.calendar_date, sum(shipped_lines.quantity) as in_transit_units
    from shipped_lines
    inner join calendar
        on calendar.calendar_date >= shipped_lines.shipped_date
        and calendar.calendar_date < shipped_lines.delivered_date
    group by shipped_lines.sku, shipped_lines.market, calendar.calendar_date
),

receipts as (
    select sku, received_date, {{ dbt.datediff('ordered_date', 'received_date', 'day') }} as lead_time_days
    from {{ ref('stg_purchase_orders') }}
    where status = 'received' and received_date is not null
),

sku_days as (
    select distinct sku, calendar_date from grid
),

lead_times as (
    select sku_days.sku, sku_days.calendar_date, avg(receipts.lead_time_days) as lead_time_days_observed
    from sku_days
    inner join receipts
        on receipts.sku = sku_days.sku
        and receipts.received_date <= sku_days.calendar_date
        and receipts.received_date > {{ dbt.dateadd('day', -365, 'sku_days.calendar_date') }}
    group by sku_days.sku, sku_days.calendar_date
)

select
    grid.calendar_date,
    grid.sku,
    grid.market,
    grid.category,
    grid.fulfilment_node,
    cast(coalesce(demand.units_sold, 0) as bigint) as units_sold,
    cast(coalesce(demand.units_returned, 0) as bigint) as units_returned,
    coalesce(demand.revenue_eur, 0) as revenue_eur,
    node_stock.node_on_hand,
    cast(coalesce(open_po_days.node_inbound_units, 0) as bigint) as node_inbound_units,
    cast(coalesce(in_transit.in_transit_units, 0) as bigint) as in_transit_units,
    lead_times.lead_time_days_observed
from grid
left join demand
    on demand.sku = grid.sku and demand.market = grid.market and demand.demand_date = grid.calendar_date
left join node_stock
    on node_stock.sku = grid.sku and node_stock.fulfilment_node = grid.fulfilment_node and node_stock.calendar_date = grid.calendar_date
left join open_po_days
    on open_po_days.sku = grid.sku and open_po_days.node = grid.fulfilment_node and open_po_days.calendar_date = grid.calendar_date
left join in_transit
    on in_transit.sku = grid.sku and in_transit.market = grid.market and in_transit.calendar_date = grid.calendar_date
left join lead_times
    on lead_times.sku = grid.sku and lead_times.calendar_date = grid.calendar_date
