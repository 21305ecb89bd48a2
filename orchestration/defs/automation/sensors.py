"""The landing-folder sensor: a planning run when feed files land or change, or the merchant's crossdock.yaml does.

One run of the whole daily_planning job, as `crossdock run` makes it, tagged
with the fingerprint of its inputs (files, config, code): its published plan
says what it was made from, so the schedule and `crossdock run` know it is up
to date, and a sensor turned on over a folder already planned starts nothing.
"""

import hashlib
import json
import time

import dagster as dg

from orchestration.defs.automation.jobs import (
    daily_planning_job, last_planning_run_from, planning_run_tags, unfinished_planning_run,
)
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.run_inputs import (
    INPUTS_TAG, SETTLE_SECONDS, SETTLE_TAG, inputs_fingerprint, landing_state,
)

CONFIG_STATE_KEY = "<merchant config>"  # not a landing path: no landing file can be named so


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
    ready = [name for name in changed if name not in settling]
    waiting = (f"{', '.join(settling)} changed in the last {SETTLE_SECONDS} s (an export may still be writing it): "
               "the next tick takes it") if settling else ""
    if not ready:
        return dg.SkipReason(f"waiting: {waiting}")
    # one planning run at a time, and none queued behind it for each batch landing meanwhile (five batches overnight
    # were five full runs): the files stay new to this sensor, and one run is asked for once it has ended
    if in_flight := unfinished_planning_run(context.instance):
        return dg.SkipReason(f"run {in_flight.run_id} is planning (queued or going): the files new since wait for it to end")
    # files still changing stay new to the next tick, and the run's ingest leaves them too (SETTLE_TAG): files landing
    # less than 30 s apart no longer hold back the ones before them
    context.update_cursor(json.dumps(
        {**{name: sig for name, sig in current.items() if name not in settling},
         **{name: seen[name] for name in settling if name in seen}}, sort_keys=True))
    landed = [name for name in ready if name != CONFIG_STATE_KEY]
    what = f"{len(landed)} file(s)" + (" and crossdock.yaml" if CONFIG_STATE_KEY in ready else "")
    # the run history, not the warehouse: a tick must not wait on the lock of a run writing it
    fingerprint = inputs_fingerprint(landing.root, merchant_config.file, as_of=None)
    if made := last_planning_run_from(context.instance, fingerprint):
        return dg.SkipReason(f"{what} new to this sensor, but the plan of run {made.run_id} ({made.published_at}) was "
                             "made from these same files, config and code")
    batch = json.dumps({name: current[name] for name in ready}, sort_keys=True)
    if waiting:
        context.log.info(f"planning {what}; {waiting}")
    return dg.RunRequest(run_key=hashlib.sha256(batch.encode()).hexdigest()[:16], tags={
        "crossdock/new_files": str(len(ready)),  # crossdock.yaml counted, as a change to plan from
        **planning_run_tags(context.instance, [landing.root / n for n in landed], merchant_config.file),
        INPUTS_TAG: fingerprint, SETTLE_TAG: str(SETTLE_SECONDS),
    })
