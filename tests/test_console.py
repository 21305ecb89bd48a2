"""The run console: one line per step on the terminal, every Dagster event and everything printed in the log file.

The job here is a small one run in process with the console's logger, as
`crossdock run` runs daily_planning; the command itself is in test_cli.py.
"""

import io
import os
import re
import subprocess
import time

import dagster as dg
import pytest

from crossdock import progress
from cli.console import (
    KEEP_LOGS,
    LOGGER_RUN_CONFIG,
    RunConsole,
    describe_steps,
    error_message,
    plain_error,
    run_console,
    run_log_path,
    seconds,
)


@dg.asset
def fine() -> int:
    os.write(1, b"dbt says hello on stdout\n")  # what dbt and the compute-log mirror write to file descriptor 1
    subprocess.run(["echo", "a line from a child process"], check=True)
    return 1


@dg.asset(deps=[fine])
def shaky(context: dg.AssetExecutionContext) -> int:
    context.log.warning("rejected orders/orders_2024-01-01.csv: no order_id column")
    context.log.debug("a detail nobody needs on screen")
    context.log.warning("Logging an observation instead of a check result.\n\nThis test was not selected.")
    return 2


@dg.asset(deps=[shaky])
def broken() -> None:
    raise ValueError("the orders feed is broken")


@dg.asset(deps=[broken])
def after() -> None:
    pass


@dg.asset
def refused() -> None:
    raise dg.Failure(description="as_of 2030-01-01 is after the last order day 2026-11-03")


MANY = [f"table_{n}" for n in range(12)]


@dg.multi_asset(specs=[dg.AssetSpec(name) for name in MANY])
def many_tables():
    for n, name in enumerate(MANY):
        if n == 6:
            time.sleep(0.4)  # long enough for rich's 10-per-second refresh to draw the bar half full
        yield dg.MaterializeResult(asset_key=name)


@dg.asset
def looping() -> None:
    for _ in progress.track(range(3), "backtest windows"):
        time.sleep(0.25)


def job_of(*assets) -> dg.JobDefinition:
    return dg.Definitions(assets=list(assets), jobs=[dg.define_asset_job("planning")]).resolve_job_def("planning")


def run(job: dg.JobDefinition, log_path, stream: "io.StringIO | None" = None, bars: "bool | None" = False):
    """Run `job` with the console on `stream` (the process's stdout when None), as the CLI does."""
    with run_console(job, log_path, describe_steps(job), bars=bars, stream=stream) as (with_console, _):
        return with_console.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=LOGGER_RUN_CONFIG
        )


def test_each_step_is_one_line_with_its_time_and_the_debug_log_goes_to_the_file(tmp_path, capfd):
    log_path = tmp_path / "run.log"
    result = run(job_of(fine, shaky, broken, after), log_path)
    assert not result.success
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert re.fullmatch(r"✓ fine +\d+\.\d s", lines[0]), lines
    assert lines[1] == "! shaky: rejected orders/orders_2024-01-01.csv: no order_id column"
    assert lines[2] == "! shaky: Logging an observation instead of a check result. (more in the log)"
    assert re.fullmatch(r"✓ shaky +\d+\.\d s", lines[3]), lines
    assert re.fullmatch(r"✗ broken +\d+\.\d s  FAILED: ValueError: the orders feed is broken", lines[4]), lines
    assert re.fullmatch(r"- after +not run: a step it needs failed", lines[5]), lines
    assert len(lines) == 6 and err == ""  # nothing else: no DEBUG event, no traceback, nothing printed

    logged = log_path.read_text()
    assert "DEBUG" in logged and "STEP_START" in logged and "a detail nobody needs on screen" in logged
    assert "This test was not selected." in logged
    assert "Stack Trace" in logged and "ValueError: the orders feed is broken" in logged
    assert "dbt says hello on stdout" in logged and "a line from a child process" in logged


SALT = "customer ids are pseudonymised with the public demo salt: anyone with the warehouse can re-identify them"


@dg.asset
def ingest_a(context: dg.AssetExecutionContext) -> None:
    context.log.warning(SALT)


@dg.asset
def ingest_b(context: dg.AssetExecutionContext) -> None:
    context.log.warning(SALT)


def test_a_warning_every_step_gives_is_shown_once_and_names_the_others_at_the_end(tmp_path, capfd):
    run(job_of(ingest_a, ingest_b), tmp_path / "run.log")
    lines = capfd.readouterr().out.splitlines()
    assert sum(SALT in line for line in lines) == 1
    first_step = next(line for line in lines if SALT in line).split(":")[0].removeprefix("! ")
    other_step = ({"ingest_a", "ingest_b"} - {first_step}).pop()
    assert lines[-1] == f"! also from {other_step}: {SALT[:77]}..."
    assert len(lines) == 4  # two steps, the warning once, the note naming the other step


@dg.asset
def scored() -> int:
    return 1


@dg.asset_check(asset=scored, blocking=False)
def scored_loses() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="the model lost")


def test_a_check_step_whose_warning_check_failed_gets_no_green_tick(tmp_path, capfd):
    """Say it once as a warning, then the step's line marked as such: not a check that warns followed by a tick."""
    job = dg.Definitions(assets=[scored], asset_checks=[scored_loses], jobs=[dg.define_asset_job("planning")]
                         ).resolve_job_def("planning")
    assert run(job, tmp_path / "run.log").success
    lines = capfd.readouterr().out.splitlines()
    assert "! check warns: scored / scored_loses: the model lost" in lines
    assert re.fullmatch(r"! check scored loses +\d+\.\d s  \(a check warns: above\)", lines[-1]), lines
    assert not any(line.startswith("✓ check") for line in lines)


def test_a_failure_says_the_assets_own_words(tmp_path, capfd):
    run(job_of(refused), tmp_path / "run.log")
    [line] = capfd.readouterr().out.splitlines()
    assert line.endswith("FAILED: as_of 2030-01-01 is after the last order day 2026-11-03"), line
    assert "dagster" not in line and "Failure" not in line


def test_plain_error_unwraps_dagsters_error_and_keeps_one_line():
    from dagster._utils.error import SerializableErrorInfo  # the shape Dagster stores a step's error in

    cause = SerializableErrorInfo("KeyError: 'sku'\n", [], "KeyError")
    error = SerializableErrorInfo('Error occurred while executing op "x":\n', [], "DagsterExecutionStepExecutionError", cause)
    assert plain_error(error) == "KeyError: 'sku'"
    multi = SerializableErrorInfo("duckdb.IOException: could not open\nthe file is locked\n", [], "IOException")
    assert plain_error(multi) == "IOException: could not open (more in the log)"
    assert error_message(multi) == "IOException: could not open\nthe file is locked"
    dbt = SerializableErrorInfo(
        "dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n`dbt build`\n\nfailed with "
        "exit code `1`. Check the stdout in the Dagster compute logs.\n\nErrors parsed from dbt logs:\n\n"
        "Runtime Error in model int_planning_calendar (models/int_planning_calendar.sql)\n"
        "  Invalid Input Error: as_of 2030-01-01 is after the last order day 2026-11-03\n\nmodel b: bad\n",
        [], "DagsterDbtCliRuntimeError",
    )
    assert plain_error(dbt) == (
        "dbt: Runtime Error in model int_planning_calendar (models/int_planning_calendar.sql); Invalid Input Error: "
        "as_of 2030-01-01 is after the last order day 2026-11-03 (more in the log)"
    )
    assert error_message(dbt).startswith("DagsterDbtCliRuntimeError: The dbt CLI process") and "model b: bad" in error_message(dbt)


def test_in_a_pipe_only_whole_lines_are_written(tmp_path):
    stream = io.StringIO()  # not a terminal: no bars by default
    run(job_of(many_tables, looping), tmp_path / "run.log", stream, bars=None)
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert sorted(re.sub(r" +\d+\.\d s$", "", line) for line in text.splitlines()) == ["✓ looping", "✓ many tables"]


def test_on_a_terminal_a_step_of_many_assets_and_a_tracked_loop_show_bars(tmp_path):
    job = job_of(many_tables, looping)
    assert describe_steps(job)["many_tables"].total == 12 and describe_steps(job)["looping"].total is None
    stream = io.StringIO()
    run(job, tmp_path / "run.log", stream, bars=True)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())
    assert "6/12 assets+checks" in text  # the bar, half full while the step slept
    assert re.search(r"backtest windows .*[12]/3", text)  # the loop's own bar
    assert re.search(r"✓ many tables +\d+\.\d s", text) and re.search(r"✓ looping +\d+\.\d s", text)


def test_the_run_config_stays_valid_for_the_job_without_the_console():
    """Re-executing a CLI run from the UI reuses its run config on the job as the UI loads it."""
    plain = job_of(fine)
    assert dg.validate_run_config(plain, LOGGER_RUN_CONFIG)


def test_the_log_file_is_named_by_time_and_run_and_old_ones_are_pruned(tmp_path):
    import datetime as dt

    folder = tmp_path / "exports" / "logs"
    assert not folder.exists()
    for n in range(KEEP_LOGS + 5):
        (run_log_path(folder, f"{n:08d}-run", dt.datetime(2026, 1, 1, 0, 0, n % 60) + dt.timedelta(hours=n))).touch()
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == KEEP_LOGS
    assert kept[-1] == "run-20260103-060054-00000054.log"


def test_a_console_without_a_terminal_symbol_set_writes_ascii():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    console = RunConsole(stream, {}, bars=False)
    assert (console._ok, console._failed) == ("+", "x")


def test_seconds_reads_at_a_glance():
    assert seconds(12.44) == "12.4 s" and seconds(185) == "3 min 05 s"


def test_track_is_a_no_op_without_a_console_and_reports_to_one():
    assert list(progress.track(iter("abc"), "files")) == ["a", "b", "c"]

    class Sink:
        def __init__(self):
            self.calls = []

        def start(self, description, total):
            self.calls.append(("start", description, total))
            return "h"

        def advance(self, handle, steps=1):
            self.calls.append(("advance", handle))

        def stop(self, handle):
            self.calls.append(("stop", handle))

    sink = Sink()
    previous = progress.set_sink(sink)
    try:
        assert list(progress.track(["x", "y"], "files")) == ["x", "y"]
        with pytest.raises(KeyError):
            for _ in progress.track([1, 2, 3], "windows"):
                raise KeyError("stopped")
    finally:
        progress.set_sink(previous)
    assert sink.calls == [
        ("start", "files", 2), ("advance", "h"), ("advance", "h"), ("stop", "h"),
        ("start", "windows", 3), ("stop", "h"),
    ]


def test_a_multi_asset_named_after_its_first_table_is_labelled_by_it():
    @dg.multi_asset(name="publish__forecast", specs=[dg.AssetSpec(["publish", "forecast"]), dg.AssetSpec(["publish", "totals"])])
    def forecast_and_totals():
        yield dg.MaterializeResult(asset_key=["publish", "forecast"])
        yield dg.MaterializeResult(asset_key=["publish", "totals"])

    steps = describe_steps(dg.Definitions(assets=[forecast_and_totals, fine], jobs=[
        dg.define_asset_job("j", selection=dg.AssetSelection.all())]).resolve_job_def("j"))
    assert steps["publish__forecast"].label == "publish.forecast (+1)"
    assert steps["fine"].label == "fine"
