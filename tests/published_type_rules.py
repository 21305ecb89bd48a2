"""The type rules of schema publish, for any list of (table, column, type): a warehouse's or the declaration's.

BI tools take the published tables as they are, so one meaning gets one
type: a day is a `date` (pandas' datetime64[ns] reached DuckDB as
timestamp_ns and a Timestamp constant as timestamp_s, three types for one
as_of), an instant a `timestamp` (UTC), a whole number a `bigint` (DuckDB's
sum() of integers is a hugeint, which Parquet readers and BI drivers take as a
decimal or a double, and an `integer` beside a bigint of the same meaning is
two types for one), and a column name means one thing, so it has one type in
every table. Used by tests/test_published_types.py on the declaration and on
a warehouse, and callable from any end-to-end fixture:

    from published_type_rules import assert_published_types
    assert_published_types(conn)   # conn: a DuckDB connection to a warehouse after a publish

A hugeint is refused beyond schema publish too: the marts and intermediate
tables are read by the planning code, the dashboard and anyone's BI query, and
a pandas read of a hugeint gives float64 counts. `wide_integer_breaches` names
the hugeints of any (table, column, type) list (the yml declarations of every
dbt model, or a warehouse's every schema via `warehouse_columns`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import duckdb

ALLOWED_TYPES = frozenset({"varchar", "boolean", "bigint", "double", "date", "timestamp"})
"""Every published column has one of these (lower case, as information_schema spells them)."""
WHY_NOT = {
    "hugeint": "a count or sum of integers: cast it to bigint",
    "uhugeint": "a count or sum of integers: cast it to bigint",
    "integer": "a whole number: bigint, like every other whole number published",
    "smallint": "a whole number: bigint, like every other whole number published",
    "tinyint": "a whole number: bigint, like every other whole number published",
    "timestamp_ns": "a pandas datetime64[ns]: a day is a date, an instant a timestamp",
    "timestamp_s": "a pandas Timestamp constant: a day is a date, an instant a timestamp",
    "timestamp_ms": "a day is a date, an instant a timestamp",
    "timestamp with time zone": "instants are published as timestamp (UTC)",
    '"null"': "an all-null pandas column: declare and cast its type",
}
WIDE_INTEGERS = frozenset({"hugeint", "uhugeint"})
"""What DuckDB's sum() of integers returns: never a column type of a table anyone reads."""
DAY_COLUMNS = ("as_of", "date")
"""Names that always mean a day; so does every name ending in _date."""


def type_rule_breaches(columns: Iterable[tuple[str, str, str]]) -> list[str]:
    """What breaks the rules in `columns` ((table, column, type) rows), one sentence each; empty when none does."""
    breaches: list[str] = []
    types_by_name: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for table, column, type_ in columns:
        kind = type_.lower()
        types_by_name[column][kind].append(table)
        if kind not in ALLOWED_TYPES:
            breaches.append(f"{table}.{column} is {kind} ({WHY_NOT.get(kind, 'not a type BI tools take as it is')})")
        elif (column in DAY_COLUMNS or column.endswith("_date")) and kind != "date":
            breaches.append(f"{table}.{column} is {kind}: it names a day, so it is a date")
    for column, kinds in sorted(types_by_name.items()):
        if len(kinds) > 1:
            seen = "; ".join(f"{kind} in {', '.join(sorted(tables))}" for kind, tables in sorted(kinds.items()))
            breaches.append(f"{column} has {len(kinds)} types across the published tables: {seen}")
    return breaches


def wide_integer_breaches(columns: Iterable[tuple[str, str, str]]) -> list[str]:
    """The hugeint columns of `columns` ((table, column, type) rows), one sentence each; empty when none."""
    return [
        f"{table}.{column} is {type_.lower()} ({WHY_NOT[type_.lower()]})"
        for table, column, type_ in columns
        if type_.lower() in WIDE_INTEGERS
    ]


def warehouse_columns(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema.table, column, type) of every table and view of the warehouse behind `conn`."""
    return conn.execute(
        "select table_schema || '.' || table_name, column_name, lower(data_type) from information_schema.columns "
        "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
    ).fetchall()


def published_columns(conn: duckdb.DuckDBPyConnection, schema: str = "publish") -> list[tuple[str, str, str]]:
    """(table, column, type) of every column of `schema` in the warehouse behind `conn`."""
    return conn.execute(
        "select table_name, column_name, lower(data_type) from information_schema.columns "
        "where table_schema = ? and table_catalog = current_database() order by table_name, ordinal_position",
        [schema],
    ).fetchall()


def assert_published_types(conn: duckdb.DuckDBPyConnection, schema: str = "publish") -> None:
    """Fail, naming every breach, unless `schema` (publish) of the warehouse behind `conn` follows the rules."""
    columns = published_columns(conn, schema)
    assert columns, f"no table in schema {schema}"
    breaches = type_rule_breaches(columns)
    assert not breaches, "\n".join(breaches)
