"""Great Expectations suites for the forecast's training data, as code.

`marts.fct_daily_demand` is validated twice:

- `training_data_rows` on the mart itself (one row per sku, market, day with
  activity): columns, keys, value ranges, markets.
- `training_data_market_days` on the dense market-day frame from
  `expectations.market_days.market_day_frame`: every expected market is
  present, sells on every day from its first activity date to the end of the
  data, and does not return more than it sells on any day.

Each expectation carries a short `description`; the gate uses it to name what
broke in its message.
"""
from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from collections.abc import Iterable  # noqa: E402

import great_expectations as gx  # noqa: E402

ROWS_SUITE_NAME = "training_data_rows"
MARKET_DAYS_SUITE_NAME = "training_data_market_days"

REQUIRED_COLUMNS: tuple[str, ...] = (
    "sku",
    "market",
    "category",
    "demand_date",
    "units_sold",
    "units_returned",
    "revenue_eur",
)
KEY_COLUMNS: tuple[str, ...] = ("sku", "market", "demand_date")


def _markets(expected_markets: Iterable[str]) -> list[str]:
    markets = list(dict.fromkeys(expected_markets))
    if not markets:
        raise ValueError("expected_markets is empty: the training data gate needs at least one market")
    return markets


def training_data_rows_suite(expected_markets: Iterable[str]) -> gx.ExpectationSuite:
    """Row-level suite on `marts.fct_daily_demand`."""
    markets = _markets(expected_markets)
    E = gx.expectations
    return gx.ExpectationSuite(
        name=ROWS_SUITE_NAME,
        expectations=[
            E.ExpectTableColumnsToMatchSet(
                column_set=list(REQUIRED_COLUMNS),
                exact_match=False,
                description="required columns exist",
            ),
            *[
                E.ExpectColumnValuesToNotBeNull(column=c, mostly=1.0, description=f"{c} not null")
                for c in ("sku", "market", "demand_date", "units_sold", "units_returned")
            ],
            E.ExpectColumnValuesToBeBetween(
                column="units_sold", min_value=0, mostly=1.0, description="units_sold >= 0"
            ),
            E.ExpectColumnValuesToBeBetween(
                column="units_returned", min_value=0, mostly=1.0, description="units_returned >= 0"
            ),
            E.ExpectColumnValuesToBeInSet(
                column="market",
                value_set=markets,
                mostly=1.0,
                description="market in the expected markets",
            ),
            E.ExpectColumnValuesToBeBetween(
                column="revenue_eur", min_value=0, mostly=1.0, description="revenue_eur >= 0"
            ),
            E.ExpectCompoundColumnsToBeUnique(
                column_list=list(KEY_COLUMNS),
                mostly=1.0,
                description="(sku, market, demand_date) unique",
            ),
        ],
    )


RETURNS_ABOVE_SALES_TOLERANCE_MOSTLY = 0.98


def training_data_market_days_suite(
    expected_markets: Iterable[str],
    *,
    min_units_sold: int = 1,
    mostly: float = 1.0,
) -> gx.ExpectationSuite:
    """Suite on the dense market-day frame (see `expectations.market_days`).

    `min_units_sold` and `mostly` loosen the "sells every day" rule for a
    merchant whose small markets have genuine zero-sale days; the gate uses the
    strict defaults.
    """
    markets = _markets(expected_markets)
    E = gx.expectations
    return gx.ExpectationSuite(
        name=MARKET_DAYS_SUITE_NAME,
        expectations=[
            E.ExpectColumnDistinctValuesToContainSet(
                column="market",
                value_set=markets,
                description="every expected market present",
            ),
            E.ExpectColumnValuesToBeBetween(
                column="units_sold",
                min_value=min_units_sold,
                mostly=mostly,
                description=f"units_sold >= {min_units_sold}",
            ),
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="units_sold",
                column_B="units_returned",
                or_equal=True,
                # A quiet day in a small market can see more returns than
                # sales; a sign-flipped feed shows as many such days, and as
                # days without sales, which the strict rule above catches.
                mostly=RETURNS_ABOVE_SALES_TOLERANCE_MOSTLY,
                description="units_returned <= units_sold",
            ),
        ],
    )
