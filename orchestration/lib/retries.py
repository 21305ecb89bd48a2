"""Wait out DuckDB's file lock, and retry a step when it failed for a reason that goes away by itself.

Two layers, because the warehouse is opened in two ways:

* every Python asset opens it through `WarehouseResource`, whose connect
  sleeps with backoff while another process holds the lock (up to
  LOCK_WAIT_SECONDS, crossdock/warehouse.py); once open, no statement can meet
  another process's lock, so that is the whole of their retry;
* dbt opens the file itself from a subprocess, so the dbt step instead
  re-raises a transient failure as RetryRequested (`retry_if_transient`).

Dagster's RetryPolicy retries every failure, and most of ours are not
transient: a failed dbt test or quality gate fails the same way again, and a
retry would only delay the alert by minutes. So steps retry only on errors
known to clear on their own, chiefly another process holding DuckDB's file
lock (a BI tool or a shell opened on the live warehouse).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from crossdock.engine import DuckDBWarehouse, Warehouse
from crossdock.warehouse import LOCK_MARKERS, LOCK_WAIT_SECONDS, connect

TRANSIENT_MARKERS: tuple[str, ...] = (
    *LOCK_MARKERS,
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


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connect sleeps with backoff while another process holds the warehouse's lock.

    DuckDBResource's own connect retries for about 100 s (0.1 s doubling, ten
    times) and then fails the step; a shell or BI tool left open on the file
    usually holds it longer. This waits up to `lock_wait_seconds` (doubling from
    1 s, at most 30 s between tries), logging each wait on the step.
    """

    lock_wait_seconds: float = LOCK_WAIT_SECONDS
    # where the steps read and write through the warehouse interface (crossdock/engine.py): the DuckDB file, or
    # the Spark session of dbt's `spark` target (crossdock/spark.py); CROSSDOCK_WAREHOUSE_ENGINE sets it
    engine: Literal["duckdb", "spark"] = "duckdb"

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        """The warehouse as the interface every engine implements; DuckDB's connection is closed at the end,
        Spark's session (one per process) is left running for the next step."""
        if self.engine == "spark":
            from crossdock.spark import spark_session
            from crossdock.spark_warehouse import SparkWarehouse

            yield SparkWarehouse(spark_session())
            return
        with self.get_connection() as conn:
            yield DuckDBWarehouse(conn)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The DuckDB file itself, for code that needs DuckDB's connection rather than the warehouse interface;
        refused when the engine is Spark, so such code never reads DuckDB's tables in a run whose steps read
        Spark's."""
        if self.engine != "duckdb":
            raise dg.Failure(description=(
                f"this step reads and writes the DuckDB file only, and the warehouse engine is {self.engine} "
                "(docs/spark.md)"
            ))
        conn = connect(
            self.database,
            config={"custom_user_agent": "dagster", **self.connection_config},
            wait_seconds=self.lock_wait_seconds,
            log=dg.get_dagster_logger(),
        )
        try:
            yield conn
        finally:
            conn.close()
