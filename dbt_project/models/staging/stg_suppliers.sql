with latest as (
    {{ latest_version(source('raw', 'suppliers'), ['supplier_id']) }}
)

select
    supplier_id,
    supplier_name
from latest
