"""What the Dagster UI shows of every asset: group, owner, kinds, description, and for tables their columns."""
from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs

# a folder of copies of publish.*, not a table: the copied tables show their schemas on their own assets
NOT_A_TABLE = {dg.AssetKey(["exports", "bi_publish_copies"])}


def table_assets() -> dict[dg.AssetKey, dict]:
    graph = defs.resolve_asset_graph()
    return {key: dict(graph.get(key).metadata or {}) for key in graph.get_all_asset_keys() if key not in NOT_A_TABLE}


def test_every_table_asset_has_a_column_schema_with_types_and_descriptions():
    missing, undescribed = [], []
    for key, metadata in table_assets().items():
        schema = metadata.get("dagster/column_schema")
        if schema is None or not schema.columns:
            missing.append(key.to_user_string())
            continue
        undescribed += [
            f"{key.to_user_string()}.{c.name}" for c in schema.columns if not c.description or c.type in ("", "?")
        ]
    assert not missing, f"no column schema (document the table in dbt_project/models/**/_*.yml): {sorted(missing)}"
    assert not undescribed, f"columns without a type or a description: {undescribed}"


def test_every_table_asset_names_its_warehouse_table():
    unnamed = [k.to_user_string() for k, m in table_assets().items() if "dagster/table_name" not in m]
    assert not unnamed


def test_raw_schemas_come_from_the_contracts_and_never_show_the_customer_id():
    orders = table_assets()[dg.AssetKey(["raw", "orders"])]["dagster/column_schema"]
    names = [c.name for c in orders.columns]
    assert "customer_id" not in names and "customer_key" in names
    assert names[-4:] == ["_file_id", "_file_date", "_row_number", "_ingested_at"]


def test_every_asset_has_a_group_an_owner_kinds_and_a_description():
    graph = defs.resolve_asset_graph()
    bare = {
        key.to_user_string(): [what for what, ok in (
            ("description", node.description), ("owners", node.owners), ("kinds", node.kinds),
            ("group", node.group_name not in (None, "default")),
        ) if not ok]
        for key in graph.get_all_asset_keys()
        for node in [graph.get(key)]
    }
    assert not {key: missing for key, missing in bare.items() if missing}
