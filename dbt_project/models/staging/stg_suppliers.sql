with latest as (
    {{ latest_version(source('raw', 'suppliers'), ['supplier_id']) }}
)

select
    supplier_id,
    supplier_name,
    country as supplier_country,
    currency as invoice_currency
from latest
