-- every order line up to the planning date has an ECB rate on its order day,
-- for its own currency and for the reporting currency; failing rows are the
-- lines without one, with the currency and why. A line without a rate has no
-- EUR value: its units still count as demand, its money does not. One odd
-- currency must not stop a merchant's plan, so this warns (the run summary
-- counts the lines) and lists them in audit.order_lines_without_fx_rate
-- (rewritten by every build: empty when every line has its rates).
{{ config(
    severity='warn',
    store_failures=true,
    schema='audit',
    alias='order_lines_without_fx_rate',
    meta={'dagster': {'ref': {'name': 'int_order_lines_eur'}}}
) }}

with plan as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

unvalued_lines as (
    select
        order_id,
        line_id,
        order_date,
        case when units_per_eur is null then currency else reporting_currency end as currency_without_rate
    from {{ ref('int_order_lines_eur') }}
    where (units_per_eur is null or line_value_reporting is null)
        and order_date <= (select as_of from plan)
),

quoted_currencies as (
    select currency, min(rate_date) as first_rate_date
    from {{ source('reference', 'fx_rates') }}
    group by currency
)

select
    unvalued_lines.order_id,
    unvalued_lines.line_id,
    unvalued_lines.order_date,
    unvalued_lines.currency_without_rate,
    case
        when quoted_currencies.currency is null
            then 'the ECB has never published a rate for ' || unvalued_lines.currency_without_rate
        when unvalued_lines.order_date < quoted_currencies.first_rate_date
            then 'before the first ECB rate for ' || unvalued_lines.currency_without_rate
                || ' (' || cast(quoted_currencies.first_rate_date as string) || ')'
        else 'the ECB publication in force that day does not quote ' || unvalued_lines.currency_without_rate
            || ' (it stopped or suspended quoting it)'
    end as reason
from unvalued_lines
left join quoted_currencies on quoted_currencies.currency = unvalued_lines.currency_without_rate
