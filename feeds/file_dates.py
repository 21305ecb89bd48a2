"""The date a landing file speaks for, which orders versions of the same row.

Exports arrive late and out of order: a re-sent January file must not
overwrite what a March file said. The date in the file's name (2026-03-15,
20260315, or 2026-03 meaning the end of March) is the export's as-of date;
a name with several dates (orders_2026-11-01_2026-11-30.csv) speaks for the
latest, the end of its period. Without one, the file's modification time is
the best we know.

No export can speak for a day that has not come yet. A name dated after
today (UTC, one day of slack for time zones ahead of UTC) would otherwise
outrank every later correction of its rows for years, silently; such a file
is taken as of today instead, and `future_date_note` says so for the ledger.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

_DAY = re.compile(r"(?<!\d)(20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
_MONTH = re.compile(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])(?![\d-])")
FUTURE_SLACK = dt.timedelta(days=1)  # a name in a time zone ahead of UTC may already be tomorrow's


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _named_days(name: str) -> list[dt.date]:
    days = []
    for match in _DAY.finditer(name):
        try:
            days.append(dt.date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:  # 2026-02-30 is no day
            continue
    return days


def _named_month_ends(name: str) -> list[dt.date]:
    ends = []
    for match in _MONTH.finditer(name):
        year, month = int(match[1]), int(match[2])
        ends.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
    return ends


def stated_date(path: Path) -> dt.date:
    """The date the file itself states: the latest day (else month end) in its name, else its modification time (UTC)."""
    named = _named_days(path.name) or _named_month_ends(path.name)
    if named:
        return max(named)
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).date()


def file_date(path: Path, today: dt.date | None = None) -> dt.date:
    """As-of date of a feed file: its stated date, or today when that is in the future."""
    today = today or utc_today()
    stated = stated_date(path)
    return today if stated > today + FUTURE_SLACK else stated


def future_date_note(path: Path, today: dt.date | None = None) -> str | None:
    """The ledger's note when the file's stated date was replaced by today's, else None."""
    today = today or utc_today()
    stated = stated_date(path)
    if stated <= today + FUTURE_SLACK:
        return None
    source = "file name" if _named_days(path.name) or _named_month_ends(path.name) else "file's modification time"
    return (
        f"{source} says {stated.isoformat()}, later than today: treated as {today.isoformat()}, "
        "so a later export can still correct its rows"
    )
