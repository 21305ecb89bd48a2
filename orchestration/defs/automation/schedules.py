"""The daily planning schedule: 06:00 UTC, skipped when nothing changed since the published plan."""

import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.defs.automation.jobs import daily_planning_job, planning_run_tags
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource
from orchestration.lib.run_inputs import (
    INPUTS_TAG, UpToDatePlan, all_landing_files, inputs_fingerprint, plan_already_made,
)


def last_planning_run_from(instance: dg.DagsterInstance, fingerprint: str) -> UpToDatePlan | None:
    """The latest successful planning run, when it was tagged with the inputs `fingerprint` describes; else None.

    What the schedule asks on Spark instead of the published plan: reading
    publish.plan_runs there would start a JVM in the daemon's tick (seconds,
    and a 2 GB heap kept by the code server). A run that succeeded published
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


@dg.schedule(
    name="daily_planning_0600",
    job=daily_planning_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="The full planning run every morning at 06:00 UTC: ingests whatever landed since the last run and "
    "plans (turn on in the UI or with `dagster schedule start`).",
)
def daily_planning_schedule(
    context: dg.ScheduleEvaluationContext, landing: LandingFolder, merchant_config: MerchantConfigFile,
    warehouse: WarehouseResource,
):
    fingerprint = inputs_fingerprint(landing.root, merchant_config.file, as_of=None)
    if warehouse.engine == "spark":
        made = last_planning_run_from(context.instance, fingerprint)
    else:
        made = plan_already_made(Path(warehouse.database), fingerprint)
    if made:
        return dg.SkipReason(f"nothing new since the plan of run {made.run_id} ({made.published_at}): same files, "
                             "config and code")
    return dg.RunRequest(tags={
        **planning_run_tags(context.instance, all_landing_files(landing.root), merchant_config.file), INPUTS_TAG: fingerprint,
    })
