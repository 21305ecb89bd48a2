-- the duty rate each SKU meets in each customs territory: the MFN rate of its
-- HS subheading (or heading), and the best preferential rate its origin
-- qualifies for under a trade agreement. The territories are the markets'
-- (NULL rates where duty_rates has none) and every territory duty_rates
-- covers, so an order to a country the catch-all market groups is priced
-- under its own border's rates.
with skus as (
    select sku, hs_code, substr(hs_code, 1, 4) as hs_heading, substr(hs_code, 1, 6) as hs6, origin_country
    from {{ ref('dim_sku') }}
),

territories as (
    -- the catch-all market has no territory (NULL): its countries' own are among duty_rates' destinations
    select customs_territory from {{ ref('markets') }} where customs_territory is not null
    union
    select cast(destination as string) from {{ ref('duty_rates') }}
),

rates as (
    select
        cast(hs_heading as string) as hs_heading,
        cast(hs6 as string) as hs6,
        destination,
        agreement,
        mfn_rate,
        preferential_rate,
        ' ' || coalesce(qualifying_origins, '') || ' ' as qualifying_origins_padded
    from {{ ref('duty_rates') }}
),

mfn_candidates as (
    select
        skus.sku,
        territories.customs_territory,
        rates.mfn_rate,
        row_number() over (
            partition by skus.sku, territories.customs_territory
            order by case when rates.hs6 = skus.hs6 then 0 else 1 end
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
    select
        skus.sku,
        territories.customs_territory,
        rates.agreement,
        rates.preferential_rate,
        row_number() over (
            partition by skus.sku, territories.customs_territory
            order by rates.preferential_rate, rates.agreement
        ) as best
    from skus
    cross join territories
    inner join rates
        on rates.destination = territories.customs_territory
        and rates.hs_heading = skus.hs_heading
        and rates.agreement <> 'MFN'
        and rates.preferential_rate is not null
        and rates.qualifying_origins_padded like '% ' || skus.origin_country || ' %'
)

select
    skus.sku,
    territories.customs_territory,
    mfn.mfn_rate,
    pref.agreement as preferential_agreement,
    pref.preferential_rate
from skus
cross join territories
left join mfn_candidates as mfn
    on mfn.sku = skus.sku and mfn.customs_territory = territories.customs_territory and mfn.specificity = 1
left join preferential_candidates as pref
    on pref.sku = skus.sku and pref.customs_territory = territories.customs_territory and pref.best = 1
