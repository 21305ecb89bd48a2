"""The BI copies of schema publish, refreshed after every publish (crossdock/bi_export.py does the work).

It follows publish/plan_runs, the one step that changes schema publish, so the
copies change when a run has published its whole plan and never in between.
"""

from pathlib import Path

import dagster as dg

from crossdock.bi_export import SNAPSHOT_NAME, export_published
from orchestration.defs.publish.assets import PUBLISHED_PLAN
from orchestration.lib.resources import WAREHOUSE_POOL, ArtifactFolders
from orchestration.lib.retries import WarehouseResource

BI_EXPORTS = dg.AssetKey(["exports", "bi_publish_copies"])


@dg.asset(
    key=BI_EXPORTS,
    deps=[PUBLISHED_PLAN],
    group_name="bi",
    kinds={"parquet", "duckdb"},
    owners=["team:data-platform"],
    pool=WAREHOUSE_POOL,
    description="Every publish.* table as a Parquet file (CROSSDOCK_EXPORTS/bi/parquet/<table>.parquet) and as a "
    f"snapshot database (CROSSDOCK_EXPORTS/bi/{SNAPSHOT_NAME}, open it read-only), so BI tools never hold the live "
    "warehouse's lock. The folder is replaced whole (written beside it, then renamed) after each publish, "
    "and publish.plan_runs in it names the run the plan is from.",
)
def bi_publish_copies(context: dg.AssetExecutionContext, warehouse: WarehouseResource, artifacts: ArtifactFolders):
    folder = Path(artifacts.exports) / "bi"
    with warehouse.open() as tables:
        rows = export_published(tables, folder)
    context.log.info(f"exported {len(rows)} publish tables to {folder}")
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(folder)),
        "tables": len(rows),
        "rows_by_table": dg.MetadataValue.json(rows),
    })
