-- the merchant's nodes (warehouses, 3PLs) as declared in crossdock.yaml.
select node_code, country, description
from {{ source('config', 'nodes') }}
