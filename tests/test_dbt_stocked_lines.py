"""stg_orders.stocked: which order lines are goods to plan.

A Shopify merchant's gift cards, tips and shipping protection (Route's
ROUTEINS) are order lines but no stocked good: they arrive as line_type
not_stocked. Whether a SKU is a good is the product's, not the line's, so a
refund or cancellation of shipping protection (sent without that type), and
its lines an older mapping loaded as sales, are no goods either. A day of
gift cards alone is no order day to plan from. dbt builds the staging model
and the planning calendar here on a stand-in raw.orders, and runs their tests.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.test_fx_history import dbt

pytestmark = pytest.mark.slow  # dbt runs in a subprocess: kept out of make test-fast

LINES = [  # order_id, line_id, order_date, sku, quantity, line_type, unit_price, ship_to_country
    ("1001", 1, "2026-10-26", "MUG", 2, None, 18.0, "DE"),
    ("1001", 2, "2026-10-26", "ROUTEINS", 1, "not_stocked", 1.95, "DE"),
    ("1001", 3, "2026-10-26", None, 1, "not_stocked", 25.0, None),  # a gift card sent by e-mail
    ("1002", 1, "2026-10-27", "ROUTEINS", 1, None, 1.95, "FR"),  # loaded as a sale by an older mapping
    ("1001", 4, "2026-10-28", "ROUTEINS", -1, None, 1.95, "DE"),  # its refund, typed a return
    ("1003", 1, "2026-10-28", "MUG", -1, None, 18.0, "DE"),  # a good's return
    ("1004", 1, "2026-10-31", None, 2, "not_stocked", 50.0, None),  # the last day: gift cards alone
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path: Path = tmp_path_factory.mktemp("stocked_lines") / "warehouse.duckdb"
    lines = pd.DataFrame(LINES, columns=["order_id", "line_id", "order_date", "sku", "quantity", "line_type", "unit_price",
                                         "ship_to_country"])
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema raw")
        conn.register("lines", lines)
        conn.execute("""
            create table raw.orders as select
                order_id, cast(line_id as integer) as line_id, cast(order_date as date) as order_date,
                'web' as channel, 'sha256:c' as customer_key, sku, cast(quantity as integer) as quantity, line_type,
                cast(unit_price as decimal(18, 4)) as unit_price, 'EUR' as currency, ship_to_country,
                cast(null as varchar) as fulfilment_node, cast(order_date as date) as _file_date,
                timestamptz '2026-11-01 00:00:00+00' as _ingested_at, row_number() over () as _row_number
            from lines
        """)
    done = dbt(path, "build", "--select", "stg_orders", "int_planning_calendar", "--indirect-selection", "cautious")
    assert done.returncode == 0, done.stdout[-3000:]
    return path


def _read(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_sku_once_sent_as_not_stocked_is_no_good_on_any_line(warehouse):
    stocked = dict(((o, i), s) for o, i, s in _read(warehouse, "select order_id, line_id, stocked from staging.stg_orders"))
    assert stocked == {
        ("1001", 1): True,  # the mug
        ("1001", 2): False,
        ("1001", 3): False,
        ("1002", 1): False,  # ROUTEINS as a sale: still shipping protection
        ("1001", 4): False,  # and its refund
        ("1003", 1): True,  # a good's return is a good's
        ("1004", 1): False,
    }
    # the types stay as sent or inferred: what a line is and whether it is a good are two columns
    types = dict(((o, i), t) for o, i, t in _read(warehouse, "select order_id, line_id, line_type from staging.stg_orders"))
    assert (types[("1002", 1)], types[("1001", 4)]) == ("sale", "return")


def test_a_day_of_gift_cards_alone_is_not_the_planning_date(warehouse):
    [(first, last)] = _read(warehouse, "select min(calendar_date), max(calendar_date) from intermediate.int_planning_calendar")
    assert (str(first), str(last)) == ("2026-10-26", "2026-10-28")
