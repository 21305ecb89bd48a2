-- every day from the first order to the planning date (as_of). The planning
-- date is the last day with orders unless the run sets var('as_of') (`crossdock
-- run --as-of`), so a re-run on the same data plans for the same day. A given
-- as_of must fall within the orders: the build stops with the reason otherwise.
-- Only days with a line of goods count (a day of gift cards alone is no day to
-- plan from: stg_orders.stocked), and only those the ingest accepts today (feeds/plausibility.py): not
-- after today + 2 days, not before the calendar's first day. The ingest
-- quarantines other lines; one loaded before it did (a warehouse from an older
-- release) must not become the planning date or stretch every market's history.
with order_days as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('stg_orders') }}
    where stocked and order_date between cast('1970-01-01' as date) and current_date + 2
),

order_range as (
    select
        first_day,
        {% if var('as_of', none) %}
        case
            when cast('{{ var("as_of") }}' as date) > last_day then error(
                'as_of {{ var("as_of") }} is after the last order day ' || cast(last_day as string)
                || ': plan as of a day the orders reach, or leave as_of unset for the last order day'
            )
            when cast('{{ var("as_of") }}' as date) < first_day then error(
                'as_of {{ var("as_of") }} is before the first order day ' || cast(first_day as string)
            )
            else cast('{{ var("as_of") }}' as date)
        end
        {% else %}
        last_day
        {% endif %} as as_of
    from order_days
),

-- wide enough for order history of any age (ECB rates for it start 1999-01-04)
spine as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('1970-01-01' as date)",
        end_date="cast('2040-01-01' as date)"
    ) }}
)

select
    cast(spine.date_day as date) as calendar_date,
    order_range.as_of
from spine
cross join order_range
where cast(spine.date_day as date) between order_range.first_day and order_range.as_of
