"""Steps retry with exponential backoff on transient errors (a DuckDB lock held elsewhere), and only on those."""
from __future__ import annotations

import subprocess
import sys

import dagster as dg
import duckdb
from orchestration.retries import backoff_seconds, is_transient, retry_if_transient


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


def hold_lock(path: str, seconds: float) -> subprocess.Popen:
    """Another process that holds the warehouse's write lock for `seconds`, like a shell left open on it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({path!r}); print('held', flush=True); time.sleep({seconds})"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def run_writer(path: str, error: Exception | None = None):
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
            retry_if_transient(context, exc, base_seconds=1.0)

    result = dg.materialize([writer], raise_on_error=False)
    return result, attempts


def test_a_step_blocked_by_a_lock_retries_with_backoff_and_succeeds(tmp_path):
    path = str(tmp_path / "w.duckdb")
    holder = hold_lock(path, seconds=2.0)
    try:
        result, attempts = run_writer(path)
    finally:
        holder.wait()
    assert result.success
    assert attempts[0] == 0 and len(attempts) >= 2  # failed on the lock, then retried (1 s, 2 s, ...)
    with duckdb.connect(path, read_only=True) as conn:
        assert conn.execute("select x from t").fetchall() == [(1,)]


def test_a_real_failure_is_not_retried(tmp_path):
    result, attempts = run_writer(str(tmp_path / "w.duckdb"), error=ValueError("quality gate failed"))
    assert not result.success
    assert attempts == [0]


def test_retries_stop_after_the_limit(tmp_path):
    lock = duckdb.IOException("IO Error: Could not set lock on file: Conflicting lock is held")
    result, attempts = run_writer(str(tmp_path / "w.duckdb"), error=lock)
    assert not result.success
    assert attempts == [0, 1, 2, 3]  # the first try and MAX_RETRIES = 3 retries (1 + 2 + 4 s of backoff)
