{#- Written here because dbt_utils cannot be installed (no package hub): a row
    rule such as "p50 <= p90"; failing rows are those where the expression is
    false (a null result passes, as in dbt_utils). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
