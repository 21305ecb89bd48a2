"""int_sku_duty_rates with a loaded tariff file: the file first, the duty_rates seed for what it lacks.

dbt builds the model on a small warehouse: the duty_rates seed, two tables
standing in for marts.dim_sku and reference.markets, and (or not) the UK
fixture tariff loaded by `compliance.tariffs`.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from compliance.tariffs.load import load_tariff
from compliance.tariffs.uk_trade_tariff import SOURCE as UK_SOURCE
from tests.test_fx_history import dbt

UK = Path(__file__).parent / "fixtures" / "tariffs" / "uk_measures-on-declarable-commodities_2026-11-30.csv"
SKUS = [  # sku, hs_code, origin_country
    ("TEE-JP", "610910", "JP"),  # in the file, with a UK preference for Japan
    ("TEE-CN", "610910", "CN"),  # in the file, no preference
    ("BEEF", "020110", "AU"),  # in the file with a duty per 100 kg: no rate
    ("BAG", "420292", "CN"),  # not in the file; the seed has heading 4202 for GB
    ("PART", "870899", "CN"),  # in neither (car parts)
]


def build(tmp_path: Path, with_tariff: bool) -> pd.DataFrame:
    warehouse = tmp_path / "warehouse.duckdb"
    done = dbt(warehouse, "seed", "--select", "duty_rates")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema if not exists marts")
        conn.register("skus", pd.DataFrame(SKUS, columns=["sku", "hs_code", "origin_country"]))
        conn.execute("create table marts.dim_sku as select * from skus")
        conn.execute("create table reference.markets as select 'GB' as customs_territory")
        if with_tariff:
            load_tariff(conn, UK, "uk")
    done = dbt(warehouse, "run", "--select", "int_sku_duty_rates")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.sql("select * from intermediate.int_sku_duty_rates where customs_territory = 'GB'").df().set_index("sku")


@pytest.fixture(scope="module")
def with_file(tmp_path_factory) -> pd.DataFrame:
    return build(tmp_path_factory.mktemp("tariff"), with_tariff=True)


def test_the_loaded_file_prices_first_and_names_itself(with_file):
    assert float(with_file.loc["TEE-CN", "mfn_rate"]) == 0.12
    assert with_file.loc["TEE-CN", "duty_source"] == UK_SOURCE
    assert str(with_file.loc["TEE-CN", "duty_as_of"])[:10] == "2026-11-30"
    assert with_file.loc["TEE-JP", "preferential_agreement"] == "UK preference JP"
    assert float(with_file.loc["TEE-JP", "preferential_rate"]) == 0.0
    assert pd.isna(with_file.loc["TEE-CN", "preferential_agreement"])


def test_a_duty_the_file_cannot_price_stays_unknown_rather_than_taking_the_seeds(with_file):
    assert pd.isna(with_file.loc["BEEF", "mfn_rate"]) and with_file.loc["BEEF", "duty_source"] == UK_SOURCE


def test_the_seed_fills_what_the_file_lacks_and_nothing_is_invented(with_file, tmp_path):
    seed = pd.read_csv(Path(__file__).parents[1] / "dbt_project" / "seeds" / "duty_rates.csv", dtype=str)
    bag = seed[(seed["destination"] == "GB") & (seed["hs_heading"] == "4202") & (seed["agreement"] == "MFN")]
    assert float(with_file.loc["BAG", "mfn_rate"]) == float(bag["mfn_rate"].iloc[0])
    assert with_file.loc["BAG", "duty_source"] == bag["source"].iloc[0]
    assert pd.isna(with_file.loc["PART", "mfn_rate"]) and pd.isna(with_file.loc["PART", "duty_source"])


def test_without_a_loaded_file_the_model_builds_from_the_seed_alone(tmp_path, with_file):
    seed_only = build(tmp_path, with_tariff=False)
    assert seed_only.loc["BAG"].equals(with_file.loc["BAG"])
    assert seed_only.loc["TEE-CN", "duty_source"] != UK_SOURCE
