-- order lines with their value in the reporting currency (EUR) at the ECB
-- rate of the order day; the original currency and amount are kept.
with lines as (
    select * from {{ ref('stg_orders') }}
),

fx as (
    select calendar_date, currency, units_per_eur from {{ ref('int_fx_daily') }}
)

select
    lines.*,
    lines.quantity * lines.unit_price as line_value,
    fx.units_per_eur,
    lines.unit_price / fx.units_per_eur as unit_price_eur,
    lines.quantity * lines.unit_price / fx.units_per_eur as line_value_eur
from lines
left join fx
    on fx.calendar_date = lines.order_date
    and fx.currency = lines.currency
