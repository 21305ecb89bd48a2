"""`crossdock tariff load` and `crossdock tariff coverage`: official tariff files into the reference data.

The bodies of the two commands: open the warehouse, call compliance/tariffs,
print what was done. The next run (`crossdock run`) prices with the loaded
rates; the coverage report reads the SKUs the last run built (marts.dim_sku).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from compliance.tariffs.coverage import coverage, coverage_lines
from compliance.tariffs.load import LoadReport, load_tariff
from compliance.tariffs.store import loaded
from crossdock.engine import WarehouseLike, as_warehouse
from crossdock.settings import Settings
from crossdock.warehouse import connect


def load_command(settings: Settings, paths: list[Path], source: str, as_of: dt.date | None, engine: str = "duckdb"
                 ) -> int:
    try:
        if engine == "spark":
            report = _load_on_spark(paths, source, as_of)
            if report is None:
                return 2
        else:
            settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
            with connect(str(settings.warehouse)) as conn:
                report = load_tariff(conn, paths, source, as_of)
    except (ValueError, FileNotFoundError) as error:
        print(f"tariff not loaded: {error}")
        return 1
    print("\n".join(report.lines()))
    print("the next `crossdock run` prices duty with it; `crossdock tariff coverage` lists the codes it does not cover")
    return 0


def _load_on_spark(paths: list[Path], source: str, as_of: dt.date | None) -> LoadReport | None:
    """The load into the local Spark session's warehouse (CROSSDOCK_SPARK_HOME), for `crossdock run` on Spark to price with."""
    from cli.spark import catalogue_held_elsewhere, without_spark

    if without_spark("tariff load --engine spark", with_dbt=False):
        return None
    from crossdock.spark import spark_session
    from crossdock.spark_warehouse import SparkWarehouse

    if catalogue_held_elsewhere("tariff load --engine spark"):
        return None
    return load_tariff(SparkWarehouse(spark_session()), paths, source, as_of)


def read_coverage(target: WarehouseLike) -> tuple[pd.DataFrame, int] | None:
    """Per loaded tariff, the status of each HS code the merchant sells, and the SKUs without a code; None before
    a run has built the SKUs (marts.dim_sku)."""
    warehouse = as_warehouse(target)
    if not warehouse.exists("marts.dim_sku"):
        return None
    skus = warehouse.query("select hs_code from marts.dim_sku")["hs_code"]
    seed = (warehouse.query("select destination, hs_heading, hs6, agreement, mfn_rate from reference.duty_rates")
            if warehouse.exists("reference.duty_rates") else None)
    without_code = int(sum(1 for code in skus if code is None or len(str(code)) < 6))
    return coverage(skus, loaded(warehouse), seed), without_code


def coverage_command(settings: Settings) -> int:
    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse} yet: run `crossdock run` first")
        return 1
    with connect(str(settings.warehouse), read_only=True) as conn:
        found = read_coverage(conn)
    if found is None:
        print("no SKUs yet (marts.dim_sku): run `crossdock run` first, then ask again")
        return 1
    print("\n".join(coverage_lines(*found)))
    return 0
