"""Progress of a long loop (backtest windows, files of a feed), for whoever shows it.

Domain code may wrap a long loop in `track(...)` without knowing about any
console: nothing is shown unless a front end (the `crossdock` command line,
cli/console.py) has installed a sink, and a run started from the
Dagster UI or a test iterates exactly as without it. Keeping this module free
of rich, Dagster and the terminal is what lets ml/ and feeds/ call it.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class ProgressSink(Protocol):
    """What a front end implements to show loops: one `start` per loop, `advance` per item, one `stop`."""

    def start(self, description: str, total: int | None) -> object: ...

    def advance(self, handle: object, steps: int = 1) -> None: ...

    def stop(self, handle: object) -> None: ...


_sink: ProgressSink | None = None


def set_sink(sink: ProgressSink | None) -> ProgressSink | None:
    """Install `sink` (None: show nothing) and return the one it replaces, to put back afterwards."""
    global _sink
    previous, _sink = _sink, sink
    return previous


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield `items` unchanged, reporting each one to the installed sink, if any.

    `total` defaults to len(items) when it has one; a generator without it is
    shown as an open-ended count.
    """
    sink = _sink
    if sink is None:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    handle = sink.start(description, total)
    try:
        for item in items:
            yield item
            sink.advance(handle)
    finally:
        sink.stop(handle)
