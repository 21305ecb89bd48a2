"""Jobs, the daily schedule, the landing-folder sensor and declarative automation of everything downstream."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import dagster as dg

from feeds.file_dates import file_date
from orchestration.resources import LandingFolder, MerchantConfigFile
from orchestration.retries import WarehouseResource
from orchestration.run_inputs import INPUTS_TAG, all_landing_files, inputs_fingerprint, landing_state, plan_already_made

CONFIG_STATE_KEY = "<merchant config>"  # not a landing path: no landing file can be named so

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
    made = plan_already_made(Path(warehouse.database), fingerprint)
    if made:
        return dg.SkipReason(f"nothing new since the plan of run {made.run_id} ({made.published_at}): same files, "
                             "config and code")
    return dg.RunRequest(tags={**run_tags_for(all_landing_files(landing.root)), INPUTS_TAG: fingerprint})


@dg.sensor(
    name="landing_files_sensor",
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts an ingest run when files are added to or changed in the landing folder, or when the "
    "merchant's crossdock.yaml changes.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingFolder, merchant_config: MerchantConfigFile):
    seen = json.loads(context.cursor) if context.cursor else {}
    current = landing_state(landing.root)
    if merchant_config.file.is_file():  # an edited crossdock.yaml re-plans too
        stat = merchant_config.file.stat()
        current[CONFIG_STATE_KEY] = [stat.st_size, stat.st_mtime_ns]
    changed = sorted(name for name, sig in current.items() if seen.get(name) != sig)
    if not changed:
        return dg.SkipReason(f"no new files in {landing.root} and no change to {merchant_config.file}")
    batch = json.dumps({name: current[name] for name in changed}, sort_keys=True)
    run_key = hashlib.sha256(batch.encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(current, sort_keys=True))
    new_paths = [landing.root / name for name in changed if name != CONFIG_STATE_KEY]
    return dg.RunRequest(run_key=run_key, tags={"crossdock/new_files": str(len(changed)), **run_tags_for(new_paths)})


# Downstream assets refresh when an input changed, and only then. eager() also
# waits for every input to exist; that part is dropped so a table still
# refreshes when an optional input (say, a feed the merchant does not send)
# has never been materialized.
REFRESH_WHEN_INPUTS_CHANGE = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
# The feeds land daily: a published table older than a day and a bit is late.
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(warn_window=timedelta(hours=26), fail_window=timedelta(hours=36))


def automated(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the refresh condition, and the freshness policy when it is a published table."""
    freshness = PUBLISHED_FRESHNESS if spec.key.path[0] == "publish" else spec.freshness_policy
    return spec.replace_attributes(automation_condition=REFRESH_WHEN_INPUTS_CHANGE, freshness_policy=freshness)


downstream_refresh_sensor = dg.AutomationConditionSensorDefinition(
    "downstream_refresh",
    target=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest", "merchant_config"),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description="Declarative automation: after the landing sensor's ingest run loads new files, refreshes the dbt "
    "models, forecast, plans, compliance tables and BI copies that depend on what changed, and nothing else "
    "(turn on in the UI with the landing sensor).",
)
