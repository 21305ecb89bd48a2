"""Column schemas for the assets dbt does not build, from the places the columns are defined.

dbt assets get theirs from the dbt manifest through dagster-dbt. The tables
Python writes are documented in dbt too, as sources (`publish`, `audit` in
dbt_project/models/*/_published_by_dagster.yml), so the UI, `dbt docs` and
BI users read one description per column. Raw tables are defined by their
feed contracts, so their schema comes from there.

An asset module only names its table (`documented_table`); the schema is
read from the manifest when the definitions are built (`with_documented_columns`,
orchestration/definitions.py), so importing an asset module reads no file.
"""

import json
from functools import cache
from typing import Any

import dagster as dg

from crossdock.published import PUBLISH_SOURCE, published_tables
from feeds.audit import raw_table_columns
from feeds.contracts import Contract
from orchestration.lib.resources import dbt_project


@cache
def _documented_sources() -> dict[tuple[str, str], dict[str, Any]]:
    manifest = json.loads(dbt_project().manifest_path.read_text())
    return {(source["schema"], source["name"]): source for source in manifest["sources"].values()}


def documented_table(schema: str, table: str) -> dict[str, Any]:
    """`dagster/table_name` of a Python-written table documented as a dbt source; its column schema is added
    when the definitions are built (with_documented_columns)."""
    return {"dagster/table_name": f"{schema}.{table}"}


def with_documented_columns(spec: dg.AssetSpec) -> dg.AssetSpec:
    """`spec` with the column schema of its table (`dagster/table_name`, schema.table) as dbt documents the source.

    A published table's declared key (`meta: key:`, crossdock.published) shows
    as the schema's constraint. A spec that already has a schema (raw tables,
    from their contracts) is left alone. A table nobody documented gets no
    schema rather than a failed code location; tests/test_orchestration_asset_catalog.py
    fails on it instead.
    """
    table_name = spec.metadata.get("dagster/table_name")
    table_name = getattr(table_name, "value", table_name)  # a plain str, or its MetadataValue once normalised
    if not isinstance(table_name, str) or "dagster/column_schema" in spec.metadata or table_name.count(".") != 1:
        return spec
    schema, table = table_name.split(".")
    source = _documented_sources().get((schema, table))
    if source and source["columns"]:
        declared = published_tables().get(table) if schema == PUBLISH_SOURCE else None
        constraints = dg.TableConstraints(other=[f"key: {', '.join(declared.key)}"]) if declared and declared.key else None
        return spec.merge_attributes(metadata={"dagster/column_schema": dg.TableSchema(columns=[
            dg.TableColumn(name=name, type=column.get("data_type") or "?", description=column.get("description"))
            for name, column in source["columns"].items()
        ], constraints=constraints)})
    return spec


def raw_table(contract: Contract) -> dict[str, Any]:
    """The raw table's schema as its contract defines it, lineage columns included."""
    return {
        "dagster/table_name": contract.table,
        "dagster/column_schema": dg.TableSchema(columns=[
            dg.TableColumn(name=name, type=type_, description=description)
            for name, type_, description in raw_table_columns(contract)
        ]),
    }
