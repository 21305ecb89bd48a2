-- one ECB rate per currency per calendar day: the rates of the last ECB
-- publication on or before the day, however old (the ECB publishes on TARGET
-- business days only, and a day after the last publication in the history
-- keeps its rates), with their age. A currency that publication did not quote
-- (the ECB stopped or suspended it) has no row that day, nor has any currency
-- before the first publication (1999-01-04).
with days as (
    select calendar_date from {{ ref('int_planning_calendar') }}
),

rates as (
    select rate_date, currency, units_per_eur from {{ source('reference', 'fx_rates') }}
),

publication_days as (
    select distinct rate_date from rates
),

-- each publication is in force from its day until the next one (open-ended for the last)
publications_in_force as (
    select
        rate_date,
        coalesce(
            lead(rate_date) over (order by rate_date),
            cast('9999-12-31' as date)
        ) as replaced_on
    from publication_days
),

day_publications as (
    select
        days.calendar_date,
        publications_in_force.rate_date
    from days
    inner join publications_in_force
        on days.calendar_date >= publications_in_force.rate_date
        and days.calendar_date < publications_in_force.replaced_on
),

published_rates as (
    select
        day_publications.calendar_date,
        rates.currency,
        rates.units_per_eur,
        rates.rate_date,
        {{ dbt.datediff('rates.rate_date', 'day_publications.calendar_date', 'day') }} as rate_age_days
    from day_publications
    inner join rates on rates.rate_date = day_publications.rate_date
),

euro as (
    select
        calendar_date,
        'EUR' as currency,
        cast(1 as decimal(18, 6)) as units_per_eur,
        calendar_date as rate_date,
        cast(0 as bigint) as rate_age_days
    from days
)

select * from published_rates
union all
select * from euro
