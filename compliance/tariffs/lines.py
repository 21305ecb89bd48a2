"""The tariff lines every reader returns, and their collapse to the rows the plan matches SKUs on.

A tariff prices national lines of 8 or 10 digits; a merchant's catalogue
carries 6-digit HS subheadings (the level every border shares). So the lines
of one subheading are collapsed into one row: its rate is the **highest** of
its lines' ad valorem rates (the cautious reading: the SKU could be any of
them), `rate_min` and `national_lines` say how much they differ, and a
subheading with any line that is not a plain ad valorem rate has no rate
(its expressions are kept as text). A measure set on a whole heading (a code
whose last six digits are zeros) becomes a heading row, which the dbt model
uses for every subheading of the heading that has no row of its own.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from compliance.tariffs.duty_expressions import ad_valorem_rate

MFN = "MFN"
LINE_COLUMNS: tuple[str, ...] = (
    "destination",  # the customs territory the tariff is of: GB, US, EU
    "code",  # the line's commodity code, digits only (4 to 10)
    "agreement",  # MFN, or the preference's name
    "qualifying_origins",  # space-separated ISO countries a preference is for; None for MFN
    "duty_expression",  # as the tariff writes it
    "effective_from",  # the measure's first day; None when the file gives none
    "effective_to",  # the measure's last day; None when open-ended
)
_DIGITS = re.compile(r"\D")


@dataclass
class TariffFile:
    """What a reader took from one file: its lines, where it came from, and what it left out and why."""

    lines: pd.DataFrame
    source: str  # the publisher, the file's kind and its licence, written on every loaded row
    skipped: Counter = field(default_factory=Counter)  # reason -> lines left out


def significant_code(code: object) -> str | None:
    """The code's digits without the zero pairs that pad it to 10 digits, kept to at least a heading (4 digits).

    '6109100010' -> '6109100010', '6109100000' -> '610910', '6912000000' -> '6912'; a chapter-level code
    ('6100000000') or anything shorter than a heading is None.
    """
    digits = _DIGITS.sub("", str(code or ""))
    if len(digits) < 4:
        return None
    while len(digits) > 4 and digits.endswith("00"):
        digits = digits[:-2]
    if len(digits) == 4 and digits.endswith("00"):
        return None
    return digits if len(digits) != 5 else digits + "0"


def day(value: object) -> dt.date | None:
    """A tariff file's date cell: ISO (2026-01-31, with or without a time), or day first (31-01-2026, 31/01/2026)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() in ("", "NaT", "nan"):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text[:19] if "T" in text or ":" in text else text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date this reader knows: {value!r} (expected YYYY-MM-DD or DD-MM-YYYY)")


def in_force(lines: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """The lines whose measure is in force on `on` (a line without dates is in force on any day)."""
    starts, ends = lines["effective_from"], lines["effective_to"]
    keep = [(s is None or s <= on) and (e is None or e >= on) for s, e in zip(starts, ends)]
    return lines[keep]


def collapse(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per destination x heading or subheading x agreement x origins, as the table stores them."""
    frame = lines.assign(significant=lines["code"].map(significant_code)).dropna(subset=["significant"])
    frame = frame.assign(
        hs_heading=frame["significant"].str.slice(0, 4),
        hs6=frame["significant"].map(lambda code: code[:6] if len(code) >= 6 else None),
        rate=frame["duty_expression"].map(ad_valorem_rate),
        qualifying_origins=frame["qualifying_origins"].fillna(""),
        hs6_key=lambda f: f["hs6"].fillna(""),
    )
    rows = []
    keys = ["destination", "hs_heading", "hs6_key", "agreement", "qualifying_origins"]
    for (destination, heading, hs6, agreement, origins), group in frame.groupby(keys, sort=True):
        rates = group["rate"]
        priced = rates.notna().all()
        highest = float(rates.max()) if priced else None
        unpriced = sorted(set(group.loc[rates.isna(), "duty_expression"].astype(str)))
        expression = (group.loc[rates.idxmax(), "duty_expression"] if priced
                      else "; ".join(unpriced[:3]) + ("; ..." if len(unpriced) > 3 else ""))
        ends = [e for e in group["effective_to"] if e is not None]
        starts = [s for s in group["effective_from"] if s is not None]
        rows.append({
            "destination": destination, "hs_heading": heading, "hs6": hs6 or None, "agreement": agreement,
            "qualifying_origins": origins or None,
            "mfn_rate": highest if agreement == MFN else None,
            "preferential_rate": highest if agreement != MFN else None,
            "rate_min": float(rates.min()) if priced else None,
            "national_lines": int(group["code"].nunique()),
            "duty_expression": str(expression),
            "effective_from": max(starts) if starts else None,
            "effective_to": min(ends) if ends else None,
        })
    return pd.DataFrame(rows, columns=COLLAPSED_COLUMNS)


COLLAPSED_COLUMNS: tuple[str, ...] = (
    "destination", "hs_heading", "hs6", "agreement", "qualifying_origins", "mfn_rate", "preferential_rate",
    "rate_min", "national_lines", "duty_expression", "effective_from", "effective_to",
)


def lines_frame(records: list[dict]) -> pd.DataFrame:
    """The readers' records as a frame of LINE_COLUMNS, in that order (an empty file gives an empty frame)."""
    return pd.DataFrame(records, columns=list(LINE_COLUMNS))
