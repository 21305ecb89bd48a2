"""One ingest asset per landing feed; each writes the feed's raw tables.

The assets are not partitioned by day: a run loads every landed file that is
not loaded yet (known content is skipped by its hash), and records one
materialization per raw table whose metadata lists the files of that batch and
their dates. Bookkeeping so grows with runs, not with days of history (a
daily partition per file day cost ~5,000 events on every run of a two-year
history); audit.ingest_ledger keeps when each file was loaded.
"""

import datetime as dt

import dagster as dg
import pandas as pd

from crossdock.settings import pii_salt_warning
from feeds.contracts import FEEDS, contracts_for_feed
from feeds.ingest import FileResult, file_warnings, ingest_feed
from feeds.kept_rows import file_engine
from orchestration.lib.column_schemas import raw_table
from orchestration.lib.resources import WAREHOUSE_POOL, LandingFolder, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource
from orchestration.lib.run_inputs import SETTLE_TAG


def _summary_metadata(results: list[FileResult], file_dates: dict[str, dt.date]) -> dict[str, dg.MetadataValue]:
    frame = pd.DataFrame([r.__dict__ for r in results]) if results else pd.DataFrame(columns=["file_name", "status"])
    shown = frame.drop(columns=["file_id"], errors="ignore")
    loaded_dates = sorted(file_dates[r.file_id] for r in results if r.status == "loaded" and r.file_id in file_dates)
    return {
        "files_dated": dg.MetadataValue.text(
            f"{loaded_dates[0].isoformat()}..{loaded_dates[-1].isoformat()}" if loaded_dates else "no new file"
        ),
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
    keyed = any(column.pii for c in contracts for column in c.columns)  # a column the salt pseudonymises

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
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingFolder, merchant_config: MerchantConfigFile
    ):
        context.log.info(f"ingesting the {feed} files not loaded yet from {landing.root / feed}")
        settle = float(context.run.tags.get(SETTLE_TAG, 0))  # runs the daemon starts leave files still being written
        with warehouse.open() as tables, file_engine(tables) as (files, kept):
            results = ingest_feed(
                files, landing.root, feed, landing.pii_salt, plausibility=merchant_config.plausibility(), kept=kept,
                settle_seconds=settle,
            )
            loaded = {r.file_id for r in results if r.status == "loaded"}
            file_dates = {file_id: day for file_id, day in tables.rows(
                "select file_id, file_date from audit.ingest_ledger where status = 'loaded'") if file_id in loaded}
            [counts] = tables.rows("select " + ", ".join(f"(select count(*) from {c.table})" for c in contracts))
            table_rows = {c.dataset: rows for c, rows in zip(contracts, counts)}
        # said by the feeds with files whose rows the key pseudonymises: not by a feed the merchant has not, nor by
        # one without customer ids (the planners' overrides, the exception updates)
        salt_warning = pii_salt_warning(merchant_config.file) if results and keyed else None
        if salt_warning:
            context.log.warning(salt_warning)
        for warning in file_warnings(feed, results):
            context.log.warning(warning)
        for contract in contracts:
            mine = [r for r in results if r.dataset == contract.dataset]
            yield dg.MaterializeResult(
                asset_key=["raw", contract.dataset],
                metadata={
                    **_summary_metadata(mine, file_dates),
                    "dagster/row_count": dg.MetadataValue.int(table_rows[contract.dataset]),
                    **({"pii_salt_warning": dg.MetadataValue.text(salt_warning)} if salt_warning else {}),
                },
            )

    return _ingest


INGEST_ASSETS = [build_ingest_asset(feed) for feed in FEEDS]
