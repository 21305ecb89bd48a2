"""Land a feed file into a temporary all-text table, whatever its format: `land_file`.

Everything is read as text first so that a bad value becomes a quarantine row
with a reason instead of an exception that loses the whole file. The parts:
`feeds.encodings` (the encoding, a UTF-8 copy DuckDB reads as one file),
`feeds.csv_reader` and `feeds.json_lines` (one format each, with the lines
that are no rows), `feeds.unsafe_values` (NUL bytes, over-long values, open
quotes) and `feeds.landed` (the tables, limits and reason codes they share).
Parquet is read here: it has no lines to go wrong.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from feeds import landed
from feeds.csv_reader import flag_unpaired_quotes, land_csv
from feeds.encodings import detect_encoding, has_mixed_line_endings, readable_copy, unix_line_endings
from feeds.json_lines import land_json_lines
from feeds.landed import (
    UnreadableFile,
    create_landing_tables,
    display_name,
    landed_header,
    mark_plain_values,
    reject_duplicate_columns,
)
from feeds.plain_csv import is_plain_csv
from feeds.sql import ident
from feeds.unsafe_values import flag_unsafe_values, values_to_look_at

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _select_all_as_text(conn: duckdb.DuckDBPyConnection, relation_sql: str, params: list) -> str:
    columns = [row[0] for row in conn.execute(f"describe select * from {relation_sql}", params).fetchall()]
    casts = ", ".join(f"cast({ident(c)} as varchar) as {ident(c)}" for c in columns)
    return f"select {casts} from {relation_sql}"


def _without_paths(message: str, name: str) -> str:
    """DuckDB's message naming the merchant's file, not the path it read (a private temp copy's means nothing)."""
    return re.sub(r"""(["'])/[^"']*\1""", lambda _: f"'{name}'", message)


def _land(conn: duckdb.DuckDBPyConnection, readable: Path, encoding: str, suffix: str, table: str) -> bool:
    """Read `readable` into `table` by its format and flag what needs it; whether a value needs the unsafe check."""
    if suffix in CSV_SUFFIXES:
        land_csv(conn, readable, encoding, table)
    elif suffix == ".parquet":
        select = _select_all_as_text(conn, "read_parquet(?)", [str(readable)])
        conn.execute(
            f"create or replace temp table {ident(table)} as select row_number() over () as _row_number, * from ({select})",
            [str(readable)],
        )
        reject_duplicate_columns(conn, table, landed_header(conn, table), raw_header=None)
    else:
        land_json_lines(conn, readable, table)
    # a plain CSV (feeds.plain_csv) has no value to flag or clean: its bytes say so for ~a tenth of a scan of the values
    if suffix in CSV_SUFFIXES and is_plain_csv(readable, landed.MAX_VALUE_CHARS):
        mark_plain_values(conn, table, True)
        return False
    quoted, unsafe = values_to_look_at(conn, table, landed_header(conn, table), quotes=suffix in CSV_SUFFIXES)
    if quoted:
        flag_unpaired_quotes(conn, readable, table, landed_header(conn, table), f"{table}_reject_scans")
    return unsafe


def land_file(conn: duckdb.DuckDBPyConnection, path: Path, table: str = "landed") -> list[str]:
    """Create temp table `table` with `_row_number` and every column as text; return the header.

    A line that is not a row (ragged, broken quote, not JSON) does not stop
    the file: it goes to `bad_lines_table(table)` with its line number and
    the rest is read. `_row_number` is the row's place among the file's rows
    (1 = the first after a CSV's header or a JSON file's first line; blank
    lines are not rows), the same numbering for the good rows and the bad lines.
    Rows with a NUL byte or an over-long value are listed in `flagged_rows_table(table)`.

    Call it outside a transaction: a file DuckDB fails to read half-way would
    otherwise abort the transaction the ledger row is written in.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type '{suffix}'; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
    encoding = detect_encoding(path) if suffix in CSV_SUFFIXES + JSON_SUFFIXES else "binary"
    create_landing_tables(conn, table)
    try:
        with readable_copy(path, encoding) as (readable, encoding):
            try:
                unsafe = _land(conn, readable, encoding, suffix, table)
            except duckdb.Error as exc:
                if suffix not in CSV_SUFFIXES or "sniffing" not in str(exc) or not has_mixed_line_endings(readable):
                    raise
                # rows appended by another tool: CRLF and LF lines in one file leave DuckDB's sniffer no dialect
                with unix_line_endings(readable) as same_endings:
                    unsafe = _land(conn, same_endings, encoding, suffix, table)
    except duckdb.Error as exc:
        if "Maximum line size" in str(exc):  # DuckDB's message names line 1 whatever the line's place
            raise UnreadableFile(
                f"cannot read {display_name(path)}: a line is longer than {landed.MAX_LINE_BYTES >> 20} MB, the longest crossdock reads; "
                "a feed export has one row per line: is it the right file?"
            ) from exc
        raise UnreadableFile(f"cannot read {display_name(path)}: {_without_paths(str(exc).splitlines()[0], display_name(path))}") from exc
    header = landed_header(conn, table)
    if unsafe:
        flag_unsafe_values(conn, table, header)
    return header
