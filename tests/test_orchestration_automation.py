"""The landing sensor asks for one run per batch of new files, with a stable key."""
from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.automation.schedules import daily_planning_schedule
from orchestration.defs.automation.sensors import SETTLE_SECONDS, landing_files_sensor
from orchestration.lib.executors import IN_PROCESS_UNLESS_ASKED
from orchestration.lib.resources import LandingFolder, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource


def settled(root: Path) -> None:
    """Every file under `root` as if written longer ago than the sensor waits for a file to stop changing."""
    for path in root.rglob("*"):
        if path.is_file() and time.time() - path.stat().st_mtime < SETTLE_SECONDS:
            old = path.stat().st_mtime - SETTLE_SECONDS - 1
            os.utime(path, (old, old))


def evaluate(landing: LandingFolder, cursor: str | None, config: MerchantConfigFile | None = None, settle: bool = True):
    if settle:
        settled(landing.root)
    config = config or MerchantConfigFile(path=str(landing.root / "no-such-crossdock.yaml"))
    context = dg.build_sensor_context(cursor=cursor, instance=dg.DagsterInstance.ephemeral(),
                                      resources={"landing": landing, "merchant_config": config})
    return landing_files_sensor(context), context.cursor


def test_new_files_start_one_run_and_the_same_files_do_not_start_another(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    result, cursor = evaluate(landing, None)
    assert isinstance(result, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-01.csv").write_text("order_id\n1\n")
    first, cursor = evaluate(landing, cursor)
    assert isinstance(first, dg.RunRequest) and first.run_key

    again, cursor = evaluate(landing, cursor)
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-02.csv").write_text("order_id\n2\n")
    second, _ = evaluate(landing, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key
    assert second.tags["crossdock/new_files"] == "1"


def test_a_file_still_being_written_waits_a_tick(tmp_path):
    """An operations engineer's half-written export was ingested within the minute: its cut line quarantined."""
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-01.csv").write_text("order_id\n1\n")
    waiting, cursor = evaluate(landing, None, settle=False)
    assert isinstance(waiting, dg.SkipReason)
    assert "waiting: orders/orders_2026-01.csv changed in the last 30 s" in waiting.skip_message
    assert cursor is None  # not taken yet
    request, cursor = evaluate(landing, cursor)  # unchanged for longer than the wait
    assert isinstance(request, dg.RunRequest)
    assert request.tags["crossdock/settle_seconds"] == "30"  # its ingest leaves a file still changing too


def test_a_file_still_being_written_does_not_hold_back_the_files_before_it(tmp_path):
    """A daemon test: a batch waited while any of its files was settling, so files landing under 30 s apart could
    hold back every run. The settled ones are planned; the one still changing stays new to the next tick."""
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-01.csv").write_text("order_id\n1\n")
    settled(tmp_path)
    (tmp_path / "orders" / "orders_2026-02.csv").write_text("order_id\n2\n")  # still being copied
    first, cursor = evaluate(landing, None, settle=False)
    assert isinstance(first, dg.RunRequest) and first.tags["crossdock/files_dated"] == "2026-01-31..2026-01-31"
    second, cursor = evaluate(landing, cursor)  # February has settled since
    assert isinstance(second, dg.RunRequest) and second.tags["crossdock/files_dated"] == "2026-02-28..2026-02-28"
    assert second.run_key != first.run_key
    assert isinstance(evaluate(landing, cursor)[0], dg.SkipReason)


def test_the_run_key_depends_only_on_the_files(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "carriers").mkdir()
    (tmp_path / "carriers" / "tracking_2026-01.jsonl").write_text("{}\n")
    a, _ = evaluate(landing, None)
    b, _ = evaluate(landing, None)
    assert a.run_key == b.run_key


def test_an_edited_merchant_config_asks_for_a_run_of_today(tmp_path):
    landing = LandingFolder(path=str(tmp_path / "landing"))
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    config = MerchantConfigFile(path=str(tmp_path / "crossdock.yaml"))
    skipped, cursor = evaluate(landing, None, config)
    assert isinstance(skipped, dg.SkipReason)

    (tmp_path / "crossdock.yaml").write_text("nodes: []\n")
    first, cursor = evaluate(landing, cursor, config)
    assert isinstance(first, dg.RunRequest) and first.tags["crossdock/new_files"] == "1"
    assert "crossdock/files_dated" not in first.tags  # no landing file asked for it
    again, cursor = evaluate(landing, cursor, config)
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "crossdock.yaml").write_text("nodes: []\nmarkets: []\n")  # edited: new size and time
    edited, _ = evaluate(landing, cursor, config)
    assert isinstance(edited, dg.RunRequest) and edited.run_key != first.run_key


def test_daily_schedule_targets_the_planning_job():
    assert daily_planning_schedule.cron_schedule == "0 6 * * *"
    assert daily_planning_schedule.job_name == "daily_planning"


def test_new_files_ask_for_one_run_labelled_with_their_days(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-01-15.csv").write_text("x\n")
    (tmp_path / "orders" / "orders_2025-12.csv").write_text("y\n")  # a late, older export
    request, _ = evaluate(landing, None)
    assert request.tags["crossdock/files_dated"] == "2025-12-31..2026-01-15"


def test_the_schedule_names_the_days_of_every_waiting_file(tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "inventory_2026-03-02.csv").write_text("x\n")
    request = tick(tmp_path).run_requests[0]
    assert request.tags["crossdock/files_dated"] == "2026-03-02..2026-03-02"
    assert len(request.tags["crossdock/inputs"]) == 16


def tick(landing: Path):
    """One evaluation of the daily schedule, in a context closed after it as the daemon closes its own.

    The context opens its instance from the persistent one's reference, and that makes the instance
    Dagster's current defs-state storage until the context is closed: left open, a later test of the
    same process that loads definitions met the storage of an instance since collected ("Attempted to
    resolve undefined DagsterInstance weakref", test_orchestration_declarative when it ran next).
    """
    with schedule_context(landing) as context:
        return daily_planning_schedule.evaluate_tick(context)


def schedule_context(landing: Path, instance: dg.DagsterInstance | None = None) -> dg.ScheduleEvaluationContext:
    return dg.build_schedule_context(instance=instance or persistent_instance(landing), resources={
        "landing": LandingFolder(path=str(landing)),
        "merchant_config": MerchantConfigFile(path=str(landing / "no-such-crossdock.yaml")),
        "warehouse": WarehouseResource(database=str(landing / "warehouse.duckdb")),
    })


def persistent_instance(folder: Path) -> dg.DagsterInstance:
    """A schedule context reads runs from a persistent instance (an ephemeral one has no reference)."""
    home = folder / "dagster_home"
    home.mkdir(exist_ok=True)
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def publish_plan_of(run_id: str, warehouse: Path, inputs: str | None) -> None:
    """As the publish step would: the run's plan in publish, with the fingerprint of its inputs."""
    from crossdock.publish import publish_plan

    with duckdb.connect(str(warehouse)) as conn:
        publish_plan(conn, run_id, None, tables=(), inputs=inputs)


def test_the_schedule_skips_when_the_published_plan_came_from_the_same_files_config_and_code(tmp_path):
    (tmp_path / "orders").mkdir()
    orders = tmp_path / "orders" / "orders_2026-03-02.csv"
    orders.write_text("x\n")
    first = tick(tmp_path).run_requests[0]
    publish_plan_of("run-one", tmp_path / "warehouse.duckdb", first.tags["crossdock/inputs"])
    skipped = tick(tmp_path)
    assert not skipped.run_requests and "run-one" in skipped.skip_message

    orders.write_text("x\ny\n")  # a new export of the day: plan again
    again = tick(tmp_path).run_requests[0]
    assert again.tags["crossdock/inputs"] != first.tags["crossdock/inputs"]


def test_a_plan_published_from_other_inputs_or_without_a_fingerprint_is_not_taken_for_the_same(tmp_path):
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    publish_plan_of("launched-from-the-ui", tmp_path / "warehouse.duckdb", None)
    assert tick(tmp_path).run_requests
    publish_plan_of("other-inputs", tmp_path / "warehouse.duckdb", "0123456789abcdef")
    assert tick(tmp_path).run_requests


def planning_run(instance: dg.DagsterInstance, tags: dict[str, str], fails: bool = False) -> str:
    """A finished run of a job named as the planning job, in `instance`'s history: what the schedule reads on Spark."""
    @dg.op
    def plan() -> None:
        if fails:
            raise RuntimeError("the run failed")

    @dg.job(name="daily_planning")
    def daily_planning():
        plan()

    return daily_planning.execute_in_process(instance=instance, tags=tags, raise_on_error=False).run_id


def test_on_spark_the_schedule_reads_the_last_planning_run_not_the_warehouse(tmp_path, monkeypatch):
    """No JVM in the daemon's tick: the latest successful planning run's inputs stand for the published plan's."""
    monkeypatch.setattr("crossdock.spark.spark_session", lambda: pytest.fail("the tick started a Spark session"))
    (tmp_path / "orders").mkdir()
    orders = tmp_path / "orders" / "orders_2026-03-02.csv"
    orders.write_text("x\n")
    instance = persistent_instance(tmp_path)

    def spark_tick():
        context = dg.build_schedule_context(instance=instance, resources={
            "landing": LandingFolder(path=str(tmp_path)),
            "merchant_config": MerchantConfigFile(path=str(tmp_path / "no-such-crossdock.yaml")),
            "warehouse": WarehouseResource(database=str(tmp_path / "unused.duckdb"), engine="spark"),
        })
        with context:
            return daily_planning_schedule.evaluate_tick(context)

    first = spark_tick().run_requests[0]
    inputs = first.tags["crossdock/inputs"]
    planned = planning_run(instance, {"crossdock/inputs": inputs})
    skipped = spark_tick()
    assert not skipped.run_requests and planned in skipped.skip_message

    planning_run(instance, {"crossdock/inputs": inputs}, fails=True)  # a failed run publishes nothing
    assert not spark_tick().run_requests
    planning_run(instance, {})  # launched from the UI: its inputs unknown, so the published plan's too
    assert spark_tick().run_requests
    planning_run(instance, {"crossdock/inputs": inputs})
    orders.write_text("x\ny\n")  # a new export of the day: plan again
    assert spark_tick().run_requests[0].tags["crossdock/inputs"] != inputs
    assert not (tmp_path / "unused.duckdb").exists()


def sensor_tick(landing: Path, instance: dg.DagsterInstance, cursor: str | None = None):
    settled(landing)
    context = dg.build_sensor_context(cursor=cursor, instance=instance, resources={
        "landing": LandingFolder(path=str(landing)),
        "merchant_config": MerchantConfigFile(path=str(landing / "no-such-crossdock.yaml"))})
    return landing_files_sensor(context), context.cursor


def test_the_sensor_tags_its_run_with_its_inputs_and_starts_none_over_inputs_already_planned(tmp_path):
    """An operations engineer's test: the sensor's plans had no fingerprint, so the schedule re-planned each morning
    after them, and a sensor turned on over a folder already planned ran again. It reads the run history, never the
    warehouse (a tick must not wait on a run's DuckDB lock)."""
    (tmp_path / "orders").mkdir()
    orders = tmp_path / "orders" / "orders_2026-03-02.csv"
    orders.write_text("x\n")
    instance = persistent_instance(tmp_path)
    request, _ = sensor_tick(tmp_path, instance)
    inputs = request.tags["crossdock/inputs"]
    assert inputs == tick(tmp_path).run_requests[0].tags["crossdock/inputs"]  # what the schedule would tag
    assert request.tags["crossdock/planning"] == "plan"

    planned = planning_run(instance, {"crossdock/inputs": inputs})  # as `crossdock run` or the sensor's run
    skipped, cursor = sensor_tick(tmp_path, instance)  # turned on with no cursor: every file is new to it
    assert isinstance(skipped, dg.SkipReason) and planned in skipped.skip_message
    orders.write_text("x\ny\n")  # a new export of the day
    again, _ = sensor_tick(tmp_path, instance, cursor)
    assert isinstance(again, dg.RunRequest) and again.tags["crossdock/inputs"] != inputs
    assert not (tmp_path / "warehouse.duckdb").exists()


def planning_run_going(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    """A run of a job named as the planning job, STARTED in `instance`'s history (its worker never seen)."""
    @dg.op
    def plan() -> None: ...

    @dg.job(name="daily_planning")
    def daily_planning():
        plan()

    return instance.create_run_for_job(daily_planning, status=dg.DagsterRunStatus.STARTED, tags=tags)


def test_neither_the_sensor_nor_the_schedule_starts_a_run_over_inputs_a_planning_run_has_underway(tmp_path):
    """The schedule at 06:00 and the sensor's tick after it meet the same files: one run plans them."""
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    settled(tmp_path)  # the file's time is in the fingerprint: the sensor's tick would move it
    instance = persistent_instance(tmp_path)
    inputs = tick(tmp_path).run_requests[0].tags["crossdock/inputs"]
    going = planning_run_going(instance, {"crossdock/inputs": inputs})
    skipped, _ = sensor_tick(tmp_path, instance)
    assert isinstance(skipped, dg.SkipReason) and going.run_id in skipped.skip_message
    with schedule_context(tmp_path, instance) as context:
        result = daily_planning_schedule.evaluate_tick(context)
    assert not result.run_requests and going.run_id in result.skip_message
    instance.report_run_failed(going)
    assert isinstance(sensor_tick(tmp_path, instance)[0], dg.RunRequest)  # a failed run planned nothing


def test_batches_landing_while_a_planning_run_is_going_wait_for_one_run_after_it(tmp_path):
    """A review's case: five batches landing overnight queued five full planning runs behind each other, although
    the first to start ingests every file there is. The sensor asks for none while one is queued or going, keeps the
    files new, and asks for one run once it has ended."""
    (tmp_path / "orders").mkdir()
    instance = persistent_instance(tmp_path)
    going = planning_run_going(instance, {"crossdock/inputs": "an earlier landing"})
    cursor = None
    for day in (1, 2, 3):
        (tmp_path / "orders" / f"orders_2026-03-0{day}.csv").write_text(f"x\n{day}\n")
        skipped, cursor = sensor_tick(tmp_path, instance, cursor)
        assert isinstance(skipped, dg.SkipReason) and going.run_id in skipped.skip_message
        assert cursor is None  # the files stay new to the sensor
    instance.report_run_failed(going)  # ended, however it ended
    request, cursor = sensor_tick(tmp_path, instance, cursor)
    assert isinstance(request, dg.RunRequest) and request.tags["crossdock/files_dated"] == "2026-03-01..2026-03-03"
    assert isinstance(sensor_tick(tmp_path, instance, cursor)[0], dg.SkipReason)


@pytest.mark.parametrize("config", [".dagster_home/dagster.yaml", "deploy/dagster-postgres.yaml", "deploy/helm/values.yaml"])
def test_the_instance_queues_planning_runs_one_at_a_time(config):
    """Every planning run carries the tag the instance limits to one run at a time (their steps stage into one
    plan_next schema): the sensor's and the schedule's runs never interleave."""
    import yaml

    from orchestration.defs.automation.jobs import PLANNING_TAG, planning_run_tags

    document = yaml.safe_load((Path(__file__).resolve().parents[1] / config).read_text())
    concurrency = (document.get("additionalInstanceConfig") or document)["concurrency"]
    assert {"key": PLANNING_TAG, "limit": 1} in concurrency["runs"]["tag_concurrency_limits"]
    assert PLANNING_TAG in planning_run_tags(dg.DagsterInstance.ephemeral(), [], Path("no-such-crossdock.yaml"))


def test_a_schedule_tick_meeting_a_locked_warehouse_plans_within_its_time(tmp_path, monkeypatch):
    """A platform engineer's test: with a run writing the warehouse, the tick waited on the lock for up to 300 s,
    Dagster gave up on it at 60 s, and the morning went unplanned. It waits a bounded time, then plans: the run
    history cannot stand in for the published plan (a review: it never sees a tariff loaded since)."""
    try:
        from test_orchestration_retries import hold_lock
    except ImportError:  # tests/ imported as a package
        from tests.test_orchestration_retries import hold_lock

    monkeypatch.setattr("orchestration.defs.automation.schedules.TICK_LOCK_WAIT_SECONDS", 1.0)
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    instance = persistent_instance(tmp_path)
    inputs = tick(tmp_path).run_requests[0].tags["crossdock/inputs"]
    planning_run(instance, {"crossdock/inputs": inputs})  # a plan of these inputs, said by the run history only
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    holder = hold_lock(str(tmp_path / "warehouse.duckdb"), seconds=60.0)
    try:
        started = time.monotonic()
        with schedule_context(tmp_path, instance) as context:
            result = daily_planning_schedule.evaluate_tick(context)
        assert time.monotonic() - started < 15
        assert result.run_requests and result.run_requests[0].tags["crossdock/inputs"] == inputs
    finally:
        holder.kill()
        holder.wait()


def test_an_older_plan_runs_table_gains_the_inputs_column_on_the_next_publish(tmp_path):
    from crossdock.publish import last_published

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema publish")
        conn.execute("create table publish.plan_runs (run_id varchar, as_of date, published_at timestamp, "
                     "tables integer, rows_by_table varchar)")
        conn.execute("insert into publish.plan_runs values ('old', null, '2026-01-01', 0, '{}')")
        assert last_published(conn).inputs is None
    publish_plan_of("new", tmp_path / "w.duckdb", "fedcba9876543210")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert last_published(conn).inputs == "fedcba9876543210"


def test_the_schedule_runs_every_market_of_the_config_in_one_run(tmp_path):
    """The forecast is partitioned by market: the schedule's run covers every market of crossdock.yaml, which it
    first makes the instance's partitions (a market added to the file is forecast on the next morning)."""
    from crossdock.merchant_config import load_config
    from demo.network import install_demo_config
    from orchestration.lib.market_partitions import MARKET_PARTITIONS_NAME, RANGE_END_TAG, RANGE_START_TAG

    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-03-02.csv").write_text("x\n")
    install_demo_config(tmp_path / "crossdock.yaml")
    markets = load_config(tmp_path / "crossdock.yaml").market_codes
    instance = persistent_instance(tmp_path)
    instance.add_dynamic_partitions(MARKET_PARTITIONS_NAME, ["XX"])  # a market since taken out of the file
    context = dg.build_schedule_context(instance=instance, resources={
        "landing": LandingFolder(path=str(tmp_path)),
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "warehouse": WarehouseResource(database=str(tmp_path / "warehouse.duckdb")),
    })
    with context:
        [request] = daily_planning_schedule.evaluate_tick(context).run_requests
    assert instance.get_dynamic_partitions(MARKET_PARTITIONS_NAME) == markets and len(markets) > 3
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (markets[0], markets[-1])


@pytest.mark.parametrize("engine, executor", [("duckdb", "in_process_unless_asked"), ("spark", "in_process")])
def test_every_run_executes_its_steps_in_one_process(tmp_path, monkeypatch, engine, executor):
    """Launched from the UI, the schedule or a sensor, a run executes its steps in its own process as `crossdock
    run` does: on Spark always (one session), on DuckDB unless the launchpad asks for a process per step."""
    from crossdock.settings import Settings
    from orchestration.definitions import build_definitions

    monkeypatch.setenv("CROSSDOCK_WAREHOUSE_ENGINE", engine)
    definitions = build_definitions(Settings.under(tmp_path))
    for job in ("daily_planning", "ingest_feeds"):
        assert definitions.resolve_job_def(job).executor_def.name == executor


@dg.op
def _step_pid() -> int:
    return os.getpid()


@dg.job(executor_def=IN_PROCESS_UNLESS_ASKED)
def two_steps() -> None:
    _step_pid.alias("first")()
    _step_pid.alias("second")()


def test_a_launched_run_executes_in_its_process_unless_the_launchpad_asks_for_a_process_per_step():
    """A run launched as the UI launches one (a reconstructable job on an instance) runs both steps in the run's
    process; the launchpad's `multiprocess` choice and its options stay valid run config, anything else is refused."""
    with dg.instance_for_test() as instance, dg.execute_job(dg.reconstructable(two_steps), instance=instance) as result:
        assert result.success
        assert {result.output_for_node(step) for step in ("first", "second")} == {os.getpid()}
    for choice in ({"multiprocess": {}}, {"multiprocess": {"max_concurrent": 2, "start_method": {"forkserver": {}}}},
                   {"in_process": {}}):
        dg.validate_run_config(two_steps, {"execution": {"config": choice}})
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(two_steps, {"execution": {"config": {"threads": {}}}})
