"""The generic tests non_negative_columns and accepted_ranges (dbt_project/macros/tests/): one scan per model.

A model's non-negative columns are listed once, in its non_negative_columns
test, and its other range rules ({column, min_value, max_value}) in its
accepted_ranges test: each is one query and one Dagster asset check instead of
one test per column. A failing row per column out of range names it, the range,
how many rows are outside and the lowest and highest of their values; dbt's
count (fail_calc) is those rows, as it was with one test per column.
Their SQL is rendered here from the macros' own text and run on DuckDB, without
dbt; the dbt build of tests/test_end_to_end.py runs every one of the tests.
"""
from __future__ import annotations

import duckdb
import pytest

from dbt_generic_tests import CompilerError, declared, render_generic_test

MACROS = ("accepted_ranges.sql", "non_negative_columns.sql")


def render(test: str, **arguments) -> tuple[str, dict]:
    """The SQL of the generic `test` on table `lines` and the config it sets."""
    return render_generic_test(MACROS, test, "lines", **arguments)


@pytest.fixture
def conn():
    with duckdb.connect() as conn:
        conn.execute(
            "create table lines as select * from (values"
            " (1, 2.0, 0.5, date '2026-01-01', 1), (-2, -1.5, 1.2, date '2026-01-02', 0),"
            " (-3, null, -0.1, date '2026-01-03', null), (null, 0.0, 0.9, null, 5))"
            ' as t(quantity, "value", share, day, units)'
        )
        yield conn


def test_non_negative_columns_names_each_negative_column_with_its_count_and_values(conn):
    sql, _ = render("non_negative_columns", columns=["quantity", "value", "share", "units"])
    assert sorted(conn.execute(sql).fetchall()) == [
        ("quantity", ">= 0", 2, "-3", "-2"),
        ("share", ">= 0", 1, "-0.1", "-0.1"),
        ("value", ">= 0", 1, "-1.5", "-1.5"),
    ]


def test_accepted_ranges_checks_each_bound_and_passes_nulls(conn):
    ranges = [
        {"column": "share", "min_value": 0, "max_value": 1},
        {"column": "quantity", "min_value": -2},
        {"column": "value", "max_value": 1.5},
        {"column": "day", "min_value": "date '2026-01-02'"},
    ]
    sql, _ = render("accepted_ranges", ranges=ranges)
    assert sorted(conn.execute(sql).fetchall()) == [
        ("day", ">= date '2026-01-02'", 1, "2026-01-01", "2026-01-01"),
        ("quantity", ">= -2", 1, "-3", "-3"),
        ("share", "between 0 and 1", 2, "-0.1", "1.2"),
        ("value", "<= 1.5", 1, "2.0", "2.0"),
    ]


def test_columns_within_their_range_pass(conn):
    sql, _ = render("accepted_ranges", ranges=[{"column": "share", "min_value": -1, "max_value": 2}])
    assert conn.execute(sql).fetchall() == []
    sql, _ = render("non_negative_columns", columns=["units"])
    assert conn.execute(sql).fetchall() == []


@pytest.mark.parametrize(
    "test, arguments, rows_out",
    [
        ("non_negative_columns", {"columns": ["quantity", "value"]}, 3),  # quantity -2 and -3, value -1.5
        (
            "accepted_ranges",
            {"ranges": [{"column": "quantity", "min_value": 0}, {"column": "share", "min_value": 0, "max_value": 1}]},
            4,  # quantity -2 and -3, share -0.1 and 1.2
        ),
    ],
)
def test_dbt_counts_the_rows_out_of_range_not_the_columns(conn, test, arguments, rows_out):
    """fail_calc: dbt's "Got N results" and Dagster's failed_row_count are rows, as with one test per column."""
    sql, config = render(test, **arguments)
    [(failures,)] = conn.execute(f"select {config['fail_calc']} from ({sql})").fetchall()
    assert failures == rows_out
    [(passing,)] = conn.execute(f"select {config['fail_calc']} from ({sql}) where false").fetchall()
    assert passing == 0  # not null, which dbt would not compare with 0


def test_a_range_without_a_bound_or_a_test_without_columns_is_refused():
    with pytest.raises(CompilerError, match="share"):
        render("accepted_ranges", ranges=[{"column": "share"}])
    with pytest.raises(CompilerError, match="no columns"):
        render("non_negative_columns", columns=[])


def test_range_rules_are_listed_once_per_model_and_name_its_columns():
    """No column-level non_negative or accepted_range left (each would be one more asset check), and no column
    listed that is not there."""
    for yml, name, entry in declared():
        columns = [c["name"] for c in entry.get("columns") or []]
        for column in entry.get("columns") or []:
            tests = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests") or []]
            assert not {"non_negative", "accepted_range"} & set(tests), (
                f"{yml}: {name}.{column['name']} has a range test of its own"
            )
        model_tests = [t for t in entry.get("data_tests") or [] if isinstance(t, dict)]
        for generic, listed_of in (
            ("non_negative_columns", lambda arguments: arguments["columns"]),
            ("accepted_ranges", lambda arguments: [rule["column"] for rule in arguments["ranges"]]),
        ):
            listed = [c for t in model_tests if generic in t for c in listed_of(t[generic]["arguments"])]
            assert set(listed) <= set(columns), f"{yml}: {name} lists undeclared columns in {generic}"
            assert len(listed) == len(set(listed)), f"{yml}: {name} lists a column twice in {generic}"
