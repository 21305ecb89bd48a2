-- every day from the first order to the planning date (as_of). The planning
-- date is the last day with orders unless the run sets var('as_of'), so a
-- re-run on the same data plans for the same day.
with order_range as (
    select
        min(order_date) as first_day,
        {% if var('as_of', none) %}cast('{{ var("as_of") }}' as date){% else %}max(order_date){% endif %} as as_of
    from {{ ref('stg_orders') }}
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
