"""Load an official tariff into the reference data: read its files, keep what is in force on its date, store.

A border's tariff is one load: the whole schedule in one file, or its
chapters as several files of one export loaded together (a later load
replaces the border's rows, so loading chapter 64 after chapter 61 would keep
only 64; the report warns when a load covers far fewer headings than the one
it replaces).

The rows' as-of date is the file's date: the date given, else one written in
the file's name (2026-11-30 or 20261130, as the publishers name their
extracts), else the day the file was saved (its modification time), and
the report says which, so an old download is never taken for today's tariff.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from compliance.tariffs import eu_taric, uk_trade_tariff, us_hts
from compliance.tariffs.lines import TariffFile, in_force, lost_zero_unexplained
from compliance.tariffs.store import loaded, store, tariff_rows
from crossdock.engine import WarehouseLike

READERS: dict[str, tuple[str, Callable[[Path], TariffFile]]] = {
    "uk": (uk_trade_tariff.DESTINATION, uk_trade_tariff.read),
    "us": (us_hts.DESTINATION, us_hts.read),
    "eu": (eu_taric.DESTINATION, eu_taric.read),
}
_DATE_IN_NAME = re.compile(r"(20\d\d)-?([01]\d)-?([0-3]\d)")
SHRINK_WARNING = 0.5  # a load covering fewer than half the headings of the one it replaces is named


@dataclass(frozen=True)
class LoadReport:
    destination: str
    file: str
    as_of: dt.date
    as_of_from: str  # "given", "file name" or "file modified"
    lines_read: int
    lines_in_force: int
    rows_stored: int
    unpriced_rows: int  # rows whose duty is not a plain ad valorem rate (kept, rate unknown)
    skipped: Counter
    headings_before: int = 0  # headings of the border's earlier load, 0 when there was none
    headings_now: int = 0

    def lines(self) -> list[str]:
        """The report as a person reads it."""
        out = [f"{self.destination} tariff from {self.file}, as of {self.as_of} ({self.as_of_from}): "
               f"{self.lines_read} lines read, {self.lines_in_force} in force on that day, "
               f"{self.rows_stored} rows stored (one per heading or subheading and agreement), "
               f"replacing any earlier {self.destination} tariff"]
        if self.unpriced_rows:
            out.append(f"  {self.unpriced_rows} rows have a duty that is not a plain ad valorem rate (per kg, "
                       "per item, compound): their rate is unknown, not 0")
        out += [f"  left out: {n} {reason}" for reason, n in sorted(self.skipped.items())]
        if self.headings_now < SHRINK_WARNING * self.headings_before:
            out.append(f"  warning: the earlier {self.destination} tariff covered {self.headings_before} headings, "
                       f"this one covers {self.headings_now}; if it is some chapters of the schedule, load all of them "
                       "in one command (crossdock tariff load FILE FILE ...)")
        return out


def file_date(path: Path, given: dt.date | None) -> tuple[dt.date, str]:
    """The file's date and where it came from."""
    if given is not None:
        return given, "given"
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            return dt.date(*map(int, match.groups())), "file name"
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).date(), "file modified"


def _read(path: Path, source: str) -> TariffFile:
    if not path.is_file():
        raise FileNotFoundError(f"no tariff file at {path}")
    try:
        return READERS[source][1](path)
    except (pd.errors.ParserError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path.name} could not be read as the {source} tariff layout (docs/tariffs.md): "
                         f"{str(error).strip()}") from error
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from error


def load_tariff(target: WarehouseLike, path: Path | Sequence[Path], source: str, as_of: dt.date | None = None
                ) -> LoadReport:
    """Read the file (or the files of one export) with the reader of `source` (uk, us, eu) and replace that
    destination's loaded tariff; the date is `as_of`, else the first file's."""
    if source not in READERS:
        raise ValueError(f"unknown tariff source {source!r}: one of {', '.join(READERS)}")
    paths = [path] if isinstance(path, Path) else list(path)
    destination = READERS[source][0]
    files = [_read(p, source) for p in paths]
    lines = pd.concat([f.lines for f in files], ignore_index=True)
    skipped = sum((f.skipped for f in files), Counter())
    codes = lines["code"].value_counts(dropna=False)  # a tariff repeats its codes: judge each once
    unexplained = int(codes[[lost_zero_unexplained(code) for code in codes.index]].sum())
    if unexplained:
        skipped["lines whose code has an odd number of digits that no lost leading zero explains (a digit missing?)"] += unexplained
    tariff = TariffFile(lines, files[0].source, skipped)
    day, day_from = file_date(paths[0], as_of)
    names = ", ".join(p.name for p in paths)
    rows = tariff_rows(tariff, names, day)
    if rows.empty:
        raise ValueError(f"{names}: no duty line in force on {day} (of {len(tariff.lines)} read); "
                         "check the file's date (--as-of) and that it is the whole tariff; nothing was replaced")
    before = loaded(target)
    headings_before = before.loc[before["destination"] == destination, "hs_heading"].nunique()
    stored = store(target, rows, destination)
    current = len(in_force(tariff.lines, day))
    unpriced = int((rows["mfn_rate"].isna() & rows["preferential_rate"].isna()).sum())
    return LoadReport(destination, names, day, day_from, len(tariff.lines), current, stored, unpriced,
                      tariff.skipped, int(headings_before), int(rows["hs_heading"].nunique()))
