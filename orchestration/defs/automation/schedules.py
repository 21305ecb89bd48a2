"""The daily planning schedule: 06:00 UTC, skipped when nothing changed since the published plan."""

from pathlib import Path

import dagster as dg
import duckdb

from crossdock.warehouse import is_lock_conflict
from orchestration.defs.automation.jobs import (
    daily_planning_job, last_planning_run_from, planning_run_tags, unfinished_planning_run,
)
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource
from orchestration.lib.run_inputs import (
    INPUTS_TAG, SETTLE_SECONDS, SETTLE_TAG, all_landing_files, inputs_fingerprint, plan_already_made,
)

# Dagster gives a schedule's tick 60 s: a run writing the warehouse is waited out this long, then the day is
# planned (the tick timed out and the morning went unplanned when it waited 300 s)
TICK_LOCK_WAIT_SECONDS = 20


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
    if underway := unfinished_planning_run(context.instance, fingerprint):
        return dg.SkipReason(f"run {underway.run_id} is already planning these same files, config and code")
    if warehouse.engine == "spark":
        made = last_planning_run_from(context.instance, fingerprint)
    else:
        try:
            made = plan_already_made(Path(warehouse.database), fingerprint, wait_seconds=TICK_LOCK_WAIT_SECONDS)
        except duckdb.Error as error:
            if not is_lock_conflict(error):
                raise
            # the run history cannot see a tariff loaded since: plan (the run waits its turn for the warehouse)
            context.log.warning(f"the warehouse is locked by another process after {TICK_LOCK_WAIT_SECONDS} s: "
                                "whether the published plan is up to date cannot be read; planning")
            made = None
    if made:
        return dg.SkipReason(f"nothing new since the plan of run {made.run_id} ({made.published_at}): same files, "
                             "config and code")
    return dg.RunRequest(tags={
        **planning_run_tags(context.instance, all_landing_files(landing.root), merchant_config.file), INPUTS_TAG: fingerprint,
        SETTLE_TAG: str(SETTLE_SECONDS),  # a file landing at 06:00 may still be being written
    })
