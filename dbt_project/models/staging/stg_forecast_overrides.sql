-- every revision stays: which one counts depends on the cycle's cut-off (sop/overrides.py)
with latest as (
    {{ latest_version(source('raw', 'forecast_overrides'), ['override_id', 'entered_at']) }}
)

select
    override_id,
    entered_at as entered_at_utc,
    author,
    upper(trim(market)) as market,  -- as crossdock.yaml's codes are kept: upper case
    nullif(trim(category), '') as category,
    nullif(trim(sku), '') as sku,
    bucket,
    period_start,
    units,
    change_pct,
    reason_code,
    comment,
    expires_on,
    coalesce(withdrawn, false) as withdrawn,
    _file_id as file_id
from latest
