"""An owner's update of an exception, written as a file into landing/exceptions/ (never into the warehouse).

The update takes the road of any feed file (dashboard/landed_csv.py says
why): a CSV that follows the `exception_updates` contract (docs/feeds.md),
picked up by the next run's ingest, checked, and kept in raw as the
exception's history.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from crossdock.plan_labels import EXCEPTION_STATUSES
from dashboard.landed_csv import landed_file_name, write_landed_csv

FEED = "exceptions"
PREFIX = "exception_updates"
COLUMNS: tuple[str, ...] = ("exception_id", "updated_at", "updated_by", "status", "owner", "note")
"""feeds.contracts.EXCEPTION_UPDATES' columns, in order (tests/test_dashboard_exceptions.py holds them equal)."""


def update_file_name(author: str, at: dt.datetime) -> str:
    """exception_updates_<UTC time>_<author>.csv: the contract's prefix, and a date the ingest reads as the file's."""
    return landed_file_name(PREFIX, author, at)


def write_update(
    landing: Path, exception_id: str, status: str, updated_by: str, owner: str | None = None, note: str | None = None,
    at: dt.datetime | None = None,
) -> Path:
    """Write one update as a new file in `landing`/exceptions/; returns its path.

    Raises ValueError, writing nothing, on an empty id or author or a status the contract does not allow.
    owner empty keeps the current owner (the contract's meaning).
    """
    exception_id, updated_by = exception_id.strip(), updated_by.strip()
    if not exception_id:
        raise ValueError("which exception? the id is empty")
    if not updated_by:
        raise ValueError("say who you are: the update's author is empty")
    if status not in EXCEPTION_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(EXCEPTION_STATUSES)}")
    at = at or dt.datetime.now(dt.timezone.utc)
    row = (exception_id, at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), updated_by, status,
           (owner or "").strip(), (note or "").strip())
    return write_landed_csv(landing, FEED, PREFIX, updated_by, COLUMNS, [row], at)
