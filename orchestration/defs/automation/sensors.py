"""The landing-folder sensor: an ingest run when feed files land or change, or the merchant's crossdock.yaml does."""

import hashlib
import json
import time

import dagster as dg

from orchestration.defs.automation.jobs import ingest_job, run_tags_for
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.run_inputs import landing_state

CONFIG_STATE_KEY = "<merchant config>"  # not a landing path: no landing file can be named so
# a file changed more recently than this may still be being written (an export copied in, a sync): its ingest
# would load the lines written so far and quarantine the cut one, so the batch waits a tick
SETTLE_SECONDS = 30


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
    settling = [name for name in changed if name != CONFIG_STATE_KEY
                and time.time_ns() - current[name][1] < SETTLE_SECONDS * 1_000_000_000]
    if settling:
        return dg.SkipReason(f"waiting for {', '.join(settling)} to stop changing (changed in the last {SETTLE_SECONDS} s: "
                             "an export may still be writing it); the next tick ingests it")
    batch = json.dumps({name: current[name] for name in changed}, sort_keys=True)
    run_key = hashlib.sha256(batch.encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(current, sort_keys=True))
    new_paths = [landing.root / name for name in changed if name != CONFIG_STATE_KEY]
    return dg.RunRequest(run_key=run_key, tags={"crossdock/new_files": str(len(changed)), **run_tags_for(new_paths)})
