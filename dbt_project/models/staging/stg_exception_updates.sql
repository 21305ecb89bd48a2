with latest as (
    {{ latest_version(source('raw', 'exception_updates'), ['exception_id', 'updated_at']) }}
)

select
    exception_id,
    updated_at as updated_at_utc,
    updated_by,
    status,
    nullif(trim(owner), '') as owner,
    note
from latest
