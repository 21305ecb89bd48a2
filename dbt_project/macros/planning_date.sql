{#
  What the plan may know on its planning date. A run without var('as_of')
  plans from the latest state the feeds show (the newest snapshot, every PO
  as its status is now). A run that sets as_of (`crossdock run --as-of`)
  plans from the state on that day, as far as the feeds can tell it.
#}

{% macro planning_as_of() %}
    {#- the run's as_of as a SQL date, or none when the run does not set one -#}
    {%- if var('as_of', none) -%}
        {{ return("cast('" ~ var('as_of') ~ "' as date)") }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{% endmacro %}

{% macro po_open_on_planning_date(po) %}
    {#- a purchase-order line still open on the planning date: status open today; with as_of, ordered by
        then and not received by then (a cancelled line is left out: the feed has no cancellation day) -#}
    {%- set as_of = planning_as_of() -%}
    {%- if as_of -%}
        ({{ po }}.ordered_date <= {{ as_of }} and {{ po }}.status <> 'cancelled'
         and ({{ po }}.status = 'open' or {{ po }}.received_date > {{ as_of }}))
    {%- else -%}
        {{ po }}.status = 'open'
    {%- endif -%}
{% endmacro %}

{% macro known_by_planning_date(timestamp_utc) %}
    {#- an event the plan may know: any, or with as_of one on or before that day (its UTC day: the feeds'
        instants are UTC, and a day's last hours west of it fall on the next) -#}
    {%- set as_of = planning_as_of() -%}
    {%- if as_of -%}
        cast({{ timestamp_utc }} as date) <= {{ as_of }}
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}

{% macro po_received_by_planning_date(po) %}
    {#- a received purchase-order line the plan may learn lead times from -#}
    {%- set as_of = planning_as_of() -%}
    ({{ po }}.status = 'received' and {{ po }}.received_date is not null
    {%- if as_of %} and {{ po }}.received_date <= {{ as_of }}{% endif -%})
{% endmacro %}
