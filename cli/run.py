"""The `crossdock run` command's body: launching the daily_planning job in this process, recording its
failures, and preparing DAGSTER_HOME.

It lives apart from cli/main.py, which parses the command line and dispatches, so each module does one
job: this one is the only part of the command line that starts Dagster (imported when a job runs, so the
other commands start without it).
"""
from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from crossdock.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    import dagster as dg  # imported when a job runs: the other commands start without it

log = logging.getLogger("crossdock")


def prepare_dagster_home(settings: Settings) -> None:
    """Use the project's instance config (telemetry off, one warehouse writer) in any DAGSTER_HOME."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    template = Path(__file__).resolve().parents[1] / ".dagster_home" / "dagster.yaml"
    if not config.exists() and template.exists() and template != config:
        config.write_text(template.read_text())
    elif template.exists() and template != config:
        _warn_if_recovery_settings_differ(config, template)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


# what each section of the instance config gives a run: said when a DAGSTER_HOME copied from an older template lacks it
INSTANCE_SETTINGS = {
    ("concurrency", "pools"): "one warehouse writer at a time (the pool slot)",
    ("concurrency", "runs"): "one planning run at a time (two at once interleave the plan_next schema)",
    ("run_monitoring",): "the recovery of killed runs",
}


def _warn_if_recovery_settings_differ(config: Path, template: Path) -> None:
    """Say so when an instance config copied from an older template lacks the current pool, planning-run and
    recovery settings, naming what each missing one gives.

    The copy is never overwritten (it may hold the merchant's storage settings),
    so without this an old DAGSTER_HOME would silently keep an old behaviour.
    """
    import yaml

    def section(path: Path, keys: tuple[str, ...]) -> object:
        value = yaml.safe_load(path.read_text()) or {}
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    differing = [(".".join(keys), what) for keys, what in INSTANCE_SETTINGS.items()
                 if section(config, keys) != section(template, keys)]
    if differing:
        log.warning(f"{config}: its settings differ from {template} in "
                    + "; ".join(f"{name} ({what})" for name, what in differing)
                    + ": copy those sections over (the file is never overwritten: it may hold your storage settings)")


def plan_the_cycle_before(settings: Settings) -> bool:
    """The demo's previous S&OP cycle, planned as of its day, before the current one: the worked cycle of
    docs/sop.md in one command. The demo's last order day is the generator's default end."""
    from demo.generate import DEFAULT_END
    from demo.overrides import cycle_days

    before = cycle_days(DEFAULT_END)[0]
    print(f"planning the S&OP cycle before, as of {before} (--last-cycle) ...", flush=True)
    return run_planning_job(settings, before.isoformat())


def storage_unreachable(error: BaseException) -> str | None:
    """What to fix when the Dagster instance's storage cannot be reached (a PostgreSQL server down, a wrong
    password or host): one line instead of a traceback of retries; None for any other error."""
    names = {type(e).__name__ for e in (error, error.__cause__, error.__context__) if e is not None}
    if not names & {"DagsterPostgresException", "OperationalError"}:
        return None
    home = os.environ.get("DAGSTER_HOME", "(DAGSTER_HOME not set)")
    cause = error.__cause__ or error.__context__ or error
    detail = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    return (f"cannot reach the Dagster instance's storage: {detail}. It is configured in {home}/dagster.yaml; "
            "for PostgreSQL (deploy/dagster-postgres.yaml) check the CROSSDOCK_DAGSTER_PG_* variables it reads and "
            "that the server is up (docs/deploy.md). Nothing was run.")


def make_the_plan(settings: Settings, as_of: str | None = None, force: bool = False, last_cycle: bool = False) -> bool:
    """The runs of `crossdock run` and `crossdock demo`: with `last_cycle`, the demo's S&OP cycle before first
    (plan_the_cycle_before), then the plan (as of `as_of`, or the last order day); whether all succeeded."""
    if last_cycle and not plan_the_cycle_before(settings):
        return False
    return run_planning_job(settings, as_of, force)


def run_planning_job(settings: Settings, as_of: str | None = None, force: bool = False) -> bool:
    """Run daily_planning in this process on the persistent instance, so the UI shows the run.

    When the published plan came from a successful run over the same landed
    files, config, planning date and code (orchestration/lib/run_inputs.py), the
    job is not run again unless `force`: it would rebuild the same tables.

    `as_of` (YYYY-MM-DD) plans as of that past day: dbt builds with var('as_of')
    and the forecast and plans start from it. Before it starts, runs left
    behind by a killed process are failed and their pool slots freed (else this
    run would wait on the slot for ever); a failed run, this one or a killed
    one, is written to audit.run_failures here, as no daemon may be running.
    """
    from crossdock.spark import warehouse_engine
    from orchestration.lib.run_inputs import INPUTS_TAG, inputs_fingerprint, plan_already_made

    fingerprint = inputs_fingerprint(settings.landing, settings.config, as_of)
    made = None if force else plan_already_made(settings.warehouse, fingerprint, warehouse_engine())
    if made:  # decided before Dagster is imported: seconds, not the minutes of a run
        print(f"nothing new: the published plan is from run {made.run_id} ({made.published_at}) over the same "
              "landed files, crossdock.yaml, planning date and code; not running again "
              "(`crossdock run --force` rebuilds it anyway)", flush=True)
        return True

    import dagster as dg

    from cli.console import LOGGER_RUN_CONFIG, describe_steps, error_message, run_console, run_log_path
    from crossdock.spark import spark_home
    from orchestration.defs.dbt.assets import as_of_run_config, crossdock_dbt_models
    from orchestration.defs.automation.jobs import FILES_DATED_TAG, planning_run_tags, unfinished_planning_run
    from orchestration.lib.run_inputs import all_landing_files
    from orchestration.definitions import build_definitions
    from orchestration.defs.automation.recovery import host_tags, recover

    try:
        instance = dg.DagsterInstance.get()
        checked = time.perf_counter()
        recovered = recover(instance, log)
    except Exception as error:  # noqa: BLE001 - only a storage that cannot be reached is said in one line
        if (unreachable := storage_unreachable(error)) is None:
            raise
        print(unreachable, file=sys.stderr, flush=True)
        return False
    if recovered:
        print(f"recovery: {len(recovered)} run(s) left behind by a killed process set right in "
              f"{time.perf_counter() - checked:.2f} s", flush=True)
    engine = warehouse_engine()  # a run on Spark records its failures there, and never makes the DuckDB file
    record_failures(settings, instance, [r.run_id for r in recovered if r.action == "marked failed"], engine)
    if in_flight := unfinished_planning_run(instance):  # the daemon's queue does not see a run in this process
        status = in_flight.status.value
        queued = (" A queued run starts only under the Dagster daemon: with none running, terminate it in the UI "
                  f"(Runs) or `dagster run delete {in_flight.run_id}`.") if status in ("QUEUED", "NOT_STARTED") else ""
        print(f"run {in_flight.run_id} (daily_planning, {status}) is planning now, started by the landing sensor, the schedule "
              "or the UI: one plan at a time, or the two runs' steps would interleave on plan_next. Wait for it to end "
              f"(`dagster run list`, or Runs in the UI), then `crossdock run` again.{queued}", file=sys.stderr, flush=True)
        return False
    job = build_definitions(settings).resolve_job_def("daily_planning")
    landed = all_landing_files(settings.landing)
    tags = {**planning_run_tags(instance, landed, settings.config), **host_tags(), INPUTS_TAG: fingerprint}
    where = f"warehouse {settings.warehouse}" if engine == "duckdb" else f"warehouse on Spark, {spark_home()}"
    print(
        f"running the daily_planning job on {len(landed)} landed files"
        f"{' dated ' + tags[FILES_DATED_TAG] if FILES_DATED_TAG in tags else ''} ({where})"
        f"{f', planning as of {as_of}' if as_of else ''} ...",
        flush=True,
    )
    run_id = str(uuid.uuid4())  # known before the run starts, so the log file can carry it
    log_path = run_log_path(settings.exports / "logs", run_id)
    print(f"full log of the run (every Dagster event, dbt's output): {log_path}", flush=True)
    steps = describe_steps(job, labels={crossdock_dbt_models.op.name: ("dbt build", "models+tests")})
    try:
        with run_console(job, log_path, steps) as (job_with_console, _):
            result = job_with_console.execute_in_process(
                instance=instance, raise_on_error=False, tags=tags, run_id=run_id,
                run_config={**as_of_run_config(as_of), **LOGGER_RUN_CONFIG},
            )
    except BaseException:
        print(f"the run stopped with an error; its log so far: {log_path}", file=sys.stderr, flush=True)
        raise
    failed_checks, said = failed_checks_said(result.get_asset_check_evaluations())
    for line in said:
        print(line, file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            print(f"\nSTEP FAILED: {event.step_key}: {error_message(event.event_specific_data.error)}", file=sys.stderr)
    if not result.success:
        record_failures(settings, instance, [result.run_id], engine)
    print(f"run {result.run_id}: {'success' if result.success and not failed_checks else 'FAILED'}", flush=True)
    print(f"full log: {log_path}", flush=True)
    return result.success and not failed_checks


def failed_checks_said(evaluations: Iterable[dg.AssetCheckEvaluation]) -> tuple[list[dg.AssetCheckEvaluation], list[str]]:
    """The failed gates of a run (ERROR: they stopped something, the run failed) and what the console says of them
    and of the failed warning checks that carry advice (WARN: they stop nothing, e.g. the model lost its backtest and
    the forecast is a baseline's), each with the check's own `what to do`."""
    import dagster as dg

    from orchestration.lib.gate_checks import WHAT_TO_DO

    failed, said = [], []
    for evaluation in evaluations:
        if evaluation.passed:
            continue
        gate = evaluation.severity == dg.AssetCheckSeverity.ERROR
        if not gate and WHAT_TO_DO not in evaluation.metadata:
            continue  # a warning without advice is in the log and the UI
        failed += [evaluation] if gate else []
        heading = "QUALITY GATE FAILED" if gate else "CHECK FAILED (it stops nothing; what the plan did instead is below)"
        said += [f"\n{heading}: {evaluation.asset_key.to_user_string()} / {evaluation.check_name}", f"  {evaluation.description}"]
        if WHAT_TO_DO in evaluation.metadata:  # the check's own advice (orchestration/lib/gate_checks.py)
            said.append(f"  what to do: {evaluation.metadata[WHAT_TO_DO].value}")
    return failed, said


def record_failures(settings: Settings, instance: dg.DagsterInstance, run_ids: list[str], engine: str = "duckdb") -> None:
    """Write failed runs to audit.run_failures of the warehouse on `engine`, as the daemon's sensor would (it may
    not be running).

    A failure to record is reported, never raised: the run's own outcome is what the command must say.
    """
    if not run_ids:
        return
    from orchestration.defs.automation.failures import record_failed_run
    from orchestration.lib.retries import WarehouseResource

    try:
        with WarehouseResource(database=str(settings.warehouse), engine=engine).open() as tables:
            for run_id in run_ids:
                written = record_failed_run(instance, instance.get_run_by_id(run_id), tables)
                print(f"run {run_id}: {written} row(s) written to audit.run_failures", flush=True)
    except Exception as error:  # noqa: BLE001 - the run's result matters more than its audit row
        print(f"could not record failed run(s) {', '.join(run_ids)} in audit.run_failures: {error}", file=sys.stderr)
