{#- Written here because dbt_utils cannot be installed (no package hub):
    a compound-key uniqueness test, failing rows are the repeated keys. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
with key_counts as (
    select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
)

select * from key_counts where occurrences > 1
{% endtest %}
