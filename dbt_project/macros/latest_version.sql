{#- The latest version of each key of a raw table: a row re-sent in a later
    export is an update (last write wins, "later" by the export's as-of date,
    so a late-arriving old file does not undo a newer one), never a second row. Written here
    because dbt_utils.deduplicate is not installable (no package hub). -#}
{% macro latest_version(relation, key_columns) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _file_date desc, _ingested_at desc, _row_number desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{% endmacro %}
