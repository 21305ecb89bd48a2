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

from compliance.tariffs.lines import MFN, TariffFile, day, lines_frame

DESTINATION = "EU"
SOURCE = "EU TARIC extraction (European Commission, DG TAXUD), Duties Import; reuse under Decision 2011/833/EU"
THIRD_COUNTRY_DUTY, TARIFF_PREFERENCE = "103", "142"
ERGA_OMNES = "1011"
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
        measure_type, origin = _code(row["Meas. type code"]), _code(row["Origin code"])
        if measure_type not in (THIRD_COUNTRY_DUTY, TARIFF_PREFERENCE):
            skipped["another measure type"] += 1
            continue
        if _code(row.get("Order No.", "")):
            skipped["quota"] += 1
            continue
        if _code(row.get("Add code", "")):
            skipped["needs an additional code"] += 1
            continue
        if measure_type == THIRD_COUNTRY_DUTY and origin != ERGA_OMNES:
            skipped["third country duty for some origins only"] += 1
            continue
        if measure_type == TARIFF_PREFERENCE and not (len(origin) == 2 and origin.isalpha()):
            skipped["preference for a group of countries"] += 1
            continue
        mfn = measure_type == THIRD_COUNTRY_DUTY
        records.append({
            "destination": DESTINATION, "code": str(row["Goods code"]).strip().split(" ")[0],  # "0101210000 80": the code, then its suffix
            "agreement": MFN if mfn else f"EU preference {origin.upper()}",
            "qualifying_origins": None if mfn else origin.upper(),
            "duty_expression": str(row["Duty"]).strip(),
            "effective_from": day(row["Start date"]), "effective_to": day(row["End date"]),
        })
    return TariffFile(lines_frame(records), SOURCE, skipped)
