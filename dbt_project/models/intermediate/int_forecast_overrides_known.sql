-- the override revisions the run may know: all of them, or with as_of (`crossdock run --as-of`) those entered
-- by the end of the planning date, so a back-dated run rebuilds the consensus its day could have agreed
{% set as_of = planning_as_of() %}
with revisions as (
    select * from {{ ref('stg_forecast_overrides') }}
)

select *
from revisions
{% if as_of %}
where entered_at_utc < timezone('UTC', cast({{ as_of }} + 1 as timestamp))
{% endif %}
