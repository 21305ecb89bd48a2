{#- The few SQL spellings DuckDB and Spark do not share, one dispatch macro each
    (default__ is DuckDB's, spark__ Spark's). Everything else in the models is
    SQL both engines read the same way; dbt's own cross-database macros
    (dbt.type_string(), dbt.datediff()...) are used where they exist. -#}

{#- true when the text matches a regular expression (a search, not a full match) -#}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'crossdock')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}

{#- an integer type wide enough for sums of squares that must be exact: DuckDB's
    128-bit hugeint, Spark's decimal(38, 0) (the same 38 digits) -#}
{% macro type_wide_integer() -%}
    {{ return(adapter.dispatch('type_wide_integer', 'crossdock')()) }}
{%- endmacro %}

{% macro default__type_wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro spark__type_wide_integer() -%}
    decimal(38, 0)
{%- endmacro %}

{#- a struct from (field name, SQL expression) pairs -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of', 'crossdock')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    { {%- for name, expression in fields %}{{ name }}: {{ expression }}{{ ", " if not loop.last }}{% endfor -%} }
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct({%- for name, expression in fields %}'{{ name }}', {{ expression }}{{ ", " if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- whole hours between two UTC timestamps, counted as DuckDB's date_diff counts
    them: the hour boundaries crossed. dbt's own datediff differs between
    adapters here (dbt-spark rounds the elapsed hours up), so transit times
    would have differed by up to an hour per shipment. -#}
{% macro hours_between(start, end) -%}
    {{ return(adapter.dispatch('hours_between', 'crossdock')(start, end)) }}
{%- endmacro %}

{% macro default__hours_between(start, end) -%}
    date_diff('hour', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__hours_between(start, end) -%}
    (floor(unix_timestamp({{ end }}) / 3600) - floor(unix_timestamp({{ start }}) / 3600))
{%- endmacro %}

{#- the distinct-or-not values of a group joined in their sort order (dbt.listagg
    ignores the order on Spark) -#}
{% macro sorted_listagg(expression, delimiter) -%}
    {{ return(adapter.dispatch('sorted_listagg', 'crossdock')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__sorted_listagg(expression, delimiter) -%}
    string_agg({{ expression }}, '{{ delimiter }}' order by {{ expression }})
{%- endmacro %}

{% macro spark__sorted_listagg(expression, delimiter) -%}
    array_join(array_sort(collect_list({{ expression }})), '{{ delimiter }}')
{%- endmacro %}

{#- a text as a SQL string literal: DuckDB doubles a quote, Spark escapes it with a backslash -#}
{% macro string_literal(text) -%}
    {{ return(adapter.dispatch('string_literal', 'crossdock')(text)) }}
{%- endmacro %}

{% macro default__string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
