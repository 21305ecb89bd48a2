"""Official tariff files into the reference data (compliance/tariffs/, `crossdock tariff`), on fixture files.

Each fixture (tests/fixtures/tariffs/) is a handful of lines in the layout of
its source, picked to exercise one rule each: a subheading whose national
lines differ, a measure that ended and its successor, a preference for one
country and one for a group, a quota, an additional code, a duty per kg.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cli.main import main
from compliance.tariffs import eu_taric, uk_trade_tariff, us_hts
from cli.tariff import read_coverage
from compliance.tariffs.coverage import (
    IN_FILE,
    NOT_AD_VALOREM,
    NOT_COVERED,
    SEED_ONLY,
    coverage,
    coverage_lines,
    coverage_summary,
)
from compliance.tariffs.duty_expressions import ad_valorem_rate
from compliance.tariffs.lines import collapse, in_force, significant_code
from compliance.tariffs.load import file_date, load_tariff
from compliance.tariffs.store import TABLE, loaded
from crossdock.settings import PATH_VARIABLES

FIXTURES = Path(__file__).parent / "fixtures" / "tariffs"
UK = FIXTURES / "uk_measures-on-declarable-commodities_2026-11-30.csv"
US_CSV, US_JSON = FIXTURES / "hts_2026_revision_5.csv", FIXTURES / "hts_2026_revision_5.json"
EU_CSV = FIXTURES / "taric_duties_import_2026-11-01.csv"
DAY = dt.date(2026, 11, 30)


def rows_of(path: Path, reader, on: dt.date = DAY) -> pd.DataFrame:
    return collapse(in_force(reader(path).lines, on)).set_index(["hs_heading", "hs6", "agreement"], drop=False)


@pytest.mark.parametrize("expression, rate", [
    ("12.00%", 0.12), ("12.000 %", 0.12), ("16.5%", 0.165), ("Free", 0.0), ("free", 0.0), ("Free1/", 0.0),
    ("6.5%1/", 0.065), ("0.000 %", 0.0),
    ("4.4¢/kg", None), ("12.00% + 176.80 GBP / 100 kg", None), ("8.000 % MIN 1.000 EUR / p/st", None),
    ("NAR", None), ("", None), (None, None),
])
def test_only_a_plain_ad_valorem_rate_or_free_is_a_rate(expression, rate):
    assert ad_valorem_rate(expression) == rate


@pytest.mark.parametrize("code, significant", [
    ("6109100010", "6109100010"), ("6109100000", "610910"), ("6109.10.00", "610910"), ("6912000000", "6912"),
    ("0101210000", "010121"), ("9503.00.00", "9503"), ("6100000000", None), ("61", None),
    ("901210000", "090121"), ("901210000.0", "090121"),  # a leading zero a spreadsheet dropped
    ("620193100", None), ("610910000", None),  # chapter 06's last heading is 0604: a digit is missing, no zero lost
    ("71420", "071420"), ("71500", None),  # 0714 is chapter 07's last heading
])
def test_a_code_keeps_its_digits_down_to_a_heading(code, significant):
    assert significant_code(code) == significant


def test_the_uk_file_gives_the_world_rate_and_single_country_preferences_in_force_on_its_day():
    tariff = uk_trade_tariff.read(UK)
    rows = rows_of(UK, uk_trade_tariff.read)
    tshirts = rows.loc[("6109", "610910", "MFN")]
    assert (tshirts["mfn_rate"], tshirts["national_lines"], tshirts["destination"]) == (0.12, 2, "GB")
    # the Japan preference is on one of the two T-shirt lines: a Japanese T-shirt could be on the other, at 12%
    japan = rows.loc[("6109", "610910", "UK preference JP")]
    assert (japan["preferential_rate"], japan["rate_min"], japan["national_lines"], japan["qualifying_origins"]) == (
        0.12, 0.0, 2, "JP")
    # footwear: two national lines at 8% and 4%: the subheading takes the highest, and says how low it goes
    shoes = rows.loc[("6403", "640399", "MFN")]
    assert (shoes["mfn_rate"], shoes["rate_min"], shoes["national_lines"]) == (0.08, 0.04, 2)
    # the headphones' 2% measure ended on 2025-12-31: on the file's day the 0% one is in force, a year earlier the 2%
    assert rows.loc[("8518", "851830", "MFN")]["mfn_rate"] == 0.0
    assert rows_of(UK, uk_trade_tariff.read, dt.date(2025, 6, 30)).loc[("8518", "851830", "MFN")]["mfn_rate"] == 0.02
    # a duty per 100 kg has no rate: kept as text, never 0
    beef = rows.loc[("0201", "020110", "MFN")]
    assert pd.isna(beef["mfn_rate"]) and "GBP / 100 kg" in beef["duty_expression"]
    assert tariff.skipped == {"another measure type": 2, "needs an additional code": 1,
                              "preference for a group of countries": 1}
    assert "Open Government Licence" in tariff.source


def test_the_us_export_reads_the_same_as_csv_and_as_json_with_partner_programs():
    csv_rows, json_rows = rows_of(US_CSV, us_hts.read), rows_of(US_JSON, us_hts.read)
    pd.testing.assert_frame_equal(csv_rows, json_rows)
    synthetic = csv_rows.loc[("6109", "610990", "MFN")]
    assert (synthetic["mfn_rate"], synthetic["rate_min"], synthetic["national_lines"]) == (0.32, 0.12, 2)
    usmca = csv_rows.loc[("6109", "610910", "US special S")]
    assert (usmca["preferential_rate"], usmca["qualifying_origins"]) == (0.0, "CA MX")
    assert csv_rows.loc[("6403", "640399", "US special JP")]["preferential_rate"] == 0.05
    assert csv_rows.loc[("9503", None, "MFN")]["mfn_rate"] == 0.0  # "Free1/": a footnote after the rate
    assert pd.isna(csv_rows.loc[("0201", "020110", "MFN")]["mfn_rate"])  # 4.4 cents per kg
    skipped = us_hts.read(US_CSV).skipped
    assert skipped["no rate on the line (a heading or a statistical suffix)"] == 2
    assert skipped["special program for many beneficiaries"] == 7  # A+ twice, D twice, CA, E, MX


def test_the_eu_sheet_reads_the_same_from_the_workbook_and_from_csv(tmp_path):
    workbook = tmp_path / "Duties Import 01-99.xlsx"
    sheet = pd.read_csv(EU_CSV, sep=";", dtype=str, keep_default_na=False)
    sheet.rename(columns={"Measure type": " Measure type", "Meas. type code": " Meas. type code"}).to_excel(
        workbook, index=False, engine="openpyxl")  # the workbook's headers start with a space
    from_csv, from_xlsx = rows_of(EU_CSV, eu_taric.read), rows_of(workbook, eu_taric.read)
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
    assert from_csv.loc[("6912", None, "MFN")]["mfn_rate"] == 0.035  # set on the heading: every subheading of 6912
    assert from_csv.loc[("6403", "640399", "MFN")][["mfn_rate", "rate_min"]].tolist() == [0.08, 0.07]
    assert from_csv.loc[("6109", "610910", "EU preference JP")]["preferential_rate"] == 0.0
    assert "reuse" in eu_taric.read(EU_CSV).source
    assert eu_taric.read(EU_CSV).skipped == {"another measure type": 2, "preference for a group of countries": 1}


def test_loading_replaces_that_borders_tariff_only_and_twice_is_once(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        uk = load_tariff(conn, UK, "uk")
        eu = load_tariff(conn, EU_CSV, "eu")
        first = loaded(conn).drop(columns="loaded_at")
        again = load_tariff(conn, UK, "uk")
        assert loaded(conn).drop(columns="loaded_at").equals(first)
        assert (uk.as_of, uk.as_of_from, eu.as_of, again.rows_stored) == (DAY, "file name", dt.date(2026, 11, 1),
                                                                           uk.rows_stored)
        assert set(first["destination"]) == {"GB", "EU"}
        # an older UK file: the GB rows are its rows now, the EU rows untouched
        older = load_tariff(conn, UK, "uk", as_of=dt.date(2025, 6, 30))
        now = loaded(conn)
        assert set(now.loc[now["destination"] == "GB", "as_of"]) == {pd.Timestamp(2025, 6, 30)}
        assert older.rows_stored == (now["destination"] == "GB").sum()
        assert len(now[now["destination"] == "EU"]) == eu.rows_stored


def test_a_code_that_no_lost_leading_zero_explains_is_left_out_and_said(tmp_path):
    """A 9-digit 620193100 is not chapter 06 (live plants): the load leaves it out and says so."""
    lines = UK.read_text().splitlines(keepends=True)
    cut = tmp_path / UK.name
    cut.write_text("".join(lines) + lines[1].replace("90001,6109100010,", "90099,620193100,", 1))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        report = load_tariff(conn, cut, "uk")
        assert not loaded(conn)["hs_heading"].str.startswith("06").any()
    assert ("  left out: 1 lines whose code has an odd number of digits that no lost leading zero explains "
            "(a digit missing?)") in report.lines()


def test_a_file_that_is_not_the_layout_says_what_is_missing_and_changes_nothing(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_tariff(conn, UK, "uk")
        before = loaded(conn)
        with pytest.raises(ValueError, match="no column commodity__code"):
            load_tariff(conn, US_CSV, "uk")
        with pytest.raises(ValueError, match="no column htsno"):
            load_tariff(conn, UK, "us")
        with pytest.raises(ValueError, match="could not be read as the eu tariff layout"):
            not_a_workbook = tmp_path / "Duties.xlsx"
            not_a_workbook.write_text("plain text")
            load_tariff(conn, not_a_workbook, "eu")
        with pytest.raises(ValueError, match="no duty line in force on 2000-01-01"):
            load_tariff(conn, UK, "uk", as_of=dt.date(2000, 1, 1))
        with pytest.raises(ValueError, match="unknown tariff source 'ca'"):
            load_tariff(conn, UK, "ca")
        pd.testing.assert_frame_equal(loaded(conn), before)


def test_the_files_date_is_the_given_one_else_its_names_else_when_it_was_saved(tmp_path):
    assert file_date(UK, dt.date(2026, 1, 2)) == (dt.date(2026, 1, 2), "given")
    assert file_date(UK, None) == (DAY, "file name")
    saved = tmp_path / "hts.csv"
    shutil.copy(US_CSV, saved)
    stamp = dt.datetime(2026, 3, 4, 12, tzinfo=dt.timezone.utc).timestamp()
    os.utime(saved, (stamp, stamp))
    assert file_date(saved, None) == (dt.date(2026, 3, 4), "file modified")


def test_coverage_lists_every_code_a_tariff_does_not_cover_and_where_its_duty_comes_from(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_tariff(conn, UK, "uk")
        rows = loaded(conn)
    seed = pd.DataFrame({"destination": ["GB"], "hs_heading": ["4202"], "hs6": [None], "agreement": ["MFN"],
                         "mfn_rate": [0.04]})
    codes = pd.Series(["610910", "610910", "640399", "020110", "420292", "950300", "851830", "330499", "691200", None])
    found = coverage(codes, rows, seed).set_index("hs6")["status"].to_dict()
    assert found == {"610910": IN_FILE, "640399": IN_FILE, "020110": NOT_AD_VALOREM, "420292": SEED_ONLY,
                     "950300": IN_FILE, "851830": IN_FILE, "330499": IN_FILE, "691200": NOT_COVERED}
    lines = coverage_lines(coverage(codes, rows, seed), skus_without_code=1)
    assert lines[0] == "GB: the tariff file covers 6 of 8 HS codes sold (1 with a duty that is not ad valorem, rate unknown)"
    assert "1 priced from the duty_rates seed: 420292" in lines[1]
    assert "1 not covered: their duty is unknown (duty_rate), not 0: 691200" in lines[2]
    assert lines[3].startswith("1 SKUs have no 6-digit HS code")


def test_the_command_loads_a_file_and_reports_it(tmp_path, monkeypatch, capsys):
    for var in PATH_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CROSSDOCK_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert main(["tariff", "load", str(US_CSV), "--source", "us", "--as-of", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert "US tariff from hts_2026_revision_5.csv, as of 2026-11-01 (given)" in out
    assert "1 rows have a duty that is not a plain ad valorem rate" in out
    assert main(["tariff", "load", str(tmp_path / "missing.csv"), "--source", "us"]) == 1
    assert "tariff not loaded: no tariff file at" in capsys.readouterr().out
    assert main(["tariff", "coverage"]) == 1
    assert "run `crossdock run` first" in capsys.readouterr().out
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute(f"select count(distinct destination) from {TABLE}").fetchone() == (1,)


def test_the_summary_line_counts_what_each_file_covers_from_the_warehouse(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert read_coverage(conn) is None  # no SKUs before a run
        conn.execute("create schema marts; create schema reference")
        conn.execute("create table marts.dim_sku as select * from (values ('A', '610910'), ('B', '691200'), "
                     "('C', '420292'), ('D', null)) as t(sku, hs_code)")
        conn.execute("create table reference.duty_rates as select 'GB' as destination, '4202' as hs_heading, "
                     "cast(null as varchar) as hs6, 'MFN' as agreement, 0.04 as mfn_rate")
        load_tariff(conn, UK, "uk")
        found, without_code = read_coverage(conn)
    assert without_code == 1
    assert coverage_summary(found) == ("tariff files: GB covers 1 of 3 HS codes sold (1 from the seed, 1 not covered, "
                                       "0 not ad valorem) (`crossdock tariff coverage` lists the codes)")


def test_a_workbook_with_numeric_codes_and_date_cells_keeps_leading_zeros(tmp_path):
    """Excel stores a goods code it can read as a number as one (0901210000 -> 901210000) and dates as dates."""
    workbook = tmp_path / "Duties Import 01-99.xlsx"
    pd.DataFrame({
        "Goods code": [901210000, 6109100010], "Add code": [None, None], "Order No.": [None, None],
        "Start date": [dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1)], "End date": [None, None],
        "Red. Ind.": [None, None], "Origin": ["ERGA OMNES", "ERGA OMNES"],
        " Measure type": ["Third country duty"] * 2, "Legal base": ["R2204/99"] * 2,
        "Duty": ["7.500 %", "12.000 %"], "Origin code": [1011, 1011], " Meas. type code": [103, 103],
    }).to_excel(workbook, index=False, engine="openpyxl")
    rows = rows_of(workbook, eu_taric.read)
    assert rows.loc[("0901", "090121", "MFN")]["mfn_rate"] == 0.075  # coffee, not heading 9012 (microscopes)
    assert rows.loc[("6109", "610910", "MFN")]["effective_from"] == dt.date(2000, 1, 1)


def test_the_chapters_of_one_export_load_together_and_a_lone_chapter_is_warned_about(tmp_path):
    chapters = []
    table = pd.read_csv(US_CSV, dtype=str, keep_default_na=False)
    for chapter in ("61", "64", "85"):
        path = tmp_path / f"hts_chapter_{chapter}.csv"
        table[table["HTS Number"].str.startswith(chapter)].to_csv(path, index=False)
        chapters.append(path)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        both = load_tariff(conn, chapters, "us", as_of=DAY)
        assert set(loaded(conn)["hs_heading"]) == {"6109", "6403", "8518"}
        assert both.file == "hts_chapter_61.csv, hts_chapter_64.csv, hts_chapter_85.csv"
        alone = load_tariff(conn, chapters[1], "us", as_of=DAY)
        assert set(loaded(conn)["hs_heading"]) == {"6403"}  # a load replaces the border's tariff: say so
        whole = load_tariff(conn, US_CSV, "us", as_of=DAY)
    assert not any("warning" in line for line in both.lines() + whole.lines())
    assert "the earlier US tariff covered 3 headings, this one covers 1" in alone.lines()[-1]


def test_the_us_special_chapters_are_left_out_and_a_bad_date_names_its_file(tmp_path):
    extra = tmp_path / "hts_with_99.csv"
    table = pd.read_csv(US_CSV, dtype=str, keep_default_na=False)
    chapter_99 = {"HTS Number": "9903.88.15", "General Rate of Duty": "The duty provided in the applicable "
                  "subheading + 7.5%", "Special Rate of Duty": ""}
    pd.concat([table, pd.DataFrame([chapter_99])]).fillna("").to_csv(extra, index=False)
    assert us_hts.read(extra).skipped["chapter 98 or 99 (special provisions, additional duties)"] == 1
    bad = tmp_path / "uk_bad_date.csv"
    uk = pd.read_csv(UK, dtype=str, keep_default_na=False)
    uk.loc[0, "measure__effective_start_date"] = "first of January"
    uk.to_csv(bad, index=False)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn, pytest.raises(ValueError, match="uk_bad_date.csv: not a date"):
        load_tariff(conn, bad, "uk")
