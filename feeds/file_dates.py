"""The date a landing file speaks for, which orders versions of the same row.

Exports arrive late and out of order: a re-sent January file must not
overwrite what a March file said. The date in the file's name (2026-03-15,
20260315, or 2026-03 meaning the end of March) is the export's as-of date;
without one, the file's modification time is the best we know.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

_DAY = re.compile(r"(?<!\d)(20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
_MONTH = re.compile(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])(?![\d-])")


def file_date(path: Path) -> dt.date:
    """As-of date of a feed file: from its name, else its modification time (UTC)."""
    name = path.name
    for match in _DAY.finditer(name):
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    month = _MONTH.search(name)
    if month:
        year, mon = int(month[1]), int(month[2])
        return dt.date(year, mon, calendar.monthrange(year, mon)[1])
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).date()
