"""The columns and DuckDB types of the two published compliance tables.

Both tables are written for every merchant, including one whose plan has no
row (no supplier catalogue yet) or whose amounts are all unknown: an empty or
all-null pandas column would otherwise reach DuckDB as VARCHAR. `typed` builds
the frame with each column's documented type (see
dbt_project/models/publish/_published_by_dagster.yml, which a test keeps equal
to these lists).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import pyarrow as pa

PLAN_SCHEMA: tuple[tuple[str, str], ...] = (
    ("as_of", "date"), ("sku", "varchar"), ("product_name", "varchar"), ("category", "varchar"), ("market", "varchar"),
    ("fulfilment_node", "varchar"), ("is_primary_route", "boolean"), ("route_share", "double"), ("import_flow", "varchar"),
    ("incoterm", "varchar"), ("hs_code", "varchar"), ("origin_country", "varchar"), ("customs_territory", "varchar"),
    ("valuation_basis", "varchar"), ("mfn_rate", "double"), ("preferential_agreement", "varchar"),
    ("preferential_rate", "double"), ("preference_claimed", "boolean"), ("duty_rate", "double"), ("vat_rate", "double"),
    ("de_minimis_regime", "varchar"), ("de_minimis_duty_threshold", "double"), ("de_minimis_currency", "varchar"),
    ("regime_applied", "varchar"), ("basket_units", "bigint"), ("price_basis", "varchar"),
    ("typical_unit_price_eur", "double"), ("basket_goods_eur", "double"), ("basket_shipping_eur", "double"),
    ("basket_customs_value_eur", "double"), ("basket_duty_eur", "double"), ("basket_vat_eur", "double"),
    ("vat_collected", "varchar"), ("basket_fees_eur", "double"), ("basket_landed_cost_eur", "double"),
    ("collected_at_door_eur", "double"), ("unit_cost_eur", "double"), ("cost_basis", "varchar"),
    ("freight_eur_per_unit", "double"),
    ("customs_value_eur", "double"), ("duty_eur_per_unit", "double"), ("vat_eur_per_unit", "double"),
    ("landed_cost_eur_per_unit", "double"), ("landed_cost_local_per_unit", "double"), ("local_currency", "varchar"),
    ("preference_saving_eur_per_unit", "double"), ("customs_hold_rate", "double"), ("customs_added_days", "double"),
    ("registration_needed", "varchar"), ("product_rules", "varchar"), ("flags", "varchar"), ("flag_count", "bigint"),
    ("documents_required", "varchar"), ("action", "varchar"), ("unknowns", "varchar"),
)
ORDER_SCHEMA: tuple[tuple[str, str], ...] = (
    ("order_id", "varchar"), ("order_date", "timestamp_ns"), ("market", "varchar"), ("ship_to_country", "varchar"),
    ("ship_from_node", "varchar"), ("carrier", "varchar"), ("import_flow", "varchar"), ("regime", "varchar"),
    ("incoterm", "varchar"), ("lines", "bigint"), ("units", "bigint"), ("goods_value_eur", "double"),
    ("shipping_eur", "double"), ("customs_value_eur", "double"), ("duty_eur", "double"), ("vat_eur", "double"),
    ("vat_collected", "varchar"), ("fees_eur", "double"), ("landed_cost_eur", "double"), ("collected_at_door_eur", "double"),
    ("landed_cost_local", "double"), ("local_currency", "varchar"), ("registration_needed", "varchar"),
    ("preference_unclaimed_saving_eur", "double"), ("missing_duty_rate", "boolean"), ("rule_applied", "varchar"),
    ("unknowns", "varchar"),
)
PLAN_COLUMNS: tuple[str, ...] = tuple(name for name, _ in PLAN_SCHEMA)
ORDER_COLUMNS: tuple[str, ...] = tuple(name for name, _ in ORDER_SCHEMA)


def typed(rows: pd.DataFrame | Iterable[Mapping], schema: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """`rows` with exactly the schema's columns, in order, each in the pandas dtype DuckDB reads as its type."""
    columns = [name for name, _ in schema]
    frame = rows[columns].copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)
    for name, kind in schema:
        column = frame[name]
        if kind == "double":
            frame[name] = column.astype("float64")
        elif kind == "bigint":
            frame[name] = column.astype("int64")
        elif kind == "boolean":
            frame[name] = column.astype(bool)
        elif kind == "timestamp_ns":
            frame[name] = pd.to_datetime(column).astype("datetime64[ns]")
        elif kind == "date" and frame.empty:
            frame[name] = column.astype(pd.ArrowDtype(pa.date32()))
        elif kind == "varchar":
            frame[name] = column.astype(object).where(column.notna(), None)
    return frame
