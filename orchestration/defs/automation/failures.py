"""The run-failure sensor: every failed run lands in audit.run_failures with its steps, assets and errors."""

import datetime as dt

import dagster as dg

from crossdock.engine import WarehouseLike
from crossdock.run_failures import StepFailure, record_run_failure
from orchestration.lib.retries import WarehouseResource


def planned_assets_by_step(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """Step key -> the asset keys the run planned to materialize in that step."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    by_step: dict[str, list[str]] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.step_key and event.asset_key:
            by_step.setdefault(event.step_key, []).append(event.asset_key.to_user_string())
    return by_step


def user_error(error):
    """The user code's exception under Dagster's step-execution wrapper (the one an operator can act on)."""
    while error is not None and error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
        error = error.cause
    return error


def step_failures(instance: dg.DagsterInstance, run_id: str) -> list[StepFailure]:
    """Each failed step of the run, with the assets it was building and the user code's error."""
    assets = planned_assets_by_step(instance, run_id)
    steps = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        error = user_error(event.step_failure_data.error)
        steps.append(StepFailure(
            step_key=event.step_key,
            asset_keys=tuple(sorted(assets.get(event.step_key, []))),
            error_type=error.cls_name if error else None,
            error_message=error.message.strip() if error else None,
        ))
    return steps


def run_failure_message(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The message of the run's RUN_FAILURE event (why a run failed outside any step: a lost worker, bad config)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return records[-1].event_log_entry.dagster_event.message if records else None


def record_failed_run(instance: dg.DagsterInstance, run: dg.DagsterRun, warehouse: WarehouseLike) -> int:
    """Write a failed run's rows to audit.run_failures; returns the rows written.

    Shared by the sensor (runs launched by the daemon) and `crossdock run`,
    which records its own failed runs and the runs it finds killed, so a failure
    reaches the table even when no daemon is running. Recording twice replaces.
    """
    stats = instance.get_run_stats(run.run_id)
    ended = stats.end_time if stats and stats.end_time else dt.datetime.now(dt.timezone.utc).timestamp()
    failed_at = dt.datetime.fromtimestamp(ended, tz=dt.timezone.utc)
    return record_run_failure(
        warehouse, run.run_id, run.job_name, failed_at, step_failures(instance, run.run_id),
        run_failure_message(instance, run.run_id),
    )


@dg.run_failure_sensor(
    name="run_failures_to_audit",
    default_status=dg.DefaultSensorStatus.RUNNING,
    # every run of the instance: `crossdock run`'s runs execute in process and carry no code location, so the
    # sensor's default (runs of its own location) never saw them, a killed one that recover_killed_runs failed included
    monitor_all_code_locations=True,
    minimum_interval_seconds=30,
    description="Records every failed run in audit.run_failures: the job, each failed step with its assets, the "
    "error and the time. Re-execute a failed run from failure in the UI (Runs > the run > Re-execute > From failure).",
)
def run_failures_to_audit(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    run = context.dagster_run
    with warehouse.open() as tables:  # the warehouse's engine, DuckDB or Spark
        written = record_failed_run(context.instance, run, tables)
    context.log.info(f"recorded {written} failure row(s) of run {run.run_id} ({run.job_name})")
