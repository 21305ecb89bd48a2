"""A landing file's encoding, and a copy DuckDB reads as exactly that file, in UTF-8."""
from __future__ import annotations

import codecs
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from feeds.landed import UnreadableFile, display_name

GLOB_CHARACTERS = set("*?[]{}")


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


@contextlib.contextmanager
def readable_copy(path: Path, encoding: str) -> Iterator[tuple[Path, str]]:
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


def has_mixed_line_endings(path: Path, chunk_bytes: int = 1 << 20) -> bool:
    """Whether some lines end in CRLF (Windows) and others in a bare LF: rows appended by another tool."""
    windows = unix = False
    carriage_return_before = False
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            pairs = chunk.count(b"\r\n") + (carriage_return_before and chunk.startswith(b"\n"))
            windows, unix = windows or pairs > 0, unix or chunk.count(b"\n") > pairs
            if windows and unix:
                return True
            carriage_return_before = chunk.endswith(b"\r")
    return False


@contextlib.contextmanager
def unix_line_endings(path: Path, chunk_bytes: int = 1 << 20) -> Iterator[Path]:
    """A private copy of `path` with every CRLF that ends a line as LF: the same lines, one line ending.

    A CRLF inside a quoted value is part of the value and stays: the cell
    loads as the same text whether or not another tool appended lines.
    """
    with tempfile.TemporaryDirectory(prefix="crossdock-lf-") as folder:
        copy = Path(folder) / f"file{path.suffix.lower()}"
        in_quotes = False
        with path.open("rb") as source, copy.open("wb") as target:
            held = b""
            while chunk := source.read(chunk_bytes):
                chunk = held + chunk
                held = b"\r" if chunk.endswith(b"\r") else b""  # its LF may open the next chunk
                parts = chunk[: len(chunk) - len(held)].split(b'"')
                # part i is inside quotes when the quotes before it (i of them, and the state carried in) are odd
                target.write(b'"'.join(part if in_quotes != (i % 2 == 1) else part.replace(b"\r\n", b"\n")
                                       for i, part in enumerate(parts)))
                in_quotes ^= (len(parts) - 1) % 2 == 1
            target.write(held)
        yield copy
