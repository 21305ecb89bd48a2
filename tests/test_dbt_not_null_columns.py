"""The generic test not_null_columns (dbt_project/macros/tests/not_null_columns.sql): one scan per model.

A model's not-null columns are listed once, in its not_null_columns test, and
checked in one query (one Dagster asset check) instead of one not_null test
per column. A failing row per column with nulls names it and counts them.
Its SQL is rendered here from the macro's own text and run on DuckDB, without
dbt; the dbt build of tests/test_end_to_end.py runs every one of the tests.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import duckdb
import jinja2
import pytest
import yaml

from crossdock.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "tests" / "not_null_columns.sql"


def not_null_columns_sql(model: str, columns: list[str], config: dict | None = None) -> str:
    """The test's SQL; the arguments of its config() call go into `config` when given."""
    body = re.search(r"{% test not_null_columns\(model, columns\) %}(.*){% endtest %}", MACRO.read_text(), re.S)
    adapter = SimpleNamespace(quote=lambda name: f'"{name}"')

    def keep_config(**arguments: str) -> str:
        (config if config is not None else {}).update(arguments)
        return ""

    return jinja2.Template(body.group(1)).render(model=model, columns=columns, adapter=adapter, config=keep_config)


@pytest.fixture
def conn():
    with duckdb.connect() as conn:
        conn.execute(
            "create table lines as select * from (values (1, 'a', 2.0, 'x'), (2, null, null, 'y'), (3, null, 1.0, 'z'))"
            " as t(id, sku, \"numeric\", source)"
        )
        yield conn


def test_a_failing_row_names_each_column_with_nulls_and_counts_them(conn):
    sql = not_null_columns_sql("lines", ["id", "sku", "numeric", "source"])
    assert sorted(conn.execute(sql).fetchall()) == [("numeric", 1), ("sku", 2)]


def test_dbt_counts_the_null_rows_not_the_columns(conn):
    """fail_calc: dbt's "Got N results" and Dagster's failed_row_count are null rows, as with one test per column."""
    config: dict = {}
    sql = not_null_columns_sql("lines", ["id", "sku", "numeric", "source"], config)
    assert conn.execute(f"select {config['fail_calc']} from ({sql})").fetchall() == [(3,)]
    assert conn.execute(f"select {config['fail_calc']} from ({sql}) where false").fetchall() == [(0,)]


def test_columns_without_nulls_pass(conn):
    assert conn.execute(not_null_columns_sql("lines", ["id", "source"])).fetchall() == []


def declared() -> list[tuple[str, str, dict]]:
    """(yml, name, entry) of every model, seed and source table of the dbt project."""
    entries = []
    for path in sorted([*DBT_PROJECT_DIR.glob("models/**/*.yml"), *DBT_PROJECT_DIR.glob("seeds/*.yml")]):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind in ("models", "seeds"):
            entries += [(path.name, entry["name"], entry) for entry in document.get(kind) or []]
        for source in document.get("sources") or []:
            entries += [(path.name, f"{source['name']}.{t['name']}", t) for t in source.get("tables") or []]
    return entries


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
