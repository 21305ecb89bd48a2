{#- A model's columns that are never negative, tested in one scan instead of
    one test per column (each test is a Dagster asset check, with its events
    and dbt's per-node cost on every run); nulls pass. The query is
    accepted_ranges' with a minimum of 0: failing rows are the columns with
    negative values, one row per column, with how many rows and the lowest and
    highest of those values; fail_calc sums the rows, as accepted_ranges does. -#}
{% test non_negative_columns(model, columns) %}
{{ config(fail_calc="coalesce(sum(failing_rows), 0)") }}
{%- set ranges = [] %}
{%- for column in columns %}{% do ranges.append({"column": column, "min_value": 0}) %}{% endfor %}
{{ out_of_range_columns(model, ranges) }}
{% endtest %}
