"""The jobs: the daily planning run (everything) and the ingest run (feeds and merchant config), and a run's tags."""

from pathlib import Path

import dagster as dg

from feeds.file_dates import file_date
from orchestration.lib.market_partitions import every_market_tags

daily_planning_job = dg.define_asset_job(
    name="daily_planning",
    selection=dg.AssetSelection.all(),
    description="Ingest new feed files, build the dbt models, gate, forecast and publish the plans.",
)

ingest_job = dg.define_asset_job(
    name="ingest_feeds",
    selection=dg.AssetSelection.groups("ingest", "merchant_config"),
    description="Load newly landed feed files into raw.* (contract-checked, idempotent) and the merchant's "
    "crossdock.yaml into config.*.",
)

FILES_DATED_TAG = "crossdock/files_dated"


def run_tags_for(paths: list[Path]) -> dict[str, str]:
    """A run's tag naming the as-of dates of the files it was asked for (first..last), for the runs list.

    Only a label: every ingest run loads whatever landed and is not loaded yet,
    so a run never depends on its tags to be right.
    """
    days = sorted(file_date(p) for p in paths)
    return {FILES_DATED_TAG: f"{days[0].isoformat()}..{days[-1].isoformat()}"} if days else {}


def planning_run_tags(instance: dg.DagsterInstance, landed: list[Path], config: Path) -> dict[str, str]:
    """The tags of a daily_planning run: the dates of the `landed` files (all_landing_files), and every market of
    `config` in this one run (which syncs the instance's market partitions to the file first)."""
    return {**run_tags_for(landed), **every_market_tags(instance, config)}
