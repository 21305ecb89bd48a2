"""int_sku_duty_rates with a loaded tariff file: the file first, the duty_rates seed for what it lacks.

dbt builds the model on a small warehouse: the duty_rates seed, two tables
standing in for marts.dim_sku and reference.markets, and (or not) the UK
fixture tariff loaded by `compliance.tariffs`.

Every case is built at one warehouse path, from one seeded copy: dbt keys its
partial parse on the profile, which holds the path, so a new path per case
would parse the whole project again (about 5 s each).
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from compliance.tariffs.load import load_tariff
from compliance.tariffs.uk_trade_tariff import SOURCE as UK_SOURCE
from tests.test_fx_history import dbt

pytestmark = pytest.mark.slow  # dbt runs in subprocesses: about 30 s for the module, kept out of make test-fast

UK = Path(__file__).parent / "fixtures" / "tariffs" / "uk_measures-on-declarable-commodities_2026-11-30.csv"
PLANNING_DATE = dt.date(2026, 11, 30)
SKUS = [  # sku, hs_code, origin_country
    ("TEE-JP", "610910", "JP"),  # in the file, with a UK preference for Japan
    ("TEE-CN", "610910", "CN"),  # in the file, no preference
    ("BEEF", "020110", "AU"),  # in the file with a duty per 100 kg: no rate
    ("BAG", "420292", "CN"),  # not in the file; the seed has heading 4202 for GB
    ("PART", "870899", "CN"),  # in neither (car parts)
    ("EARBUDS", "851830", "CN"),  # in the file: 2% until 2025-12-31, 0% from 2026-01-01
]


@pytest.fixture(scope="module")
def workbench(tmp_path_factory) -> Path:
    """A folder whose warehouse.duckdb each case rebuilds from `seeded.duckdb` (the duty_rates seed, seeded once)."""
    folder = tmp_path_factory.mktemp("tariff")
    done = dbt(folder / "warehouse.duckdb", "seed", "--select", "duty_rates")
    assert done.returncode == 0, done.stdout[-3000:]
    shutil.copyfile(folder / "warehouse.duckdb", folder / "seeded.duckdb")
    return folder


def build(workbench: Path, with_tariff: bool, tariff_day: dt.date | None = None, seed_changes: tuple[str, ...] = ()
          ) -> pd.DataFrame:
    warehouse = workbench / "warehouse.duckdb"
    shutil.copyfile(workbench / "seeded.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema if not exists marts")
        conn.register("skus", pd.DataFrame(SKUS, columns=["sku", "hs_code", "origin_country"]))
        conn.execute("create table marts.dim_sku as select * from skus")
        conn.execute("create table reference.markets as select 'GB' as customs_territory")
        conn.execute("create schema if not exists intermediate")
        conn.execute(f"create table intermediate.int_planning_calendar as "
                     f"select date '{PLANNING_DATE}' - range::int as calendar_date from range(3)")
        if with_tariff:
            load_tariff(conn, UK, "uk", as_of=tariff_day)
        for statement in seed_changes:
            conn.execute(statement)
    done = dbt(warehouse, "run", "--select", "int_sku_duty_rates")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.sql("select * from intermediate.int_sku_duty_rates where customs_territory = 'GB'").df().set_index("sku")


@pytest.fixture(scope="module")
def with_file(workbench) -> pd.DataFrame:
    return build(workbench, with_tariff=True)


def test_the_loaded_file_prices_first_and_names_itself(with_file):
    assert float(with_file.loc["TEE-CN", "mfn_rate"]) == 0.12
    assert with_file.loc["TEE-CN", "duty_source"] == UK_SOURCE
    assert str(with_file.loc["TEE-CN", "duty_as_of"])[:10] == "2026-11-30"
    # the file's Japan preference covers one of the subheading's two lines: at worst a Japanese T-shirt pays 12%
    assert with_file.loc["TEE-JP", "preferential_agreement"] == "UK preference JP"
    assert float(with_file.loc["TEE-JP", "preferential_rate"]) == 0.12
    assert pd.isna(with_file.loc["TEE-CN", "preferential_agreement"])


def test_a_duty_the_file_cannot_price_stays_unknown_rather_than_taking_the_seeds(with_file):
    assert pd.isna(with_file.loc["BEEF", "mfn_rate"]) and with_file.loc["BEEF", "duty_source"] == UK_SOURCE


def test_the_seed_fills_what_the_file_lacks_and_nothing_is_invented(with_file, tmp_path):
    seed = pd.read_csv(Path(__file__).parents[1] / "dbt_project" / "seeds" / "duty_rates.csv", dtype=str)
    bag = seed[(seed["destination"] == "GB") & (seed["hs_heading"] == "4202") & (seed["agreement"] == "MFN")]
    assert float(with_file.loc["BAG", "mfn_rate"]) == float(bag["mfn_rate"].iloc[0])
    assert with_file.loc["BAG", "duty_source"] == bag["source"].iloc[0]
    assert pd.isna(with_file.loc["PART", "mfn_rate"]) and pd.isna(with_file.loc["PART", "duty_source"])


def test_without_a_loaded_file_the_model_builds_from_the_seed_alone(workbench, with_file):
    seed_only = build(workbench, with_tariff=False)
    assert seed_only.loc["BAG"].equals(with_file.loc["BAG"])
    assert seed_only.loc["TEE-CN", "duty_source"] != UK_SOURCE


def test_rows_that_ended_before_the_planning_date_are_not_applied(workbench):
    """A file loaded as of 2025-06-30 holds the earbuds' 2% measure that ended 2025-12-31; a seed row ended on
    2026-06-30: on the planning date neither applies, so the earbuds fall back to the seed and the bag is unknown."""
    ended = build(workbench, with_tariff=True, tariff_day=dt.date(2025, 6, 30), seed_changes=(
        "update reference.duty_rates set effective_to = date '2026-06-30' "
        "where destination = 'GB' and hs_heading = '4202'",))
    assert ended.loc["EARBUDS", "duty_source"] != UK_SOURCE
    assert pd.isna(ended.loc["BAG", "mfn_rate"]) and pd.isna(ended.loc["BAG", "duty_source"])
    assert float(ended.loc["TEE-CN", "mfn_rate"]) == 0.12  # an open-ended measure of the same file still applies


def test_the_current_file_prices_the_measure_in_force(with_file):
    assert float(with_file.loc["EARBUDS", "mfn_rate"]) == 0.0 and with_file.loc["EARBUDS", "duty_source"] == UK_SOURCE


def test_a_seed_rate_that_changes_is_a_new_row_from_its_first_day(workbench):
    """The bag's GB row ends 2026-06-30 and a new 5% row starts 2026-07-01: on the planning date the new row
    applies; a row that starts after the planning date does not yet."""
    changed = build(workbench, with_tariff=False, seed_changes=(
        "update reference.duty_rates set effective_to = date '2026-06-30' "
        "where destination = 'GB' and hs_heading = '4202' and agreement = 'MFN'",
        "insert into reference.duty_rates by name select * replace (0.05 as mfn_rate, date '2026-07-01' as "
        "effective_from, null as effective_to, 'a later review' as source) from reference.duty_rates "
        "where destination = 'GB' and hs_heading = '4202' and agreement = 'MFN'",
        "insert into reference.duty_rates by name select * replace (0.30 as mfn_rate, date '2027-01-01' as "
        "effective_from, 'a future rate' as source) from reference.duty_rates "
        "where destination = 'GB' and hs_heading = '6109' and agreement = 'MFN'",
    ))
    assert float(changed.loc["BAG", "mfn_rate"]) == 0.05 and changed.loc["BAG", "duty_source"] == "a later review"
    assert changed.loc["TEE-CN", "duty_source"] != "a future rate"
