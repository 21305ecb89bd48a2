-- the lanes stock can move on between nodes, as declared in crossdock.yaml
-- (routes). A lane crosses a customs border when its ends clear into
-- different customs territories, unless the file says otherwise.
with routes as (
    select * from {{ source('config', 'routes') }}
),

node_territories as (
    select nodes.node_code, countries.customs_territory
    from {{ source('config', 'nodes') }} as nodes
    inner join {{ ref('countries') }} as countries on countries.alpha_2 = nodes.country
)

select
    routes.from_node,
    routes.to_node,
    routes.mode,
    routes.cost_eur_per_kg,
    routes.fixed_cost_eur,
    routes.transit_days,
    coalesce(routes.crosses_customs_border, origin.customs_territory <> destination.customs_territory) as crosses_customs_border
from routes
inner join node_territories as origin on origin.node_code = routes.from_node
inner join node_territories as destination on destination.node_code = routes.to_node
