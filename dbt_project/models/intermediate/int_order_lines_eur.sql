-- order lines with their value in EUR (the ECB's base) and in the reporting
-- currency (CROSSDOCK_REPORTING_CURRENCY, default EUR), both at the ECB rate of
-- the order day; the original currency and amount are kept.
{% set reporting_currency = env_var('CROSSDOCK_REPORTING_CURRENCY', 'EUR') | upper %}

with lines as (
    select * from {{ ref('stg_orders') }}
),

fx as (
    select calendar_date, currency, units_per_eur from {{ ref('int_fx_daily') }}
),

reporting_fx as (
    select calendar_date, units_per_eur as reporting_units_per_eur
    from fx
    where currency = '{{ reporting_currency }}'
)

select
    lines.*,
    lines.quantity * lines.unit_price as line_value,
    fx.units_per_eur,
    lines.unit_price / fx.units_per_eur as unit_price_eur,
    lines.quantity * lines.unit_price / fx.units_per_eur as line_value_eur,
    '{{ reporting_currency }}' as reporting_currency,
    lines.quantity * lines.unit_price / fx.units_per_eur * reporting_fx.reporting_units_per_eur as line_value_reporting
from lines
left join fx
    on fx.calendar_date = lines.order_date
    and fx.currency = lines.currency
left join reporting_fx
    on reporting_fx.calendar_date = lines.order_date
