"""The Harmonized Tariff Schedule of the United States, as the USITC exports it (CSV or JSON).

Where: https://hts.usitc.gov, "Export" (the whole schedule or chapters), as
CSV (columns "HTS Number", "General Rate of Duty", "Special Rate of Duty", ...)
or JSON (objects with htsno, general, special, ...). Licence: a work of the US
government, in the public domain (17 U.S.C. 105). The export has no dates:
the whole file is the schedule as of its revision, so its rows get the
file's date and no end date.

Read: the column 1 general rate of every line that has one (the MFN rate;
statistical suffix lines without a rate inherit their 8-digit line's, which
is already read), and from the special column the programs that name one
free trade partner (or USMCA's two), listed in PROGRAM_ORIGINS. Left out and
counted: programs for many beneficiaries (GSP, AGOA, CBERA, ...). The
additional duties of Chapter 99 (Section 301, 232, the 2025 reciprocal
tariffs) are rows of chapter 99, which is left out with chapter 98 (special
classification provisions): neither is an HS chapter.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from compliance.tariffs.lines import MFN, TariffFile, lines_frame

DESTINATION = "US"
SOURCE = "USITC Harmonized Tariff Schedule export; US government work, public domain"

# Special program indicators of HTS General Note 3(c)(i) that name their partner countries.
PROGRAM_ORIGINS: dict[str, str] = {
    "AU": "AU", "BH": "BH", "CL": "CL", "CO": "CO", "IL": "IL", "JO": "JO", "JP": "JP", "KR": "KR",
    "MA": "MA", "OM": "OM", "PA": "PA", "PE": "PE", "SG": "SG",
    "S": "CA MX", "S+": "CA MX",  # USMCA
    "P": "CR DO GT HN NI SV", "P+": "CR DO GT HN NI SV",  # CAFTA-DR
}
_SPECIAL_GROUP = re.compile(r"([^()]+?)\s*\(([^)]*)\)")
SPECIAL_CHAPTERS = ("98", "99")  # not HS: special classification provisions and temporary additional duties
CSV_COLUMNS = {"HTS Number": "htsno", "General Rate of Duty": "general", "Special Rate of Duty": "special"}


def _table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".json":
        records = json.loads(path.read_text(encoding="utf-8-sig"))
        table = pd.DataFrame(records, dtype=str)
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").rename(columns=CSV_COLUMNS)
    missing = [c for c in ("htsno", "general", "special") if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name} is not a USITC HTS export (CSV or JSON): no column "
                         f"{', '.join(missing)} (CSV headers 'HTS Number', 'General Rate of Duty', "
                         f"'Special Rate of Duty')")
    return table.fillna("")


def special_rates(special: str) -> list[tuple[str, str]]:
    """(rate, program) pairs of a special column: 'Free (AU,S,SG) 3.2% (KR)' -> [('Free', 'AU'), ..., ('3.2%', 'KR')]."""
    return [(rate.strip(), program.strip()) for rate, programs in _SPECIAL_GROUP.findall(special)
            for program in programs.split(",") if program.strip()]


def read(path: Path) -> TariffFile:
    """The general and single-partner special rates of an HTS export."""
    skipped: Counter = Counter()
    records = []
    for row in _table(path).itertuples(index=False):
        code, general = str(row.htsno).strip(), str(row.general).strip()
        if not code:
            continue
        if code[:2] in SPECIAL_CHAPTERS:
            skipped["chapter 98 or 99 (special provisions, additional duties)"] += 1
            continue
        if not general:
            skipped["no rate on the line (a heading or a statistical suffix)"] += 1
            continue
        base = {"destination": DESTINATION, "code": code, "effective_from": None, "effective_to": None}
        records.append({**base, "agreement": MFN, "qualifying_origins": None, "duty_expression": general})
        for rate, program in special_rates(str(row.special)):
            origins = PROGRAM_ORIGINS.get(program)
            if origins is None:
                skipped["special program for many beneficiaries"] += 1
                continue
            records.append({**base, "agreement": f"US special {program}", "qualifying_origins": origins,
                            "duty_expression": rate})
    return TariffFile(lines_frame(records), SOURCE, skipped)
