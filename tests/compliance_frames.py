"""What the compliance tests build their small hand-made inputs from: the shipped rule seeds and a catalogue fact row.

The plan, unknowns and run tests price a few SKUs x markets under the real
seeds (de minimis, VAT, import fees) with their own FX rates; one definition of
the rulebook and of a compliance fact keeps them testing the same shapes.
"""
from pathlib import Path

import pandas as pd

from compliance.rulebook import Rulebook

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


def seed_rulebook(fx: pd.DataFrame) -> Rulebook:
    """The shipped de minimis, VAT and import-fee seeds with the test's FX rates (calendar_date, currency, units_per_eur)."""
    return Rulebook(
        pd.read_csv(SEEDS / "de_minimis.csv"), pd.read_csv(SEEDS / "vat_rates.csv"), pd.read_csv(SEEDS / "import_fees.csv"), fx
    )


def seed_countries() -> pd.DataFrame:
    """The shipped countries seed as text: every ISO country's customs territory ('NA' is Namibia, not a null)."""
    return pd.read_csv(SEEDS / "countries.csv", dtype=str, keep_default_na=False)


ORDER_LINE_COLUMNS = ["order_id", "order_date", "market", "ship_to_country", "ship_from_node", "carrier", "sku", "quantity",
                      "unit_price", "currency", "units_per_eur"]


def order_lines(rows: list[tuple]) -> pd.DataFrame:
    """Sale lines as compliance.orders prices them, from tuples in ORDER_LINE_COLUMNS order."""
    return pd.DataFrame(rows, columns=ORDER_LINE_COLUMNS).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))


def fact(sku: str, market: str, territory: str | None, currency: str | None, **kw) -> dict:
    """One compliance fact row (a SKU in a market): a VN-made apparel tee at 12% MFN unless `kw` says otherwise."""
    row = {
        "sku": sku, "product_name": sku, "category": "apparel", "hs_code": "610910", "hs_code_valid": True,
        "origin_country": "VN", "origin_customs_territory": "VN", "unit_cost_eur": 10.0, "weight_kg": 0.5, "market": market, "customs_territory": territory,
        "currency": currency, "mfn_rate": 0.12, "duty_source": None, "preferential_agreement": None, "preferential_rate": None,
        "preferential_parties": None, "restricted_categories": None, "product_rules": None, "restricted_documents": None,
    }
    return row | kw
