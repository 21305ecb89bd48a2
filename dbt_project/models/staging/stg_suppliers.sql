with versions as (
    select
        *,
        row_number() over (partition by supplier_id order by _ingested_at desc, _row_number desc) as version_rank
    from {{ source('raw', 'suppliers') }}
)

select
    supplier_id,
    supplier_name,
    country as supplier_country,
    currency as invoice_currency
from versions
where version_rank = 1
