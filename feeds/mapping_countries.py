"""Countries in a mapping: every spelling of a country -> its ISO 3166-1 alpha-2 code.

The `country:` rule, the aliases real exports use that pycountry does not
know, pycountry's names in other languages, and twice-encoded names; they
become one DuckDB lookup table that `feeds.mapping_sql` joins on.
"""
from __future__ import annotations

import gettext
from functools import lru_cache
from typing import Any

import duckdb
import pycountry

from feeds.mapping_checks import _Where

COUNTRY_MODES = ("name",)
COUNTRY_KEYS = ("name", "languages")

# Country spellings seen in real exports that pycountry does not know, mapped to
# ISO 3166-1 alpha-2. "Channel Islands" (Jersey or Guernsey?), "European
# Community" and "Unspecified" are deliberately absent: they stay as sent and the
# contract check quarantines them as not_allowed, showing the value.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "EIRE": "IE",
    "Republic of Ireland": "IE",
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "United States of America": "US",
    "America": "US",
    "RSA": "ZA",
    "UAE": "AE",
    "Holland": "NL",
    "The Netherlands": "NL",
    "Turkey": "TR",
    "Russia": "RU",
    "Ivory Coast": "CI",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Burma": "MM",
    "East Timor": "TL",
    "Brunei": "BN",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Palestine": "PS",
    "Micronesia": "FM",
    "DR Congo": "CD",
    "Democratic Republic of the Congo": "CD",
    "Republic of the Congo": "CG",
    "The Bahamas": "BS",
    "The Gambia": "GM",
    "South Korea": "KR",
    "North Korea": "KP",
}


def _build_country(where: _Where, raw: Any) -> tuple[str, ...]:
    """`country: name`, or `country: {languages: [es, pt]}` for names written in other languages."""
    if isinstance(raw, str) and raw in COUNTRY_MODES:
        return ()
    if not isinstance(raw, dict):
        raise where.error(
            f"unknown value {raw!r}; allowed: {', '.join(COUNTRY_MODES)} (country names, alpha-3 or alpha-2 codes -> "
            "alpha-2), or a mapping {languages: [es]} to read names in other languages too"
        )
    unknown = sorted(set(raw) - set(COUNTRY_KEYS))
    if unknown:
        raise where.error(f"unknown keys {', '.join(map(str, unknown))}; allowed: {', '.join(COUNTRY_KEYS)}")
    languages = raw.get("languages", [])
    languages = [languages] if isinstance(languages, str) else languages
    if not isinstance(languages, list) or not all(isinstance(lang, str) and lang for lang in languages):
        raise where.at("languages").error("give a list of language codes, e.g. [es, pt]")
    missing = [lang for lang in languages if not _country_translation(lang)]
    if missing:
        raise where.at("languages").error(f"pycountry has no country names in {', '.join(missing)}")
    return tuple(languages)


@lru_cache(maxsize=32)
def _country_translation(language: str) -> gettext.NullTranslations | None:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return None


def _mojibake(name: str) -> str | None:
    """The name as it reads when its UTF-8 bytes were decoded as Latin-1 once more (México -> MÃ©xico)."""
    try:
        garbled = name.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return None
    return garbled if garbled != name else None


def _country_pairs(languages: tuple[str, ...] = ()) -> tuple[list[str], list[str], list[int]]:
    """(spelling, alpha-2, priority): English spellings first, then translations, then their double-encoded forms.

    Real exports carry names that were UTF-8-encoded twice (`MÃ©xico`); each
    spelling's twice-encoded form is matched too, at the lowest priority.
    """
    names, codes, priorities = [], [], []

    def add(name: str | None, code: str, priority: int) -> None:
        if name:
            names.append(name)
            codes.append(code)
            priorities.append(priority)
            garbled = _mojibake(name)
            if garbled:
                names.append(garbled)
                codes.append(code)
                priorities.append(priority + 100)

    for alias, code in COUNTRY_ALIASES.items():
        add(alias, code, 0)
    for country in pycountry.countries:
        code = country.alpha_2
        add(code, code, 1)
        add(country.alpha_3, code, 2)
        add(country.name, code, 3)
        add(getattr(country, "common_name", None), code, 4)
        add(getattr(country, "official_name", None), code, 5)
    for rank, language in enumerate(languages):
        translate = _country_translation(language).gettext
        for country in pycountry.countries:
            for field_name in ("name", "common_name", "official_name"):
                english = getattr(country, field_name, None)
                if english:
                    add(translate(english), country.alpha_2, 10 + rank)
    return names, codes, priorities


def _create_country_lookup(conn: duckdb.DuckDBPyConnection, languages: tuple[str, ...] = ()) -> None:
    """Temp table _mapping_countries(key, alpha2): normalised spelling -> ISO alpha-2, from pycountry and the aliases."""
    names, codes, priorities = _country_pairs(languages)
    conn.execute(
        """
        create or replace temp table _mapping_countries as
        select key, alpha2 from (
            select lower(strip_accents(trim(n))) as key, c as alpha2, p
            from (select unnest(?::varchar[]) as n, unnest(?::varchar[]) as c, unnest(?::integer[]) as p)
        )
        qualify row_number() over (partition by key order by p, alpha2) = 1
        """,
        [names, codes, priorities],
    )
