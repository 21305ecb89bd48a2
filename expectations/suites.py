"""Great Expectations suites for the forecast's training data, as code.

`marts.fct_daily_demand` is validated twice:

- `training_data_rows` on the mart itself (one row per sku, market, day with
  activity): columns, keys, value ranges, markets.
- `training_data_market_days` on the dense market-day frame from
  `expectations.market_days`, each market judged against its own history:
  no market's sales stopped (a trailing run of days without sales that its
  own weekday pattern makes improbable), no day of sign-flipped orders
  (returns far above sales over several SKUs), and returns above sales on no
  more of a market's selling days than a healthy market shows.

Each expectation carries a short `description`; the gate uses it to name what
broke in its message.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import great_expectations as gx

from expectations.market_days import MarketHistory
from expectations.thresholds import GateThresholds

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
            *[
                E.ExpectColumnValuesToBeBetween(column=c, min_value=0, mostly=1.0, description=f"{c} >= 0")
                for c in ("units_sold", "units_returned")
            ],
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


STOP_DESCRIPTION = "no market's sales stopped"
FLIP_DESCRIPTION = "returns not far above sales on any market-day"


def return_days_description(market: str, allowed: int, selling_days: int) -> str:
    return f"returns above sales on at most {allowed} of {market}'s {selling_days} selling days"


def _condition_value(text: str) -> str:
    # A double-quoted string literal for pandas' DataFrame.query.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def training_data_market_days_suite(
    histories: Sequence[MarketHistory],
    thresholds: GateThresholds | None = None,
) -> gx.ExpectationSuite:
    """Suite on `judged_market_days(market_day_frame(...), histories)`.

    Each market is judged against its own history (`expectations.market_days`):

    - "no market's sales stopped": `quiet_run_probability` >= stop_probability
      on every market-day (it is below only on the trailing quiet run of a
      judged market whose own weekday pattern makes that run improbable).
    - "returns not far above sales": on market-days where at least
      `flip_sku_floor` SKUs returned more than they sold, units_returned <=
      `returns_ceiling` (units_sold + the market's flip limit).
    - per judged market, "returns above sales on at most k of M's n selling
      days": units_sold >= units_returned on its selling days, mostly
      1 - (k + 0.5) / n, k from `allowed_return_days`.

    Markets without orders, dormant ones and those with a short history get no
    share expectation; the gate's message names them.
    """
    thresholds = thresholds or GateThresholds()
    E = gx.expectations
    expectations: list = [
        E.ExpectColumnValuesToBeBetween(
            column="quiet_run_probability",
            min_value=thresholds.stop_probability,
            mostly=1.0,
            description=STOP_DESCRIPTION,
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="returns_ceiling",
            column_B="units_returned",
            or_equal=True,
            mostly=1.0,
            row_condition="returning_skus >= flip_sku_floor",
            condition_parser="pandas",
            description=FLIP_DESCRIPTION,
        ),
    ]
    for history in histories:
        if not history.judged or history.return_days_allowed is None:
            continue
        n = history.selling_days
        allowed = history.return_days_allowed
        expectations.append(
            E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="units_sold",
                column_B="units_returned",
                or_equal=True,
                mostly=max(0.0, 1.0 - (allowed + 0.5) / n),
                row_condition=f"market == {_condition_value(history.market)} and units_sold > 0",
                condition_parser="pandas",
                description=return_days_description(history.market, allowed, n),
            )
        )
    return gx.ExpectationSuite(name=MARKET_DAYS_SUITE_NAME, expectations=expectations)
