{#- A table Python writes only when a merchant asks for it (reference.tariff_file_rates, written by
    `crossdock tariff load`): the relation when it exists, else none, so a model reads it when it is there
    and builds without it on a warehouse that never had one. -#}
{% macro optional_relation(schema, identifier) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}
