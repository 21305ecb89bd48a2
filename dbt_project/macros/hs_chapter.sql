{#- The HS chapter of a code: its first two digits, 'unknown' when the code is
    missing, shorter than six characters or does not start with two digits.

    publish.customs_risk is keyed by lane x chapter, and planning (transfer
    customs days) and compliance (a route's hold risk) look a SKU's chapter up
    there, so every layer must cut a code the same way. marts.dim_sku carries
    the result as hs_chapter; read that column rather than cutting again. -#}

{% macro hs_chapter(hs_code) -%}
    case
        when length({{ hs_code }}) >= 6 and {{ regex_matches(hs_code, '^[0-9]{2}') }} then left({{ hs_code }}, 2)
        else 'unknown'
    end
{%- endmacro %}
