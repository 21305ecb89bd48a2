-- the compliance facts of each SKU in each destination market, before any
-- pricing: its HS code and whether the HS 2022 nomenclature knows it, the MFN
-- and best preferential duty rate its origin qualifies for, and the restricted
-- or regulated-goods rules that match its HS code there. The compliance asset
-- (compliance/) prices and flags these per route; keeping the joins here keeps
-- the reference data in SQL and the rules in one Python module.
with hs_subheadings as (
    select hs_code from {{ ref('hs_codes') }} where level = 6
),

planning as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

markets as (
    select market_code as market, customs_territory, currency from {{ ref('markets') }}
),

origin_territories as (
    select alpha_2, customs_territory from {{ ref('countries') }}
),

matched_rules as (
    select distinct
        skus.sku,
        markets.market,
        restricted.category,
        restricted.control_type,
        restricted.documents_required
    from {{ ref('dim_sku') }} as skus
    cross join markets
    inner join {{ ref('restricted_goods') }} as restricted
        on skus.hs_code like cast(restricted.hs_prefix as string) || '%'
        and restricted.destination in ('*', markets.market, markets.customs_territory)
    cross join planning
    -- only the rules in force on the planning date bind (one that ended is listed by border_rules_are_current)
    where (restricted.effective_from is null or restricted.effective_from <= planning.as_of)
        and (restricted.effective_to is null or restricted.effective_to >= planning.as_of)
),

blocking_controls as (
    -- controls that can stop a shipment are flags
    select sku, market, {{ sorted_listagg('category', ', ') }} as restricted_categories
    from (
        select distinct sku, market, category
        from matched_rules
        where control_type in ('dangerous_goods', 'forced_labour', 'registration', 'import_notification')
    ) as blocking
    group by sku, market
),

category_rules as (
    -- labelling and product-safety rules bind every seller of the category: listed, not flagged
    select sku, market, {{ sorted_listagg('category', ', ') }} as product_rules
    from (
        select distinct sku, market, category
        from matched_rules
        where control_type in ('labelling', 'product_safety')
    ) as rules
    group by sku, market
),

rule_documents as (
    select sku, market, {{ sorted_listagg('documents_required', '; ') }} as restricted_documents
    from (select distinct sku, market, documents_required from matched_rules) as documents
    group by sku, market
)

select
    skus.sku,
    skus.product_name,
    skus.category,
    skus.hs_code,
    coalesce(length(skus.hs_code) >= 6 and hs_subheadings.hs_code is not null, false) as hs_code_valid,
    skus.origin_country,
    origin_territories.customs_territory as origin_customs_territory,
    skus.unit_cost_eur,
    skus.cost_basis,
    skus.weight_kg,
    markets.market,
    markets.customs_territory,
    markets.currency,
    duty.mfn_rate,
    duty.duty_source,
    duty.preferential_agreement,
    duty.preferential_rate,
    duty.preferential_parties,
    blocking_controls.restricted_categories,
    category_rules.product_rules,
    rule_documents.restricted_documents
from {{ ref('dim_sku') }} as skus
cross join markets
left join origin_territories on origin_territories.alpha_2 = skus.origin_country
left join hs_subheadings on hs_subheadings.hs_code = left(skus.hs_code, 6)
left join {{ ref('int_sku_duty_rates') }} as duty
    on duty.sku = skus.sku and duty.customs_territory = markets.customs_territory
left join blocking_controls on blocking_controls.sku = skus.sku and blocking_controls.market = markets.market
left join category_rules on category_rules.sku = skus.sku and category_rules.market = markets.market
left join rule_documents on rule_documents.sku = skus.sku and rule_documents.market = markets.market
