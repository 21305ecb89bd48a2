"""Daily partitions of the ingest: a file belongs to the day it speaks for.

The day is the export's as-of date (feeds/file_dates.py). A run over a range
of days ingests the files of those days that are not loaded yet, so a user
can backfill or re-run any date range from the UI and it is always safe:
loaded content is skipped by its hash, repeated rows by their values.
"""
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from feeds.file_dates import file_date

PARTITIONS_START = dt.date(2020, 1, 1)
INGEST_PARTITIONS = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START.isoformat(), end_offset=1)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_date(path: Path, today: dt.date | None = None) -> dt.date:
    """The partition a file falls in: its as-of date, clamped to the partitions that exist."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return min(max(file_date(path), PARTITIONS_START), today)


def files_between(start: dt.date, end: dt.date, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The file dates a partition range covers; the first and last partitions
    also cover files dated before or after the partitions (clamped into them)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    low = dt.date.min if start <= PARTITIONS_START else start
    high = dt.date.max if end >= today else end
    return low, high


def range_tags(paths: Iterable[Path]) -> dict[str, str]:
    """Run tags asking for one run over the partitions of `paths` (empty if no paths)."""
    days = sorted(partition_date(p) for p in paths)
    if not days:
        return {}
    return {RANGE_START_TAG: days[0].isoformat(), RANGE_END_TAG: days[-1].isoformat()}
