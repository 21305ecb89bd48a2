with versions as (
    select
        *,
        row_number() over (partition by supplier_id, sku order by _ingested_at desc, _row_number desc) as version_rank
    from {{ source('raw', 'supplier_catalogue') }}
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
    hs_code,
    weight_kg,
    is_primary
from versions
where version_rank = 1
