{#- A model's range rules, tested in one scan instead of one accepted_range test
    per column (written here because dbt_utils cannot be installed, no package
    hub): each test is a Dagster asset check, with its events and dbt's per-node
    cost on every run. ranges lists the rules, each {column, min_value,
    max_value}, either bound optional, both inclusive; nulls pass. Failing rows
    are the columns with values outside, one row per column: column_name, the
    accepted range, failing_rows (how many rows are outside) and the lowest and
    highest of those values as a sample. fail_calc sums failing_rows, so dbt's
    "Got N results" and Dagster's failed_row_count still count the rows out of
    range, as they did with one test per column. -#}
{% test accepted_ranges(model, ranges) %}
{{ config(fail_calc="coalesce(sum(failing_rows), 0)") }}
{{ out_of_range_columns(model, ranges) }}
{% endtest %}

{#- The query of accepted_ranges and non_negative_columns. One row of
    aggregates, a struct per column (so that every column unpivots to the same
    type: the sample values are text, as the columns' types differ), unpivoted
    to one row per column. -#}
{% macro out_of_range_columns(model, ranges) %}
{%- if not ranges %}{{ exceptions.raise_compiler_error("no columns to test in " ~ model) }}{% endif %}
with out_of_range as (
    select
    {%- for rule in ranges %}
        {%- if rule.get("min_value") is none and rule.get("max_value") is none %}
            {{- exceptions.raise_compiler_error("the range of " ~ rule.column ~ " in " ~ model ~ " has no bound") }}
        {%- endif %}
        {%- set column = adapter.quote(rule.column) %}
        {%- set min_value, max_value = rule.get("min_value"), rule.get("max_value") %}
        {%- if max_value is none %}
            {%- set outside, accepted = column ~ " < " ~ min_value, ">= " ~ min_value %}
        {%- elif min_value is none %}
            {%- set outside, accepted = column ~ " > " ~ max_value, "<= " ~ max_value %}
        {%- else %}
            {%- set outside = column ~ " < " ~ min_value ~ " or " ~ column ~ " > " ~ max_value %}
            {%- set accepted = "between " ~ min_value ~ " and " ~ max_value %}
        {%- endif %}
        {{ struct_of([
            ("accepted", string_literal(accepted)),
            ("failing_rows", "count(*) filter (where " ~ outside ~ ")"),
            ("lowest_value", "cast(min(" ~ column ~ ") filter (where " ~ outside ~ ") as string)"),
            ("highest_value", "cast(max(" ~ column ~ ") filter (where " ~ outside ~ ") as string)"),
        ]) }} as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

select column_name, failure.accepted, failure.failing_rows, failure.lowest_value, failure.highest_value
from out_of_range
unpivot (failure for column_name in (
    {%- for rule in ranges %}{{ adapter.quote(rule.column) }}{{ ", " if not loop.last }}{% endfor -%}
))
where failure.failing_rows > 0
{% endmacro %}
