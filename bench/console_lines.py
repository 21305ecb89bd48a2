"""What `crossdock run` and `crossdock spark-build` print, read back: each step's seconds and the run's full log.

bench/engines.py times the job's steps from the lines the console prints as
each step ends (cli/console.py) and Spark's build from the timing line
`crossdock spark-build` prints last (cli/spark.py); these are those readers,
apart from the measuring.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# "✓ dbt build        48.2 s", "✗ ingest orders   3 min 05 s  FAILED: why": cli/console.py's line as a step ends
# ("+" and "x" on a stream that cannot encode the ticks)
_JOB_STEP_LINE = re.compile(r"(?P<mark>[✓✗+x]) (?P<label>\S.*?) {2,}(?P<time>\d+(?:\.\d+)? s|\d+ min \d+ s)"
                            r"(?:  FAILED: .*)?")
_FULL_LOG = re.compile(r"full log(?: of the run \(.*\))?: (?P<path>\S.*)")  # cli/run.py prints it before and after
# "  session 12 s, copy sources 40 s, dbt build 300 s": cli/spark.py's last timing line
_STEP = r"[a-z][a-z ]*? \d+(?:\.\d+)? s"
_STEP_LINE = re.compile(rf"\s*{_STEP}(?:, {_STEP})*\s*")


@dataclass(frozen=True)
class JobStep:
    """A step of the job as `crossdock run`'s console reported it when it ended."""

    label: str  # the console's name for it: "dbt build", "ingest orders", "publish.demand_forecast (+1)"
    seconds: float
    ok: bool


def step_seconds(output: str) -> dict[str, float]:
    """The per-step seconds `crossdock spark-build` prints last ("session 12 s, copy sources 40 s, dbt build 300 s")."""
    for line in reversed(output.splitlines()):
        if _STEP_LINE.fullmatch(line) and "dbt build" in line:
            steps = {}
            for part in line.strip().split(", "):
                name, seconds, _unit = part.rsplit(" ", 2)
                steps[name] = float(seconds)
            return steps
    return {}


def console_seconds(text: str) -> float:
    """cli/console.py's `seconds` read back: "12.4 s" is 12.4, "3 min 05 s" is 185."""
    if " min " in text:
        minutes, rest = text.removesuffix(" s").split(" min ")
        return int(minutes) * 60 + float(rest)
    return float(text.removesuffix(" s"))


def job_step(line: str) -> JobStep | None:
    """The step a line of `crossdock run`'s console says ended ("✓ dbt build   48.2 s"), or None for any other line.

    A step that did not run ("- ... skipped", "not run") took no time, so it is
    no step here; a failed one is, with its seconds, as it held the run that long.
    """
    found = _JOB_STEP_LINE.fullmatch(line.rstrip("\n"))
    if found is None:
        return None
    return JobStep(found["label"].rstrip(), console_seconds(found["time"]), ok=found["mark"] in "✓+")


def job_steps(output: str) -> list[JobStep]:
    """Every step `crossdock run` reported ended, in the order they ended."""
    return [step for line in output.splitlines() if (step := job_step(line))]


def full_log(output: str) -> Path | None:
    """The run's full log (every Dagster event, dbt's output) that `crossdock run` names: where a failure is told."""
    paths = [found["path"].strip() for line in output.splitlines() if (found := _FULL_LOG.fullmatch(line.strip()))]
    return Path(paths[-1]) if paths else None
