with latest as (
    {{ latest_version(source('raw', 'supplier_catalogue'), ['supplier_id', 'sku']) }}
)

select
    supplier_id,
    sku,
    product_name,
    category,
    cast(unit_cost as double) as unit_cost,
    currency as cost_currency,
    moq,
    pack_size,
    quoted_lead_time_days,
    origin_country,
    -- written with separators in many catalogues (8211.92.00, 6109 10): the digits are the code
    nullif(replace(replace(replace(trim(hs_code), '.', ''), ' ', ''), '-', ''), '') as hs_code,
    weight_kg,
    is_primary
from latest
