"""An owner's update of an exception, written as a file into landing/exceptions/ (never into the warehouse).

The dashboard reads a read-only snapshot and must never block or bypass a
run, so an update takes the same road as any feed: a CSV that follows the
`exception_updates` contract (docs/feeds.md), picked up by the next run's
ingest (the landing sensor starts one), checked, and kept in raw as the
exception's history. It is written under a hidden name first and renamed, so
an ingest never reads half a file.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
from pathlib import Path

from crossdock.plan_labels import EXCEPTION_STATUSES

FEED = "exceptions"
COLUMNS: tuple[str, ...] = ("exception_id", "updated_at", "updated_by", "status", "owner", "note")
"""feeds.contracts.EXCEPTION_UPDATES' columns, in order (tests/test_dashboard_exceptions.py holds them equal)."""


def _slug(author: str) -> str:
    """The author as a file-name part: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", author.strip()).strip("-")[:40] or "someone"


def update_file_name(author: str, at: dt.datetime) -> str:
    """exception_updates_<UTC time>_<author>.csv: the contract's prefix, and a date the ingest reads as the file's."""
    return f"exception_updates_{at.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}_{_slug(author)}.csv"


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
    folder = landing / FEED
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / update_file_name(updated_by, at)
    if target.exists():  # two updates by one author in the same second: keep both
        target = target.with_name(target.stem + f"_{at.astimezone(dt.timezone.utc):%f}.csv")
    part = folder / f".{target.name}.part"  # hidden: the ingest skips it until the rename
    with part.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerow([exception_id, at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), updated_by, status,
                         (owner or "").strip(), (note or "").strip()])
    os.replace(part, target)
    return target
