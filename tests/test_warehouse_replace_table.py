"""replace_table: published tables keep a usable type even when a text column holds only nulls."""
from __future__ import annotations

import duckdb
import pandas as pd

from crossdock.warehouse import replace_table


def column_types(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return dict(rows)


def test_an_all_null_text_column_is_published_as_varchar_not_null():
    conn = duckdb.connect()
    frame = pd.DataFrame({"order_id": ["a", "b"], "registration_needed": [None, None], "duty_eur": [1.5, None]})
    assert replace_table(conn, "publish.orders", frame) == 2
    assert column_types(conn, "publish.orders") == {
        "order_id": "VARCHAR", "registration_needed": "VARCHAR", "duty_eur": "DOUBLE",
    }
    assert conn.execute("select count(*) from publish.orders where registration_needed is null").fetchall() == [(2,)]


def test_replacing_twice_keeps_one_copy_and_odd_column_names_survive():
    conn = duckdb.connect()
    frame = pd.DataFrame({'weird "name"': ["x"], "n": [1]})
    replace_table(conn, "publish.t", frame)
    replace_table(conn, "publish.t", frame)
    assert conn.execute("select * from publish.t").fetchall() == [("x", 1)]
