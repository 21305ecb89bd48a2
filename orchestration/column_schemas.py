"""Column schemas for the assets dbt does not build, from the places the columns are defined.

dbt assets get theirs from the dbt manifest through dagster-dbt. The tables
Python writes are documented in dbt too, as sources (`publish`, `audit` in
dbt_project/models/*/_published_by_dagster.yml), so the UI, `dbt docs` and
BI users read one description per column. Raw tables are defined by their
feed contracts, so their schema comes from there.
"""

import json
from functools import cache
from typing import Any

import dagster as dg

from crossdock.published import PUBLISH_SOURCE, published_tables
from feeds.audit import raw_table_columns
from feeds.contracts import Contract
from orchestration.resources import DBT_PROJECT


@cache
def _documented_sources() -> dict[tuple[str, str], dict[str, Any]]:
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    return {(source["schema"], source["name"]): source for source in manifest["sources"].values()}


def documented_table(schema: str, table: str) -> dict[str, dg.MetadataValue]:
    """`dagster/column_schema` and `dagster/table_name` for a Python-written table documented as a dbt source.

    A published table's declared key (`meta: key:`, crossdock.published) shows
    as the schema's constraint. A table nobody documented gets no schema rather
    than a failed code location; tests/test_orchestration_asset_catalog.py fails on it instead.
    """
    source = _documented_sources().get((schema, table))
    metadata: dict[str, Any] = {"dagster/table_name": f"{schema}.{table}"}
    if source and source["columns"]:
        declared = published_tables().get(table) if schema == PUBLISH_SOURCE else None
        constraints = dg.TableConstraints(other=[f"key: {', '.join(declared.key)}"]) if declared and declared.key else None
        metadata["dagster/column_schema"] = dg.TableSchema(columns=[
            dg.TableColumn(name=name, type=column.get("data_type") or "?", description=column.get("description"))
            for name, column in source["columns"].items()
        ], constraints=constraints)
    return metadata


def raw_table(contract: Contract) -> dict[str, Any]:
    """The raw table's schema as its contract defines it, lineage columns included."""
    return {
        "dagster/table_name": contract.table,
        "dagster/column_schema": dg.TableSchema(columns=[
            dg.TableColumn(name=name, type=type_, description=description)
            for name, type_, description in raw_table_columns(contract)
        ]),
    }
