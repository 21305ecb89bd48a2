"""One ingest asset per landing feed; each writes the feed's raw tables."""

import datetime as dt

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from crossdock.settings import pii_salt_warning
from feeds.contracts import FEEDS, contracts_for_feed
from feeds.ingest import FileResult, ingest_feed
from orchestration.column_schemas import raw_table
from orchestration.partitions import INGEST_PARTITIONS, files_between
from orchestration.resources import WAREHOUSE_POOL, LandingFolder, MerchantConfigFile


def _summary_metadata(results: list[FileResult]) -> dict[str, dg.MetadataValue]:
    frame = pd.DataFrame([r.__dict__ for r in results]) if results else pd.DataFrame(columns=["file_name", "status"])
    shown = frame.drop(columns=["file_id"], errors="ignore")
    return {
        "files_seen": dg.MetadataValue.int(len(results)),
        "files_loaded": dg.MetadataValue.int(int((frame["status"] == "loaded").sum())),
        "files_rejected": dg.MetadataValue.int(int((frame["status"] == "rejected").sum())),
        "files_skipped": dg.MetadataValue.int(int((frame["status"] == "skipped").sum())),
        "rows_loaded": dg.MetadataValue.int(int(frame.get("rows_loaded", pd.Series(dtype=int)).sum())),
        "rows_quarantined": dg.MetadataValue.int(int(frame.get("rows_quarantined", pd.Series(dtype=int)).sum())),
        "files": dg.MetadataValue.md(shown[shown["status"] != "skipped"].to_markdown(index=False) if len(shown) else "no files"),
    }


def build_ingest_asset(feed: str) -> dg.AssetsDefinition:
    contracts = contracts_for_feed(feed)

    @dg.multi_asset(
        name=f"ingest_{feed}",
        specs=[
            dg.AssetSpec(
                key=["raw", c.dataset],
                group_name="ingest",
                description=f"{c.description} Loaded from landing/{feed}/{c.file_prefix}*; contract in feeds/contracts.py.",
                kinds={"python", "duckdb"},
                owners=["team:data-platform"],
                metadata=raw_table(c),
            )
            for c in contracts
        ],
        pool=WAREHOUSE_POOL,
        partitions_def=INGEST_PARTITIONS,
        # a backfill of many days is one run over their files, not one run per day
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, landing: LandingFolder, merchant_config: MerchantConfigFile
    ):
        window = context.partition_key_range
        between = files_between(dt.date.fromisoformat(window.start), dt.date.fromisoformat(window.end))
        context.log.info(f"ingesting {feed} files dated {window.start}..{window.end}")
        salt_warning = pii_salt_warning(merchant_config.file)
        if salt_warning:
            context.log.warning(salt_warning)
        with warehouse.get_connection() as conn:
            results = ingest_feed(
                conn, landing.root, feed, landing.pii_salt, between=between, plausibility=merchant_config.plausibility()
            )
            table_rows = {c.dataset: conn.execute(f"select count(*) from {c.table}").fetchall()[0][0] for c in contracts}
        for r in results:
            if r.status == "rejected":
                context.log.warning(f"rejected {feed}/{r.file_name}: {r.message}")
        for contract in contracts:
            mine = [r for r in results if r.dataset == contract.dataset]
            yield dg.MaterializeResult(
                asset_key=["raw", contract.dataset],
                metadata={
                    **_summary_metadata(mine),
                    "dagster/row_count": dg.MetadataValue.int(table_rows[contract.dataset]),
                    **({"pii_salt_warning": dg.MetadataValue.text(salt_warning)} if salt_warning else {}),
                },
            )

    return _ingest


INGEST_ASSETS = [build_ingest_asset(feed) for feed in FEEDS]
