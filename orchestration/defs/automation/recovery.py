"""Recover from a run whose process was killed (kill -9, OOM, a lost terminal) without an operator.

A run worker killed outright never writes its RUN_FAILURE: the run stays
STARTED and keeps its slot of the "duckdb" pool, and every later warehouse
step waits on that slot for ever. Dagster's run monitoring cannot see it:
`crossdock run` executes in process (no run launcher to ask), and the default
run launcher does not support worker health checks; the daemon's
`free_slots_after_run_end_seconds` frees only the slots of runs that *ended*.

So crossdock checks the run worker itself: every run event carries the pid of
the process that wrote it, and the RUN_START event is written by the run
worker. A STARTED or STARTING run whose worker process is gone (or whose pid
now belongs to a process started after the run) is marked failed with
Dagster's own `report_run_failed`, and its pool slots are freed with
`free_concurrency_slots_for_run` (what the UI's "free slots" button calls).

Only runs of this machine are checked: a pid means nothing elsewhere. A run
is this machine's when it carries this host's `crossdock/host` tag (set by
`crossdock run`), or when the run storage is SQLite (a local file, so every
run worker shares this machine).
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason
from dagster._core.storage.runs.sqlite import SqliteRunStorage

HOST_TAG = "crossdock/host"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]

_log = logging.getLogger("crossdock.recovery")


@dataclass(frozen=True)
class RecoveredRun:
    run_id: str
    job_name: str
    pid: int | None
    action: str  # "marked failed" or "freed slots"


def host_tags() -> dict[str, str]:
    """The tag that says which machine runs a run, so a pid check never judges another host's run."""
    return {HOST_TAG: socket.gethostname()}


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc; None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def process_alive(pid: int, not_started_after: float | None = None) -> bool:
    """True when `pid` runs and, if `not_started_after` is given, is not a newer process that reused the pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    if not_started_after is None:
        return True
    started = _process_start_time(pid)
    return started is None or started <= not_started_after + 2.0  # /proc's clock ticks are coarse


def run_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, time) of the process that started the run, from its RUN_START event; None before it started."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    if not records or records[0].event_log_entry.dagster_event.pid is None:
        return None
    entry = records[0].event_log_entry
    return entry.dagster_event.pid, entry.timestamp


def runs_on_this_host(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    tagged = run.tags.get(HOST_TAG)
    if tagged is not None:
        return tagged == socket.gethostname()
    return isinstance(instance.run_storage, SqliteRunStorage)


def _fail_dead_run(instance: dg.DagsterInstance, run: dg.DagsterRun, pid: int) -> None:
    message = (
        f"The run worker (pid {pid}) is gone without ending the run (killed, or its machine restarted): "
        "marked failed by crossdock's recovery check and its pool slots freed. Re-execute it from failure "
        "to finish it."
    )
    instance.report_run_failed(run, message, JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def fail_dead_runs(instance: dg.DagsterInstance, log: logging.Logger | None = None) -> list[RecoveredRun]:
    """Mark failed every unfinished run of this machine whose worker process is gone, and free its slots."""
    log = log or _log
    recovered = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        worker = run_worker(instance, run.run_id)
        if worker is None or not runs_on_this_host(instance, run):
            continue
        pid, started = worker
        if process_alive(pid, not_started_after=started):
            continue
        _fail_dead_run(instance, run, pid)
        log.warning(f"run {run.run_id} ({run.job_name}) was left STARTED by a dead process (pid {pid}): "
                    "marked it failed and freed its pool slots")
        recovered.append(RecoveredRun(run.run_id, run.job_name, pid, "marked failed"))
    return recovered


def free_slots_of_ended_runs(instance: dg.DagsterInstance, log: logging.Logger | None = None) -> list[RecoveredRun]:
    """Free the pool slots still held by runs that have ended (the daemon does it too, but only when it runs)."""
    log = log or _log
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    run_ids = list(storage.get_concurrency_run_ids())
    if not run_ids:
        return []
    freed = []
    for run in instance.get_runs(filters=dg.RunsFilter(run_ids=run_ids)):
        if run.is_finished:
            storage.free_concurrency_slots_for_run(run.run_id)
            log.warning(f"run {run.run_id} ({run.job_name}) ended {run.status.value} but held pool slots: freed them")
            freed.append(RecoveredRun(run.run_id, run.job_name, None, "freed slots"))
    return freed


def recover(instance: dg.DagsterInstance, log: logging.Logger | None = None) -> list[RecoveredRun]:
    """Both checks, in the order that frees the most: dead runs first, then ended runs' leftovers."""
    started = time.perf_counter()
    recovered = fail_dead_runs(instance, log) + free_slots_of_ended_runs(instance, log)
    (log or _log).debug(f"recovery check took {time.perf_counter() - started:.2f} s")
    return recovered


@dg.sensor(
    name="recover_killed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Marks failed every run whose worker process was killed (it would stay STARTED and hold the duckdb "
    "pool slot for ever) and frees the pool slots of ended runs. `crossdock run` does the same check before it starts.",
)
def recover_killed_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Under the daemon (`make ui`) the same recovery as the CLI's start-up check, every 30 s."""
    recovered = recover(context.instance, context.log)
    if not recovered:
        return dg.SkipReason("no killed run and no slot left behind")
    return dg.SkipReason("; ".join(f"{r.action}: run {r.run_id} ({r.job_name})" for r in recovered))
