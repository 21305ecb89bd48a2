"""What every reader leaves behind: the landed tables' names, the limits and reason codes of reading.

A file is landed (`feeds.readers.land_file`) as a temp table of text, beside
it `bad_lines_table` (lines that are no rows) and `flagged_rows_table` (rows
read whole but not to be stored as sent). The readers of each format
(`feeds.csv_reader`, `feeds.json_lines`) and the checks of the values
(`feeds.unsafe_values`) share what is here.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from feeds.sql import ident


class UnreadableFile(Exception):
    """The file cannot be parsed at all (empty, binary, broken structure).

    `rows`: the lines read before it was given up, so the ledger counts them as rejected.
    """

    def __init__(self, message: str, rows: int = 0) -> None:
        super().__init__(message)
        self.rows = rows


class DuplicateColumns(UnreadableFile):
    """The header names a column twice: the file is rejected whole, `rows` lines unread.

    Rejected rather than quarantined row by row: which of the two values a
    line means cannot be known from any one line (every line would be
    quarantined with the same reason), and the fix is in the export's layout,
    not in its values.
    """


MAX_LINE_BYTES = 64 << 20
"""The longest line read. DuckDB's default (2 MB) makes a longer line raise for the whole file,
naming line 1 whatever its place; longer than this is no feed line (a binary, a file without newlines)."""

FIRST_READ_LINE_BYTES = 8 << 20
"""The longest line of a CSV's first read; a file with a longer line is read again allowing MAX_LINE_BYTES.
DuckDB's read buffers are at least the longest line, so allowing 64 MB read a 90 MB file in one or two
buffers on one thread: 0.94 s against 0.55 s for a million lines with 8 MB (bench/README.md, ingest)."""

MAX_VALUE_CHARS = 100_000
"""A longer value is no SKU, name or id: its row is quarantined (value_too_long), the value kept shortened."""

SHOWN_CHARS = 1_000
"""What the quarantine keeps of a bad line or an over-long value: enough to find and fix it, and a
50 MB line does not bloat the warehouse."""

NUL_SHOWN = "\u2400"  # ␀, how a NUL byte is shown: no NUL is ever stored (tools and terminals cut text at it)

MALFORMED_LINE = "malformed_line"
NUL_BYTE = "nul_byte"
VALUE_TOO_LONG = "value_too_long"
LANDING_REASON_CODES = {
    MALFORMED_LINE: "the line cannot be read as a row (a CSV line with more or fewer fields than the header, a broken quote; "
    "a JSON line that is not one JSON object, or repeats a key); the reason names its line in the file",
    NUL_BYTE: "a value holds a NUL byte (shown as ␀); the reason names the column",
    VALUE_TOO_LONG: f"a value is longer than {MAX_VALUE_CHARS:,} characters; kept shortened",
}


def safe_text(text: str) -> str:
    """Text safe to store or write: undecodable bytes of a file name shown as \\xNN."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def display_name(path: Path) -> str:
    """The file's name as text safe to store: undecodable bytes shown as \\xNN."""
    return safe_text(path.name)


def bad_lines_table(table: str) -> str:
    """The temp table of the landed file's lines that are not rows: (_row_number, line_number, reason_code, reason, raw_line).

    `_row_number` counts them among the file's rows, like the rows of `table`
    (no number is used twice); `line_number` is the line in the file as an
    editor shows it; `raw_line` is the line as sent (NUL bytes shown as ␀),
    whole but for DuckDB's cut of a rejected CSV line at 10,000 characters
    (`raw_length` is the line's length as sent): the ingest hides its
    personal values before `shortened_sql` cuts it.
    """
    return f"{table}_bad_lines"


def flagged_rows_table(table: str) -> str:
    """The temp table (_row_number, reason_code, reason) of rows of `table` read whole but not to be stored as sent.

    Their values in `table` are already made safe (NUL shown as ␀, over-long
    values shortened), so the quarantine record never holds them; the ingest
    quarantines these rows with the rest of the row checks (`feeds.unsafe_values.flagged_rows_sql`).
    """
    return f"{table}_flags"


def plain_values_table(table: str) -> str:
    """The one-row temp table (plain boolean) saying that no value of `table` needs cleaning or flagging.

    True only when the reader proved it from the file's bytes (`feeds.plain_csv`):
    every value is ASCII, neither empty nor holding a quote mark, and neither
    starts nor ends with a space, so the row checks read the values as landed.
    """
    return f"{table}_plain"


def create_landing_tables(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    conn.execute(
        f"create or replace temp table {ident(bad_lines_table(table))} "
        "(_row_number bigint, line_number bigint, reason_code varchar, reason varchar, raw_line varchar, raw_length bigint)"
    )
    conn.execute(f"create or replace temp table {ident(flagged_rows_table(table))} (_row_number bigint, reason_code varchar, reason varchar)")
    mark_plain_values(conn, table, False)


def mark_plain_values(conn: duckdb.DuckDBPyConnection, table: str, plain: bool) -> None:
    conn.execute(f"create or replace temp table {ident(plain_values_table(table))} as select ?::boolean as plain", [plain])


def has_plain_values(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when the reader of `table` proved that none of its values needs cleaning (`plain_values_table`)."""
    exists = conn.execute("select 1 from duckdb_tables() where table_name = ? and temporary", [plain_values_table(table)]).fetchall()
    return bool(exists) and bool(conn.execute(f"select bool_and(plain) from {ident(plain_values_table(table))}").fetchall()[0][0])


def landed_header(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in conn.execute(f"describe {ident(table)}").fetchall() if row[0] != "_row_number"]


def shortened_sql(value: str, full_length: str | None = None) -> str:
    """SQL for `value` cut to SHOWN_CHARS, saying how long it was; `full_length` is SQL for
    the length as sent when `value` was cut before (DuckDB keeps 10,000 characters of a rejected line)."""
    length = full_length or f"length({value})"
    return (
        f"case when {length} > {SHOWN_CHARS} then left({value}, {SHOWN_CHARS}) || ' … [' || "
        f"format('{{:,}}', {length}) || ' characters, shortened]' else {value} end"
    )


def without_nul_sql(value: str) -> str:
    return f"replace({value}, chr(0), {sql_string(NUL_SHOWN)})"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def show_nul_in_bad_lines(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Bad lines are kept whole until the ingest has hidden their personal values (then it shortens them)."""
    conn.execute(f"update {ident(bad_lines_table(table))} set raw_line = {without_nul_sql('raw_line')} where contains(raw_line, chr(0))")


def normalized_name(name: str) -> str:
    """A column name as the contracts match it: trimmed, without a BOM, lower case."""
    return name.strip().lstrip("\ufeff").lower()


def reject_duplicate_columns(
    conn: duckdb.DuckDBPyConnection, table: str, header: list[str], raw_header: Callable[[], list[str] | None] | None
) -> None:
    """Raise DuplicateColumns if two columns of the header have the same name (trimmed, any case).

    `raw_header` reads the names as sent when DuckDB's renaming (x, x_1)
    hides a repeat.
    """
    names = header
    if raw_header is not None and any(_renamed_repeat(h, header) for h in header):
        names = raw_header() or header
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = normalized_name(name)
        if key in seen:
            rows = conn.execute(f"select count(*) from {ident(table)}").fetchall()[0][0]
            rows += conn.execute(f"select count(*) from {ident(bad_lines_table(table))}").fetchall()[0][0]
            raise DuplicateColumns(
                f"the column {name.strip()!r} appears twice in the header (columns {seen[key]} and {position}); "
                "which one holds the value cannot be told: remove or rename one",
                rows,
            )
        seen[key] = position


def _renamed_repeat(name: str, header: list[str]) -> bool:
    """True for a name like sku_1 beside sku: how DuckDB renames a repeated column (or a real column so named)."""
    renamed = re.fullmatch(r"(.+)_\d+", name)
    return renamed is not None and normalized_name(renamed[1]) in {normalized_name(h) for h in header}
