"""stg_purchase_orders keeps the promise a line was first sent with beside its latest, and publish.supplier_risk
judges a supplier against the first: an ERP that moves the promised day when the supplier slips made every receipt
look on time (a review of the overdue purchase-order exception). dbt builds the model here on a stand-in raw table.
"""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.test_fx_history import dbt

pytestmark = pytest.mark.slow  # dbt runs in a subprocess: kept out of make test-fast

VERSIONS = [  # po_id, po_line, promised_at, received_at, status, _file_date, _row_number
    ("PO-1", 1, "2026-05-01", None, "open", "2026-04-01", 1),  # promised for May 1st ...
    ("PO-1", 1, "2026-05-20", None, "open", "2026-05-02", 1),  # ... re-promised when it slipped ...
    ("PO-1", 1, "2026-05-20", "2026-05-20", "received", "2026-05-21", 3),  # ... and received "on time"
    ("PO-2", 1, "2026-06-01", None, "open", "2026-04-01", 2),  # never re-promised
]


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> pd.DataFrame:
    warehouse = tmp_path_factory.mktemp("promises") / "warehouse.duckdb"
    frame = pd.DataFrame(VERSIONS, columns=["po_id", "po_line", "promised_at", "received_at", "status", "_file_date",
                                            "_row_number"])
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema raw")
        conn.register("versions", frame)
        conn.execute("""
            create table raw.purchase_orders as select
                po_id, po_line::bigint as po_line, 'SUP-1' as supplier_id, 'A' as sku, 'DE-FRA' as destination_node,
                10::bigint as quantity, date '2026-03-01' as ordered_at, promised_at::date as promised_at,
                received_at::date as received_at, status, _file_date::date as _file_date,
                timestamp '2026-06-01 00:00:00' as _ingested_at, _row_number::bigint as _row_number
            from versions
        """)
    done = dbt(warehouse, "run", "--select", "stg_purchase_orders")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        frame = conn.sql("select * from staging.stg_purchase_orders order by po_id").df().set_index("po_id")
    frame.attrs["warehouse"] = warehouse
    return frame


def test_a_line_keeps_its_latest_version_and_the_day_first_promised(lines):
    po1 = lines.loc["PO-1"]
    assert (po1["status"], str(po1["received_date"].date()), str(po1["promised_date"].date())) == (
        "received", "2026-05-20", "2026-05-20")
    assert str(po1["first_promised_date"].date()) == "2026-05-01"  # 19 days late against it, not on time
    po2 = lines.loc["PO-2"]
    assert po2["first_promised_date"] == po2["promised_date"]


def test_the_supplier_is_judged_against_the_first_promise(lines):
    """PO-1 was received on its latest promise, 19 days after its first: one receipt, none on time."""
    warehouse = lines.attrs["warehouse"]
    with duckdb.connect(str(warehouse)) as conn:
        for schema in ("intermediate", "marts"):
            conn.execute(f"create schema if not exists {schema}")
        conn.execute("create table intermediate.int_planning_calendar as select date '2026-06-10' as calendar_date")
        conn.execute("create table intermediate.int_fx_daily as "
                     "select date '2026-06-10' as calendar_date, 'EUR' as currency, 1.0 as units_per_eur")
        conn.execute("create table staging.stg_supplier_catalogue as select 'A' as sku, 'SUP-1' as supplier_id, "
                     "5.0 as unit_cost, 'EUR' as cost_currency, 30 as quoted_lead_time_days")
        conn.execute("create table marts.dim_sku as select 'A' as sku, 'SUP-1' as primary_supplier_id, "
                     "5.0 as unit_cost, 'EUR' as cost_currency, 30 as quoted_lead_time_days")
        conn.execute("create table staging.stg_suppliers as select 'SUP-1' as supplier_id, 'Supplier one' as supplier_name")
    done = dbt(warehouse, "run", "--select", "supplier_risk")
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        [(receipts, on_time, late)] = conn.execute(
            "select receipts, on_time_rate, mean_days_late from plan_next.supplier_risk").fetchall()
    assert (receipts, on_time, late) == (1, 0.0, 19.0)
