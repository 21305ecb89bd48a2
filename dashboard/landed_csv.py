"""A CSV the dashboard writes into a landing feed folder, the way any feed file arrives.

The dashboard reads a read-only snapshot and must never block or bypass a
run, so what a person enters (an override, an exception's update) takes the
road of every feed: a file that follows the feed's contract (docs/feeds.md),
picked up by the next run's ingest, checked, and kept in raw as history. It is
written under a hidden name first and renamed, so an ingest never reads half a
file; its name carries the UTC time, which the ingest reads as the file's date.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path


def author_slug(author: str) -> str:
    """The author as a file-name part: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", author.strip()).strip("-")[:40] or "someone"


def landed_file_name(prefix: str, author: str, at: dt.datetime) -> str:
    """<prefix>_<UTC time>_<author>.csv: the contract's prefix, and a date the ingest reads as the file's."""
    return f"{prefix}_{at.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}_{author_slug(author)}.csv"


def write_landed_csv(landing: Path, feed: str, prefix: str, author: str, columns: Sequence[str],
                     rows: Sequence[Sequence[object]], at: dt.datetime) -> Path:
    """Write `rows` under `columns` as a new file in `landing`/`feed`/; returns its path. Never replaces a file:
    two entries by one author in the same second are both kept."""
    folder = landing / feed
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / landed_file_name(prefix, author, at)
    if target.exists():
        target = target.with_name(target.stem + f"_{at.astimezone(dt.timezone.utc):%f}.csv")
    part = folder / f".{target.name}.part"  # hidden: the ingest skips it until the rename
    with part.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    os.replace(part, target)
    return target
