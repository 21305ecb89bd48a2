"""Opening the warehouse waits out another process's lock (sleeping); the dbt step retries with backoff on
transient errors (a DuckDB lock held elsewhere), and only on those."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from crossdock.warehouse import connect, lock_waits
from orchestration.lib.retries import WarehouseResource, backoff_seconds, is_transient, retry_if_transient


def test_a_duckdb_lock_error_is_transient_even_when_wrapped_and_a_failed_check_is_not():
    lock = duckdb.IOException('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held in python (PID 1)')
    try:
        try:
            raise lock
        except duckdb.IOException as inner:
            raise RuntimeError("dbt build failed") from inner
    except RuntimeError as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(ValueError("dbt test not_null_inventory_plan_sku failed: 3 rows"))
    assert [backoff_seconds(n, 30) for n in range(3)] == [30, 60, 120]


def hold_lock(path: str, seconds: float, until_created: str | None = None, then: float = 0.0) -> subprocess.Popen:
    """Another process that holds the warehouse's write lock for `seconds`, like a shell left open on it.

    With `until_created`, it lets go `then` seconds after that file exists (at most `seconds` in all): a test
    releases the lock right after the step met it, however long the step took to start.
    """
    script = (
        f"import duckdb, os, time; c = duckdb.connect({path!r}); print('held', flush=True); end = time.monotonic() + {seconds}\n"
        f"while time.monotonic() < end and not ({until_created!r} and os.path.exists({until_created!r})): time.sleep(0.02)\n"
        f"time.sleep(min({then}, max(0.0, end - time.monotonic())))"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def run_writer(path: str, error: Exception | None = None, base_seconds: float = 1.0, failed_flag: Path | None = None):
    attempts: list[int] = []

    @dg.asset
    def writer(context) -> None:  # no annotation: this module's annotations are strings
        attempts.append(context.retry_number)
        try:
            if error is not None:
                raise error
            with duckdb.connect(path) as conn:
                conn.execute("create or replace table t as select 1 as x")
        except Exception as exc:
            if failed_flag is not None:
                failed_flag.touch()
            retry_if_transient(context, exc, base_seconds=base_seconds)

    result = dg.materialize([writer], raise_on_error=False)
    return result, attempts


def test_a_step_blocked_by_a_lock_retries_with_backoff_and_succeeds(tmp_path):
    path = str(tmp_path / "w.duckdb")
    failed = tmp_path / "first_attempt_failed"
    holder = hold_lock(path, seconds=30.0, until_created=str(failed))  # let go once the step has met it
    try:
        result, attempts = run_writer(path, base_seconds=0.25, failed_flag=failed)
    finally:
        holder.wait()
    assert result.success
    assert attempts[0] == 0 and len(attempts) >= 2  # failed on the lock, then retried (0.25 s, 0.5 s, ...)
    with duckdb.connect(path, read_only=True) as conn:
        assert conn.execute("select x from t").fetchall() == [(1,)]


def test_a_real_failure_is_not_retried(tmp_path):
    result, attempts = run_writer(str(tmp_path / "w.duckdb"), error=ValueError("quality gate failed"))
    assert not result.success
    assert attempts == [0]


def test_retries_stop_after_the_limit(tmp_path):
    lock = duckdb.IOException("IO Error: Could not set lock on file: Conflicting lock is held")
    # the count of retries is the point here, not their waits (backoff_seconds is checked above): 0.1 s doubling
    result, attempts = run_writer(str(tmp_path / "w.duckdb"), error=lock, base_seconds=0.1)
    assert not result.success
    assert attempts == [0, 1, 2, 3]  # the first try and MAX_RETRIES = 3 retries (0.1 + 0.2 + 0.4 s of backoff)


def test_opening_the_warehouse_sleeps_while_another_process_holds_it_then_succeeds(tmp_path):
    """The lock outlasts the first attempt (made at once) but not half the first wait: one sleep, then success."""
    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, seconds=0.5 * next(lock_waits(60)))
    try:
        started, cpu = time.monotonic(), time.process_time()
        with connect(path, wait_seconds=60) as conn:
            waited = time.monotonic() - started
            conn.execute("create table t as select 1 as x")
        spent = time.process_time() - cpu
    finally:
        holder.wait()
    assert waited >= 1.0  # it did meet the lock
    assert spent < 0.5 * waited  # and slept through it
    with duckdb.connect(path, read_only=True) as conn:  # read-only openers wait the same way
        assert conn.execute("select x from t").fetchall() == [(1,)]


def test_opening_the_warehouse_gives_up_after_its_wait_and_other_errors_are_not_retried(tmp_path):
    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, seconds=30.0)
    give_up_after = next(lock_waits(60))  # one wait, then the last attempt: the giving up is the point, not how long
    try:
        started = time.monotonic()
        with pytest.raises(duckdb.IOException, match="Could not set lock on file"):
            connect(path, read_only=True, wait_seconds=give_up_after)
        assert give_up_after <= time.monotonic() - started < give_up_after + 12.0
    finally:
        holder.kill()
    started = time.monotonic()
    with pytest.raises(duckdb.Error):
        connect(str(tmp_path / "no_such_folder" / "w.duckdb"), wait_seconds=60)
    assert time.monotonic() - started < 1.0
    assert list(lock_waits(300))[:6] == [1, 2, 4, 8, 16, 30] and sum(lock_waits(300)) == 300


def test_every_python_writer_opens_the_warehouse_through_the_waiting_resource(tmp_path):
    """The Definitions' warehouse resource waits out a lock: an asset using it succeeds past a lock it met."""
    from crossdock.settings import Settings
    from orchestration.definitions import build_definitions

    assert isinstance(build_definitions(Settings.under(tmp_path)).resources["warehouse"], WarehouseResource)

    opening = tmp_path / "opening"
    waited: list[float] = []

    @dg.asset
    def writer(warehouse: WarehouseResource) -> None:
        opening.touch()  # the lock is held until 0.5 s after this: the first attempt meets it
        started = time.monotonic()
        with warehouse.get_connection() as conn:
            waited.append(time.monotonic() - started)
            conn.execute("create or replace table t as select 1 as x")

    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, seconds=30.0, until_created=str(opening), then=0.5)
    try:
        result = dg.materialize([writer], resources={"warehouse": WarehouseResource(database=path, lock_wait_seconds=60)})
    finally:
        holder.wait()
    assert result.success
    assert waited[0] >= next(lock_waits(60))  # it met the lock and slept its first wait
