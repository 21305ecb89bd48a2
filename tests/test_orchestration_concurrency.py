"""Safe concurrency: overlapping runs share the "duckdb" pool instead of fighting over the file lock.

DuckDB lets one process at a time open a database file for writing. Every
warehouse writer declares `pool="duckdb"` and the instance config
(.dagster_home/dagster.yaml) gives each pool one slot, so a run that starts while
another one writes (a sensor run during a backfill) waits for the slot.

The test is self-contained and fast: two small jobs stand in for the backfill
and the sensor run. Each run is its own process, as a launched run is, using
the default multiprocess executor (one process per step) against ONE
persistent instance in a temp DAGSTER_HOME; Dagster claims pool slots in that
instance's storage, which every process shares. The pooled test runs twice: on
the local default (SQLite files, .dagster_home/dagster.yaml) and on PostgreSQL
(deploy/dagster-postgres.yaml, a shared deployment's config; tests/postgres_server.py
provides the server), as the slot claims are different SQL on each.

* `backfill`: `stock_snapshot` (DuckDBResource) holds its write transaction
  until the other run demonstrably contends for the warehouse, then
  `stock_summary` rebuilds a summary from it.
* `sensor`: `arrivals` (DuckDBResource) and `arrival_lanes` (a plain
  `duckdb.connect`, which is how dbt-duckdb opens the file from its subprocess:
  no retry), two independent steps.

The holder waits for contention instead of sleeping a guessed time, so the
overlap is certain: without a pool limit it waits until both sensor steps are
about to open the file; with the pool it waits until the sensor run has a step
pending on the pool. Either way it releases one grace period later.

Without a pool limit, the plain connect fails on the lock (the sensor run fails)
and DuckDBResource's connect backoff hides the lock only by retrying (its wait
is measured). With the pool both runs succeed, the warehouse connections never
overlap, no step waits on the file lock and every table is complete.

Run as a script (`python tests/test_orchestration_concurrency.py <job> [asset ...]`),
this file executes one run against $DAGSTER_HOME and prints its id and status.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from postgres_server import PostgresDatabase, assert_dagster_storage_in, postgres_database, postgres_server  # noqa: F401

pytestmark = pytest.mark.slow

POOL = "duckdb"
WAREHOUSE_ENV = "CROSSDOCK_CONCURRENCY_WAREHOUSE"
SIGNALS_ENV = "CROSSDOCK_CONCURRENCY_SIGNALS"
TEMPLATE_CONFIG = Path(__file__).resolve().parents[1] / ".dagster_home" / "dagster.yaml"
POSTGRES_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "dagster-postgres.yaml"

STOCK_ROWS, SKUS, ARRIVAL_ROWS, LANES = 1000, 10, 500, 5
GRACE = 1.0  # the holder keeps the lock this long after it sees contention
HOLD_LIMIT = 40.0  # never reached in a passing run: the holder reports "timeout" instead of a reason
RUN_TIMEOUT = 90.0


# --------------------------------------------------------------------------- the jobs' assets


def _signals() -> Path:
    return Path(os.environ[SIGNALS_ENV])


def _record(name: str, **timings: float | str) -> None:
    (_signals() / f"{name}.json").write_text(json.dumps(timings))


def _announce(name: str) -> float:
    """Mark that step `name` is about to open the warehouse; returns the time."""
    asked = time.time()
    (_signals() / f"{name}.connecting").write_text(str(asked))
    return asked


def _wait_for_contention(context: dg.AssetExecutionContext) -> str:
    """Hold on until the sensor run contends for the warehouse; says how it did."""
    deadline = time.time() + HOLD_LIMIT
    while time.time() < deadline:
        if len(list(_signals().glob("sensor.*.connecting"))) == 2:
            reason = "file lock"  # both sensor steps are opening the file while we hold it
            break
        info = context.instance.event_log_storage.get_concurrency_info(POOL)
        if info.pending_run_ids - {context.run_id}:
            reason = "pool"  # a step of the other run waits for the pool's slot
            break
        time.sleep(0.05)
    else:
        return "timeout"
    time.sleep(GRACE)
    return reason


@dg.asset(pool=POOL)
def stock_snapshot(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    asked = _announce("backfill.stock_snapshot")
    with warehouse.get_connection() as conn:
        connected = time.time()
        conn.execute("begin transaction")
        conn.execute("create or replace table stock_snapshot (id integer, sku varchar, units integer)")
        conn.execute(
            f"insert into stock_snapshot select i, 'SKU' || (i % {SKUS}), i % 7 + 1 from range(1, {STOCK_ROWS + 1}) t(i)"
        )
        (_signals() / "holding").write_text(str(connected))
        reason = _wait_for_contention(context)
        conn.execute("commit")
    released = time.time()  # the connection is closed: the file lock is free
    _record("backfill.stock_snapshot", asked=asked, connected=connected, released=released, reason=reason)
    return dg.MaterializeResult(metadata={"released_because": reason})


@dg.asset(pool=POOL, deps=[stock_snapshot])
def stock_summary() -> None:
    asked = _announce("backfill.stock_summary")
    with duckdb.connect(os.environ[WAREHOUSE_ENV]) as conn:  # as dbt-duckdb does: no retry
        connected = time.time()
        conn.execute(
            "create or replace table stock_summary as "
            "select sku, count(*) as lines, sum(units) as units from stock_snapshot group by sku"
        )
    released = time.time()
    _record("backfill.stock_summary", asked=asked, connected=connected, released=released)


@dg.asset(pool=POOL)
def arrivals(warehouse: DuckDBResource) -> None:
    asked = _announce("sensor.arrivals")
    with warehouse.get_connection() as conn:
        connected = time.time()
        conn.execute("begin transaction")
        conn.execute("create or replace table arrivals (id integer, sku varchar, units integer)")
        conn.execute(
            f"insert into arrivals select i, 'SKU' || (i % {SKUS}), 10 from range(1, {ARRIVAL_ROWS + 1}) t(i)"
        )
        time.sleep(0.3)
        conn.execute("commit")
    released = time.time()
    _record("sensor.arrivals", asked=asked, connected=connected, released=released)


@dg.asset(pool=POOL)
def arrival_lanes() -> None:
    asked = _announce("sensor.arrival_lanes")
    with duckdb.connect(os.environ[WAREHOUSE_ENV]) as conn:  # as dbt-duckdb does: no retry
        connected = time.time()
        conn.execute(
            f"create or replace table arrival_lanes as select 'LANE' || i as lane, i as days from range({LANES}) t(i)"
        )
        time.sleep(0.3)
    released = time.time()
    _record("sensor.arrival_lanes", asked=asked, connected=connected, released=released)


DEFS = dg.Definitions(
    assets=[stock_snapshot, stock_summary, arrivals, arrival_lanes],
    jobs=[
        dg.define_asset_job("backfill", selection=[stock_snapshot, stock_summary]),
        dg.define_asset_job("sensor", selection=[arrivals, arrival_lanes]),
    ],
    resources={"warehouse": DuckDBResource(database=dg.EnvVar(WAREHOUSE_ENV))},
    # the default executor of a launched run, with room for both sensor steps at once even on one CPU
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)


def backfill_job() -> dg.JobDefinition:
    return DEFS.resolve_job_def("backfill")


def sensor_job() -> dg.JobDefinition:
    return DEFS.resolve_job_def("sensor")


def _execute(job_name: str, assets: list[str]) -> None:
    """One run of `job_name` (optionally only `assets`) on the instance of $DAGSTER_HOME."""
    target = {"backfill": backfill_job, "sensor": sensor_job}[job_name]
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(target),
            instance=instance,
            asset_selection=[dg.AssetKey(a) for a in assets] or None,
            raise_on_error=False,
        )
        print(json.dumps({"run_id": result.run_id, "success": result.success}))


# --------------------------------------------------------------------------- the harness


@dataclass(frozen=True)
class Storage:
    """Where the instance keeps runs, events and pool slots: its config file, and the test database if any."""

    name: str
    config: Path
    database: PostgresDatabase | None = None

    def check(self, instance: dg.DagsterInstance, home: Path) -> None:
        """Fail when the instance is not on this storage (a PostgreSQL config silently ending in SQLite files)."""
        if self.database is not None:
            assert_dagster_storage_in(self.database, instance, home)
        else:
            assert type(instance.run_storage).__name__ == "SqliteRunStorage"


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Storage:
    """The pooled instance on the local default (SQLite) and on PostgreSQL, a shared deployment's storage."""
    if request.param == "sqlite":
        return Storage("sqlite", TEMPLATE_CONFIG)
    database = request.getfixturevalue("postgres_database")
    for name, value in database.dagster_env().items():  # read by this process's instance and the runs' processes
        monkeypatch.setenv(name, value)
    return Storage("postgres", POSTGRES_CONFIG, database)


def _dagster_home(root: Path, config: Path | None) -> Path:
    """A DAGSTER_HOME with a copy of `config`; None: no pool limit (and the default SQLite storage)."""
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(config.read_text() if config else "telemetry:\n  enabled: false\n")
    return home


def _start(job_name: str, env: dict[str, str], *assets: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, job_name, *assets],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _overlapping_runs(root: Path, config: Path | None, backfill_assets: tuple[str, ...] = ()):
    """Start the backfill, then the sensor run while the backfill holds the warehouse."""
    home = _dagster_home(root, config)
    signals = root / "signals"
    signals.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        WAREHOUSE_ENV: str(root / "warehouse.duckdb"),
        SIGNALS_ENV: str(signals),
    }
    started = time.time()
    backfill = _start("backfill", env, *backfill_assets)
    deadline = time.time() + RUN_TIMEOUT
    while not (signals / "holding").exists():
        assert backfill.poll() is None, backfill.communicate()[1][-3000:]
        assert time.time() < deadline, "the backfill never took the warehouse"
        time.sleep(0.05)
    sensor = _start("sensor", env)
    runs = {"backfill": _finish(backfill), "sensor": _finish(sensor)}
    timings = {p.stem: json.loads(p.read_text()) for p in signals.glob("*.json")}
    instance = dg.DagsterInstance.from_config(str(home))
    return instance, home, runs, timings, time.time() - started


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return {e.step_key: e.dagster_event.step_failure_data.error.to_string() for e in events}


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return conn.execute(sql).fetchone()


def test_the_production_pool_is_the_one_configured_with_one_slot(tmp_path, storage):
    from orchestration.lib.resources import WAREHOUSE_POOL

    assert WAREHOUSE_POOL == POOL
    # a copy of the config: an instance creates its SQLite storage beside its dagster.yaml
    home = _dagster_home(tmp_path, storage.config)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage.check(instance, home)
        assert instance.global_op_concurrency_default_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits


def test_without_a_pool_limit_overlapping_writers_hit_the_duckdb_lock(tmp_path):
    # only the first backfill step: the point is what the sensor run meets while it holds the file
    instance, _, runs, timings, elapsed = _overlapping_runs(tmp_path, config=None, backfill_assets=("stock_snapshot",))
    print(f"\nwithout pool: {elapsed:.1f}s; timings {json.dumps(timings)}")

    assert timings["backfill.stock_snapshot"]["reason"] == "file lock"
    assert runs["backfill"]["success"]
    # dbt-style plain connect: fails at once on DuckDB's file lock, and with it the run
    assert not runs["sensor"]["success"]
    failures = _step_failures(instance, runs["sensor"]["run_id"])
    assert set(failures) == {"arrival_lanes"}
    assert "Could not set lock on file" in failures["arrival_lanes"]
    # DuckDBResource retries its connect with backoff: it got through only after the holder let go
    waited = timings["sensor.arrivals"]["connected"] - timings["sensor.arrivals"]["asked"]
    assert timings["sensor.arrivals"]["connected"] >= timings["backfill.stock_snapshot"]["released"]
    assert waited >= GRACE
    print(f"DuckDBResource's backoff hid a {waited:.1f}s wait on the file lock")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        tables = {t for (t,) in conn.execute("select table_name from information_schema.tables").fetchall()}
    assert "arrival_lanes" not in tables  # the warehouse is left incomplete


def test_shared_pool_queues_overlapping_runs_and_both_finish(tmp_path, storage):
    instance, home, runs, timings, elapsed = _overlapping_runs(tmp_path, storage.config)
    print(f"\nwith pool on {storage.name}: {elapsed:.1f}s; timings {json.dumps(timings)}")
    storage.check(instance, home)  # the runs' own processes read the same dagster.yaml and environment

    # the sensor run really overlapped the backfill: it queued on the pool while the backfill wrote
    assert timings["backfill.stock_snapshot"]["reason"] == "pool"
    assert runs["backfill"]["success"] and runs["sensor"]["success"]
    for run in runs.values():
        assert instance.get_run_by_id(run["run_id"]).status == dg.DagsterRunStatus.SUCCESS  # recorded where we read
        assert _step_failures(instance, run["run_id"]) == {}
    blocked = [
        e.message
        for e in instance.all_logs(runs["sensor"]["run_id"], of_type=dg.DagsterEventType.ENGINE_EVENT)
        if e.message and f"blocked by limit for pool {POOL}" in e.message
    ]
    assert blocked

    # one writer at a time: each step opened the warehouse only after the previous one had closed it,
    # so no two connections overlapped and none had to wait on (or retry against) the file lock
    windows = sorted((t["asked"], t["released"], name) for name, t in timings.items())
    assert len(windows) == 4 and windows[0][2] == "backfill.stock_snapshot"
    for (_, closed, first), (asked, _, second) in zip(windows, windows[1:]):
        assert closed <= asked, f"{second} opened the warehouse before {first} had closed it"
    # the sensor steps only started once the backfill's first step had let go of the slot
    for name in ("sensor.arrivals", "sensor.arrival_lanes"):
        assert timings[name]["asked"] >= timings["backfill.stock_snapshot"]["released"]

    # the slots are all free again
    info = instance.event_log_storage.get_concurrency_info(POOL)
    assert info.slot_count == 1 and info.claimed_slots == [] and info.pending_steps == []

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert _count(conn, "select count(*), count(distinct id) from stock_snapshot") == (STOCK_ROWS, STOCK_ROWS)
        assert _count(conn, "select count(*), sum(lines), sum(units) from stock_summary") == (
            SKUS,
            STOCK_ROWS,
            _count(conn, "select sum(units) from stock_snapshot")[0],
        )
        assert _count(conn, "select count(*), count(distinct id), sum(units) from arrivals") == (
            ARRIVAL_ROWS,
            ARRIVAL_ROWS,
            10 * ARRIVAL_ROWS,
        )
        assert _count(conn, "select count(*), count(distinct lane) from arrival_lanes") == (LANES, LANES)
    print(f"pool on {storage.name}: both runs succeeded in {elapsed:.1f}s")


if __name__ == "__main__":
    _execute(sys.argv[1], sys.argv[2:])
