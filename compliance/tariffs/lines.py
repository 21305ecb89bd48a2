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
THIRD_COUNTRY_DUTY, TARIFF_PREFERENCE = "103", "142"  # TARIC measure types, kept by the UK tariff
ERGA_OMNES = "1011"  # TARIC geographical area: the whole world
LINE_COLUMNS: tuple[str, ...] = (
    "destination",  # the customs territory the tariff is of: GB, US, EU
    "code",  # the line's commodity code, digits only (4 to 10)
    "agreement",  # MFN, or the preference's name
    "qualifying_origins",  # space-separated ISO countries a preference is for; None for MFN
    "duty_expression",  # as the tariff writes it
    "effective_from",  # the measure's first day; None when the file gives none
    "effective_to",  # the measure's last day; None when open-ended
)
# each of chapters 01-09's last heading (HS 2022): what a lost leading zero can make of an odd-digit code
LAST_HEADING_OF_CHAPTER: dict[str, int] = {"1": 6, "2": 10, "3": 9, "4": 10, "5": 11, "6": 4, "7": 14, "8": 14, "9": 10}
_DIGITS = re.compile(r"\D")
_FLOAT_CELL = re.compile(r"\d+\.0")  # a code a spreadsheet stored as a number


@dataclass
class TariffFile:
    """What a reader took from one file: its lines, where it came from, and what it left out and why."""

    lines: pd.DataFrame
    source: str  # the publisher, the file's kind and its licence, written on every loaded row
    skipped: Counter = field(default_factory=Counter)  # reason -> lines left out


def measure_line(destination: str, label: str, code: str, measure_type: str, area: str, quota: str,
                 additional_code: str, expression: str, start: object, end: object, skipped: Counter) -> dict | None:
    """One measure of a TARIC-shaped tariff (the EU's, and the UK's that grew out of it) as a tariff line, or None
    (counted in `skipped` with the reason): type 103 for ERGA OMNES (area 1011) is the MFN rate, type 142 for
    one country that country's preference; quotas, measures needing an additional code, groups and other
    types are left out."""
    if measure_type not in (THIRD_COUNTRY_DUTY, TARIFF_PREFERENCE):
        skipped["another measure type"] += 1
        return None
    if quota:
        skipped["quota"] += 1
        return None
    if additional_code:
        skipped["needs an additional code"] += 1
        return None
    if measure_type == THIRD_COUNTRY_DUTY and area != ERGA_OMNES:
        skipped["third country duty for some origins only"] += 1
        return None
    if measure_type == TARIFF_PREFERENCE and not (len(area) == 2 and area.isalpha()):
        skipped["preference for a group of countries"] += 1
        return None
    mfn = measure_type == THIRD_COUNTRY_DUTY
    return {"destination": destination, "code": code, "agreement": MFN if mfn else f"{label} preference {area.upper()}",
            "qualifying_origins": None if mfn else area.upper(), "duty_expression": expression.strip(),
            "effective_from": day(start), "effective_to": day(end)}


def significant_code(code: object) -> str | None:
    """The code's digits without the zero pairs that pad it to 10 digits, kept to at least a heading (4 digits).

    '6109100010' -> '6109100010', '6109100000' -> '610910', '6912000000' -> '6912'; a chapter-level code
    ('6100000000') or anything shorter than a heading is None. Every tariff code has an even number of digits,
    so an odd count is a leading zero lost on the way (a spreadsheet that read 0901210000 as a number):
    '901210000' and 901210000.0 are '090121'. Unless no such heading exists: chapter 06's last is 0604, so
    '620193100' and '610910000' are a digit missing, not headings 0620 and 0610, and are None.
    """
    digits = _code_digits(code)
    if len(digits) % 2:
        if lost_zero_unexplained(digits):
            return None
        digits = "0" + digits
    if len(digits) < 4:
        return None
    while len(digits) > 4 and digits.endswith("00"):
        digits = digits[:-2]
    if len(digits) == 4 and digits.endswith("00"):
        return None
    return digits if len(digits) != 5 else digits + "0"


def lost_zero_unexplained(code: object) -> bool:
    """True for a code of an odd number of digits (3 or more) that a lost leading zero cannot explain: read with
    it, its heading would be beyond its chapter's last (LAST_HEADING_OF_CHAPTER), or its chapter 00."""
    digits = _code_digits(code)
    if len(digits) % 2 == 0 or len(digits) < 3:
        return False
    return not 1 <= int(digits[1:3]) <= LAST_HEADING_OF_CHAPTER.get(digits[0], 0)


def _code_digits(code: object) -> str:
    text = str(code or "").strip()
    if _FLOAT_CELL.fullmatch(text):
        text = text[:-2]
    return _DIGITS.sub("", text)


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


KEYS = ["destination", "hs_heading", "hs6_key", "agreement", "qualifying_origins"]


def collapse(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per destination x heading or subheading x agreement x origins, as the table stores them.

    A preference that covers only some of its subheading's lines does not lower the others: the lines it does
    not cover count at their MFN rate, so the row's rate is the highest a SKU of the subheading could pay under
    the preference (a SKU on an uncovered line pays MFN).
    """
    if lines.empty:
        return pd.DataFrame(columns=list(COLLAPSED_COLUMNS))
    frame = _prepared(lines)
    mfn, preferences = frame[frame["agreement"] == MFN], frame[frame["agreement"] != MFN]
    parts = [part for part in (_aggregate(mfn), _aggregate(_with_uncovered_lines(preferences, mfn))) if not part.empty]
    if not parts:
        return pd.DataFrame(columns=list(COLLAPSED_COLUMNS))
    rows = pd.concat(parts, ignore_index=True)
    return rows.sort_values(["destination", "hs_heading", "hs6", "agreement"], na_position="first",
                            ignore_index=True)[list(COLLAPSED_COLUMNS)]


def _once_per_value(column: pd.Series, function) -> pd.Series:
    """`function` of each value, computed once per distinct value (a tariff repeats its codes and expressions)."""
    values = column.unique()
    return column.map(dict(zip(values, map(function, values))))


def _prepared(lines: pd.DataFrame) -> pd.DataFrame:
    frame = lines.assign(significant=_once_per_value(lines["code"], significant_code)).dropna(subset=["significant"])
    return frame.assign(
        hs_heading=frame["significant"].str.slice(0, 4),
        hs6_key=frame["significant"].map(lambda code: code[:6] if len(code) >= 6 else ""),
        rate=_once_per_value(frame["duty_expression"], ad_valorem_rate).astype("float64"),
        qualifying_origins=frame["qualifying_origins"].fillna(""),
    )


def _with_uncovered_lines(preferences: pd.DataFrame, mfn: pd.DataFrame) -> pd.DataFrame:
    """Each preference group, plus the MFN lines of its heading or subheading that none of its lines covers (a
    line covers the lines whose code starts with its own), at their MFN rate."""
    if preferences.empty or mfn.empty:
        return preferences
    line_columns = ["code", "significant", "rate", "duty_expression", "effective_from", "effective_to"]
    pairs = preferences[KEYS].drop_duplicates().merge(
        mfn[["destination", "hs_heading", "hs6_key", *line_columns]], on=["destination", "hs_heading", "hs6_key"])
    covering = preferences[[*KEYS, "significant"]].drop_duplicates()
    covered = pd.Series(False, index=pairs.index)
    for length in sorted(covering["significant"].str.len().unique()):
        prefixes = covering[covering["significant"].str.len() == length].rename(columns={"significant": "prefix"})
        hit = pairs.assign(prefix=pairs["significant"].str.slice(0, length)).merge(
            prefixes.assign(hit=True), on=[*KEYS, "prefix"], how="left")["hit"]
        covered |= hit.notna().to_numpy()
    return pd.concat([preferences, pairs[~covered]], ignore_index=True)


def _aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """The collapse of each group: the highest rate (none when a line is not ad valorem), the lowest, the lines,
    the expression that sets the rate, and the period every line of the group is in force."""
    if frame.empty:
        return pd.DataFrame(columns=list(COLLAPSED_COLUMNS))
    ordered = frame.assign(
        missing=frame["rate"].isna(),
        starts=pd.to_datetime(frame["effective_from"]), ends=pd.to_datetime(frame["effective_to"]),
    ).sort_values("rate", ascending=False, na_position="first")  # first in a group: its unpriced or its highest line
    grouped = ordered.groupby(KEYS, sort=True)
    out = grouped.agg(highest=("rate", "max"), rate_min=("rate", "min"), missing=("missing", "any"),
                      national_lines=("code", "nunique"), duty_expression=("duty_expression", "first"),
                      starts=("starts", "max"), ends=("ends", "min")).reset_index()
    rate = out["highest"].where(~out["missing"])
    mfn = out["agreement"] == MFN
    return pd.DataFrame({
        "destination": out["destination"], "hs_heading": out["hs_heading"],
        "hs6": out["hs6_key"].replace("", None), "agreement": out["agreement"],
        "qualifying_origins": out["qualifying_origins"].replace("", None),
        "mfn_rate": rate.where(mfn), "preferential_rate": rate.where(~mfn),
        "rate_min": out["rate_min"].where(~out["missing"]), "national_lines": out["national_lines"].astype(int),
        "duty_expression": out["duty_expression"].astype(str),
        "effective_from": [None if pd.isna(d) else d.date() for d in out["starts"]],
        "effective_to": [None if pd.isna(d) else d.date() for d in out["ends"]],
    })


COLLAPSED_COLUMNS: tuple[str, ...] = (
    "destination", "hs_heading", "hs6", "agreement", "qualifying_origins", "mfn_rate", "preferential_rate",
    "rate_min", "national_lines", "duty_expression", "effective_from", "effective_to",
)


def lines_frame(records: list[dict]) -> pd.DataFrame:
    """The readers' records as a frame of LINE_COLUMNS, in that order (an empty file gives an empty frame)."""
    return pd.DataFrame(records, columns=list(LINE_COLUMNS))
