"""What the feed tests share: the orders export's header, a file written where a test lands it, and a scratch warehouse.

Ingest, plausibility and PII tests each write small feed files into a temp
landing folder and ingest them into their own DuckDB file; one definition here
keeps them writing the same header the same way.
"""
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ORDERS_HEADER = (
    "order_id,line_id,ordered_at,channel,customer_id,sku,quantity,unit_price,currency,ship_to_country,fulfilment_node\n"
)


def write(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) at `path`, making its folders; the path back, for the test to hand on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh warehouse file in the test's temp folder, closed after the test."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c
