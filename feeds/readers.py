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


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """'utf-8' (with or without BOM), 'utf-16' (BOM) or 'latin-1' for a text feed file.

    Merchants' tools still write Latin-1 (Excel's CSV on Windows); every byte
    sequence decodes as Latin-1, so it is the fallback once UTF-8 fails.
    """
    with path.open("rb") as handle:
        head = handle.read(sample_bytes)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample's end is not an error
        cut_by_sample = len(head) == sample_bytes and exc.start >= len(head) - 3
        if not cut_by_sample:
            return "latin-1"
    return "utf-8"


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
            # the delimiter and quoting are sniffed by DuckDB; the encoding is ours to say
            params.append(detect_encoding(path))
            select = "select * from read_csv(?, all_varchar = true, header = true, encoding = ?)"
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
