"""What a planning run was made from, so a run with nothing new is not made again.

A plan is a function of the landed files, the merchant's crossdock.yaml, the
planning date asked for, the code, and the tariff files loaded into the
warehouse (`crossdock tariff load`: a plan published before the last load is
not up to date, whatever its fingerprint). The CLI and the daily schedule tag each
run with a fingerprint of those, and the publish step writes the run's
fingerprint beside its plan (publish.plan_runs.inputs). When the published
plan has the fingerprint a new run would have, running again would rebuild
the same tables, so they say so and stop in seconds (`crossdock run --force`,
or launching the job from the UI, runs it anyway). The fingerprint reads file
sizes and modification times, never contents, so it costs milliseconds; the
check reads one row of the warehouse and needs no Dagster, so the CLI makes it
before importing Dagster at all.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from compliance.tariffs.store import last_loaded_at
from crossdock.publish import last_published
from crossdock.settings import PROJECT_ROOT
from crossdock.warehouse import LOCK_WAIT_SECONDS, connect
from feeds.contracts import FEEDS
from feeds.landing_folder import landing_files

INPUTS_TAG = "crossdock/inputs"
# A landing file changed more recently than this may still be being written (an export copied in, a sync): the
# runs the daemon starts leave it for a later run (the landing sensor, and the ingest of a run it or the schedule
# starts, which carries the tag: a run queued behind another would otherwise load a file landing meanwhile).
SETTLE_SECONDS = 30
SETTLE_TAG = "crossdock/settle_seconds"
# what the plan's code is: the packages and the dbt project (not its target/ or logs/)
CODE_FOLDERS = ("cli", "crossdock", "feeds", "ml", "planning", "compliance", "expectations", "orchestration", "dbt_project")
CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv"}
SKIPPED_FOLDERS = {"target", "logs", "__pycache__", "dbt_packages"}


@functools.cache
def code_version(root: Path = PROJECT_ROOT) -> str:
    """A hash of every source file's path, size and modification time: any edit changes it.

    dbt's target/ and logs/ are not walked: each dbt invocation leaves a folder
    of compiled SQL there, thousands of files after a few runs.
    """
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for directory, subfolders, files in os.walk(root / folder):
            subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith("."))
            for name in sorted(files):
                path = Path(directory) / name
                if path.suffix in CODE_SUFFIXES and not name.startswith("."):  # not dbt's .user.yml
                    stat = path.stat()
                    digest.update(f"{path.relative_to(root).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def all_landing_files(landing: Path) -> list[Path]:
    return [path for feed in FEEDS for path in landing_files(landing, feed)]


def landing_state(landing: Path) -> dict[str, list[int]]:
    """Path under landing -> [size, mtime_ns] of every landing file; cheap, and never opens the warehouse.

    Keys are relative paths (orders/shopify/export.csv), so a file in a source
    folder maps back to itself, not to a namesake in the feed folder.
    """
    state: dict[str, list[int]] = {}
    for path in all_landing_files(landing):
        stat = path.stat()
        state[path.relative_to(landing).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return state


def inputs_fingerprint(landing: Path, config_file: Path, as_of: str | None) -> str:
    """The fingerprint of what a run over the `landing` folder and `config_file` as of `as_of` would plan from."""
    landed = landing_state(landing)
    config = config_file.read_bytes() if config_file.is_file() else b""
    state = {
        "landing": landed,
        "config": hashlib.sha256(config).hexdigest(),
        "as_of": as_of,
        "code": code_version(),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class UpToDatePlan:
    run_id: str
    published_at: str


def plan_already_made(warehouse: Path, fingerprint: str, engine: str = "duckdb",
                      wait_seconds: float = LOCK_WAIT_SECONDS) -> UpToDatePlan | None:
    """The published plan, when it was made from the inputs `fingerprint` describes; else None.

    On `engine` spark the plan is read from the Spark session's publish schema
    (its catalogue served, as the job on Spark needs it); the session started
    here is the one the job's steps use next, so the check costs a query, not a JVM.
    On DuckDB, a lock another process still holds after `wait_seconds` is raised.
    """
    if engine == "spark":
        from crossdock.spark import spark_session
        from crossdock.spark_warehouse import SparkWarehouse

        tables = SparkWarehouse(spark_session())
        published, tariffs_loaded = last_published(tables), last_loaded_at(tables)
    else:
        if not warehouse.exists():
            return None
        with connect(str(warehouse), read_only=True, wait_seconds=wait_seconds) as conn:
            published, tariffs_loaded = last_published(conn), last_loaded_at(conn)
    if published is None or published.inputs != fingerprint:
        return None
    # `crossdock tariff load` since (its time kept to the second: a load in the publish's own second counts as after)
    if tariffs_loaded is not None and tariffs_loaded >= published.published_at.replace(microsecond=0):
        return None
    return UpToDatePlan(published.run_id, f"{published.published_at:%Y-%m-%d %H:%M} UTC")
