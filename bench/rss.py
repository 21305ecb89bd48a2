"""Peak memory of this process and its children, sampled in a thread: for bench/scale.py.

Linux only (/proc). The process's own peak is exact: the kernel keeps its
high-water mark (VmHWM) and the sampler resets it after each reading (writing
5 to /proc/self/clear_refs), so each sample is the true peak since the one
before. Child processes (dbt runs as one) add their resident size as sampled,
so a child's spike shorter than the interval can be missed; the sum is the
memory the step held at once, which is what a 24 GB machine has to fit.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

KIB = 1024
_FIELD = re.compile(r"^(VmHWM|VmRSS):\s+(\d+) kB", re.MULTILINE)


def _status(pid: int | str) -> dict[str, int]:
    """VmHWM and VmRSS of a process in bytes; {} once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {name: int(kb) * KIB for name, kb in _FIELD.findall(text)}


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (children of children too)."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:  # it ended since its parent listed it
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            pending += kids
    return found


def tree_resident(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants at this moment (0 once they are gone)."""
    return sum(_status(process).get("VmRSS", 0) for process in [pid, *children(pid)])


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Sample:
    at: float  # time.time()
    own_peak: int  # bytes: this process's high-water mark since the previous sample
    children: int  # bytes: resident size of all descendants at the sample

    @property
    def total(self) -> int:
        return self.own_peak + self.children


@dataclass
class RssSampler:
    """Samples every `interval` seconds until stopped; calls `on_limit(sample)` once if a sample passes `limit` bytes."""

    interval: float = 0.2
    limit: int | None = None
    on_limit: Callable[[Sample], None] | None = None
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self.exact = _reset_peak()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        pid, warned = os.getpid(), False
        while not self._stop.is_set():
            own = _status(pid)
            peak = own.get("VmHWM" if self.exact else "VmRSS", 0)
            if self.exact:
                _reset_peak()
            held = sum(_status(child).get("VmRSS", 0) for child in children(pid))
            sample = Sample(time.time(), peak, held)
            self.samples.append(sample)
            if self.limit is not None and sample.total > self.limit and not warned and self.on_limit is not None:
                warned = True
                self.on_limit(sample)
            self._stop.wait(self.interval)

    def peak_between(self, start: float, end: float) -> int:
        """The highest total in [start, end] (and the sample right after end, which covers its tail)."""
        inside = [s.total for s in self.samples if start <= s.at <= end]
        after = next((s.total for s in self.samples if s.at > end), None)
        return max(inside + ([after] if after is not None else []), default=0)
