"""Land a CSV file: DuckDB's reader with its rejects, the dialect it sniffed, and the lines that are no rows.

A line DuckDB cannot split into the header's fields is kept with its line
number in the file and a reason in the merchant's terms; the rows around it
load. The dialect DuckDB used also splits the header as sent (a repeated
column) and tells whether a quote was left open.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pandas as pd

from feeds import landed
from feeds.landed import (
    MALFORMED_LINE,
    NUL_BYTE,
    bad_lines_table,
    flagged_rows_table,
    landed_header,
    reject_duplicate_columns,
    show_nul_in_bad_lines,
    sql_string,
)
from feeds.sql import ident

COUNT_CHUNK_BYTES = 1 << 20


def land_csv(conn: duckdb.DuckDBPyConnection, readable: Path, encoding: str, table: str) -> None:
    """Read a CSV with DuckDB's own reject machinery: a line it cannot split into the header's
    fields is stored in a rejects table (with its line and byte position) instead of failing
    the file, and the lines around it are read.

    The delimiter and quoting are sniffed by DuckDB; the encoding is ours to say.
    """
    rejects, scans = f"{table}_rejects", f"{table}_reject_scans"
    first_read = min(landed.FIRST_READ_LINE_BYTES, landed.MAX_LINE_BYTES)
    try:
        _read_csv(conn, readable, encoding, table, first_read)
    except duckdb.Error as exc:
        if "Maximum line size" not in str(exc) or first_read >= landed.MAX_LINE_BYTES:
            raise
        _read_csv(conn, readable, encoding, table, landed.MAX_LINE_BYTES)
    # The rows are stored in file order (DuckDB keeps insertion order), so a row's place is its rowid.
    # Numbered after the load rather than by `row_number() over ()` in it: that window made DuckDB hand
    # the parallel reader's rows through one thread, ~0.5 s of a 1M-line file's ~3.5 s ingest.
    conn.execute(f"alter table {ident(table)} add column _row_number bigint")
    conn.execute(f"update {ident(table)} set _row_number = rowid + 1")
    header = landed_header(conn, table)
    bad = conn.execute(
        f"""
        select line, min(line_byte_position), any_value(error_type order by column_idx), min(column_idx), max(column_idx),
            any_value(csv_line)
        from {ident(rejects)}
        group by line
        order by line
        """
    ).fetchall()
    if bad:
        _number_bad_csv_lines(conn, readable, table, header, bad)
    reject_duplicate_columns(conn, table, header, raw_header=lambda: _raw_csv_header(conn, readable, scans))


def _read_csv(conn: duckdb.DuckDBPyConnection, readable: Path, encoding: str, table: str, max_line_bytes: int) -> None:
    rejects, scans = f"{table}_rejects", f"{table}_reject_scans"
    for name in (rejects, scans):  # DuckDB appends to these on every scan, a failed one included
        conn.execute(f"drop table if exists {ident(name)}")
    conn.execute(
        f"create or replace temp table {ident(table)} as select * from read_csv(?, "
        f"all_varchar = true, header = true, encoding = ?, max_line_size = {max_line_bytes}, store_rejects = true, "
        f"rejects_table = {sql_string(rejects)}, rejects_scan = {sql_string(scans)})",
        [str(readable), encoding],
    )


def flag_unpaired_quotes(conn: duckdb.DuckDBPyConnection, readable: Path, table: str, header: list[str], scans: str) -> None:
    """Flag rows with a value that starts with a quote when the file was read without quoting.

    A quote that is never closed makes DuckDB's sniffer read the whole file
    without quoting: the broken line then looks whole, with the quote in its
    value, and a correctly quoted value elsewhere keeps its quotes ("SKU-1"
    with the quote marks). Neither may load as sent; both are quarantined as
    malformed_line, naming the column. Called only when some value starts
    with a quote (`values_to_look_at`), so a file without quotes costs no sniffing.
    """
    starts = [f"starts_with({ident(h)}, '\"')" for h in header]
    if _csv_dialect(conn, readable, scans)[1] is not None:
        return  # read with quoting: such a value was written with its quotes doubled, as the CSV standard says
    columns = ", ".join(f"case when {start} then {sql_string(h)} end" for start, h in zip(starts, header))
    conn.execute(
        f"""
        insert into {ident(flagged_rows_table(table))}
        select _row_number, {sql_string(MALFORMED_LINE)}, array_to_string(quoted, ', ') || ' starts with a quote mark, but a quote '
            || 'in this file is never closed, so it was read without quoting and the marks stayed in the values: close the open quote'
        from (select _row_number, list_filter([{columns}], lambda c: c is not null) as quoted from {ident(table)}) as found
        where quoted <> []
        """
    )


def _number_bad_csv_lines(conn: duckdb.DuckDBPyConnection, readable: Path, table: str, header: list[str], bad: list[tuple]) -> None:
    """Store the rejected lines in the bad-lines table and renumber the good rows around them.

    DuckDB numbers a rejected line among the file's records, counting the
    header and blank lines; the good rows come out in file order without
    numbers. A rejected line's row number is its record number less the
    header and the blank lines before it; the good rows take the numbers
    left free, in order. Its line in the file (what an editor shows) is
    counted from its byte position, so a value with a line break before it
    does not shift it.
    """
    counts = _line_counts_before(readable, [row[1] for row in bad])
    delimiter = _csv_dialect(conn, readable, f"{table}_reject_scans")[0]
    rows, previous = [], 0
    for (record, position, error_type, first_idx, last_idx, text), (newlines, blanks) in zip(bad, counts):
        number = max(int(record) - 1 - blanks, previous + 1)  # never a number twice, whatever the blank lines were
        previous = number
        line_number = newlines + 1
        text = (text or "").strip("\r\n")
        if "\0" in text:  # DuckDB ends a field at a NUL byte, so the line looks ragged: say what it holds
            code, reason = NUL_BYTE, _nul_line_reason(line_number, text, header, delimiter)
        else:
            code, reason = MALFORMED_LINE, _csv_line_reason(line_number, error_type, first_idx, last_idx, len(header))
        length = len(text) if len(text) < DUCKDB_REJECTED_LINE_CHARS else _line_length(readable, position)
        rows.append((number, line_number, code, reason, text, length))
    frame = pd.DataFrame(rows, columns=["_row_number", "line_number", "reason_code", "reason", "raw_line", "raw_length"])
    conn.register("crossdock_bad_csv_lines", frame)  # one insert, not one per line: a file can be all ragged lines
    try:
        conn.execute(f"insert into {ident(bad_lines_table(table))} select * from crossdock_bad_csv_lines")
    finally:
        conn.unregister("crossdock_bad_csv_lines")
    show_nul_in_bad_lines(conn, table)
    conn.execute(
        f"""
        update {ident(table)} set _row_number = slots.file_row
        from (
            select i as file_row, row_number() over (order by i) as good_row
            from range(1, (select count(*) from {ident(table)}) + {previous} + 1) as free(i)
            where i not in (select _row_number from {ident(bad_lines_table(table))})
        ) as slots
        where slots.good_row = {ident(table)}._row_number
        """
    )


def _nul_line_reason(line_number: int, text: str, header: list[str], delimiter: str) -> str:
    """A NUL byte's line: the column it falls in, counted by delimiters (quotes aside)."""
    place = text[: text.index("\0")].count(delimiter)
    column = f" in {header[place]}" if place < len(header) else ""
    return f"line {line_number:,} of the file holds a NUL byte (shown as ␀){column}"


def _fields(count: int) -> str:
    return f"{count} field" + ("" if count == 1 else "s")


def _csv_line_reason(line_number: int, error_type: str, first_idx: int, last_idx: int, fields: int) -> str:
    """What is wrong with a rejected CSV line, in the merchant's terms."""
    where = f"line {line_number:,} of the file"
    if error_type == "MISSING COLUMNS":
        return f"{where} has {_fields(first_idx)}, the header has {fields}: a field or a delimiter is missing"
    if error_type == "TOO MANY COLUMNS":
        return f"{where} has {_fields(last_idx)}, the header has {fields}: an extra delimiter, or a value that needs quotes"
    if error_type == "UNQUOTED VALUE":
        return f"{where} has a quoted value followed by other characters (a quote inside a value must be doubled)"
    if error_type == "INVALID ENCODING":
        return f"{where} is not valid text in the file's encoding"
    return f"{where} cannot be split into fields ({str(error_type).lower()})"


def _line_counts_before(path: Path, positions: list[int]) -> list[tuple[int, int]]:
    """(line breaks, blank lines) in the file's bytes before each byte position (ascending).

    Streams the file once in chunks, counting each byte once, so a file of
    any size (or one long line, or a million bad lines) takes bounded memory
    and linear time. A blank line is one with nothing but an optional
    carriage return; DuckDB skips those rows but counts them as records.
    """
    results: list[tuple[int, int]] = []
    counted = _Counted()
    pending = iter(positions)
    position = next(pending, None)
    with path.open("rb") as handle:
        while position is not None:
            chunk, cursor, start = handle.read(COUNT_CHUNK_BYTES), 0, counted.offset
            while position is not None and (position <= start + len(chunk) or not chunk):
                upto = max(cursor, min(len(chunk), position - start))
                counted.add(chunk[cursor:upto])
                cursor = upto
                results.append((counted.newlines, counted.blanks))
                position = next(pending, None)
            if not chunk:
                break
            counted.add(chunk[cursor:])
    return results


class _Counted:
    """Line breaks and blank lines in the bytes added so far, and how many bytes that was."""

    def __init__(self) -> None:
        self.newlines = self.blanks = self.offset = 0
        self.tail = b""  # the last bytes added, that a blank line may span

    def add(self, data: bytes) -> None:
        self.newlines += data.count(b"\n")
        self.blanks += len(BLANK_LINE.findall(self.tail + data)) - len(BLANK_LINE.findall(self.tail))
        self.tail = (self.tail + data)[-2:]
        self.offset += len(data)


BLANK_LINE = re.compile(rb"\n(?=\r?\n)")
DUCKDB_REJECTED_LINE_CHARS = 10_000  # DuckDB's rejects table keeps this much of a line


def _line_length(path: Path, position: int) -> int:
    """Bytes of the line DuckDB reports at `position` (its line_byte_position), up to its line break, streaming."""
    length = 0
    with path.open("rb") as handle:
        handle.seek(max(0, position - 1))
        chunk = handle.read(COUNT_CHUNK_BYTES).lstrip(b"\r\n")  # the position may point at the break before the line
        while chunk:
            end = chunk.find(b"\n")
            if end >= 0:
                return length + len(chunk[:end].rstrip(b"\r"))
            length += len(chunk)
            chunk = handle.read(COUNT_CHUNK_BYTES)
    return length


def _raw_csv_header(conn: duckdb.DuckDBPyConnection, readable: Path, scans: str) -> list[str] | None:
    """The header's names as sent, split with the dialect DuckDB sniffs; None if unknown.

    DuckDB renames a repeated column (sku, sku_1), so the names as sent are
    read again from the first line. Python's csv module splits that one
    line: DuckDB has no reader that returns the header uninterpreted.
    """
    delimiter, quote, escape, skip_rows = _csv_dialect(conn, readable, scans)
    with readable.open("r", encoding="utf-8-sig", newline="", errors="replace") as handle:
        for _ in range(skip_rows):
            handle.readline()
        reader = csv.reader(
            handle, delimiter=delimiter, quotechar=quote or '"', escapechar=escape,
            quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        )
        try:
            return next(reader)
        except (StopIteration, csv.Error):
            return None


def _csv_dialect(conn: duckdb.DuckDBPyConnection, readable: Path, scans: str) -> tuple[str, str | None, str | None, int]:
    """(delimiter, quote or None, escape or None, rows skipped before the header) the CSV was read with.

    The rejects scan table holds the dialect read_csv used, but only once a
    line was rejected; before, the sniffer is asked again (on a small or odd
    file it may then guess otherwise, which is why the scan table comes first).
    """
    used = conn.execute(f"select delimiter, quote, escape, skip_rows from {ident(scans)} limit 1").fetchall()
    delimiter, quote, escape, skip_rows = used[0] if used else conn.execute(
        "select Delimiter, Quote, Escape, SkipRows from sniff_csv(?)", [str(readable)]
    ).fetchall()[0]
    quote = None if quote in (None, "", "(empty)") else quote
    escape = None if escape in (None, "", "(empty)") or escape == quote else escape
    return delimiter, quote, escape, int(skip_rows or 0)


def landed_delimiter(conn: duckdb.DuckDBPyConnection, table: str = "landed") -> str | None:
    """The delimiter of the CSV last landed as `table` if it had bad lines; None for JSON Lines."""
    scans = f"{table}_reject_scans"
    exists = conn.execute("select 1 from duckdb_tables() where table_name = ? and temporary", [scans]).fetchall()
    if not exists:
        return None
    used = conn.execute(f"select delimiter from {ident(scans)} limit 1").fetchall()
    return used[0][0] if used else None
