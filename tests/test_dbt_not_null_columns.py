"""The generic test not_null_columns (dbt_project/macros/tests/not_null_columns.sql): one scan per model.

A model's not-null columns are listed once, in its not_null_columns test, and
checked in one query (one Dagster asset check) instead of one not_null test
per column. A failing row per column with nulls names it and counts them.
Its SQL is rendered here from the macro's own text and run on DuckDB, without
dbt; the dbt build of tests/test_end_to_end.py runs every one of the tests.
"""
from __future__ import annotations

import duckdb
import pytest

from dbt_generic_tests import declared, render_generic_test


def not_null_columns_sql(model: str, columns: list[str]) -> tuple[str, dict]:
    """The test's SQL on `model` and the config it sets."""
    return render_generic_test(["not_null_columns.sql"], "not_null_columns", model, columns=columns)


@pytest.fixture
def conn():
    with duckdb.connect() as conn:
        conn.execute(
            "create table lines as select * from (values (1, 'a', 2.0, 'x'), (2, null, null, 'y'), (3, null, 1.0, 'z'))"
            " as t(id, sku, \"numeric\", source)"
        )
        yield conn


def test_a_failing_row_names_each_column_with_nulls_and_counts_them(conn):
    sql, _ = not_null_columns_sql("lines", ["id", "sku", "numeric", "source"])
    assert sorted(conn.execute(sql).fetchall()) == [("numeric", 1), ("sku", 2)]


def test_dbt_counts_the_null_rows_not_the_columns(conn):
    """fail_calc: dbt's "Got N results" and Dagster's failed_row_count are null rows, as with one test per column."""
    sql, config = not_null_columns_sql("lines", ["id", "sku", "numeric", "source"])
    assert conn.execute(f"select {config['fail_calc']} from ({sql})").fetchall() == [(3,)]
    assert conn.execute(f"select {config['fail_calc']} from ({sql}) where false").fetchall() == [(0,)]


def test_columns_without_nulls_pass(conn):
    sql, _ = not_null_columns_sql("lines", ["id", "source"])
    assert conn.execute(sql).fetchall() == []


def test_not_null_columns_are_listed_once_per_model_and_name_its_columns():
    """No column-level not_null left (each would be one more asset check), and no column listed that is not there."""
    for yml, name, entry in declared():
        columns = [c["name"] for c in entry.get("columns") or []]
        for column in entry.get("columns") or []:
            tests = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests") or []]
            assert "not_null" not in tests, f"{yml}: {name}.{column['name']} has a not_null test of its own"
        listed = [
            test["not_null_columns"]["arguments"]["columns"]
            for test in entry.get("data_tests") or []
            if isinstance(test, dict) and "not_null_columns" in test
        ]
        for listed_columns in listed:
            assert set(listed_columns) <= set(columns), f"{yml}: {name} lists undeclared columns"
        flat = [c for columns_of_test in listed for c in columns_of_test]
        assert len(flat) == len(set(flat)), f"{yml}: {name} lists a column twice"
