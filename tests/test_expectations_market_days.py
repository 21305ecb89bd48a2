"""The dense market-day frame (`expectations.market_days`) and the suites as code."""
from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations.market_days import MARKET_DAY_COLUMNS, market_day_frame  # noqa: E402


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "market", "demand_date", "units_sold", "units_returned"])


def test_zero_fills_from_first_activity_to_global_end():
    df = frame(
        [
            ("A", "US", "2026-10-10", 3, 0),
            ("B", "US", "2026-10-10", 2, 1),
            ("A", "US", "2026-10-13", 1, 0),
            ("A", "CA", "2026-10-12", 5, 0),
            ("A", "XX", "2026-10-15", 9, 0),  # unknown market: ignored, but its date ends the range
        ]
    ).assign(demand_date=lambda d: pd.to_datetime(d["demand_date"]))

    md = market_day_frame(df, ["US", "CA", "JP"])

    assert list(md.columns) == list(MARKET_DAY_COLUMNS)
    assert md["market"].tolist() == ["US"] * 6 + ["CA"] * 4  # JP absent: no rows
    us = md[md["market"] == "US"].set_index("demand_date")
    assert us.index.min() == pd.Timestamp("2026-10-10") and us.index.max() == pd.Timestamp("2026-10-15")
    assert us["units_sold"].tolist() == [5, 0, 0, 1, 0, 0]
    assert us["units_returned"].tolist() == [1, 0, 0, 0, 0, 0]
    assert us["active_skus"].tolist() == [2, 0, 0, 1, 0, 0]
    assert md["units_sold"].dtype == "int64"
    ca = md[md["market"] == "CA"]
    assert ca["demand_date"].min() == pd.Timestamp("2026-10-12")


def test_accepts_python_dates_and_ignores_null_dates():
    df = frame(
        [
            ("A", "US", dt.date(2026, 10, 10), 1, 0),
            ("A", "US", None, 7, 0),
            ("A", "US", dt.date(2026, 10, 11), 2, 0),
        ]
    )
    md = market_day_frame(df, ["US"])
    assert md["demand_date"].tolist() == [pd.Timestamp("2026-10-10"), pd.Timestamp("2026-10-11")]
    assert md["units_sold"].tolist() == [1, 2]


def test_empty_when_no_expected_market_has_rows():
    df = frame([("A", "XX", pd.Timestamp("2026-10-10"), 1, 0)])
    md = market_day_frame(df, ["US"])
    assert md.empty and list(md.columns) == list(MARKET_DAY_COLUMNS)


def test_missing_source_column_raises():
    with pytest.raises(KeyError):
        market_day_frame(frame([]).drop(columns=["units_returned"]), ["US"])


def test_suites_are_named_and_built_from_expected_markets():
    from expectations.suites import (
        MARKET_DAYS_SUITE_NAME,
        ROWS_SUITE_NAME,
        training_data_market_days_suite,
        training_data_rows_suite,
    )

    rows = training_data_rows_suite(["US", "CA"])
    days = training_data_market_days_suite(["US", "CA"])
    assert rows.name == ROWS_SUITE_NAME == "training_data_rows"
    assert days.name == MARKET_DAYS_SUITE_NAME == "training_data_market_days"
    types = [e.expectation_type for e in rows.expectations]
    assert "expect_compound_columns_to_be_unique" in types
    in_set = next(e for e in rows.expectations if e.expectation_type == "expect_column_values_to_be_in_set")
    assert list(in_set.value_set) == ["US", "CA"]
    # Descriptions name the expectations in the gate's message: keep them unique.
    for suite in (rows, days):
        descriptions = [e.description for e in suite.expectations]
        assert len(set(descriptions)) == len(descriptions)
    with pytest.raises(ValueError):
        training_data_rows_suite([])
