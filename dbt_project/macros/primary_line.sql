{#- Which catalogue line is a SKU's own, as a rank over stg_supplier_catalogue (1 = its line): the one flagged
    primary (the lowest supplier id if several are), else the lowest supplier id's, so a SKU whose catalogue flags
    no line (none sent true, or its primary line quarantined) keeps its catalogue terms and customs identity.

    marts.dim_sku takes the line's terms and cost from it and int_sku_lead_times the supplier whose receipts make
    the observed lead time: the two must agree on the line, so both rank with this. -#}

{% macro primary_line_rank() -%}
    row_number() over (partition by sku order by case when is_primary then 0 else 1 end, supplier_id)
{%- endmacro %}
