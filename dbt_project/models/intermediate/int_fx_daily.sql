-- one ECB rate per currency per calendar day: the last rate published on or
-- before the day (the ECB publishes on TARGET business days only).
with days as (
    select calendar_date from {{ ref('int_planning_calendar') }}
),

published as (
    select rate_date, currency, units_per_eur from {{ ref('fx_rates') }}
),

candidates as (
    select
        days.calendar_date,
        published.currency,
        published.rate_date,
        published.units_per_eur,
        row_number() over (
            partition by days.calendar_date, published.currency order by published.rate_date desc
        ) as recency
    from days
    inner join published
        on published.rate_date <= days.calendar_date
        and published.rate_date > {{ dbt.dateadd('day', -14, 'days.calendar_date') }}
),

latest_rates as (
    select calendar_date, currency, units_per_eur, rate_date
    from candidates
    where recency = 1
),

euro as (
    select calendar_date, 'EUR' as currency, 1.0 as units_per_eur, calendar_date as rate_date
    from days
)

select * from latest_rates
union all
select * from euro
