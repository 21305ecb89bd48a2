-- the duty rate each SKU meets in each customs territory: the MFN rate of its
-- HS subheading (or heading), and the best preferential rate its origin
-- qualifies for under a trade agreement. A tariff file the merchant loaded
-- (crossdock tariff load: reference.tariff_file_rates) comes first, the
-- hand-kept duty_rates seed fills what no file covers. The territories are
-- the markets' (NULL rates where nothing covers the code) and every territory
-- a file or the seed covers, so an order to a country the catch-all market
-- groups is priced under its own border's rates. Only the rows in force on the
-- planning date apply (effective_from .. effective_to); one that ended before
-- it is listed by border_rules_are_current.
{%- set tariff_files = optional_relation('reference', 'tariff_file_rates') %}

with planning as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

skus as (
    select sku, hs_code, substr(hs_code, 1, 4) as hs_heading, substr(hs_code, 1, 6) as hs6, origin_country
    from {{ ref('dim_sku') }}
),

file_rates as (
    {%- if tariff_files is not none %}
    select
        cast(hs_heading as {{ dbt.type_string() }}) as hs_heading,
        cast(hs6 as {{ dbt.type_string() }}) as hs6,
        cast(destination as {{ dbt.type_string() }}) as destination,
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        mfn_rate,
        preferential_rate,
        qualifying_origins,
        source,
        as_of,
        effective_from,
        effective_to
    from {{ tariff_files }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as hs_heading,
        cast(null as {{ dbt.type_string() }}) as hs6,
        cast(null as {{ dbt.type_string() }}) as destination,
        cast(null as {{ dbt.type_string() }}) as agreement,
        cast(null as double) as mfn_rate,
        cast(null as double) as preferential_rate,
        cast(null as {{ dbt.type_string() }}) as qualifying_origins,
        cast(null as {{ dbt.type_string() }}) as source,
        cast(null as date) as as_of,
        cast(null as date) as effective_from,
        cast(null as date) as effective_to
    where 1 = 0
    {%- endif %}
),

territories as (
    -- the catch-all market has no territory (NULL): its countries' own are among the rates' destinations
    select customs_territory from {{ ref('markets') }} where customs_territory is not null
    union
    select cast(destination as {{ dbt.type_string() }}) from {{ ref('duty_rates') }}
    union
    select destination from file_rates
),

all_rates as (
    -- source_rank 1: a loaded tariff file; 2: the hand-kept seed
    select
        1 as source_rank,
        hs_heading,
        hs6,
        destination,
        agreement,
        cast(mfn_rate as decimal(6, 4)) as mfn_rate,
        cast(preferential_rate as decimal(6, 4)) as preferential_rate,
        ' ' || coalesce(qualifying_origins, '') || ' ' as qualifying_origins_padded,
        source,
        as_of,
        effective_from,
        effective_to
    from file_rates
    union all
    select
        2 as source_rank,
        cast(hs_heading as {{ dbt.type_string() }}) as hs_heading,
        cast(hs6 as {{ dbt.type_string() }}) as hs6,
        cast(destination as {{ dbt.type_string() }}) as destination,
        cast(agreement as {{ dbt.type_string() }}) as agreement,
        cast(mfn_rate as decimal(6, 4)) as mfn_rate,
        cast(preferential_rate as decimal(6, 4)) as preferential_rate,
        ' ' || coalesce(qualifying_origins, '') || ' ' as qualifying_origins_padded,
        cast(source as {{ dbt.type_string() }}) as source,
        cast(as_of as date) as as_of,
        cast(effective_from as date) as effective_from,
        cast(effective_to as date) as effective_to
    from {{ ref('duty_rates') }}
),

rates as (
    select all_rates.*
    from all_rates
    cross join planning
    where (all_rates.effective_from is null or all_rates.effective_from <= planning.as_of)
        and (all_rates.effective_to is null or all_rates.effective_to >= planning.as_of)
),

mfn_candidates as (
    -- a file's row wins over the seed's, then a subheading's over its heading's; a file's row without a
    -- rate (a duty that is not ad valorem) wins too: its rate stays unknown rather than the seed's guess
    select
        skus.sku,
        territories.customs_territory,
        rates.mfn_rate,
        rates.source,
        rates.as_of,
        row_number() over (
            partition by skus.sku, territories.customs_territory
            order by rates.source_rank, case when rates.hs6 = skus.hs6 then 0 else 1 end
        ) as specificity
    from skus
    cross join territories
    inner join rates
        on rates.destination = territories.customs_territory
        and rates.hs_heading = skus.hs_heading
        and rates.agreement = 'MFN'
        and (rates.hs6 is null or rates.hs6 = skus.hs6)
),

preferential_candidates as (
    -- as for MFN, a file's row wins over the seed's even without a rate (a preference that is not ad valorem):
    -- the SKU then has no preferential rate rather than the seed's
    select
        skus.sku,
        territories.customs_territory,
        rates.agreement,
        rates.preferential_rate,
        rates.qualifying_origins_padded,
        row_number() over (
            partition by skus.sku, territories.customs_territory
            order by rates.source_rank, case when rates.hs6 = skus.hs6 then 0 else 1 end,
                case when rates.preferential_rate is null then 1 else 0 end, rates.preferential_rate, rates.agreement
        ) as best
    from skus
    cross join territories
    inner join rates
        on rates.destination = territories.customs_territory
        and rates.hs_heading = skus.hs_heading
        and rates.agreement <> 'MFN'
        and (rates.hs6 is null or rates.hs6 = skus.hs6)
        and rates.qualifying_origins_padded like '% ' || skus.origin_country || ' %'
)

select
    skus.sku,
    territories.customs_territory,
    mfn.mfn_rate,
    case when pref.preferential_rate is not null then pref.agreement end as preferential_agreement,
    pref.preferential_rate,
    case when pref.preferential_rate is not null then trim(pref.qualifying_origins_padded) end as preferential_parties,
    mfn.source as duty_source,
    mfn.as_of as duty_as_of
from skus
cross join territories
left join mfn_candidates as mfn
    on mfn.sku = skus.sku and mfn.customs_territory = territories.customs_territory and mfn.specificity = 1
left join preferential_candidates as pref
    on pref.sku = skus.sku and pref.customs_territory = territories.customs_territory and pref.best = 1
