"""Land a feed file into a temporary all-text table, whatever its format.

Everything is read as text first so that a bad value becomes a quarantine row
with a reason instead of an exception that loses the whole file.
"""
from __future__ import annotations

import codecs
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from feeds.sql import ident

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")
GLOB_CHARACTERS = set("*?[]{}")


class UnreadableFile(Exception):
    """The file cannot be parsed at all (empty, binary, broken structure)."""


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


def _json_lines_as_text(conn: duckdb.DuckDBPyConnection, path: str) -> str:
    """read_json with every key as VARCHAR: its type detection would rewrite values
    (a timestamp string comes back converted to UTC, losing the local day)."""
    keys = [row[0] for row in conn.execute("describe select * from read_json(?, format = 'newline_delimited')", [path]).fetchall()]
    if not keys:
        raise UnreadableFile("no JSON objects found")
    columns = "{" + ", ".join(f"{_sql_string(k)}: 'VARCHAR'" for k in keys) + "}"
    return f"select * from read_json(?, format = 'newline_delimited', columns = {columns})"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _select_all_as_text(conn: duckdb.DuckDBPyConnection, relation_sql: str, params: list) -> str:
    columns = [row[0] for row in conn.execute(f"describe select * from {relation_sql}", params).fetchall()]
    casts = ", ".join(f"cast({ident(c)} as varchar) as {ident(c)}" for c in columns)
    return f"select {casts} from {relation_sql}"


def land_file(conn: duckdb.DuckDBPyConnection, path: Path, table: str = "landed") -> list[str]:
    """Create temp table `table` with `_row_number` and every column as text; return the header.

    Call it outside a transaction: a file DuckDB fails to read half-way would
    otherwise abort the transaction the ledger row is written in.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type '{suffix}'; expected one of {', '.join(SUPPORTED_SUFFIXES)}")
    encoding = detect_encoding(path) if suffix in (".csv", ".txt", ".tsv", ".jsonl", ".ndjson", ".json") else "binary"
    try:
        with _readable_copy(path, encoding) as (readable, encoding):
            params: list = [str(readable)]
            if suffix in (".csv", ".txt", ".tsv"):
                # the delimiter and quoting are sniffed by DuckDB; the encoding is ours to say
                params.append(encoding)
                select = "select * from read_csv(?, all_varchar = true, header = true, encoding = ?)"
            elif suffix == ".parquet":
                select = _select_all_as_text(conn, "read_parquet(?)", params)
            else:
                select = _json_lines_as_text(conn, str(readable))
            conn.execute(f"create or replace temp table {table} as select row_number() over () as _row_number, * from ({select})", params)
    except duckdb.Error as exc:
        raise UnreadableFile(f"cannot read {display_name(path)}: {str(exc).splitlines()[0]}") from exc
    return [row[0] for row in conn.execute(f"describe {table}").fetchall() if row[0] != "_row_number"]
