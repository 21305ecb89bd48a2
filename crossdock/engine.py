"""The one interface the Python steps read and write the warehouse through, and its DuckDB implementation.

crossdock's tables live in one DuckDB file by default and on Spark when one
machine is not enough (docs/spark.md). The steps written in Python (the
forecast and its backtest, the plans, the staging and publishing of a plan)
must not be written twice, so they speak to a `Warehouse`: a query returns a
pandas frame, a frame is written as a table, a select becomes a table.

The SQL they send is DuckDB's dialect, in lower case, as everywhere in the
project. `DuckDBWarehouse` runs it as it is; `SparkWarehouse`
(crossdock/spark_warehouse.py) translates it with sqlglot, the library
dagster-dbt already brings, rather than with a dialect of our own. What no
translation can give (Spark's file tables have no transactions, no
`create or replace table ... as`) is the implementations' business, behind
the same methods.

A DuckDB connection is accepted wherever a Warehouse is (`as_warehouse`):
the steps not yet moved to this interface, the command line and the tests
hold connections, and wrapping one is all they need.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, runtime_checkable

import duckdb
import pandas as pd
import pyarrow as pa

from crossdock.warehouse import table_columns, table_exists, transaction


@runtime_checkable
class Warehouse(Protocol):
    """Tables by `schema.name`, read and written with DuckDB-dialect SQL."""

    engine: str  # "duckdb" or "spark": for messages, and for what exists on one engine only

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The result of a select as a pandas frame, typed as DuckDB types it on either engine."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """The result of a select as tuples (for a few values, where a frame is too much)."""
        ...

    def arrow(self, sql: str) -> pa.Table:
        """The result of a select as an Arrow table, every type as the engine has it (decimals stay decimals):
        a copy made for another reader, such as the BI snapshot."""
        ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """A statement that returns nothing: DDL, insert, delete."""
        ...

    def create_table_as(self, table: str, select: str) -> int:
        """Replace `table` (its schema made when missing) with the result of `select`, which must not read it;
        the row count."""
        ...

    def write_frame(self, table: str, frame: pd.DataFrame, select_list: str = "*") -> int:
        """Replace `table` with `frame`, through `select {select_list}` over the frame's columns; the row count."""
        ...

    def replace_rows(self, table: str, where: str, params: Sequence[object], frame: pd.DataFrame,
                     select_list: str = "*") -> int:
        """Replace the rows of `table` that match `where` with `frame` (through `select {select_list}`, whose
        columns are matched to the table's by name), keeping the others: a store of snapshots where a re-run
        replaces its own. The row count written."""
        ...

    def replace_where(self, table: str, where: str, params: Sequence[object], select: str) -> None:
        """Replace the rows of `table` that match `where` (which may read other tables, and `table` itself)
        with the rows of `select` (matched to the table's columns by name), keeping the others."""
        ...

    def replace_partitions(self, table: str, column: str, values: Sequence[str], frame: pd.DataFrame,
                           select_list: str = "*", keep: Sequence[str] | None = None) -> int:
        """Replace the rows of `table` whose `column` is one of `values` with `frame` (every frame row has one of
        them), and drop those whose `column` is not in `keep` when given; the rows written. Runs that replace
        different values may do so side by side: how the forecast's market partitions stage their rows."""
        ...

    def append_from(self, table: str, source: duckdb.DuckDBPyConnection, select: str) -> int:
        """Add to `table` (which exists) the rows of `select` run on the DuckDB connection `source`, matched to
        the table's columns by name, types kept: how the ingest's file engine hands over what it loaded. The
        rows added."""
        ...

    def exists(self, table: str) -> bool:
        ...

    def columns(self, table: str) -> set[str]:
        """The column names of `table`, empty when it does not exist."""
        ...

    def transaction(self) -> AbstractContextManager[object]:
        """The block's statements as one transaction where the engine has them (DuckDB), or as they come (Spark)."""
        ...


class DuckDBWarehouse:
    """A Warehouse on an open DuckDB connection (the caller opens and closes it: crossdock.warehouse.connect)."""

    engine = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn
        self._open_transactions = 0

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        return self.conn.execute(sql, list(params)).df()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self.conn.execute(sql, list(params)).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        return self.conn.sql(sql).to_arrow_table()

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self.conn.execute(sql, list(params))

    def create_table_as(self, table: str, select: str) -> int:
        self.conn.execute(f"create schema if not exists {table.split('.')[0]}")
        [(rows,)] = self.conn.execute(f"create or replace table {table} as {select}").fetchall()  # DuckDB's count
        return rows

    @contextmanager
    def _frame_view(self, frame: pd.DataFrame) -> Iterator[str]:
        """`frame` as a view of this connection, by its name, until the block ends."""
        view = f"_frame_{uuid.uuid4().hex}"
        self.conn.register(view, frame)
        try:
            yield view
        finally:
            self.conn.unregister(view)

    def write_frame(self, table: str, frame: pd.DataFrame, select_list: str = "*") -> int:
        with self._frame_view(frame) as view:
            self.create_table_as(table, f"select {select_list} from {view}")
        return len(frame)

    def replace_rows(self, table: str, where: str, params: Sequence[object], frame: pd.DataFrame,
                     select_list: str = "*") -> int:
        with self._frame_view(frame) as view:
            self.replace_where(table, where, params, f"select {select_list} from {view}")
        return len(frame)

    def replace_where(self, table: str, where: str, params: Sequence[object], select: str) -> None:
        with self.transaction():
            self.conn.execute(f"delete from {table} where {where}", list(params))
            self.conn.execute(f"insert into {table} by name {select}")

    def replace_partitions(self, table: str, column: str, values: Sequence[str], frame: pd.DataFrame,
                           select_list: str = "*", keep: Sequence[str] | None = None) -> int:
        # one writer at a time holds a DuckDB file: a delete and an insert in one transaction is the whole story
        where, params = partition_filter(column, values, keep)
        return self.replace_rows(table, where, params, frame, select_list)

    def append_from(self, table: str, source: duckdb.DuckDBPyConnection, select: str) -> int:
        if source is self.conn:
            [(rows,)] = self.conn.execute(f"insert into {table} by name {select}").fetchall()
            return rows
        rows = source.sql(select).to_arrow_table()
        view = f"_rows_{uuid.uuid4().hex}"
        self.conn.register(view, rows)
        try:
            [(added,)] = self.conn.execute(f"insert into {table} by name select * from {view}").fetchall()
        finally:
            self.conn.unregister(view)
        return added

    def exists(self, table: str) -> bool:
        return table_exists(self.conn, table)

    def columns(self, table: str) -> set[str]:
        return table_columns(self.conn, table)

    @contextmanager
    def transaction(self) -> Iterator[object]:
        """One DuckDB transaction; a block inside another's joins it (DuckDB has no nested transactions)."""
        if self._open_transactions:
            yield self
            return
        self._open_transactions += 1
        try:
            with transaction(self.conn):
                yield self
        finally:
            self._open_transactions -= 1


def partition_filter(column: str, values: Sequence[str], keep: Sequence[str] | None = None
                     ) -> tuple[str, list[object]]:
    """The where clause (and its parameters) of the rows replace_partitions replaces or drops."""
    name = '"' + column.replace('"', '""') + '"'
    where, params = f"{name} in ({', '.join('?' for _ in values)})", list(values)
    if keep:
        where += f" or {name} not in ({', '.join('?' for _ in keep)})"
        params += list(keep)
    return where, params


WarehouseLike = Warehouse | duckdb.DuckDBPyConnection  # what the shared functions take: a connection is wrapped


def as_warehouse(target: WarehouseLike) -> Warehouse:
    """`target` as a Warehouse: a DuckDB connection is wrapped, a Warehouse passes as it is."""
    if isinstance(target, duckdb.DuckDBPyConnection):
        return DuckDBWarehouse(target)
    return target


def first_row(warehouse: Warehouse, sql: str, params: Sequence[object] = ()) -> tuple | None:
    """The first row of a select, or None when it has none."""
    found = warehouse.rows(sql, params)
    return found[0] if found else None


def scalar(warehouse: Warehouse, sql: str, params: Sequence[object] = ()) -> object:
    """The one value of a select of one row and one column (None when it has no row)."""
    row = first_row(warehouse, sql, params)
    return row[0] if row else None

