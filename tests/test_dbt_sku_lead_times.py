"""int_sku_lead_times: a SKU's lead time from its primary catalogue line and receipts, from purchase orders alone
when no catalogue describes it, or assumed.

An onboarding merchant sent purchase orders (48 received lines) and no supplier catalogue: every SKU still planned
on the assumed 30 days, the receipts dropped without a word. dbt builds the model here on stand-in tables.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.test_fx_history import dbt

pytestmark = pytest.mark.slow  # dbt runs in a subprocess: kept out of make test-fast

CATALOGUE = [  # sku, supplier_id, quoted_lead_time_days, is_primary
    ("LISTED", "S1", 20, True),
    ("LISTED", "S2", 5, False),
    ("UNFLAGGED", "S7", 12, False),  # no line flagged primary: the lowest supplier id's, as dim_sku plans with
    ("UNFLAGGED", "S6", 15, False),
]
PURCHASE_ORDERS = [  # sku, supplier_id, ordered_date, received_date, status
    ("LISTED", "S1", "2026-01-01", "2026-01-15", "received"),
    ("LISTED", "S2", "2026-02-01", "2026-02-03", "received"),  # not its primary supplier: not its lead time
    ("UNLISTED", "S3", "2026-01-01", "2026-01-11", "received"),  # first sourced from S3...
    ("UNLISTED", "S4", "2026-03-01", "2026-03-21", "received"),  # ...then from S4, its supplier now
    ("UNLISTED", "S4", "2026-04-01", "2026-04-23", "received"),
    ("UNLISTED", "S4", "2026-05-01", "2026-05-25", "received"),
    ("UNLISTED", "S4", "2026-06-01", None, "open"),
    ("ONE_RECEIPT", "S5", "2026-05-01", "2026-05-09", "received"),
]
SOLD = ["LISTED", "UNLISTED", "ONE_RECEIPT", "NEVER_BOUGHT", "UNFLAGGED"]


@pytest.fixture(scope="module")
def lead_times(tmp_path_factory) -> pd.DataFrame:
    warehouse: Path = tmp_path_factory.mktemp("lead_times") / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        for schema in ("staging", "intermediate", "config"):
            conn.execute(f"create schema {schema}")
        conn.register("catalogue", pd.DataFrame(CATALOGUE, columns=["sku", "supplier_id", "quoted_lead_time_days", "is_primary"]))
        conn.execute("create table staging.stg_supplier_catalogue as select * from catalogue")
        po = pd.DataFrame(PURCHASE_ORDERS, columns=["sku", "supplier_id", "ordered_date", "received_date", "status"])
        conn.register("po", po)
        conn.execute("create table staging.stg_purchase_orders as select sku, supplier_id, status, "
                     "cast(ordered_date as date) as ordered_date, cast(received_date as date) as received_date from po")
        conn.register("sold", pd.DataFrame({"sku": SOLD}))
        conn.execute("create table intermediate.int_order_lines_eur as select * from sold")
        conn.execute("create table config.assumptions as select 30 as lead_time_days")
    done = dbt(warehouse, "run", "--select", "int_sku_lead_times")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.sql("select * from intermediate.int_sku_lead_times").df().set_index("sku")


def test_a_catalogued_sku_takes_its_primary_suppliers_quote_and_receipts(lead_times):
    row = lead_times.loc["LISTED"]
    assert (row["supplier_id"], row["quoted_lead_time_days"], row["n_receipts"]) == ("S1", 20, 1)
    assert row["lead_time_mean_days"] == 14 and row["lead_time_basis"] == "supplier"


def test_a_sku_whose_catalogue_flags_no_primary_line_keeps_the_quote_dim_sku_plans_with(lead_times):
    """A review's nit: a SKU with only non-primary catalogue lines fell to 'no catalogue' (the assumed 30 days), while
    dim_sku planned it with its lowest supplier id's cost."""
    row = lead_times.loc["UNFLAGGED"]
    assert (row["supplier_id"], row["quoted_lead_time_days"], row["lead_time_basis"]) == ("S6", 15, "supplier")


def test_an_uncatalogued_sku_takes_the_receipts_of_the_supplier_it_was_last_ordered_from(lead_times):
    row = lead_times.loc["UNLISTED"]
    assert (row["supplier_id"], row["n_receipts"], row["lead_time_basis"]) == ("S4", 3, "purchase orders")
    assert row["lead_time_mean_days"] == 22 and row["lead_time_std_days"] == 2  # 20, 22 and 24 days; S3's 10 not
    assert row["quoted_lead_time_days"] == 30  # the assumption stands in for a quote


def test_a_sku_without_receipts_or_catalogue_is_assumed_and_every_sku_has_one_row(lead_times):
    assert lead_times.loc["ONE_RECEIPT", "lead_time_basis"] == "purchase orders"  # planned on the default until 3
    never = lead_times.loc["NEVER_BOUGHT"]
    assert never["lead_time_basis"] == "assumed" and never["quoted_lead_time_days"] == 30 and never["n_receipts"] == 0
    assert sorted(lead_times.index) == sorted(SOLD) and lead_times.index.is_unique


def test_the_plan_calls_a_lead_time_assumed_until_purchase_orders_give_three_receipts():
    """A SKU only purchase orders describe plans on its receipts from three on; before, on the default, said so."""
    import dataclasses

    try:
        from test_planning_run import run, sources
    except ImportError:  # tests/ imported as a package
        from tests.test_planning_run import run, sources

    lead_times = pd.DataFrame({
        "sku": ["A", "B"], "n_receipts": [3, 1], "lead_time_mean_days": [22.0, 8.0], "lead_time_std_days": [2.0, None],
        "quoted_lead_time_days": [30.0, 30.0], "lead_time_basis": "purchase orders"})
    plan = run(dataclasses.replace(sources(), lead_times=lead_times)).plan.drop_duplicates("sku").set_index("sku")
    assert (plan.loc["A", "lead_time_days"], plan.loc["A", "lead_time_source"]) == (22.0, "receipts")
    assert (plan.loc["B", "lead_time_days"], plan.loc["B", "lead_time_source"]) == (30.0, "assumed default")
