-- per SKU x destination market, on the planning date: HS code, duty, VAT, the
-- de minimis regime in force, landed cost per unit and the flags a planner
-- must act on. Goods reach a market either in bulk through a node in the same
-- customs territory (duty always due, de minimis irrelevant) or as parcels
-- from a node abroad (CA from US-EWR), where the de minimis regime decides.
with plan as (
    select max(calendar_date) as as_of from {{ ref('int_planning_calendar') }}
),

hs_subheadings as (
    select hs_code from {{ ref('hs_codes') }} where level = 6
),

markets as (
    select
        markets.market_code as market,
        markets.currency,
        markets.customs_territory,
        markets.fulfilment_node,
        nodes.country as node_country,
        node_markets.customs_territory as node_territory
    from {{ ref('markets') }} as markets
    inner join {{ ref('nodes') }} as nodes on nodes.node_code = markets.fulfilment_node
    left join (select distinct market_code, customs_territory from {{ ref('markets') }}) as node_markets
        on node_markets.market_code = nodes.country
),

fx_as_of as (
    select fx.currency, fx.units_per_eur
    from {{ ref('int_fx_daily') }} as fx
    inner join plan on fx.calendar_date = plan.as_of
),

vat_in_force as (
    select vat.country_code, vat.tax_name, vat.standard_rate
    from {{ ref('vat_rates') }} as vat
    cross join plan
    where vat.effective_from <= plan.as_of and (vat.effective_to is null or vat.effective_to >= plan.as_of)
),

de_minimis_in_force as (
    select dm.*
    from {{ ref('de_minimis') }} as dm
    cross join plan
    where dm.effective_from <= plan.as_of and (dm.effective_to is null or dm.effective_to >= plan.as_of)
),

typical_prices as (
    -- the typical basket: one unit at the average price paid in the last 90 days
    select lines.sku, lines.market, avg(lines.unit_price_eur) as typical_unit_price_eur
    from {{ ref('int_order_lines_eur') }} as lines
    cross join plan
    where lines.line_type = 'sale' and lines.order_date > {{ dbt.dateadd('day', -90, 'plan.as_of') }}
    group by lines.sku, lines.market
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
        on skus.hs_code like cast(restricted.hs_prefix as varchar) || '%'
        and restricted.destination in ('*', markets.market, markets.customs_territory)
),

blocking_controls as (
    -- controls that can stop a shipment are flags
    select sku, market, {{ dbt.listagg('category', "', '", 'order by category') }} as restricted_categories
    from (
        select distinct sku, market, category
        from matched_rules
        where control_type in ('dangerous_goods', 'forced_labour', 'registration', 'import_notification')
    ) as blocking
    group by sku, market
),

category_rules as (
    -- labelling and product-safety rules bind every seller of the category: listed, not flagged
    select sku, market, {{ dbt.listagg('category', "', '", 'order by category') }} as product_rules
    from (
        select distinct sku, market, category
        from matched_rules
        where control_type in ('labelling', 'product_safety')
    ) as rules
    group by sku, market
),

rule_documents as (
    select sku, market, {{ dbt.listagg('documents_required', "'; '", 'order by documents_required') }} as restricted_documents
    from (select distinct sku, market, documents_required from matched_rules) as documents
    group by sku, market
),

restrictions as (
    select
        coalesce(blocking_controls.sku, category_rules.sku, rule_documents.sku) as sku,
        coalesce(blocking_controls.market, category_rules.market, rule_documents.market) as market,
        blocking_controls.restricted_categories,
        category_rules.product_rules,
        rule_documents.restricted_documents
    from rule_documents
    left join blocking_controls
        on blocking_controls.sku = rule_documents.sku and blocking_controls.market = rule_documents.market
    left join category_rules
        on category_rules.sku = rule_documents.sku and category_rules.market = rule_documents.market
),

sku_markets as (
    select
        skus.sku,
        skus.product_name,
        skus.category,
        skus.hs_code,
        skus.origin_country,
        skus.unit_cost_eur,
        coalesce(skus.weight_kg, 0.5) as weight_kg,
        markets.*,
        case when markets.node_territory = markets.customs_territory then 'bulk_import_via_node' else 'cross_border_parcel' end as import_flow,
        case when markets.customs_territory in ({{ "'" ~ var('fob_valuation_territories') | join("', '") ~ "'" }}) then 'FOB' else 'CIF' end as valuation_basis,
        greatest({{ var('freight_eur_min_per_unit') }}, coalesce(skus.weight_kg, 0.5) * {{ var('freight_eur_per_kg') }}) as freight_eur_per_unit
    from {{ ref('dim_sku') }} as skus
    cross join markets
),

priced as (
    select
        sku_markets.*,
        duty.mfn_rate,
        duty.preferential_agreement,
        duty.preferential_rate,
        coalesce(duty.preferential_rate, duty.mfn_rate) as duty_rate,
        vat.tax_name,
        vat.standard_rate as vat_rate,
        dm.regime as de_minimis_regime,
        dm.threshold_currency as de_minimis_currency,
        dm.duty_threshold as de_minimis_duty_threshold,
        dm.vat_collected_at_sale,
        fx_market.units_per_eur as market_units_per_eur,
        fx_threshold.units_per_eur as threshold_units_per_eur,
        prices.typical_unit_price_eur,
        sku_markets.unit_cost_eur
            + case when sku_markets.valuation_basis = 'CIF' then sku_markets.freight_eur_per_unit else 0 end as customs_value_eur
    from sku_markets
    left join {{ ref('int_sku_duty_rates') }} as duty
        on duty.sku = sku_markets.sku and duty.customs_territory = sku_markets.customs_territory
    left join vat_in_force as vat on vat.country_code = sku_markets.market
    left join de_minimis_in_force as dm on dm.destination = sku_markets.customs_territory
    left join fx_as_of as fx_market on fx_market.currency = sku_markets.currency
    left join fx_as_of as fx_threshold on fx_threshold.currency = dm.threshold_currency
    left join typical_prices as prices on prices.sku = sku_markets.sku and prices.market = sku_markets.market
),

duty_assessed as (
    select
        priced.*,
        priced.import_flow = 'cross_border_parcel'
            and priced.typical_unit_price_eur * priced.threshold_units_per_eur <= priced.de_minimis_duty_threshold
            as duty_free_under_de_minimis
    from priced
),

costed as (
    select
        duty_assessed.*,
        case when duty_free_under_de_minimis then 0 else coalesce(duty_rate, 0) * customs_value_eur end as duty_eur_per_unit
    from duty_assessed
),

landed as (
    select
        costed.*,
        unit_cost_eur + freight_eur_per_unit + duty_eur_per_unit as landed_cost_eur_per_unit,
        typical_unit_price_eur * vat_rate / (1 + vat_rate) as vat_eur_per_unit
    from costed
)

select
    plan.as_of,
    landed.sku,
    landed.product_name,
    landed.category,
    landed.market,
    landed.fulfilment_node,
    landed.import_flow,
    landed.hs_code,
    landed.origin_country,
    landed.customs_territory,
    landed.valuation_basis,
    landed.mfn_rate,
    landed.preferential_agreement,
    landed.preferential_rate,
    landed.duty_rate,
    landed.tax_name,
    landed.vat_rate,
    landed.de_minimis_regime,
    landed.de_minimis_duty_threshold,
    landed.de_minimis_currency,
    landed.duty_free_under_de_minimis,
    landed.typical_unit_price_eur,
    landed.unit_cost_eur,
    landed.freight_eur_per_unit,
    landed.customs_value_eur,
    landed.duty_eur_per_unit,
    landed.vat_eur_per_unit,
    landed.landed_cost_eur_per_unit,
    landed.landed_cost_eur_per_unit * landed.market_units_per_eur as landed_cost_local_per_unit,
    landed.currency as local_currency,
    restrictions.product_rules,
    nullif(concat_ws(', ',
        case when landed.hs_code is null or length(landed.hs_code) < 6 then 'missing_hs_code' end,
        case when length(landed.hs_code) >= 6 and hs_subheadings.hs_code is null then 'invalid_hs_code' end,
        case when landed.hs_code is not null and landed.mfn_rate is null then 'no_duty_rate' end,
        case when restrictions.restricted_categories is not null then 'restricted: ' || restrictions.restricted_categories end,
        case when landed.preferential_agreement is not null then 'preference_needs_origin_proof' end
    ), '') as flags,
    (case when landed.hs_code is null or length(landed.hs_code) < 6 then 1 else 0 end)
        + (case when length(landed.hs_code) >= 6 and hs_subheadings.hs_code is null then 1 else 0 end)
        + (case when landed.hs_code is not null and landed.mfn_rate is null then 1 else 0 end)
        + (case when restrictions.restricted_categories is not null then 1 else 0 end)
        + (case when landed.preferential_agreement is not null then 1 else 0 end) as flag_count,
    concat_ws('; ',
        'commercial invoice',
        case when landed.preferential_agreement is not null then 'statement or certificate of origin (' || landed.preferential_agreement || ')' end,
        restrictions.restricted_documents
    ) as documents_required,
    case
        when landed.hs_code is null or length(landed.hs_code) < 6 then 'Add a 6-digit HS code to the catalogue: duty and restrictions cannot be assessed without it.'
        when hs_subheadings.hs_code is null then 'HS code ' || landed.hs_code || ' is not an HS 2022 subheading (invalid or retired): reclassify the SKU.'
        when landed.mfn_rate is null then 'No duty rate for this HS heading and destination: add it to the duty_rates seed or your tariff file.'
        when restrictions.restricted_categories is not null then 'Check the ' || restrictions.restricted_categories || ' rules for ' || landed.market || ' before shipping.'
        when landed.preferential_agreement is not null then 'Claim ' || landed.preferential_agreement || ' preference: keep a statement of origin on file.'
        else 'No action.'
    end as action
from landed
cross join plan
left join restrictions on restrictions.sku = landed.sku and restrictions.market = landed.market
left join hs_subheadings on hs_subheadings.hs_code = left(landed.hs_code, 6)
