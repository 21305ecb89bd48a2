"""A step waiting for a pool slot (or for its retry) sleeps, instead of spinning a core.

Dagster 1.13's executors poll `ActiveExecution.get_steps_to_execute` in a loop
and sleep only by `ActiveExecution.sleep_interval`, which takes the pending
pool claims' interval from `InstanceConcurrencyContext.interval_to_next_pending_claim_check`;
that returns `min([0, ...])`, never more than 0 (dagster-io/dagster#20367 was
closed unmerged). So the in-process executor (`crossdock run`) never sleeps
while a step is "blocked by limit for pool duckdb", and the multiprocess
executor (a process per step, when a launchpad asks) has no sleep in its loop at all when no
step is in flight: either burns a full core for as long as the other run
holds the slot (or, for a step waiting to retry, for its whole backoff).

Dagster has no setting for this, hence a wrapper of our own: when
`get_steps_to_execute` finds nothing to start and nothing is in flight, it
sleeps until the next pool-claim check or retry is due (at most
MAX_SLEEP_SECONDS, so cancellation stays prompt). With steps in flight the
executors already block on their events, and nothing changes. Installed by
build_definitions (the CLI, the code server and every run worker call it).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

from dagster._core.execution.plan.active import ActiveExecution

MAX_SLEEP_SECONDS = 1.0
MIN_SLEEP_SECONDS = 0.05
_MARK = "_crossdock_sleeps_while_waiting"


def _seconds_to_next_check(active: ActiveExecution) -> float | None:
    """Seconds until a pool claim may be retried or a retrying step is due; None if nothing waits."""
    now = time.time()
    due: list[float] = list(getattr(active, "_waiting_to_retry", {}).values())
    concurrency = getattr(active, "_instance_concurrency_context", None)
    if concurrency is not None and concurrency.has_pending_claims():
        pending = concurrency.pending_claim_steps()
        timeouts = getattr(concurrency, "_pending_timeouts", {})
        due.extend([timeouts[key] for key in pending if key in timeouts] or [now + MAX_SLEEP_SECONDS])
    if not due:
        return None
    return min(max(min(due) - now, MIN_SLEEP_SECONDS), MAX_SLEEP_SECONDS)


def _sleeping(get_steps_to_execute: Callable[..., Sequence]) -> Callable[..., Sequence]:
    @functools.wraps(get_steps_to_execute)
    def get_steps_or_sleep(self: ActiveExecution, limit: int | None = None) -> Sequence:
        steps = get_steps_to_execute(self, limit)
        if not steps and not getattr(self, "_in_flight", True):
            wait = _seconds_to_next_check(self)
            if wait is not None:
                time.sleep(wait)
        return steps

    setattr(get_steps_or_sleep, _MARK, True)
    return get_steps_or_sleep


def install() -> None:
    """Wrap ActiveExecution.get_steps_to_execute once (importing twice must not stack sleeps)."""
    if not getattr(ActiveExecution.get_steps_to_execute, _MARK, False):
        ActiveExecution.get_steps_to_execute = _sleeping(ActiveExecution.get_steps_to_execute)


