"""Retry a step with exponential backoff when it failed for a reason that goes away by itself.

Dagster's RetryPolicy retries every failure, and most of ours are not
transient: a failed dbt test or quality gate fails the same way again, and a
retry would only delay the alert by minutes. So steps retry only on errors
known to clear on their own, chiefly another process holding DuckDB's file
lock (a BI tool or a shell opened on the live warehouse).
"""

import dagster as dg

TRANSIENT_MARKERS: tuple[str, ...] = (
    "Could not set lock on file",  # DuckDB: another process holds the warehouse
    "Conflicting lock is held",
    "Resource temporarily unavailable",  # EAGAIN on a network or synced landing folder
    "Connection reset by peer",
)
MAX_RETRIES = 3
BASE_SECONDS = 30.0  # waits of 30 s, 60 s, 120 s


def is_transient(error: BaseException) -> bool:
    """True when the error (or one it was raised from) carries a known transient marker."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if any(marker in str(error) for marker in TRANSIENT_MARKERS):
            return True
        error = error.__cause__ or error.__context__
    return False


def backoff_seconds(retry_number: int, base_seconds: float = BASE_SECONDS) -> float:
    return base_seconds * 2**retry_number


def retry_if_transient(context: dg.OpExecutionContext, error: BaseException, base_seconds: float = BASE_SECONDS) -> None:
    """Raise RetryRequested (exponential backoff) for a transient error; re-raise anything else."""
    if is_transient(error) and context.retry_number < MAX_RETRIES:
        wait = backoff_seconds(context.retry_number, base_seconds)
        context.log.warning(f"transient failure, retry {context.retry_number + 1}/{MAX_RETRIES} in {wait:.0f} s: {error}")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from error
    raise error
