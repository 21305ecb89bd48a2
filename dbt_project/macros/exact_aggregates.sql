{#- Aggregates of doubles that give the same bits on every run.

    DuckDB adds a group's doubles in whatever order its threads meet the rows,
    and a double sum depends on that order in its last bits: two runs on the
    same data published revenue_eur, mean transit and hold days, a supplier's
    lead-time CV that differed in up to a few hundred rows, so a BI tool's
    exact change detection saw changes that were not there. These add the
    values as decimal(38, 9) instead (exact, so in any order the same; nine
    decimals keep a thousandth of a cent, far below anything published) and
    return a double, the type the columns are documented with. The casts to
    double are DuckDB's own implicit ones written out, so Spark, whose decimal
    division keeps only six decimals, computes the same doubles. -#}

{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 9))) as double)
{%- endmacro %}

{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 9))) as double)
{%- endmacro %}

{#- the sample standard deviation of whole numbers (days) from exact integer sums, null
    below two values like stddev_samp (whose running update merges thread states in any order) -#}
{% macro exact_stddev_samp_of_integers(expression) -%}
    {%- set x = "cast(" ~ expression ~ " as " ~ type_wide_integer() ~ ")" -%}
    case when count({{ expression }}) > 1 then sqrt(greatest(0,
        (cast(sum({{ x }} * {{ x }}) as double) - cast(sum({{ x }}) * sum({{ x }}) as double) / count({{ expression }}))
        / (count({{ expression }}) - 1)
    )) end
{%- endmacro %}
