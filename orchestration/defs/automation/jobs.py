"""The jobs: the daily planning run (everything) and the ingest run (feeds and merchant config), a run's tags, and
which planning run already covers a set of inputs."""

import datetime as dt
from pathlib import Path

import dagster as dg

from feeds.file_dates import file_date
from orchestration.lib.market_partitions import every_market_tags
from orchestration.lib.run_inputs import INPUTS_TAG, UpToDatePlan

# On every planning run, whoever launches it (the UI, `dagster job launch`, a backfill, the sensor, the schedule):
# the instance's dagster.yaml queues the daemon's runs that carry it one at a time, so two runs never interleave
# their steps on the one plan_next schema. The run requests carry it too (planning_run_tags), to be seen in them.
PLANNING_TAG = "crossdock/planning"

daily_planning_job = dg.define_asset_job(
    name="daily_planning",
    selection=dg.AssetSelection.all(),
    description="Ingest new feed files, build the dbt models, gate, forecast and publish the plans.",
    tags={PLANNING_TAG: "plan"},
)

ingest_job = dg.define_asset_job(
    name="ingest_feeds",
    selection=dg.AssetSelection.groups("ingest", "merchant_config"),
    description="Load newly landed feed files into raw.* (contract-checked, idempotent) and the merchant's "
    "crossdock.yaml into config.*.",
)

FILES_DATED_TAG = "crossdock/files_dated"
UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED]


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
    return {**run_tags_for(landed), **every_market_tags(instance, config), PLANNING_TAG: "plan"}


def last_planning_run_from(instance: dg.DagsterInstance, fingerprint: str) -> UpToDatePlan | None:
    """The latest successful planning run, when it was tagged with the inputs `fingerprint` describes; else None.

    What the landing sensor asks, and the schedule on Spark, instead of the
    published plan: a sensor tick must not wait on the DuckDB lock of a run
    writing the warehouse, and reading publish.plan_runs on Spark would start a
    JVM in the daemon's tick (seconds, and a 2 GB heap kept by the code
    server). `crossdock run` tags its runs alike. A run that succeeded published
    its plan, so the latest one's inputs are the published plan's; a run
    launched from the UI carries no fingerprint, and the next tick plans again.
    Unlike the DuckDB check it cannot see a warehouse emptied by hand:
    `crossdock run --force` or a launch from the UI rebuilds it.
    """
    records = instance.get_run_records(
        dg.RunsFilter(job_name=daily_planning_job.name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1,
    )
    if not records or records[0].dagster_run.tags.get(INPUTS_TAG) != fingerprint:
        return None
    ended = records[0].end_time
    published_at = dt.datetime.fromtimestamp(ended, dt.timezone.utc) if ended else records[0].update_timestamp
    return UpToDatePlan(records[0].dagster_run.run_id, f"{published_at:%Y-%m-%d %H:%M} UTC")


def unfinished_planning_run(instance: dg.DagsterInstance, fingerprint: str | None = None) -> dg.DagsterRun | None:
    """A planning run queued or going, over the inputs `fingerprint` describes when given, else whatever its inputs.

    With a fingerprint: the schedule that meets files a run is already planning does not plan them twice. Without:
    such a run reads the whole landing folder when it ingests, so the sensor leaves files landing meanwhile to it
    (or to the one run asked for after it ends), and `crossdock run` does not start beside it.
    """
    records = instance.get_run_records(dg.RunsFilter(
        job_name=daily_planning_job.name, statuses=UNFINISHED, tags={INPUTS_TAG: fingerprint} if fingerprint else {},
    ), limit=1)
    return records[0].dagster_run if records else None
