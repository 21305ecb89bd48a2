"""Run a command to its end and keep what a bench reads of it: its output lines with their arrival times, its
process tree's resident memory sampled as it runs, the load average beside each sample; stop it past a limit.

For bench/engines.py, whose rows are the steps of one `crossdock` run read off
its console (`bench.console_lines`) and matched to the memory held meanwhile.
Linux only (/proc, through `bench.rss`).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.rss import children, tree_resident

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measured:
    """A subprocess run to its end: its output lines with arrival times and its tree's memory samples."""

    returncode: int
    start: float
    end: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    samples: list[tuple[float, int]] = field(default_factory=list)
    loads: list[tuple[float, float]] = field(default_factory=list)  # the 1-minute load average, with each sample
    max_rss: int = 0  # the kernel's ru_maxrss of the process (its largest single process), bytes
    stopped: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def output(self) -> str:
        return "".join(line for _, line in self.lines)

    def peak_between(self, start: float, end: float) -> int:
        inside = [total for at, total in self.samples if start <= at <= end]
        after = next((total for at, total in self.samples if at > end), None)
        return max(inside + ([after] if after is not None else []), default=0)

    def first_line_at(self, text: str, occurrence: int = 1) -> float | None:
        found = [at for at, line in self.lines if text in line]
        return found[occurrence - 1] if len(found) >= occurrence else None

    def load_at(self, at: float) -> float | None:
        """The load average sampled last at or before `at`: a step's row says how busy the machine was as it ended."""
        return next((load for when, load in reversed(self.loads) if when <= at), None)


def run_measured(command: list[str], env: dict[str, str], limit: int | None, interval: float = 0.2,
                 beside: tuple[int, ...] = (), cwd: Path = ROOT) -> Measured:
    """Run `command` to its end, sampling the resident memory of its process tree; stop the tree past `limit` bytes.

    The trees of the processes `beside` (a service the command needs, started
    by this one) count in every sample: the memory the command needs at once.
    The command runs in `cwd` (the repository, where `-m cli` is found).
    """
    start = time.time()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             bufsize=1)
    measured = Measured(returncode=-1, start=start, end=start)

    def read() -> None:
        for line in child.stdout:
            measured.lines.append((time.time(), line))

    reader = threading.Thread(target=read, name="output-reader", daemon=True)
    reader.start()
    try:
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                measured.end = time.time()
                measured.returncode = os.waitstatus_to_exitcode(status)
                measured.max_rss = usage.ru_maxrss * 1024
                child.returncode = measured.returncode  # reaped here, not by Popen
                break
            total = tree_resident(child.pid) + sum(tree_resident(pid) for pid in beside)
            measured.samples.append((time.time(), total))
            measured.loads.append((time.time(), os.getloadavg()[0]))
            if limit is not None and total > limit and not measured.stopped:
                measured.stopped = True
                print(f"MEMORY LIMIT PASSED: {total / 2**30:.2f} GB; stopping {command[0]} ...", file=sys.stderr, flush=True)
                _stop_tree(child.pid)
            time.sleep(interval)
    except BaseException:  # the bench itself stopped (Ctrl-C, an error): leave no JVM behind
        _stop_tree(child.pid)
        raise
    reader.join(timeout=10)
    return measured


def _stop_tree(pid: int) -> None:
    for process in [*children(pid), pid]:
        with contextlib.suppress(OSError):
            os.kill(process, signal.SIGTERM)
