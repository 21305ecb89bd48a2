"""Land a feed file into a temporary all-text table, whatever its format.

Everything is read as text first so that a bad value becomes a quarantine row
with a reason instead of an exception that loses the whole file.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from feeds.sql import ident

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


class UnreadableFile(Exception):
    """The file cannot be parsed at all (empty, binary, broken structure)."""


def _select_all_as_text(conn: duckdb.DuckDBPyConnection, relation_sql: str, params: list) -> str:
    columns = [row[0] for row in conn.execute(f"describe select * from {relation_sql}", params).fetchall()]
    casts = ", ".join(f"cast({ident(c)} as varchar) as {ident(c)}" for c in columns)
    return f"select {casts} from {relation_sql}"


def land_file(conn: duckdb.DuckDBPyConnection, path: Path, table: str = "landed") -> list[str]:
    """Create temp table `table` with `_row_number` and every column as text; return the header."""
    suffix = path.suffix.lower()
    params = [str(path)]
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            select = "select * from read_csv(?, all_varchar = true, header = true)"
        elif suffix in (".jsonl", ".ndjson", ".json"):
            select = _select_all_as_text(conn, "read_json(?, format = 'newline_delimited')", params)
        elif suffix == ".parquet":
            select = _select_all_as_text(conn, "read_parquet(?)", params)
        else:
            raise UnreadableFile(f"unsupported file type '{suffix}'; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
        conn.execute(f"create or replace temp table {table} as select row_number() over () as _row_number, * from ({select})", params)
    except duckdb.Error as exc:
        raise UnreadableFile(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from exc
    return [row[0] for row in conn.execute(f"describe {table}").fetchall() if row[0] != "_row_number"]
