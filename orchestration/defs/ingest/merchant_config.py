"""The merchant's network (crossdock.yaml) as warehouse tables dbt and the plans read.

The file is read and checked by `crossdock.merchant_config`; this asset only
copies it into `config.markets`, `config.nodes` and `config.routes`, so a
change to the file reaches every model on the next run, and a wrong file fails
here, first, with the place in the file to fix.
"""

import dataclasses
import hashlib

import dagster as dg
import pandas as pd

from crossdock.warehouse import typed_columns
from expectations.thresholds import GateThresholds
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.market_partitions import sync_market_partitions
from orchestration.lib.resources import WAREHOUSE_POOL, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

CONFIG_TABLES = {
    "markets": "Markets crossdock plans, one row each (the catch-all market last), as declared in crossdock.yaml.",
    "nodes": "Nodes (warehouses, 3PLs) stock is held at, as declared in crossdock.yaml.",
    "routes": "Node-to-node lanes stock can be moved on, as declared in crossdock.yaml.",
    "assumptions": "What is assumed where a feed is missing (lead time, unit cost, MOQ, pack size): one row, "
    "crossdock.yaml's assumptions or their defaults.",
    "gates": "The training-data gate's thresholds crossdock.yaml overrides (gates:), one row; a column per "
    "threshold given, the others take their defaults (expectations/thresholds.py).",
}


def gate_overrides(gates: dict[str, float]) -> pd.DataFrame:
    """One row, a column per GateThresholds field: the file's value, or null (= the default)."""
    columns = {
        f.name: pd.array([gates.get(f.name)], dtype="Int64" if f.type in (int, "int") else "Float64")
        for f in dataclasses.fields(GateThresholds)
    }
    return pd.DataFrame(columns)


@dg.multi_asset(
    name="merchant_network",
    specs=[
        dg.AssetSpec(
            key=["config", table],
            group_name="merchant_config",
            description=f"{description} Path from CROSSDOCK_CONFIG; see docs/configuration.md.",
            kinds={"yaml", "duckdb"},
            owners=["team:data-platform"],
            metadata=documented_table("config", table),
        )
        for table, description in CONFIG_TABLES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def merchant_network(context: dg.AssetExecutionContext, warehouse: WarehouseResource, merchant_config: MerchantConfigFile):
    config = merchant_config.load()
    try:  # a misspelt or out-of-range threshold fails here, naming it, not in the gate later
        GateThresholds.from_mapping(config.gates)
    except ValueError as error:
        raise dg.Failure(description=f"{merchant_config.file}: gates: {error}") from None
    frames = {
        "markets": config.markets_frame(),
        "nodes": config.nodes_frame(),
        "routes": config.routes_frame(),
        "assumptions": config.assumptions.frame(),
        "gates": gate_overrides(config.gates),
    }
    # same file, same data version: the UI shows when the network last really changed
    version = hashlib.sha256(merchant_config.file.read_bytes()).hexdigest()[:16]
    with warehouse.open() as tables:
        for table, frame in frames.items():
            tables.write_frame(f"config.{table}", frame, typed_columns(frame))
    context.log.info(
        f"merchant network from {merchant_config.file}: {len(config.markets)} markets"
        f"{' + catch-all ' + config.catch_all.code if config.catch_all else ''}, {len(config.nodes)} nodes, "
        f"{len(config.routes)} routes"
    )
    # the forecast's market partitions follow the file, so the UI offers a run per market (lib/market_partitions.py)
    sync_market_partitions(context.instance, config.market_codes)
    for table, frame in frames.items():
        yield dg.MaterializeResult(
            asset_key=["config", table],
            data_version=dg.DataVersion(version),
            metadata={"dagster/row_count": dg.MetadataValue.int(len(frame)), "file": dg.MetadataValue.path(str(merchant_config.file))},
        )
