-- SKUs whose catalogue lines flag no primary supplier (none was sent true, or the
-- primary line was quarantined): marts.dim_sku takes the line of the lowest
-- supplier id for their terms and customs identity, and says so here, rather
-- than treat them as in no catalogue. Failing rows are those SKUs.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'dim_sku'}}}) }}

with lines as (
    select sku, supplier_id, is_primary from {{ ref('stg_supplier_catalogue') }}
),

unflagged as (
    select sku, count(*) as catalogue_lines
    from lines
    group by sku
    having sum(case when is_primary then 1 else 0 end) = 0
),

taken as (
    select unflagged.sku, unflagged.catalogue_lines, skus.primary_supplier_id as supplier_taken
    from unflagged
    left join {{ ref('dim_sku') }} as skus on skus.sku = unflagged.sku
)

select * from taken
