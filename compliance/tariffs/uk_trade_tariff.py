"""The UK Trade Tariff's open data: the measures on every declarable commodity code, as CSV.

Where: the Department for Business and Trade's data API publishes the UK
tariff as the dataset `uk-tariff-2021-01-01`; its table
`measures-on-declarable-commodities` (one row per measure on each declarable
10-digit code, inherited measures included) downloads as CSV from
https://data.api.trade.gov.uk/v1/datasets/uk-tariff-2021-01-01/versions/latest/tables/measures-on-declarable-commodities/data?format=csv
(linked from https://www.trade-tariff.service.gov.uk). Licence: Open
Government Licence v3.0 (https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).

Read: measure type 103 (third country duty) for the whole world (geographical
area 1011, ERGA OMNES) as the MFN rate, and type 142 (tariff preference) for
a single country as that country's preference. Left out and counted: quota
measures (an order number), measures that depend on an additional code,
preferences for groups of countries (their members are not in this file),
and every other measure type (suspensions, remedies, controls). The UK's
preference for the European Union is a group (area 1013) and is left out with
the other groups: the hand-kept seed's EU-UK TCA rows still apply to it.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from compliance.tariffs.lines import TARIFF_PREFERENCE, THIRD_COUNTRY_DUTY, TariffFile, lines_frame, measure_line

DESTINATION = "GB"
SOURCE = ("UK Trade Tariff open data (Department for Business and Trade / HMRC), "
          "measures-on-declarable-commodities; Open Government Licence v3.0")
REQUIRED = ("commodity__code", "measure__type__id", "measure__duty_expression", "measure__effective_start_date",
            "measure__effective_end_date", "measure__geographical_area__id")
OPTIONAL = ("measure__quota__order_number", "measure__additional_code__code")


def read(path: Path) -> TariffFile:
    """The MFN and single-country preference lines of a measures-on-declarable-commodities CSV."""
    # the real table has every measure type and ~23 columns: keep the columns read, then the two measure types
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        usecols=lambda column: column in (*REQUIRED, *OPTIONAL))
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name} is not the UK Trade Tariff's measures-on-declarable-commodities CSV: "
                         f"no column {', '.join(missing)}")
    skipped: Counter = Counter()
    wanted = table["measure__type__id"].str.strip().isin((THIRD_COUNTRY_DUTY, TARIFF_PREFERENCE))
    skipped["another measure type"] = int((~wanted).sum())
    table = table[wanted].assign(**{c: "" for c in OPTIONAL if c not in table.columns})
    records = []
    for row in table.itertuples(index=False):
        line = measure_line(
            DESTINATION, "UK", str(row.commodity__code), str(row.measure__type__id).strip(),
            str(row.measure__geographical_area__id).strip(), row.measure__quota__order_number.strip(),
            row.measure__additional_code__code.strip(), str(row.measure__duty_expression),
            row.measure__effective_start_date, row.measure__effective_end_date, skipped)
        if line is not None:
            records.append(line)
    return TariffFile(lines_frame(records), SOURCE, skipped)
