"""What a person sees while `crossdock run` / `crossdock demo` runs the job, and the log file behind it.

Dagster's default console logger prints every event at DEBUG, and dbt and
the compute-log mirror print to stdout beside it: thousands of lines for
the demo, in which a warning or a failure drowned. Here the run gets:

- one line per step as it ends (`✓ dbt build   48.2 s`, `✗ … FAILED: why`),
  warnings from the assets in plain words, and on a terminal a live bar per
  running step (rich): dbt's models+tests counted from its Dagster events,
  loops in domain code through crossdock.progress;
- the full log, every Dagster event at every level plus whatever anything
  printed (dbt's own output included), in one file whose path the command
  prints.

The Dagster side is a logger on the job under the key "console" with the
default console logger's config fields, so the run config it needs
(`LOGGER_RUN_CONFIG`) stays valid for the job as the UI loads it: re-executing
a CLI run from the UI uses Dagster's own console logger there.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from crossdock import progress

LOGGER_KEY = "console"  # the key of Dagster's default console logger, which ours replaces in CLI runs
LOGGER_RUN_CONFIG = {"loggers": {LOGGER_KEY: {"config": {"log_level": "DEBUG"}}}}
BAR_MIN_TOTAL = 10  # a step with fewer assets and checks than this gets a spinner, not a bar
KEEP_LOGS = 50  # run logs kept in the log folder; older ones are removed when a run starts
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
ABANDONED = "Dependencies for step"  # how Dagster starts the error it logs for a step it will not run
# Dagster's wrappers around the error raised in an asset: the console names the error itself
WRAPPERS = ("DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError")
DBT_ERRORS = "Errors parsed from dbt logs:"  # where dagster-dbt's failure message lists dbt's errors


@dataclass(frozen=True)
class StepInfo:
    """How the console names a step and, for a step of many assets and checks, how many events make it whole."""

    label: str
    total: int | None = None
    unit: str = "assets+checks"


def describe_steps(job: dg.JobDefinition, labels: Mapping[str, tuple[str, str]] | None = None) -> dict[str, StepInfo]:
    """A readable name and expected event count for each step of `job` (its op names are its step keys).

    An asset step is named by the table it writes (publish.demand_forecast), a
    check step by its check ("check forecast quality gate"), a multi-asset by
    its op name ("ingest orders"), or by its first table when the op is named
    after it ("publish.demand_forecast (+1)"); `labels` maps an op name to (label, unit)
    where that is not telling enough (the dbt op: "dbt build", "models+tests").
    """
    labels = labels or {}
    steps: dict[str, StepInfo] = {}
    for assets_def in job.asset_layer.asset_graph.assets_defs:
        if not assets_def.is_executable:
            continue
        name = assets_def.node_def.name
        keys = [*assets_def.keys, *assets_def.check_keys]
        label, unit = labels.get(name, (name.replace("_", " "), "assets+checks"))
        named_after = [key for key in assets_def.keys if name == "__".join(key.path)]
        if name not in labels and len(keys) == 1 and isinstance(keys[0], dg.AssetCheckKey):
            label = f"check {keys[0].name.replace('_', ' ')}"
        elif name not in labels and named_after:  # an op named after its (first) asset: the table's name says more
            others = len(assets_def.keys) - 1
            label = ".".join(named_after[0].path) + (f" (+{others})" if others else "")
        steps[name] = StepInfo(label, len(keys) if len(keys) >= BAR_MIN_TOTAL else None, unit)
    return steps


def run_log_path(folder: Path, run_id: str, now: dt.datetime | None = None) -> Path:
    """`folder/run-<YYYYmmdd-HHMMSS>-<run id's first 8>.log`; makes the folder and prunes old logs (a run starts)."""
    folder.mkdir(parents=True, exist_ok=True)
    old = sorted(folder.glob("run-*.log"))
    for stale in old[: max(len(old) - (KEEP_LOGS - 1), 0)]:
        stale.unlink(missing_ok=True)
    return folder / f"run-{(now or dt.datetime.now()).strftime('%Y%m%d-%H%M%S')}-{run_id[:8]}.log"


def seconds(elapsed: float) -> str:
    """12.4 s under a minute, 3 min 05 s above: what a person reads at a glance."""
    if elapsed < 60:
        return f"{elapsed:.1f} s"
    minutes, rest = divmod(round(elapsed), 60)
    return f"{minutes} min {rest:02d} s"


def error_message(error: Any) -> str:
    """What went wrong, in full, without Dagster's wrapper, the exception's module path or the traceback.

    `error` is the SerializableErrorInfo of a step failure; the traceback stays in the log.
    """
    while error is not None and error.cls_name in WRAPPERS and error.cause:
        error = error.cause
    if error is None:
        return "(no error message)"
    text = (error.message or "").strip() or error.cls_name
    kind, sep, said = text.partition(": ")
    if sep and kind.endswith(error.cls_name) and "\n" not in kind:
        # dg.Failure(description=...): the description is the whole message; others keep their class name
        text = said if error.cls_name in ("Failure", "DagsterFailure") else f"{error.cls_name}: {said}"
    return text


def plain_error(error: Any) -> str:
    """`error_message` in one line: its first line, or for a dbt build the first error dbt reported."""
    text = error_message(error)
    if DBT_ERRORS in text:  # dagster-dbt's message starts with the command line; dbt's own errors follow
        blocks = [b for b in text.split(DBT_ERRORS, 1)[1].split("\n\n") if b.strip()]
        if blocks:
            said = "; ".join(line.strip() for line in blocks[0].splitlines() if line.strip())
            return f"dbt: {said}" + (" (more in the log)" if len(blocks) > 1 else "")
    return first_line(text)


def first_line(message: str) -> str:
    """A message's first line, saying so when the log holds more (a console line stays one line)."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return (lines[0] if lines else "") + (" (more in the log)" if len(lines) > 1 else "")


class RunConsole(progress.ProgressSink):
    """The console of one run: takes the Dagster log records of the run and writes the lines a person reads.

    With `bars` (default: when `stream` is a terminal) running steps and
    tracked loops show as live rich bars, and finished lines print above them;
    without, only whole lines are written (no carriage returns in a CI log).
    """

    def __init__(self, stream: IO[str], steps: Mapping[str, StepInfo] | None = None, bars: bool | None = None) -> None:
        self.stream = stream
        self.steps = dict(steps or {})
        self.bars = stream.isatty() and os.environ.get("TERM") != "dumb" if bars is None else bars
        self._width = min(max((len(s.label) for s in self.steps.values()), default=20), 44)
        self._started: dict[str, float] = {}
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, int] = {}
        self._loops: dict[object, tuple[int, int | None]] = {}
        self.failed_steps: list[str] = []
        self._warned: dict[str, list[str]] = {}  # warning line -> the other steps that gave it too
        self._checks_warned: set[str | None] = set()  # steps whose checks failed without stopping anything
        self._checks_failed: set[str | None] = set()  # of those, the steps with a check of severity ERROR
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "✓✗".encode(encoding)
            self._ok, self._failed = "✓", "✗"
        except (UnicodeEncodeError, LookupError):
            self._ok, self._failed = "+", "x"
        self._progress: Progress | None = None
        if self.bars:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                console=Console(file=stream, force_terminal=True, highlight=False),
                redirect_stdout=False,  # dbt and the compute-log mirror write to stdout: they belong in the log
                redirect_stderr=False,
                transient=True,
            )

    def __enter__(self) -> RunConsole:
        if self._progress is not None:
            self._progress.start()
        self._previous_sink = progress.set_sink(self)
        return self

    def __exit__(self, *exc: object) -> None:
        repeated = {message: steps for message, steps in self._warned.items() if steps}
        for message, steps in repeated.items():  # message: the warning's first line, as printed
            shown = message if len(message) <= 80 else message[:77] + "..."
            self.line(f"! also from {', '.join(dict.fromkeys(steps))}: {shown}", "yellow")
        progress.set_sink(self._previous_sink)
        if self._progress is not None:
            self._progress.stop()
        self.stream.flush()

    # -- lines -----------------------------------------------------------
    def line(self, text: str, style: str | None = None) -> None:
        """Write one whole line (above the bars, when there are bars)."""
        if self._progress is not None:
            self._progress.console.print(Text(text, style=style or ""), soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _label(self, step_key: str | None) -> str:
        if step_key is None:
            return "run"
        info = self.steps.get(step_key)
        return info.label if info else step_key.replace("_", " ")

    def _finished(self, step_key: str, created: float) -> str:
        self._stop_task(step_key)
        started = self._started.pop(step_key, created)
        return f"{self._label(step_key):<{self._width}}  {seconds(created - started):>10}"

    # -- Dagster records -------------------------------------------------
    def handle(self, record: logging.LogRecord) -> None:
        """Turn one Dagster log record into at most one console line (or a bar update)."""
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step_key = meta.get("step_key")
        if event is None:
            if record.levelno >= logging.WARNING:
                message = str(meta.get("orig_message", record.getMessage())).strip()
                if record.levelno >= logging.ERROR and message.startswith(ABANDONED) and step_key:
                    self.line(f"- {self._label(step_key):<{self._width}}  not run: a step it needs failed", "dim")
                elif first_line(message) in self._warned:  # e.g. the PII salt warning of every ingest step
                    self._warned[first_line(message)].append(self._label(step_key))
                else:
                    self._warned[first_line(message)] = []
                    self.line(f"! {self._label(step_key)}: {first_line(message)}", "yellow")
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self._started.setdefault(step_key, record.created)
            self._start_task(step_key)
        elif kind == dg.DagsterEventType.STEP_SUCCESS and step_key in self._checks_warned:
            # it ran, but a check of it failed without stopping anything: not a green tick under a warning
            verdict = "failed" if step_key in self._checks_failed else "warns"  # a warning is not called a failure
            self.line(f"! {self._finished(step_key, record.created)}  (a check {verdict}: above)", "yellow")
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self.line(f"{self._ok} {self._finished(step_key, record.created)}", "green")
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            message = plain_error(event.step_failure_data.error)
            self.failed_steps.append(step_key)
            self.line(f"{self._failed} {self._finished(step_key, record.created)}  FAILED: {message}", "bold red")
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.line(f"- {self._label(step_key):<{self._width}}  skipped", "dim")
        elif kind in (dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            self._advance_step(step_key)
            if kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                self._check(event.event_specific_data, step_key)
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None and not self.failed_steps:  # a run that failed outside its steps
                self.line(f"{self._failed} run FAILED: {plain_error(error)}", "bold red")

    def _check(self, evaluation: Any, step_key: str | None) -> None:
        if evaluation.passed:
            return
        self._checks_warned.add(step_key)
        where = f"{'.'.join(evaluation.asset_key.path)} / {evaluation.check_name}"
        said = f": {evaluation.description}" if getattr(evaluation, "description", None) else ""
        if evaluation.severity == dg.AssetCheckSeverity.ERROR:
            self._checks_failed.add(step_key)
            self.line(f"{self._failed} check FAILED: {where}{said}", "bold red")
        else:
            self.line(f"! check warns: {where}{said}", "yellow")

    # -- bars --------------------------------------------------------------
    def _start_task(self, step_key: str) -> None:
        if self._progress is None or step_key in self._tasks:
            return
        info = self.steps.get(step_key)
        total = info.total if info else None
        self._counts[step_key] = 0
        self._tasks[step_key] = self._progress.add_task(
            self._label(step_key), total=total, count=f"0/{total} {info.unit}" if total and info else ""
        )

    def _advance_step(self, step_key: str | None) -> None:
        if self._progress is None or step_key not in self._tasks:
            return
        info = self.steps.get(step_key)
        self._counts[step_key] += 1
        if info and info.total:
            done = min(self._counts[step_key], info.total)
            self._progress.update(self._tasks[step_key], completed=done, count=f"{done}/{info.total} {info.unit}")

    def _stop_task(self, step_key: str) -> None:
        task = self._tasks.pop(step_key, None)
        if task is not None and self._progress is not None:
            self._progress.remove_task(task)
            self._progress.refresh()  # else the line printed next shows above the finished step's last frame

    # -- crossdock.progress sink ------------------------------------------
    def start(self, description: str, total: int | None) -> object:
        if self._progress is None:
            return None
        task = self._progress.add_task(f"  {description}", total=total, count=f"0/{total}" if total else "0")
        self._loops[task] = (0, total)
        return task

    def advance(self, handle: object, steps: int = 1) -> None:
        if self._progress is None or handle not in self._loops:
            return
        done, total = self._loops[handle]
        done += steps
        self._loops[handle] = (done, total)
        self._progress.update(handle, completed=done, count=f"{done}/{total}" if total else str(done))

    def stop(self, handle: object) -> None:
        if self._progress is not None and self._loops.pop(handle, None) is not None:
            self._progress.remove_task(handle)


class _ConsoleHandler(logging.Handler):
    def __init__(self, console: RunConsole) -> None:
        super().__init__(logging.DEBUG)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.handle(record)
        except Exception:  # noqa: BLE001 - a console glitch must never fail the run
            self.handleError(record)


def console_logger(console: RunConsole, log_file: IO[str]) -> dg.LoggerDefinition:
    """The run's logger: every record to `log_file`, the lines a person reads to `console`."""

    @dg.logger(
        config_schema={
            "log_level": dg.Field(str, is_required=False, default_value="INFO", description="The log file's threshold."),
            "name": dg.Field(str, is_required=False, default_value="dagster"),
        },
        description="crossdock's run console: one line per step on the terminal, the full log to a file.",
    )
    def crossdock_console(init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger(f"crossdock.run.{init_context.logger_config['name']}", logging.DEBUG)
        to_file = logging.StreamHandler(log_file)
        to_file.setLevel(init_context.logger_config["log_level"].upper())
        to_file.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(to_file)
        logger.addHandler(_ConsoleHandler(console))
        return logger

    return crossdock_console


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[tuple[IO[str], IO[str]]]:
    """While the run lasts, send the process's stdout and stderr (file descriptors 1 and 2) to `log_path`.

    Yields (console, log): a stream to the real stdout for the console, and
    the log file open for appending. Dagster mirrors what a step prints to the
    process's stdout (with a `tail` subprocess, at the descriptor level, so no
    Python-level redirect catches it) and dbt writes every event there: both
    now land in the log. Python logging records written meanwhile (feeds,
    ml, dagster-dbt) go to the log too, with their time and logger name; a
    record Dagster has already taken into the run log is not written twice.
    """
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed below
    saved: dict[int, int] = {}
    console: IO[str] = sys.stdout
    root = logging.getLogger()
    level = root.level
    to_console = [h for h in root.handlers if type(h) is logging.StreamHandler and h.stream in (sys.stdout, sys.stderr)]
    to_log = logging.StreamHandler(log)
    to_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    to_log.addFilter(lambda record: not hasattr(record, "dagster_meta"))
    try:
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no descriptor (a test's captured stdout)
            console = open(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding=sys.stdout.encoding or "utf-8")  # noqa: SIM115
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                saved[fd] = os.dup(fd)
                os.dup2(log.fileno(), fd)
        for handler in to_console:
            root.removeHandler(handler)
        root.addHandler(to_log)
        root.setLevel(min(level, logging.INFO))  # the log keeps the libraries' INFO the console leaves out
        yield console, log
    finally:
        root.setLevel(level)
        root.removeHandler(to_log)
        for handler in to_console:
            root.addHandler(handler)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        if console is not sys.stdout:
            console.close()
        log.close()


@contextlib.contextmanager
def run_console(
    job: dg.JobDefinition,
    log_path: Path,
    steps: Mapping[str, StepInfo] | None = None,
    bars: bool | None = None,
    stream: IO[str] | None = None,
) -> Iterator[tuple[dg.JobDefinition, RunConsole]]:
    """`job` with the run console as its logger, for a run whose run config includes LOGGER_RUN_CONFIG.

    The console writes to `stream` (default: the process's stdout as it was
    before the run); everything the process prints meanwhile goes to
    `log_path` (see output_to).
    """
    with output_to(log_path) as (stdout, log):
        log.write(f"{dt.datetime.now().isoformat(timespec='seconds')} crossdock run log (pid {os.getpid()})\n")
        with RunConsole(stream or stdout, steps, bars) as console:
            yield job.with_logger_defs({LOGGER_KEY: console_logger(console, log)}), console
