"""Border rules that aged are listed, never applied or dropped silently (compliance/staleness.py, issue 19 item 2)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from compliance.staleness import (
    ENDED,
    LOW_CONFIDENCE,
    OLD_SOURCE,
    TARIFF_FILES,
    ended_rules,
    low_confidence_duties,
    old_sources,
    places_served,
    read_places_served,
    stale_rules,
    summary_line,
)
from compliance.tariffs import eu_taric
from compliance.tariffs.load import load_tariff
from compliance.tariffs.store import loaded

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
DAY = dt.date(2026, 10, 30)


def fees(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["destination", "fee_code", "effective_from", "effective_to", "source", "as_of"])


def test_a_fee_whose_last_period_ended_is_listed_and_one_replaced_or_open_or_not_yet_started_is_not():
    frame = fees(
        ("US", "mpf", "2024-10-01", "2025-09-30", "CBP FY25", "2025-01-01"),
        ("US", "mpf", "2025-10-01", "2026-09-30", "CBP FY26", "2026-01-01"),  # nothing for FY27: ended
        ("AU", "ipc", "2020-01-01", None, "ABF", "2026-01-01"),  # open-ended
        ("NO", "voec_fee", "2025-01-01", "2026-06-30", "Posten", "2026-01-01"),
        ("NO", "voec_fee", "2026-07-01", "2026-12-31", "Posten", "2026-01-01"),  # replaced
        ("GB", "new_fee", "2027-01-01", None, "HMRC", "2026-01-01"),  # announced, not yet in force: not stale
    )
    [found] = ended_rules(frame, "import_fees", DAY)
    assert (found.table, found.rule, found.kind) == ("import_fees", "US mpf", ENDED)
    assert found.detail == "ended 2026-09-30, nothing in force on 2026-10-30"
    assert ended_rules(frame, "import_fees", dt.date(2026, 9, 30)) == []  # its last day


def test_a_territory_whose_regime_changes_name_is_one_rule_continued():
    regimes = pd.DataFrame(
        [("EU", "eu_ioss", "2021-07-01", "2026-06-30"), ("EU", "eu_ioss_flat_duty", "2026-07-01", None),
         ("XX", "old_regime", "2020-01-01", "2025-12-31")],
        columns=["destination", "regime", "effective_from", "effective_to"],
    )
    assert [f.rule for f in ended_rules(regimes, "de_minimis", DAY)] == ["XX"]


def test_sources_older_than_the_age_are_listed_by_their_newest_check():
    frame = fees(
        ("US", "mpf", "2024-10-01", None, "CBP notice", "2024-07-22"),
        ("US", "mpf2", "2024-10-01", None, "CBP notice", "2026-01-10"),  # the same source, checked again since
        ("GB", "fee", "2020-01-01", None, "Royal Mail", "2018-03-01"),
    )
    [found] = old_sources(frame, "import_fees", DAY, max_age_days=365)
    assert (found.rule, found.kind) == ("Royal Mail", OLD_SOURCE)
    assert found.detail == "as of 2018-03-01: 3165 days before 2026-10-30, more than 365"
    assert old_sources(frame, "import_fees", DAY, max_age_days=4000) == []


def test_low_confidence_duty_rows_are_counted_per_destination():
    duties = pd.DataFrame([("6109", "EU", "low"), ("6110", "EU", "low"), ("6109", "US", "high")],
                          columns=["hs_heading", "destination", "confidence"])
    [found] = low_confidence_duties(duties)
    assert (found.rule, found.kind) == ("EU", LOW_CONFIDENCE) and found.detail.startswith("2 rows of confidence low")


def test_the_shipped_seeds_on_the_demo_planning_date_name_the_rules_the_issue_found_aged():
    """The US processing-fee rows end 2026-09-30 and the AU biosecurity charges 2025-06-30: both are listed."""
    seeds = {name: pd.read_csv(SEEDS / f"{name}.csv", dtype=str)
             for name in ("de_minimis", "vat_rates", "import_fees", "duty_rates", "restricted_goods")}
    found = stale_rules(seeds, DAY)
    ended = {f.rule for f in found if f.kind == ENDED}
    assert {"US us_mpf_formal", "US us_mpf_informal", "AU au_biosecurity_fid_air", "AU au_biosecurity_fid_sea"} <= ended
    assert not any(f.table == "de_minimis" for f in found if f.kind == ENDED)  # EU's and US's regimes continue
    line = summary_line(found, DAY)
    assert line.startswith("border rules on 2026-10-30: ") and "US us_mpf_informal (ended 2026-09-30)" in line


def test_a_merchant_is_told_only_about_the_rules_of_the_places_it_ships_to_or_from():
    """An EU and GB merchant hears nothing of the AU and US fees that ended, nor of Posten Norge's old source; its own
    territories' findings are the ones the unscoped list has for them, and a rule for every destination ('*') counts."""
    seeds = {name: pd.read_csv(SEEDS / f"{name}.csv", dtype=str)
             for name in ("de_minimis", "vat_rates", "import_fees", "duty_rates", "restricted_goods")}
    places = places_served(["DE", "FR", "NL", "GB"], {"DE": "EU", "FR": "EU", "NL": "EU", "GB": "GB"})
    assert places == {"DE", "FR", "NL", "GB", "EU"}
    everything, scoped = stale_rules(seeds, DAY), stale_rules(seeds, DAY, places=places)
    assert {f.rule.split()[0] for f in everything if f.kind == ENDED} >= {"AU", "US"}
    assert not [f for f in scoped if f.kind == ENDED and f.rule.split()[0] in ("AU", "US")]
    assert {f.rule for f in scoped if f.kind == LOW_CONFIDENCE} == (
        {f.rule for f in everything if f.kind == LOW_CONFIDENCE} & places)
    assert set(scoped) < set(everything)  # nothing found that the unscoped list lacks; something left out
    norway = {f.rule for f in everything if f.kind == OLD_SOURCE and f.rule.startswith("Posten Norge")}
    assert norway and not norway & {f.rule for f in scoped}
    everywhere = pd.DataFrame([("8507", "*", "UN 38.3", "2019-01-01"), ("8507", "AU", "ABF", "2019-01-01")],
                              columns=["hs_prefix", "destination", "source", "as_of"])
    assert [f.rule for f in stale_rules({"restricted_goods": everywhere}, DAY, places=places)] == ["UN 38.3"]
    vat = pd.DataFrame([("DE", "2020-01-01", None, "old", "2019-01-01"), ("NO", "2020-01-01", None, "older", "2018-01-01")],
                       columns=["country_code", "effective_from", "effective_to", "source", "as_of"])
    assert [f.rule for f in stale_rules({"vat_rates": vat}, DAY, places=places)] == ["old"]  # VAT by its country
    assert stale_rules({"vat_rates": vat}, DAY, places=frozenset()) == []


def test_the_places_served_are_where_sale_lines_ship_the_markets_and_the_nodes_with_their_territories():
    with duckdb.connect() as conn:
        conn.execute("create schema intermediate; create schema reference")
        conn.execute("create table intermediate.int_sale_lines_shipped_from as "
                     "select * from (values ('DE'), ('DE'), ('BR'), (null)) as t(ship_to_country)")
        conn.execute("create table reference.markets as "
                     "select * from (values ('DE', false), ('GB', false), ('ROW', true)) as t(market_code, is_catch_all)")
        conn.execute("create table reference.nodes as select * from (values ('CN')) as t(country)")
        conn.execute("create table reference.countries as select * from (values ('DE', 'EU'), ('GB', 'GB'), "
                     "('BR', 'BR'), ('CN', 'CN'), ('AU', 'AU')) as t(alpha_2, customs_territory)")
        assert read_places_served(conn) == {"DE", "EU", "GB", "BR", "CN"}  # no AU: nothing ships there


def test_nothing_aged_says_so():
    assert summary_line([], DAY) == "border rules on 2026-10-30: every rule in force, every source checked within its age"
    assert stale_rules({"import_fees": fees(("US", "mpf", "2024-10-01", None, "CBP", "2026-10-01")), "fx": None}, DAY) == []


def test_a_loaded_tariff_whose_measures_ended_or_that_is_old_is_named(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "tariffs" / "taric_duties_import_2026-11-01.csv"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_tariff(conn, fixture, "eu", as_of=dt.date(2025, 6, 30))  # the 2% headphones measure ends 2025-12-31
        rows = loaded(conn)
    on_its_day = stale_rules({TARIFF_FILES: rows}, dt.date(2025, 7, 1))
    assert on_its_day == []
    later = stale_rules({TARIFF_FILES: rows}, dt.date(2026, 11, 30))
    assert [(f.table, f.rule, f.kind, f.since) for f in later] == [
        (TARIFF_FILES, "EU", ENDED, dt.date(2025, 12, 31)), (TARIFF_FILES, eu_taric.SOURCE, OLD_SOURCE, dt.date(2025, 6, 30))]
    assert "1 rows ended by 2025-12-31 (codes 851830): load a newer file" in later[0].detail
    assert "tariff_file_rates EU (ended 2025-12-31)" in summary_line(later, dt.date(2026, 11, 30))


def test_duty_and_restricted_goods_rows_past_their_end_are_named_and_open_ones_are_not():
    duty = pd.DataFrame({"destination": ["GB", "GB", "US"], "hs_heading": ["6109", "4202", "6109"],
                         "hs6": [None, None, "610990"], "effective_to": [None, "2026-06-30", "2026-12-31"],
                         "source": "hand-kept", "as_of": "2026-06-01"})
    restricted = pd.DataFrame({"destination": ["EU"], "hs_prefix": ["8507"], "effective_to": ["2026-01-31"],
                               "source": "Batteries Regulation", "as_of": "2026-06-01"})
    found = stale_rules({"duty_rates": duty, "restricted_goods": restricted}, DAY)
    assert [(f.table, f.rule, f.kind, f.since) for f in found] == [
        ("duty_rates", "GB", ENDED, dt.date(2026, 6, 30)), ("restricted_goods", "EU", ENDED, dt.date(2026, 1, 31))]
    assert found[0].detail == "1 rows ended by 2026-06-30 (codes 4202): add the rows that replace them"
    assert all(f.kind != ENDED for f in stale_rules({"duty_rates": duty.assign(effective_to=None)}, DAY))
