{#- Seeds on Spark with their text intact.

    dbt-spark 1.11's session connection puts each seed value between quotes
    without escaping it, so a description with an apostrophe ("Côte d'Ivoire",
    "the seller's registration") is a syntax error, and an empty cell arrives
    as the text 'None' instead of a null. This replaces the adapter's
    spark__load_csv_rows (dispatch looks in the root project first) and writes
    each value as a Spark literal itself: null for an empty cell, numbers as
    they are, text quoted with Spark's backslash escapes. -#}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        {{ spark__string_literal(value | string) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for column_name in agate_table.column_names -%}
                    {%- set column_type = column_override.get(column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ column_type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
