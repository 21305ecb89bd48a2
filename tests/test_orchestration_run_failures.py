"""A failed run lands in audit.run_failures with its failed step, asset and error, once however often it is recorded."""
from __future__ import annotations

import dagster as dg
import duckdb
from orchestration.lib.retries import WarehouseResource

from orchestration.defs.automation.failures import run_failures_to_audit


@dg.asset(key=["publish", "fine"])
def fine() -> None:
    return None


@dg.asset(key=["publish", "broken"], deps=[fine])
def broken() -> None:
    raise ValueError("feed orders_2026-10-31.csv: column unit_price is empty")


@dg.asset(key=["publish", "after_broken"], deps=[broken])
def after_broken() -> None:
    return None


def failed_run(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    job = dg.define_asset_job("nightly", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=[fine, broken, after_broken], jobs=[job])
    result = defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return instance, result


def evaluate(instance, result, database: str) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failures_to_audit",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources={"warehouse": WarehouseResource(database=database)},
    ).for_run_failure()
    run_failures_to_audit(context)


def test_a_failed_run_is_recorded_with_its_step_asset_and_error_once(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    instance, result = failed_run(tmp_path)
    evaluate(instance, result, database)
    evaluate(instance, result, database)  # a re-evaluated sensor must not duplicate rows
    with duckdb.connect(database, read_only=True) as conn:
        rows = conn.execute(
            "select run_id, job_name, step_key, asset_keys, error_type, error_message, failed_at is not null "
            "from audit.run_failures"
        ).fetchall()
    [(run_id, job, step, assets, error_type, message, has_time)] = rows
    assert run_id == result.run_id and job == "nightly"
    assert step == "publish__broken" and assets == "publish/broken"
    assert error_type == "ValueError" and "unit_price is empty" in message
    assert has_time


def test_the_failure_sensor_is_part_of_the_definitions_and_on_by_default(tmp_path):
    from crossdock.settings import Settings
    from orchestration.definitions import build_definitions

    settings = Settings.under(tmp_path)
    sensor = build_definitions(settings).get_sensor_def("run_failures_to_audit")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_crossdock_run_records_its_failed_run_itself_when_no_daemon_runs(tmp_path, capsys):
    """`crossdock run` executes in process: its failed run is written by the CLI, the sensor may never see it."""
    from cli.run import record_failures
    from crossdock.settings import Settings

    settings = Settings.under(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    instance, result = failed_run(tmp_path)
    record_failures(settings, instance, [result.run_id])
    record_failures(settings, instance, [result.run_id])  # a second record replaces the first
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        rows = conn.execute("select run_id, step_key, error_type from audit.run_failures").fetchall()
    assert rows == [(result.run_id, "publish__broken", "ValueError")]
    assert f"run {result.run_id}: 1 row(s) written to audit.run_failures" in capsys.readouterr().out


def test_the_sensor_under_a_code_location_records_a_failed_run_that_has_none(tmp_path):
    """A platform engineer's test: `crossdock run` executes in process, so its runs carry no code location, and a
    run-status sensor sees only runs of its own location by default: a killed `crossdock run` that the daemon's
    recover_killed_runs failed never reached audit.run_failures. The tick here runs as the daemon's does, under the
    code location `crossdock` (an origin built by hand: build_sensor_context cannot give one)."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    database = str(tmp_path / "warehouse.duckdb")
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(python_file=__file__), location_name="crossdock")

    def tick(cursor: str | None):
        return run_failures_to_audit.evaluate_tick(dg.SensorEvaluationContext(
            instance_ref=None, last_tick_completion_time=None, last_run_key=None, cursor=cursor, log_key=None,
            repository_name="__repository__", instance=instance, code_location_origin=origin,
            resources={"warehouse": WarehouseResource(database=database)}))

    started = tick(None)  # the first tick only sets the sensor's cursor
    job = dg.define_asset_job("nightly", selection=dg.AssetSelection.all())
    result = dg.Definitions(assets=[fine, broken, after_broken], jobs=[job]).resolve_job_def("nightly").execute_in_process(
        instance=instance, raise_on_error=False)
    assert result.dagster_run.remote_job_origin is None  # as `crossdock run`'s runs
    tick(started.cursor)
    with duckdb.connect(database, read_only=True) as conn:
        assert conn.execute("select run_id from audit.run_failures").fetchall() == [(result.run_id,)]
