"""The EU's TARIC extraction: the import duty measures of every goods code, as a workbook (or its CSV).

Where: the European Commission (DG TAXUD) publishes the TARIC extraction
monthly on CIRCABC, group "TARIC and Quota Data", library "TARIC Full
database": the workbook "Duties Import 01-99.xlsx" (columns Goods code, Add
code, Order No., Start date, End date, Red. Ind., Origin, Measure type, Legal
base, Duty, Origin code, Meas. type code). A CSV saved from that sheet reads
the same. Licence: Commission reuse policy (Decision 2011/833/EU): reuse
allowed with acknowledgement of the source.

Read: measure type 103 (third country duty) for ERGA OMNES (origin code
1011) as the MFN rate, and type 142 (tariff preference) for a single country.
Left out and counted: quotas (an order number), measures that depend on an
additional code, preferences for groups of countries (the group's members
are in another workbook), and every other measure type.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from compliance.tariffs.lines import TariffFile, lines_frame, measure_line

DESTINATION = "EU"
SOURCE = "EU TARIC extraction (European Commission, DG TAXUD), Duties Import; reuse under Decision 2011/833/EU"
REQUIRED = ("Goods code", "Start date", "End date", "Duty", "Origin code", "Meas. type code")


def _table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = pd.read_excel(path, dtype=str, engine="openpyxl")
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python", encoding="utf-8-sig")
    table = table.rename(columns=lambda c: str(c).strip())
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name} is not the TARIC 'Duties Import' sheet: no column {', '.join(missing)}")
    return table.fillna("")


def _code(value: object) -> str:
    """A cell that holds a code: '103', 103 or 103.0 are '103'."""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def read(path: Path) -> TariffFile:
    """The MFN and single-country preference lines of a TARIC Duties Import sheet."""
    skipped: Counter = Counter()
    records = []
    for row in _table(path).to_dict("records"):
        line = measure_line(
            DESTINATION, "EU", str(row["Goods code"]).strip().split(" ")[0],  # "0101210000 80": the code, its suffix
            _code(row["Meas. type code"]), _code(row["Origin code"]), _code(row.get("Order No.", "")),
            _code(row.get("Add code", "")), str(row["Duty"]), row["Start date"], row["End date"], skipped)
        if line is not None:
            records.append(line)
    return TariffFile(lines_frame(records), SOURCE, skipped)
