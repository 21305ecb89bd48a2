"""The training-data quality gate (`expectations.gate.validate_training_data`)."""
from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations.gate import GateResult, validate_training_data  # noqa: E402

MARKETS = ["US", "CA", "GB", "DE", "FR", "NL", "AU", "JP"]
START = pd.Timestamp("2026-09-01")
END = pd.Timestamp("2026-10-31")
BAD_DAY = pd.Timestamp("2026-10-12")


def clean_frame(markets: list[str] = MARKETS, skus: int = 6, seed: int = 7) -> pd.DataFrame:
    """Sparse mart-like frame: each market sells on every day, not every SKU every day."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(START, END, freq="D")
    rows = []
    for market in markets:
        for day in days:
            for s in range(skus):
                # SKU 0 sells every day so every market-day has sales; others are sparse.
                if s and rng.random() < 0.4:
                    continue
                sold = int(rng.integers(1, 20))
                rows.append(
                    {
                        "sku": f"SKU-{s:03d}",
                        "market": market,
                        "category": "home" if s % 2 else "garden",
                        "demand_date": day,
                        "units_sold": sold,
                        "units_returned": int(rng.integers(0, 2)),
                        "revenue_eur": round(sold * 12.5, 2),
                    }
                )
    return pd.DataFrame(rows)


def failure_for(result: GateResult, description: str) -> dict:
    matches = [f for f in result.failures if f["description"] == description]
    assert matches, f"no failure {description!r} in {[f['description'] for f in result.failures]}"
    return matches[0]


def test_clean_frame_passes():
    df = clean_frame()
    before = df.copy()
    result = validate_training_data(df, MARKETS)
    assert result.passed, result.message
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is left alone
    assert result.failures == []
    stats = result.statistics
    assert stats["evaluated_expectations"] == stats["successful_expectations"] == 14
    assert stats["rows"] == len(df)
    assert stats["markets"] == 8
    assert stats["start_date"] == "2026-09-01" and stats["end_date"] == "2026-10-31"
    assert result.message.startswith(f"All 14 expectations passed on {len(df)} rows (8 markets, 61 days")


def test_day_of_returns_in_us_and_ca_fails_naming_units_sold_markets_and_date():
    df = clean_frame()
    hit = df["market"].isin(["US", "CA"]) & (df["demand_date"] == BAD_DAY)
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"]
    df.loc[hit, "units_sold"] = 0
    df.loc[hit, "revenue_eur"] = 0.0

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    assert "units_sold" in result.message
    assert "US 2026-10-12" in result.message and "CA 2026-10-12" in result.message
    sold = failure_for(result, "units_sold >= 1")
    assert sold["suite"] == "training_data_market_days"
    assert sold["expectation_type"] == "expect_column_values_to_be_between"
    assert sold["column"] == "units_sold"
    assert sold["unexpected_count"] == 2
    assert sold["examples"] == ["US 2026-10-12", "CA 2026-10-12"]
    # Two market-days of returns above sales are within the tolerance of quiet
    # days; the missing sales are what trips the gate.
    assert [f["description"] for f in result.failures] == ["units_sold >= 1"]
    assert {f["suite"] for f in result.failures} == {"training_data_market_days"}
    assert result.message.startswith("Training data failed 1 of 14 expectations: market_days: units_sold >= 1")


def test_returns_above_sales_on_many_market_days_fails():
    df = clean_frame()
    hit = (df["market"] == "FR") & (df["demand_date"] > END - pd.Timedelta(days=20))
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"] + 5

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    returned = failure_for(result, "units_returned <= units_sold")
    assert returned["unexpected_count"] == 20
    assert "FR" in result.message


def test_market_vanishing_for_last_ten_days_fails_naming_market():
    df = clean_frame()
    df = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=10)))]

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    sold = failure_for(result, "units_sold >= 1")
    assert sold["unexpected_count"] == 10
    assert list(sold["by_market"]) == ["DE"]
    assert sold["by_market"]["DE"] == {"count": 10, "first": "2026-10-22", "last": "2026-10-31"}
    assert "DE 10 days (2026-10-22..2026-10-31)" in result.message
    assert "DE 2026-10-31" in result.message


def test_unknown_market_fails_naming_it():
    df = clean_frame()
    extra = df[df["market"] == "GB"].head(3).assign(market="XX")
    df = pd.concat([df, extra], ignore_index=True)

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    unknown = failure_for(result, "market in the expected markets")
    assert unknown["suite"] == "training_data_rows"
    assert unknown["column"] == "market"
    assert unknown["unexpected_count"] == 3
    assert unknown["unexpected_values"] == {"XX": 3}
    assert "XX (3 rows)" in result.message
    assert unknown["examples"][0].startswith("XX 2026-09-01 sku SKU-")


def test_negative_units_sold_fails():
    df = clean_frame()
    df.loc[5, "units_sold"] = -4

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    negative = failure_for(result, "units_sold >= 0")
    assert negative["column"] == "units_sold"
    assert negative["unexpected_count"] == 1
    row = df.loc[5]
    expected = f"{row['market']} {row['demand_date']:%Y-%m-%d} sku {row['sku']} (units_sold=-4)"
    assert negative["examples"] == [expected]
    assert expected in result.message


def test_duplicate_key_fails():
    # A non-default index: examples must still point at the right rows.
    df = clean_frame().set_index(pd.RangeIndex(100, 100 + len(clean_frame())))
    dupe = df[(df["market"] == "FR") & (df["demand_date"] == BAD_DAY)].head(1)
    df = pd.concat([df, dupe])

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    unique = failure_for(result, "(sku, market, demand_date) unique")
    assert unique["expectation_type"] == "expect_compound_columns_to_be_unique"
    assert unique["columns"] == ["sku", "market", "demand_date"]
    assert unique["unexpected_count"] == 2  # both copies
    key = f"FR 2026-10-12 sku {dupe['sku'].iloc[0]}"
    assert unique["examples"] == [key]
    assert key in result.message


def test_absent_expected_market_is_named():
    df = clean_frame()
    df = df[df["market"] != "JP"]

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    absent = failure_for(result, "every expected market present")
    assert absent["missing"] == ["JP"]
    assert absent["unexpected_count"] == 1
    assert "absent from the whole frame: JP" in result.message
    # Only that: an absent market has no market-days to fail.
    assert len(result.failures) == 1


def test_missing_column_fails_without_raising():
    df = clean_frame().drop(columns=["units_returned"])

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    columns = failure_for(result, "required columns exist")
    assert columns["missing"] == ["units_returned"]
    assert "missing column(s) units_returned" in result.message
    assert "market_days suite (3 expectations) not run" in result.message


def test_nulls_are_caught():
    df = clean_frame()
    df["market"] = df["market"].astype(object)
    df.loc[3, "market"] = None
    df.loc[4, "demand_date"] = pd.NaT

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    assert failure_for(result, "market not null")["unexpected_count"] == 1
    assert failure_for(result, "demand_date not null")["unexpected_count"] == 1


def test_empty_expected_markets_is_a_caller_error():
    with pytest.raises(ValueError):
        validate_training_data(clean_frame(markets=["US"]), [])
