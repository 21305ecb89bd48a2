"""The Warehouse of crossdock/engine.py on a Spark session: the Python steps' tables on Spark.

The steps write DuckDB's dialect; each statement is translated to Spark SQL by
sqlglot (`read="duckdb", write="spark"`): `"window"` becomes a backticked
name, `x::date` a cast, `varchar` Spark's `string`, `timestamp` Spark's
`timestamp_ntz` (DuckDB's timestamps carry no zone either), and an ascending
`order by` gains the `nulls last` DuckDB means by it, and DuckDB's 64-bit
`hash` becomes Spark's `xxhash64` (Spark's `hash` is 32 bits), a `json`
column Spark's `string`.

What a translation cannot give is done here:
- Spark's file tables cannot be replaced by `create or replace table ... as`,
  so a table is dropped and created again (a reader between the two finds no
  table; a step never reads a table it replaces); nor can rows be deleted
  from them, so replacing some rows writes the table anew beside the old one
  (the rows kept and the new ones) and swaps the two by name;
- they have no transactions, so `transaction()` runs the block's statements
  as they come: a failure half-way leaves what was written (docs/spark.md);
- a pandas frame reaches Spark as a Parquet file DuckDB writes, so a column
  is typed as on the DuckDB path (a text column of nothing but nulls as
  text, crossdock.warehouse.typed_columns) and a large
  frame never has to fit the driver's heap whole; nanosecond timestamps go
  as microseconds, the finest Spark reads;
- rows a DuckDB connection hands over (`append_from`: what the ingest loaded)
  come as a Parquet file that connection writes, so decimals, zoned
  timestamps and JSON text keep their types;
- a result comes back as Parquet files Spark writes and DuckDB reads (never
  whole through the driver's heap), converted to pandas by DuckDB, so a step
  gets the same dtypes from either engine.
"""
from __future__ import annotations

import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from crossdock.spark import quoted, spark_home
from crossdock.warehouse import typed_columns

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession


def _spark_function(node: exp.Expression) -> exp.Expression:
    """DuckDB's `hash` is 64 bits wide and Spark's 32: its peer on Spark is `xxhash64`; DuckDB's `json` columns
    hold text, which Spark keeps as `string`."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        return exp.Anonymous(this="xxhash64", expressions=node.expressions)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.JSON:
        return exp.DataType.build("string")
    return node


@lru_cache(maxsize=512)
def spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement in Spark's dialect."""
    return sqlglot.parse_one(sql, read="duckdb").transform(_spark_function).sql(dialect="spark")


_TIMESTAMP_TYPE = "spark.sql.parquet.outputTimestampType"
_OVERWRITE_MODE = "spark.sql.sources.partitionOverwriteMode"
_PARTITIONING = threading.Lock()
_APPEND_ATTEMPTS = 4


def _lost_commit_race(sql: str, error: Exception) -> bool:
    """Whether an insert failed because another job committed into the same table at the same moment: Hadoop's
    FileOutputCommitter gives every job of a table the folder `_temporary/0`, and the first to finish removes it
    under the other (two runs noting their staging in plan_next.stage_log at once). Such an insert of a few rows
    is tried again; a partition overwrite (replace_partitions) has a folder of its own and never collides."""
    return sql.lstrip().lower().startswith("insert into") and "_temporary" in str(error)


def _qualified(table: str) -> str:
    return ".".join(quoted(part) for part in table.split("."))


def _microseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with nanosecond timestamps as microseconds: Spark reads no Parquet timestamp finer than that."""
    finer = {name: str(dtype).replace("[ns", "[us") for name, dtype in frame.dtypes.items()
             if str(dtype).startswith("datetime64[ns")}
    return frame.astype(finer) if finer else frame


class SparkWarehouse:
    """A Warehouse on a Spark session (crossdock.spark.spark_session for the local one dbt's `spark` target uses)."""

    engine = "spark"

    def __init__(self, session: SparkSession, staging: Path | None = None):
        self.session = session
        self.staging = staging or spark_home() / "frames"  # where frames wait as Parquet until Spark has read them

    def _run(self, sql: str, params: Sequence[object]) -> DataFrame:
        return self.session.sql(spark_sql(sql), args=list(params) or None)

    @contextmanager
    def _result_files(self, sql: str, params: Sequence[object]) -> Iterator[duckdb.DuckDBPyRelation]:
        """The result written by Spark as Parquet files and read by DuckDB, until the block ends.

        Not collected through the driver: `toArrow()` gathers a whole result
        in the driver's heap first, and the first pricing of 10 million order
        lines (every sale line) did not fit the profile's 2 GB (bench/README.md).
        The files are read in their names' order, which is the result's order.
        """
        folder = self.staging / f"result_{uuid.uuid4().hex}"
        # Spark writes its zoned timestamps as INT96 by default, which readers take as UTC wall time without a
        # zone; as microseconds marked UTC they come back zoned, as through Arrow (the tables' own files keep
        # the session's setting: dbt writes them)
        written = self.session.conf.get(_TIMESTAMP_TYPE)
        try:
            self.session.conf.set(_TIMESTAMP_TYPE, "TIMESTAMP_MICROS")
            try:
                self._run(sql, params).write.parquet(str(folder))
            finally:
                self.session.conf.set(_TIMESTAMP_TYPE, written)
            yield duckdb.read_parquet(str(folder / "*.parquet"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        with self._result_files(sql, params) as result:
            return result.df()

    def arrow(self, sql: str) -> pa.Table:
        with self._result_files(sql, ()) as result:
            return result.to_arrow_table()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return [tuple(row) for row in self._run(sql, params).collect()]

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                self._run(sql, params)
                return
            except Exception as error:  # py4j's error: its Java message says what collided
                if attempt + 1 == _APPEND_ATTEMPTS or not _lost_commit_race(sql, error):
                    raise
                time.sleep(random.uniform(0.2, 1.0) * (attempt + 1))

    def create_table_as(self, table: str, select: str) -> int:
        self._replace(table, select)
        return self.session.table(_qualified(table)).count()  # Spark's create-as-select does not say

    def _replace(self, table: str, select: str) -> None:
        self.session.sql(f"create database if not exists {quoted(table.split('.')[0])}")
        self.session.sql(f"drop table if exists {_qualified(table)}")
        self.session.sql(f"create table {_qualified(table)} using parquet as {spark_sql(select)}")

    @contextmanager
    def _frame_view(self, frame: pd.DataFrame) -> Iterator[str]:
        """`frame` as a temporary view of this session, by its name, until the block ends."""
        name = f"_frame_{uuid.uuid4().hex}"
        folder = self.staging / name
        folder.mkdir(parents=True)
        try:
            local = duckdb.connect()
            local.register("frame", _microseconds(frame))
            local.execute(f"copy (select {typed_columns(frame)} from frame) to '{folder / 'part.parquet'}' (format parquet)")
            local.close()
            self.session.read.parquet(str(folder)).createOrReplaceTempView(name)
            try:
                yield name
            finally:
                self.session.catalog.dropTempView(name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def write_frame(self, table: str, frame: pd.DataFrame, select_list: str = "*") -> int:
        with self._frame_view(frame) as view:
            self._replace(table, f"select {select_list} from {view}")
        return len(frame)

    def replace_rows(self, table: str, where: str, params: Sequence[object], frame: pd.DataFrame,
                     select_list: str = "*") -> int:
        with self._frame_view(frame) as view:
            self.replace_where(table, where, params, f"select {select_list} from {view}")
        return len(frame)

    def replace_where(self, table: str, where: str, params: Sequence[object], select: str) -> None:
        replacing = f"{table}__replacing"
        kept = self._run(f"select * from {table} where not coalesce(({where}), false)", params)  # as delete keeps nulls
        kept.unionByName(self._run(select, ())).write.mode("overwrite").format("parquet").saveAsTable(_qualified(replacing))
        self.session.sql(f"drop table {_qualified(table)}")
        self.session.sql(f"alter table {_qualified(replacing)} rename to {_qualified(table)}")

    def replace_partitions(self, table: str, column: str, values: Sequence[str], frame: pd.DataFrame,
                           select_list: str = "*", keep: Sequence[str] | None = None) -> int:
        """A table partitioned by `column` whose partitions are overwritten one by one: two runs over different
        values write different folders and catalogue entries, where replace_where's rewrite of the whole table
        would let the later run drop the earlier one's rows (or find the table gone mid-swap)."""
        with _PARTITIONING:  # a table first staged whole is rebuilt partitioned once, by the first of the runs
            self._partition_by(table, column)
        present = set(frame[column].astype(str)) if len(frame) else set()
        for value in sorted(set(values) - present):  # a value staged with no rows now: its old rows go
            self._drop_partition(table, column, value)
        if present:
            # only the partitions the rows fall in are overwritten (no other statement here overwrites partitions)
            self.session.conf.set(_OVERWRITE_MODE, "dynamic")
            columns = [c.name for c in self.session.catalog.listColumns(table)]  # by position: the partition last
            with self._frame_view(frame) as view:
                self.session.sql(f"insert overwrite table {_qualified(table)} partition ({quoted(column)}) "
                                 f"select {', '.join(quoted(c) for c in columns)} from "
                                 f"({spark_sql(f'select {select_list} from {view}')})")
        if keep:
            for value in sorted(self._partitions(table, column) - set(keep)):
                self._drop_partition(table, column, value)
        return len(frame)

    def _partition_by(self, table: str, column: str) -> None:
        """Rebuild `table` partitioned by `column` unless it is (once: a table first staged whole)."""
        if [c.name for c in self.session.catalog.listColumns(table) if c.isPartition] == [column]:
            return
        rebuilt = f"{table}__partitioned"
        self.session.sql(f"drop table if exists {_qualified(rebuilt)}")
        self.session.sql(f"create table {_qualified(rebuilt)} using parquet partitioned by ({quoted(column)}) "
                         f"as select * from {_qualified(table)}")
        self.session.sql(f"drop table {_qualified(table)}")
        self.session.sql(f"alter table {_qualified(rebuilt)} rename to {_qualified(table)}")

    def _partitions(self, table: str, column: str) -> set[str]:
        return {row[0].split("=", 1)[1] for row in self.session.sql(f"show partitions {_qualified(table)}").collect()
                if row[0].startswith(f"{column}=")}

    def _drop_partition(self, table: str, column: str, value: str) -> None:
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        self.session.sql(f"alter table {_qualified(table)} drop if exists partition ({quoted(column)} = '{escaped}')")

    def append_from(self, table: str, source: duckdb.DuckDBPyConnection, select: str) -> int:
        folder = self.staging / f"rows_{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        try:
            [(rows,)] = source.execute(f"copy ({select}) to '{folder / 'part.parquet'}' (format parquet)").fetchall()
            if rows:
                view = folder.name
                self.session.read.parquet(str(folder)).createOrReplaceTempView(view)
                try:
                    columns = ", ".join(quoted(c.name) for c in self.session.catalog.listColumns(table))
                    self.session.sql(f"insert into {_qualified(table)} select {columns} from {view}")
                finally:
                    self.session.catalog.dropTempView(view)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return rows

    def exists(self, table: str) -> bool:
        return self.session.catalog.tableExists(table)

    def columns(self, table: str) -> set[str]:
        if not self.exists(table):
            return set()
        return {column.name for column in self.session.catalog.listColumns(table)}

    def transaction(self) -> AbstractContextManager[object]:
        return nullcontext(self)
