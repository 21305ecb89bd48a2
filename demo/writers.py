"""Write landing files exactly as the feed contracts expect them.

Files appear atomically (written under a hidden temporary name, then renamed)
so a file-arrival sensor never ingests half a file, and with fixed formatting
(UTF-8, '\\n' line ends, money already formatted as text) so the same data is
always the same bytes, and the same content hash at ingest.
"""
from __future__ import annotations

import os
from datetime import date, datetime, time, timezone
from pathlib import Path

import pandas as pd


def _replace_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def date_export(path: Path, day: date) -> None:
    """Set the modification time of a file whose name gives no date to noon UTC of `day`, the day it speaks for.

    The ingest dates such a file by its modification time (feeds/file_dates.py):
    written today, the tidy demo's supplier files (`catalogue_2026.csv`) said
    they were exported today, weeks after the last order day, and the run's
    "files dated" range ended on the day the demo was generated.
    """
    noon = datetime.combine(day, time(12), tzinfo=timezone.utc).timestamp()
    os.utime(path, (noon, noon))


def write_csv(frame: pd.DataFrame, path: Path, columns: list[str]) -> int:
    """Write `columns` of `frame` as a comma-separated UTF-8 file with a header; returns rows."""
    text = frame[columns].to_csv(index=False, lineterminator="\n")
    _replace_atomically(path, text.encode("utf-8"))
    return len(frame)


def write_jsonl(frame: pd.DataFrame, path: Path, columns: list[str]) -> int:
    """Write `columns` of `frame` as JSON Lines, keys in `columns` order; returns rows.

    All values are plain strings the generator made itself (no quotes,
    backslashes or control characters), so the lines are assembled directly,
    which is much faster than serialising row by row and keeps '/' unescaped.
    """
    sub = frame[columns].astype(str)
    for c in columns:
        bad = sub[c].str.contains(r'["\\\x00-\x1f]', regex=True)
        if bad.any():
            raise ValueError(f"{path.name}: column {c} holds characters that need JSON escaping")
    line = pd.Series("{", index=sub.index)
    for i, c in enumerate(columns):
        line = line + ("" if i == 0 else ",") + f'"{c}":"' + sub[c] + '"'
    text = "\n".join((line + "}").tolist()) + ("\n" if len(sub) else "")
    _replace_atomically(path, text.encode("utf-8"))
    return len(frame)


def write_by_month(frame: pd.DataFrame, folder: Path, stem: str, suffix: str, columns: list[str],
                   month_column: str = "_month") -> dict[str, int]:
    """One file per calendar month, named `{stem}_YYYY-MM{suffix}`; returns rows per file name."""
    writer = write_jsonl if suffix == ".jsonl" else write_csv
    written: dict[str, int] = {}
    for month, part in frame.groupby(month_column, sort=True):
        name = f"{stem}_{month}{suffix}"
        written[name] = writer(part, folder / name, columns)
    return written
