"""The Dagster definitions by domain, one package each (assets.py, checks.py, ...); definitions.py merges them."""
