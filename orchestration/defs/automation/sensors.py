"""The landing-folder sensor: a planning run when feed files land or change, or the merchant's crossdock.yaml does.

One run of the whole daily_planning job, as `crossdock run` makes it, tagged
with the fingerprint of its inputs (files, config, code): its published plan
says what it was made from, so the schedule and `crossdock run` know it is up
to date, and a sensor turned on over a folder already planned starts nothing.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from feeds.landing_folder import MAPPING_FILE
from orchestration.defs.automation.jobs import (
    daily_planning_job, last_planning_run_from, planning_run_tags, planning_run_underway,
)
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.run_inputs import INPUTS_TAG, inputs_fingerprint, landing_state

CONFIG_STATE_KEY = "<merchant config>"  # not a landing path: no landing file can be named so
# a file changed more recently than this may still be being written (an export copied in, a sync): its ingest
# would load the lines written so far and quarantine the cut one, so the batch waits a tick
SETTLE_SECONDS = 30


@dg.sensor(
    name="landing_files_sensor",
    job=daily_planning_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts a daily_planning run (ingest, models, forecast of every market, plans, publish: one run) when "
    "files are added to or changed in the landing folder, or when the merchant's crossdock.yaml changes.",
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
    settling = [name for name in changed if name != CONFIG_STATE_KEY
                and time.time_ns() - current[name][1] < SETTLE_SECONDS * 1_000_000_000]
    if settling:
        return dg.SkipReason(f"waiting for {', '.join(settling)} to stop changing (changed in the last {SETTLE_SECONDS} s: "
                             "an export may still be writing it); the next tick ingests it")
    batch = json.dumps({name: current[name] for name in changed}, sort_keys=True)
    run_key = hashlib.sha256(batch.encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(current, sort_keys=True))
    # the run history, not the warehouse: a tick must not wait on the lock of a run writing it
    fingerprint = inputs_fingerprint(landing.root, merchant_config.file, as_of=None)
    if made := last_planning_run_from(context.instance, fingerprint):
        return dg.SkipReason(f"{len(changed)} file(s) new to this sensor, but the plan of run {made.run_id} "
                             f"({made.published_at}) was made from these same files, config and code")
    if underway := planning_run_underway(context.instance, fingerprint):
        return dg.SkipReason(f"run {underway} is already planning these same files, config and code")
    new_paths = [landing.root / name for name in changed if name != CONFIG_STATE_KEY and Path(name).name != MAPPING_FILE]
    return dg.RunRequest(run_key=run_key, tags={
        "crossdock/new_files": str(len(changed)), **planning_run_tags(context.instance, new_paths, merchant_config.file),
        INPUTS_TAG: fingerprint,
    })
