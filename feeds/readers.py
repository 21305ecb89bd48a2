"""Land a feed file into a temporary all-text table, whatever its format.

Everything is read as text first so that a bad value becomes a quarantine row
with a reason instead of an exception that loses the whole file.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from feeds.sql import ident

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")
GLOB_CHARACTERS = set("*?[]{}")


class UnreadableFile(Exception):
    """The file cannot be parsed at all (empty, binary, broken structure).

    `rows`: the lines read before it was given up, so the ledger counts them as rejected.
    """

    def __init__(self, message: str, rows: int = 0) -> None:
        super().__init__(message)
        self.rows = rows


def detect_encoding(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """'utf-8' (with or without BOM), 'utf-16' (BOM, either byte order) or 'latin-1'
    (any 8-bit legacy encoding: read as Windows-1252, else Latin-1).

    Merchants' tools still write Latin-1 (Excel's CSV on Windows); every byte
    sequence decodes as Latin-1, so it is the fallback once UTF-8 fails. The
    whole file is checked: one accented name on the last line decides.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        first = handle.read(chunk_bytes)
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        chunk = first
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = handle.read(chunk_bytes)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def is_utf8_path(path: Path) -> bool:
    """False for a name that is not UTF-8 on disk (a Latin-1 name from a Windows share)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_text(text: str) -> str:
    """Text safe to store or write: undecodable bytes of a file name shown as \\xNN."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def display_name(path: Path) -> str:
    """The file's name as text safe to store: undecodable bytes shown as \\xNN."""
    return safe_text(path.name)


@contextlib.contextmanager
def _readable_copy(path: Path, encoding: str) -> Iterator[tuple[Path, str]]:
    """A path DuckDB reads as exactly this one file, and the encoding to read it with.

    DuckDB treats `*?[]{}` in a path as a glob (a file called orders_*.csv
    would read its neighbours), and it decodes UTF-16 as little-endian only:
    such files are read through a copy in a private temp folder, UTF-16 ones
    transcoded to UTF-8.
    """
    if encoding == "utf-8" and not (GLOB_CHARACTERS & set(str(path))) and is_utf8_path(path):
        yield path, encoding
        return
    with tempfile.TemporaryDirectory(prefix="crossdock-land-") as folder:
        copy = Path(folder) / f"file{path.suffix.lower()}"
        if encoding == "utf-16":
            try:
                text = path.read_bytes().decode("utf-16")
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"{display_name(path)} starts with a UTF-16 byte-order mark but is not valid UTF-16: {exc.reason}") from exc
            copy.write_text(text, encoding="utf-8")
            encoding = "utf-8"
        elif encoding == "latin-1":
            # Excel on Western Windows writes Windows-1252 (euro sign, curly quotes in 0x80-0x9F),
            # which DuckDB's latin-1 refuses; bytes undefined there fall back to Latin-1
            raw = path.read_bytes()
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            copy.write_text(text, encoding="utf-8")
            encoding = "utf-8"
        else:
            shutil.copyfile(path, copy)
        yield copy, encoding


# --------------------------------------------------------------------------- limits and reason codes
MAX_LINE_BYTES = 64 << 20
"""The longest line read. DuckDB's default (2 MB) makes a longer line raise for the whole file,
naming line 1 whatever its place; longer than this is no feed line (a binary, a file without newlines)."""
MAX_VALUE_CHARS = 100_000
"""A longer value is no SKU, name or id: its row is quarantined (value_too_long), the value kept shortened."""
SHOWN_CHARS = 1_000
"""What the quarantine keeps of a bad line or an over-long value: enough to find and fix it, and a
50 MB line does not bloat the warehouse."""
NUL_SHOWN = "\u2400"  # ␀, how a NUL byte is shown: no NUL is ever stored (tools and terminals cut text at it)
COUNT_CHUNK_BYTES = 1 << 20

MALFORMED_LINE = "malformed_line"
NUL_BYTE = "nul_byte"
VALUE_TOO_LONG = "value_too_long"
LANDING_REASON_CODES = {
    MALFORMED_LINE: "the line cannot be read as a row (a CSV line with more or fewer fields than the header, a broken quote; "
    "a JSON line that is not one JSON object, or repeats a key); the reason names its line in the file",
    NUL_BYTE: "a value holds a NUL byte (shown as ␀); the reason names the column",
    VALUE_TOO_LONG: f"a value is longer than {MAX_VALUE_CHARS:,} characters; kept shortened",
}

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


class DuplicateColumns(UnreadableFile):
    """The header names a column twice: the file is rejected whole, `rows` lines unread.

    Rejected rather than quarantined row by row: which of the two values a
    line means cannot be known from any one line (every line would be
    quarantined with the same reason), and the fix is in the export's layout,
    not in its values.
    """


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
    quarantines these rows with the rest of the row checks (`quarantine_flagged_rows`).
    """
    return f"{table}_flags"


def shortened_sql(value: str, full_length: str | None = None) -> str:
    """SQL for `value` cut to SHOWN_CHARS, saying how long it was; `full_length` is SQL for
    the length as sent when `value` was cut before (DuckDB keeps 10,000 characters of a rejected line)."""
    length = full_length or f"length({value})"
    return (
        f"case when {length} > {SHOWN_CHARS} then left({value}, {SHOWN_CHARS}) || ' … [' || "
        f"format('{{:,}}', {length}) || ' characters, shortened]' else {value} end"
    )


def _without_nul_sql(value: str) -> str:
    return f"replace({value}, chr(0), {_sql_string(NUL_SHOWN)})"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def normalized_name(name: str) -> str:
    """A column name as the contracts match it: trimmed, without a BOM, lower case."""
    return name.strip().lstrip("\ufeff").lower()


def _select_all_as_text(conn: duckdb.DuckDBPyConnection, relation_sql: str, params: list) -> str:
    columns = [row[0] for row in conn.execute(f"describe select * from {relation_sql}", params).fetchall()]
    casts = ", ".join(f"cast({ident(c)} as varchar) as {ident(c)}" for c in columns)
    return f"select {casts} from {relation_sql}"


def _without_paths(message: str, name: str) -> str:
    """DuckDB's message naming the merchant's file, not the path it read (a private temp copy's means nothing)."""
    return re.sub(r"""(["'])/[^"']*\1""", lambda _: f"'{name}'", message)


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
    _create_bad_lines(conn, table)
    for name in (f"{table}_rejects", f"{table}_reject_scans"):  # DuckDB appends to these on every scan
        conn.execute(f"drop table if exists {ident(name)}")
    try:
        with _readable_copy(path, encoding) as (readable, encoding):
            if suffix in CSV_SUFFIXES:
                _land_csv(conn, readable, encoding, table)
            elif suffix == ".parquet":
                select = _select_all_as_text(conn, "read_parquet(?)", [str(readable)])
                conn.execute(
                    f"create or replace temp table {ident(table)} as select row_number() over () as _row_number, * from ({select})",
                    [str(readable)],
                )
                _reject_duplicate_columns(conn, table, _header(conn, table), raw_header=None)
            else:
                _land_json_lines(conn, readable, table)
            quoted, unsafe = _values_to_look_at(conn, table, _header(conn, table), quotes=suffix in CSV_SUFFIXES)
            if quoted:
                _flag_unpaired_quotes(conn, readable, table, _header(conn, table), f"{table}_reject_scans")
    except duckdb.Error as exc:
        if "Maximum line size" in str(exc):  # DuckDB's message names line 1 whatever the line's place
            raise UnreadableFile(
                f"cannot read {display_name(path)}: a line is longer than {MAX_LINE_BYTES >> 20} MB, the longest crossdock reads; "
                "a feed export has one row per line: is it the right file?"
            ) from exc
        raise UnreadableFile(f"cannot read {display_name(path)}: {_without_paths(str(exc).splitlines()[0], display_name(path))}") from exc
    header = _header(conn, table)
    if unsafe:
        _flag_unsafe_values(conn, table, header)
    return header


def _values_to_look_at(conn: duckdb.DuckDBPyConnection, table: str, header: list[str], quotes: bool) -> tuple[bool, bool]:
    """(a value starts with a quote mark (CSV only), a value holds a NUL byte or is over-long): one scan of
    the landed rows for both, as almost every file has neither and each scan cost ~4% of the ingest."""
    if not header:
        return False, False
    # bytes, not characters: never fewer
    unsafe = " or ".join(f"contains({ident(h)}, chr(0)) or strlen({ident(h)}) > {MAX_VALUE_CHARS}" for h in header)
    quoted = " or ".join(f"starts_with({ident(h)}, '\"')" for h in header) if quotes else "false"
    [(any_quoted, any_unsafe)] = conn.execute(f"select coalesce(bool_or({quoted}), false), coalesce(bool_or({unsafe}), false) from {ident(table)}").fetchall()
    return bool(any_quoted), bool(any_unsafe)


def _header(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in conn.execute(f"describe {ident(table)}").fetchall() if row[0] != "_row_number"]


def _create_bad_lines(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    conn.execute(
        f"create or replace temp table {ident(bad_lines_table(table))} "
        "(_row_number bigint, line_number bigint, reason_code varchar, reason varchar, raw_line varchar, raw_length bigint)"
    )
    conn.execute(f"create or replace temp table {ident(flagged_rows_table(table))} (_row_number bigint, reason_code varchar, reason varchar)")


# --------------------------------------------------------------------------- CSV
def _land_csv(conn: duckdb.DuckDBPyConnection, readable: Path, encoding: str, table: str) -> None:
    """Read a CSV with DuckDB's own reject machinery: a line it cannot split into the header's
    fields is stored in a rejects table (with its line and byte position) instead of failing
    the file, and the lines around it are read.

    The delimiter and quoting are sniffed by DuckDB; the encoding is ours to say.
    """
    rejects, scans = f"{table}_rejects", f"{table}_reject_scans"
    conn.execute(
        f"create or replace temp table {ident(table)} as select row_number() over () as _row_number, * from read_csv(?, "
        f"all_varchar = true, header = true, encoding = ?, max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        f"rejects_table = {_sql_string(rejects)}, rejects_scan = {_sql_string(scans)})",
        [str(readable), encoding],
    )
    header = _header(conn, table)
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
    _reject_duplicate_columns(conn, table, header, raw_header=lambda: _raw_csv_header(conn, readable, scans))


def _flag_unpaired_quotes(conn: duckdb.DuckDBPyConnection, readable: Path, table: str, header: list[str], scans: str) -> None:
    """Flag rows with a value that starts with a quote when the file was read without quoting.

    A quote that is never closed makes DuckDB's sniffer read the whole file
    without quoting: the broken line then looks whole, with the quote in its
    value, and a correctly quoted value elsewhere keeps its quotes ("SKU-1"
    with the quote marks). Neither may load as sent; both are quarantined as
    malformed_line, naming the column. Called only when some value starts
    with a quote (`_values_to_look_at`), so a file without quotes costs no sniffing.
    """
    starts = [f"starts_with({ident(h)}, '\"')" for h in header]
    if _csv_dialect(conn, readable, scans)[1] is not None:
        return  # read with quoting: such a value was written with its quotes doubled, as the CSV standard says
    columns = ", ".join(f"case when {start} then {_sql_string(h)} end" for start, h in zip(starts, header))
    conn.execute(
        f"""
        insert into {ident(flagged_rows_table(table))}
        select _row_number, {_sql_string(MALFORMED_LINE)}, array_to_string(quoted, ', ') || ' starts with a quote mark, but a quote '
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
    _show_nul_in_bad_lines(conn, table)
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


def _show_nul_in_bad_lines(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Bad lines are kept whole until the ingest has hidden their personal values (then it shortens them)."""
    conn.execute(f"update {ident(bad_lines_table(table))} set raw_line = {_without_nul_sql('raw_line')} where contains(raw_line, chr(0))")


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


def _reject_duplicate_columns(
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


# --------------------------------------------------------------------------- JSON Lines
def _land_json_lines(conn: duckdb.DuckDBPyConnection, readable: Path, table: str) -> None:
    """Read JSON Lines line by line, so one broken line (a truncated last line, a line that is
    not an object, a key written twice) is quarantined and the others load.

    read_json stops at the first bad line and does not say which. DuckDB's CSV
    reader with no delimiter and no quoting returns the file's lines with
    their numbers, streaming; its JSON functions check and split each line.
    Every value is read as text (json_transform to VARCHAR, as read_json with
    VARCHAR columns did): type detection would rewrite values (a timestamp
    string comes back converted to UTC, losing the local day).
    """
    lines = f"{table}_lines"
    conn.execute(
        f"create or replace temp table {ident(lines)} as select row_number() over () as line_number, line from read_csv(?, "
        "columns = {'line': 'VARCHAR'}, header = false, delim = '\\0', quote = '', escape = '', auto_detect = false, "
        f"strict_mode = false, max_line_size = {MAX_LINE_BYTES}, encoding = 'utf-8')",
        [str(readable)],
    )
    conn.execute(
        f"""
        create or replace temp table {ident(lines + '_checked')} as
        select row_number() over (order by line_number) as _row_number, line_number, line,
            case
                when doc is null then 'is not JSON' || case when line_number = (select max(line_number) from {ident(lines)})
                    then ' (it is the last line: was the file cut short?)' else '' end
                when json_type(doc) <> 'OBJECT' then 'is not a JSON object but ' || lower(json_type(doc))
                when len(json_keys(doc)) <> len(list_distinct(json_keys(doc))) then 'names a key twice: '
                    || list_filter(json_keys(doc), lambda k, i: list_position(json_keys(doc), k) < i)[1]
            end as problem
        from (select line_number, line, try_cast(line as json) as doc from {ident(lines)}) as parsed
        where trim(coalesce(line, ''), ' \t\r') <> ''
        """
    )
    conn.execute(
        f"insert into {ident(bad_lines_table(table))} select _row_number, line_number, {_sql_string(MALFORMED_LINE)}, "
        f"'line ' || format('{{:,}}', line_number) || ' of the file ' || problem, rtrim(line, chr(13)), length(rtrim(line, chr(13))) "
        f"from {ident(lines + '_checked')} where problem is not null"
    )
    _show_nul_in_bad_lines(conn, table)
    keys = [
        row[0]
        for row in conn.execute(
            f"""
            select key from (
                select unnest(json_keys(line)) as key, line_number, generate_subscripts(json_keys(line), 1) as place
                from {ident(lines + '_checked')} where problem is null
            ) group by key order by min(line_number * 1000000 + place)
            """
        ).fetchall()
    ]
    if not keys:  # nothing to load: the file is rejected, saying why its first line is not a row
        bad = conn.execute(f"select count(*), min_by(reason, _row_number) from {ident(bad_lines_table(table))}").fetchall()[0]
        raise UnreadableFile(f"no line is a JSON object; {bad[1]}" if bad[0] else "no JSON objects found", rows=bad[0])
    structure = json.dumps({key: "VARCHAR" for key in keys})
    conn.execute(
        f"create or replace temp table {ident(table)} as select _row_number, unnest(json_transform(line, ?)) "
        f"from {ident(lines + '_checked')} where problem is null order by _row_number",
        [structure],
    )
    for helper in (lines, lines + "_checked"):  # each holds the whole file's text
        conn.execute(f"drop table {ident(helper)}")


# --------------------------------------------------------------------------- values not to store as sent
def _flag_unsafe_values(conn: duckdb.DuckDBPyConnection, table: str, header: list[str]) -> None:
    """List rows with a NUL byte or an over-long value in `flagged_rows_table(table)`, and make
    their values safe to keep in the quarantine record: NUL shown as ␀, long values shortened.

    A NUL byte cuts the value short in most tools downstream (C strings,
    terminals, the BI copies), so the row is not loaded: the merchant is told
    which column holds it.
    """
    flags = ident(flagged_rows_table(table))
    # called only when a cheap pass found such a value (`_values_to_look_at`), as almost every file has none:
    # the lists below, built for every row, cost more than reading the file
    nul = [f"case when contains({ident(h)}, chr(0)) then {_sql_string(h)} end" for h in header]
    long = [f"case when length({ident(h)}) > {MAX_VALUE_CHARS} then {_sql_string(h)} end" for h in header]
    conn.execute(
        f"""
        insert into {flags}
        select _row_number,
            case when nul_columns <> [] then {_sql_string(NUL_BYTE)} else {_sql_string(VALUE_TOO_LONG)} end,
            concat_ws('; ',
                case when nul_columns <> [] then 'a NUL byte (shown as ␀) in ' || array_to_string(nul_columns, ', ') end,
                case when long_columns <> [] then 'a value longer than {MAX_VALUE_CHARS:,} characters in '
                    || array_to_string(long_columns, ', ') || ' (kept shortened)' end)
        from (
            select _row_number, list_filter([{', '.join(nul)}], lambda c: c is not null) as nul_columns,
                list_filter([{', '.join(long)}], lambda c: c is not null) as long_columns
            from {ident(table)}
        ) as found
        where nul_columns <> [] or long_columns <> []
        """
    )
    if conn.execute(f"select count(*) from {flags} where reason_code <> {_sql_string(MALFORMED_LINE)}").fetchall()[0][0]:
        safe = ", ".join(f"{ident(h)} = {shortened_sql(_without_nul_sql(ident(h)))}" for h in header)
        conn.execute(f"update {ident(table)} set {safe} where _row_number in (select _row_number from {flags})")


def quarantine_flagged_rows(conn: duckdb.DuckDBPyConnection, checked: str = "checked", table: str = "landed") -> None:
    """Quarantine the rows `land_file` flagged (NUL byte, over-long value) in the row checks' table.

    Their reason comes first and the contract's own findings follow, so a
    merchant fixing the line sees every problem at once.
    """
    flags = ident(flagged_rows_table(table))
    conn.execute(
        f"""
        update {ident(checked)} set reason_code = flags.reason_code,
            reason = flags.reason || coalesce('; ' || {ident(checked)}.reason, '')
        from (
            select _row_number, min(reason_code) as reason_code, string_agg(reason, '; ' order by reason_code) as reason
            from {flags} group by _row_number
        ) as flags
        where flags._row_number = {ident(checked)}._row_number
        """
    )


# --------------------------------------------------------------------------- personal values in a bad line
def landed_delimiter(conn: duckdb.DuckDBPyConnection, table: str = "landed") -> str | None:
    """The delimiter of the CSV last landed as `table` if it had bad lines; None for JSON Lines."""
    scans = f"{table}_reject_scans"
    exists = conn.execute("select 1 from duckdb_tables() where table_name = ? and temporary", [scans]).fetchall()
    if not exists:
        return None
    used = conn.execute(f"select delimiter from {ident(scans)} limit 1").fetchall()
    return used[0][0] if used else None


def masked_line(text: str, header: list[str], personal: list[str], delimiter: str | None, mask: Callable[[str], str]) -> str:
    """A bad line with the values of its personal columns replaced by `mask(value)`.

    The line could not be split as the header says, so where a value sits is
    a guess: in a CSV line with as many fields as the header, the personal
    columns' fields; otherwise every field from the first place a personal
    value can have shifted to (a missing field moves it left, an extra one
    right), so nothing personal is kept in clear. In a JSON line, the value
    after each personal key.
    """
    if delimiter is None:
        for key in personal:
            quoted = json.dumps(key)
            pattern = re.compile(re.escape(quoted) + r'(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]*)')
            text = pattern.sub(lambda m, q=quoted: f'{q}{m[1]}"{mask(m[2].strip(chr(34)))}"' if m[2] else m[0], text)
        return text
    try:
        fields = next(csv.reader([text], delimiter=delimiter))
    except (csv.Error, StopIteration):
        fields = text.split(delimiter)
    places = [i for i, h in enumerate(header) if h in personal]
    if not places:
        return text
    if len(fields) == len(header):
        hidden = set(places)
    else:
        start = max(0, min(places) - max(0, len(header) - len(fields)))
        hidden = set(range(start, len(fields)))
    return delimiter.join(mask(f) if i in hidden and f else f for i, f in enumerate(fields))
