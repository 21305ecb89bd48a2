"""Which of the merchant's HS codes each loaded tariff covers, and which it does not.

A code a tariff does not cover is listed, never priced at 0: the plan takes
its rate from the hand-kept duty_rates seed when the seed has one (said so
here), else the SKU's duty in that territory is unknown (`duty_rate`).
"""
from __future__ import annotations

import pandas as pd

from compliance.tariffs.lines import MFN

IN_FILE, NOT_AD_VALOREM, SEED_ONLY, NOT_COVERED = (
    "tariff file", "tariff file, rate not ad valorem", "duty_rates seed only", "not covered")
MAX_LISTED = 12


def _lookup(rows: pd.DataFrame) -> dict[tuple[str, str], bool]:
    """(destination, hs6 or heading) -> whether its MFN row has a rate."""
    mfn = rows[rows["agreement"] == MFN]
    keys = [(d, h6 if isinstance(h6, str) and h6 else h) for d, h, h6 in
            zip(mfn["destination"], mfn["hs_heading"], mfn["hs6"])]
    return {key: pd.notna(rate) for key, rate in zip(keys, mfn["mfn_rate"])}


def _status(destination: str, hs6: str, tariff: dict, seed: dict) -> str:
    for key in ((destination, hs6), (destination, hs6[:4])):
        if key in tariff:
            return IN_FILE if tariff[key] else NOT_AD_VALOREM
    if (destination, hs6) in seed or (destination, hs6[:4]) in seed:
        return SEED_ONLY
    return NOT_COVERED


def coverage(hs_codes: pd.Series, loaded: pd.DataFrame, seed: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per loaded destination x distinct 6-digit code the merchant sells: how its duty is known."""
    codes = sorted({str(c)[:6] for c in hs_codes.dropna() if len(str(c)) >= 6})
    tariff = _lookup(loaded)
    fallback = _lookup(seed) if seed is not None and not seed.empty else {}
    rows = [(destination, code, _status(destination, code, tariff, fallback))
            for destination in sorted(loaded["destination"].unique()) for code in codes]
    return pd.DataFrame(rows, columns=["destination", "hs6", "status"])


def _counts(rows: pd.DataFrame) -> tuple[int, int, int, int]:
    """A border's codes: covered by the file, of them not ad valorem, from the seed, not covered."""
    counts = rows["status"].value_counts()
    return (int(counts.get(IN_FILE, 0) + counts.get(NOT_AD_VALOREM, 0)), int(counts.get(NOT_AD_VALOREM, 0)),
            int(counts.get(SEED_ONLY, 0)), int(counts.get(NOT_COVERED, 0)))


def coverage_lines(found: pd.DataFrame, skus_without_code: int = 0) -> list[str]:
    """Per destination: how many of the codes the file covers, and the codes it does not, by name."""
    if found.empty:
        return ["no tariff file loaded (crossdock tariff load): duty rates come from the duty_rates seed"]
    out = []
    for destination, rows in found.groupby("destination", sort=True):
        covered, not_ad_valorem, _, _ = _counts(rows)
        out.append(f"{destination}: the tariff file covers {covered} of {len(rows)} HS codes sold ({not_ad_valorem} "
                   "with a duty that is not ad valorem, rate unknown)")
        for status in (SEED_ONLY, NOT_COVERED):
            listed = sorted(rows.loc[rows["status"] == status, "hs6"])
            if listed:
                what = ("priced from the duty_rates seed" if status == SEED_ONLY
                        else "not covered: their duty is unknown (duty_rate), not 0")
                out.append(f"  {len(listed)} {what}: {', '.join(listed[:MAX_LISTED])}"
                           f"{', ...' if len(listed) > MAX_LISTED else ''}")
    if skus_without_code:
        out.append(f"{skus_without_code} SKUs have no 6-digit HS code: no tariff can cover them (missing_hs_code)")
    return out


def coverage_summary(found: pd.DataFrame) -> str:
    """One line for `crossdock summary`: per loaded tariff, the codes it covers, those from the seed, those unknown."""
    parts = []
    for destination, rows in found.groupby("destination", sort=True):
        covered, not_ad_valorem, seed, missing = _counts(rows)
        parts.append(f"{destination} covers {covered} of {len(rows)} HS codes sold ({seed} from the seed, {missing} "
                     f"not covered, {not_ad_valorem} not ad valorem)")
    return "tariff files: " + "; ".join(parts) + " (`crossdock tariff coverage` lists the codes)"
