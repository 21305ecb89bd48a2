{#- Use the configured schema as is (staging, marts, publish...) rather than
    dbt's default "<target>_<custom>" so BI users see stable schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
