{#- A model's not-null columns, tested in one scan instead of one not_null test
    per column: each test is a Dagster asset check, with its events and dbt's
    per-node cost on every run. Failing rows are the columns that have nulls,
    one row per column: column_name and null_rows (how many rows are null).
    The columns argument is the one list of the model's not-null columns.
    fail_calc sums null_rows, so dbt's "Got N results" and Dagster's
    failed_row_count count null rows, as one not_null test per column did
    (and as non_negative_columns and accepted_ranges do). -#}
{% test not_null_columns(model, columns) %}
{{ config(fail_calc="coalesce(sum(null_rows), 0)") }}
with null_counts as (
    select
    {%- for column in columns %}
        count(*) filter (where {{ adapter.quote(column) }} is null) as {{ adapter.quote(column) }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

select column_name, null_rows
from null_counts
unpivot (null_rows for column_name in (
    {%- for column in columns %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor -%}
))
where null_rows > 0
{% endtest %}
