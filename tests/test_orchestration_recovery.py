"""Recovery without a human: a killed run is failed, its pool slot freed, and the next run proceeds.

A run killed with SIGKILL never writes its end: it stays STARTED and keeps
its slot of the one-slot "duckdb" pool, so every later warehouse step used
to wait for ever. orchestration/defs/automation/recovery.py finds such runs by their run
worker's pid (RUN_START's), marks them failed and frees their slots; the CLI
does it before each run, a sensor every 30 s under the daemon.

* the small tests run a two-step job in process, as `crossdock run` does, in
  a child process killed while its first step holds the slot;
* `test_kill_9_then_crossdock_run_again_succeeds` is the whole proof on a
  small demo merchant: `crossdock run`, kill -9 of its process group while
  it holds the slot, `crossdock run` again with no manual step. It prints the
  time from the kill to the second run's success.

Run as a script (`python tests/test_orchestration_recovery.py <seconds>`),
this file executes one run of the small job against $DAGSTER_HOME whose
first step holds the pool for <seconds>.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from crossdock.settings import PROJECT_ROOT, Settings
from demo.generate import generate
from demo.network import install_demo_config
from orchestration.lib.pool_wait import install as sleep_while_waiting_for_a_pool
from orchestration.defs.automation.recovery import HOST_TAG, fail_dead_runs, host_tags, process_alive, recover
from light_forecast import use_light_forecast

POOL = "duckdb"
TEMPLATE_CONFIG = PROJECT_ROOT / ".dagster_home" / "dagster.yaml"
HOLD_ENV = "CROSSDOCK_RECOVERY_HOLD_SECONDS"
EXECUTOR_ENV = "CROSSDOCK_RECOVERY_EXECUTOR"


@dg.asset(pool=POOL)
def holds_the_pool() -> None:
    time.sleep(float(os.environ.get(HOLD_ENV, "0")))


@dg.asset(pool=POOL, deps=[holds_the_pool])
def after_it() -> None:
    return None


def small_job() -> dg.JobDefinition:
    return dg.Definitions(
        assets=[holds_the_pool, after_it], jobs=[dg.define_asset_job("small", selection="*")]
    ).resolve_job_def("small")


def _execute_small_job() -> None:
    """One run of the small job on $DAGSTER_HOME: in process, as `crossdock run` runs daily_planning, or with
    the multiprocess executor (one process per step), as a run launched from the UI."""
    sleep_while_waiting_for_a_pool()
    with dg.DagsterInstance.get() as instance:
        if os.environ.get(EXECUTOR_ENV) == "multiprocess":
            result = dg.execute_job(dg.reconstructable(small_job), instance=instance, raise_on_error=False, tags=host_tags())
        else:
            result = small_job().execute_in_process(instance=instance, raise_on_error=False, tags=host_tags())
        print(json.dumps({"run_id": result.run_id, "success": result.success}), flush=True)


# --------------------------------------------------------------------------- harness


def _instance(home: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(TEMPLATE_CONFIG, home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def _start_small_run(home: Path, hold_seconds: float, executor: str = "in_process") -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), HOLD_ENV: str(hold_seconds), EXECUTOR_ENV: executor}
    return subprocess.Popen(
        [sys.executable, __file__], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, cwd=PROJECT_ROOT,
    )


def _wait_for_a_claimed_slot(
    instance: dg.DagsterInstance, process: subprocess.Popen, timeout: float, step_key: str | None = None
) -> str:
    """The run id holding the pool's slot, once a step of `process`'s run (`step_key`, when given) has claimed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-3000:]
        claimed = [
            slot for slot in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
            if step_key is None or slot.step_key == step_key
        ]
        if claimed:
            return claimed[0].run_id
        time.sleep(0.2)
    raise AssertionError(f"the run never claimed the pool's slot{f' for {step_key}' if step_key else ''}")


def _kill_9(process: subprocess.Popen) -> float:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return time.monotonic()


def _killed_small_run(home: Path) -> tuple[dg.DagsterInstance, str]:
    instance = _instance(home)
    process = _start_small_run(home, hold_seconds=120)
    run_id = _wait_for_a_claimed_slot(instance, process, timeout=120)
    _kill_9(process)
    return instance, run_id


def _claimed_run_ids(instance: dg.DagsterInstance) -> set[str]:
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots}


# --------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_a_killed_run_is_marked_failed_and_its_slot_freed_then_the_next_run_proceeds(tmp_path):
    instance, killed = _killed_small_run(tmp_path / "dagster_home")
    # the state of the issue: the dead run is STARTED and keeps the slot
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED
    assert _claimed_run_ids(instance) == {killed}

    recovered = recover(instance)

    assert [(r.run_id, r.action) for r in recovered] == [(killed, "marked failed")]
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    assert _claimed_run_ids(instance) == set()
    [failure] = instance.all_logs(killed, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert "is gone without ending the run" in failure.message
    assert recover(instance) == []  # nothing left to do: checking again changes nothing

    started = time.monotonic()
    rerun = _start_small_run(tmp_path / "dagster_home", hold_seconds=0)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["success"]
    print(f"\nrerun after recovery succeeded in {time.monotonic() - started:.1f} s")


def test_under_the_daemon_the_recovery_sensor_does_the_same_and_is_on_by_default(tmp_path):
    from orchestration.definitions import build_definitions
    from orchestration.defs.automation.recovery import recover_killed_runs

    sensor = build_definitions(Settings.under(tmp_path)).get_sensor_def("recover_killed_runs")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    instance, killed = _killed_small_run(tmp_path / "dagster_home")
    skipped = recover_killed_runs(dg.build_sensor_context(instance=instance))
    assert f"marked failed: run {killed} (small)" in skipped.skip_message
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    assert _claimed_run_ids(instance) == set()
    assert recover_killed_runs(dg.build_sensor_context(instance=instance)).skip_message.startswith("no killed run")


def test_a_live_run_and_another_hosts_run_are_left_alone(tmp_path):
    home = tmp_path / "dagster_home"
    instance = _instance(home)
    process = _start_small_run(home, hold_seconds=120)
    try:
        live = _wait_for_a_claimed_slot(instance, process, timeout=120)
        assert fail_dead_runs(instance) == []
        assert instance.get_run_by_id(live).status == dg.DagsterRunStatus.STARTED
        assert _claimed_run_ids(instance) == {live}
    finally:
        _kill_9(process)
    # the same dead run, said to run on another machine: its pid means nothing here
    run = instance.get_run_by_id(live)
    instance.add_run_tags(live, {HOST_TAG: "another-host"})
    assert fail_dead_runs(instance) == []
    assert instance.get_run_by_id(live).status == dg.DagsterRunStatus.STARTED
    instance.add_run_tags(live, {HOST_TAG: host_tags()[HOST_TAG]})
    assert [r.run_id for r in fail_dead_runs(instance)] == [run.run_id]


def test_a_reused_pid_does_not_pass_for_the_dead_worker():
    me = os.getpid()
    assert process_alive(me)
    assert process_alive(me, not_started_after=time.time())
    # a process that started after the run did is not the run's worker
    assert not process_alive(me, not_started_after=time.time() - 3600 * 24 * 365)
    assert not process_alive(2**22 + 12345)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_a_pending_step(instance: dg.DagsterInstance, run_id: str, process: subprocess.Popen, timeout: float) -> None:
    """Until a step of a run other than `run_id` waits for the pool's slot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-3000:]
        if instance.event_log_storage.get_concurrency_info(POOL).pending_run_ids - {run_id}:
            return
        time.sleep(0.2)
    raise AssertionError("no step of the second run waited for the pool")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads a process's CPU time from /proc")
@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_step_waiting_for_the_pool_sleeps_instead_of_spinning(tmp_path, executor):
    """While another run holds the slot, the waiting run's process uses next to no CPU, then proceeds."""
    home = tmp_path / "dagster_home"
    instance = _instance(home)
    holder = _start_small_run(home, hold_seconds=30)
    waiter = None
    try:
        holder_run = _wait_for_a_claimed_slot(instance, holder, timeout=120)
        waiter = _start_small_run(home, hold_seconds=0, executor=executor)
        _wait_for_a_pending_step(instance, holder_run, waiter, timeout=120)
        time.sleep(1.0)  # past the first claim's bookkeeping
        before, started = _cpu_seconds(waiter.pid), time.monotonic()
        time.sleep(3.0)  # spinning would use ~3 CPU s, sleeping a few hundredths
        used, elapsed = _cpu_seconds(waiter.pid) - before, time.monotonic() - started
        print(f"\nwaiting on the pool: {used:.2f} s of CPU in {elapsed:.1f} s")
        assert waiter.poll() is None and holder.poll() is None  # it really was still waiting
        assert used < 0.2 * elapsed  # spinning would use a whole core: ~elapsed seconds
    finally:
        holder.kill()
        if waiter is not None:
            waiter.kill()


# --------------------------------------------------------------------------- the whole proof


def _crossdock(settings: Settings, *args: str, **popen) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")},
        "CROSSDOCK_WAREHOUSE": str(settings.warehouse),
        "CROSSDOCK_LANDING": str(settings.landing),
        "CROSSDOCK_EXPORTS": str(settings.exports),
        "CROSSDOCK_MODELS": str(settings.models),
        "CROSSDOCK_CONFIG": str(settings.config),
        "DAGSTER_HOME": str(settings.dagster_home),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=env, cwd=PROJECT_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **popen,
    )


@pytest.mark.e2e
def test_kill_9_then_crossdock_run_again_succeeds(tmp_path):
    settings = Settings.under(tmp_path)
    # the smallest demo merchant: the proof is the kill and the rerun, not the data (the dbt step, which the
    # kill lands in, takes as long at 0.03 as at 0.1: it is parse and ~200 nodes, not rows); generated in
    # this process, as `crossdock generate` would: the commands under test are the two `crossdock run`s
    generate(settings.landing, scale=0.03, seed=11, quiet=True)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)
    instance = _instance(settings.dagster_home)

    first = _crossdock(settings, "run")
    # the dbt step holds the slot for tens of seconds: a kill 2 s into it lands inside a warehouse writer
    # (the ingest steps now take well under 2 s each, so a kill timed from the first claim could fall between steps)
    killed = _wait_for_a_claimed_slot(instance, first, timeout=600, step_key="crossdock_dbt_models")
    time.sleep(2.0)
    killed_at = _kill_9(first)
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED
    assert killed in _claimed_run_ids(instance)

    second = _crossdock(settings, "run")
    out, err = second.communicate(timeout=1800)
    recovered_in = time.monotonic() - killed_at
    assert second.returncode == 0, (out[-3000:], err[-3000:])
    print(f"\nkill -9 -> rerun succeeded in {recovered_in:.0f} s, no manual step")

    assert f"run {killed} (daily_planning) was left STARTED by a dead process" in err
    [check] = [line for line in out.splitlines() if line.startswith("recovery: 1 run(s)")]
    print(check)
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    assert _claimed_run_ids(instance) == set()
    [rerun] = [r for r in instance.get_runs() if r.run_id != killed]
    assert rerun.status == dg.DagsterRunStatus.SUCCESS and f"run {rerun.run_id}: success" in out
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        recorded = conn.execute("select step_key, error_message from audit.run_failures where run_id = ?", [killed]).fetchall()
    assert [step for step, _ in recorded] == ["(run)"] and "is gone without ending the run" in recorded[0][1]


if __name__ == "__main__":
    _execute_small_job()
