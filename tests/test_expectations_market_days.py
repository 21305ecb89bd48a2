"""The dense market-day frame (`expectations.market_days`) and the suites as code."""
from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations.market_days import (  # noqa: E402
    JUDGED_COLUMNS,
    MARKET_DAY_COLUMNS,
    allowed_return_days,
    judged_market_days,
    market_day_frame,
    market_histories,
    weekday_probabilities,
)
from expectations.thresholds import GateThresholds  # noqa: E402


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
    assert us["returning_skus"].tolist() == [0] * 6
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
    md = market_day_frame(daily_market("US", 60), ["US", "CA"])
    days = training_data_market_days_suite(market_histories(md, ["US", "CA"]))
    assert rows.name == ROWS_SUITE_NAME == "training_data_rows"
    assert days.name == MARKET_DAYS_SUITE_NAME == "training_data_market_days"
    types = [e.expectation_type for e in rows.expectations]
    assert "expect_compound_columns_to_be_unique" in types
    in_set = next(e for e in rows.expectations if e.expectation_type == "expect_column_values_to_be_in_set")
    assert list(in_set.value_set) == ["US", "CA"]
    # A return-days share per judged market (US); CA has no orders, so none.
    assert [e.description for e in days.expectations] == [
        "no market's sales stopped",
        "returns not far above sales on any market-day",
        "returns above sales on at most 7 of US's 60 selling days",
    ]
    share = days.expectations[2]
    assert share.row_condition.pass_through_filter == 'market == "US" and units_sold > 0'
    assert share.mostly == pytest.approx(1 - 7.5 / 60)
    # Descriptions name the expectations in the gate's message: keep them unique.
    for suite in (rows, days):
        descriptions = [e.description for e in suite.expectations]
        assert len(set(descriptions)) == len(descriptions)
    with pytest.raises(ValueError):
        training_data_rows_suite([])


def daily_market(market: str, days: int, start: str = "2026-01-05", sold: int = 3) -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D")
    return frame([("A", market, d, sold, 0) for d in dates])


def test_history_learns_weekday_pattern_and_trailing_run():
    # Mon 2026-01-05 .. Sun 2026-03-01 (8 weeks), closed on Saturdays, then 3 quiet days Mon..Wed.
    days = pd.date_range("2026-01-05", "2026-03-01", freq="D")
    df = frame([("A", "DE", d, 2, 0) for d in days if d.weekday() != 5])
    df = pd.concat([df, frame([("A", "US", pd.Timestamp("2026-03-04"), 1, 0)])], ignore_index=True)

    md = market_day_frame(df, ["DE", "US"])
    [de, us] = market_histories(md, ["DE", "US"])

    assert de.status == "judged"
    assert de.weekday_days == (8, 8, 8, 8, 8, 8, 8)
    assert de.weekday_selling_days == (8, 8, 8, 8, 8, 0, 8)
    assert de.weekday_shares[5] == 0.0 and de.weekday_shares[0] == 1.0
    assert de.last_sale_day == pd.Timestamp("2026-03-01")
    assert de.quiet_run_days == 3 and de.quiet_run_start == pd.Timestamp("2026-03-02")
    a = weekday_probabilities(de)
    assert a[0] == pytest.approx(9 / 10) and a[5] == pytest.approx(1 / 10)
    assert de.quiet_run_probability == pytest.approx((1 / 10) ** 3)
    assert de.selling_days == 48 and de.history_days == 56
    assert de.usual_units_sold == 2 and de.flip_limit_units == 5  # max(min_flip_units 5, 0.5 x 2)
    assert us.status == "short_history" and us.selling_days == 1


def test_history_statuses():
    t = GateThresholds(min_history_days=10, dormant_after_days=20)
    df = pd.concat(
        [
            daily_market("US", 60),  # 2026-01-05 .. 2026-03-05
            daily_market("ES", 30),  # last sale 2026-02-03: 30 quiet days
            daily_market("IT", 5, start="2026-02-25"),  # 5 selling days, then 5 quiet
            frame([("A", "NL", pd.Timestamp("2026-02-01"), 0, 2)]),  # a return, never a sale
        ],
        ignore_index=True,
    )
    md = market_day_frame(df, ["US", "ES", "IT", "NL", "JP"])
    statuses = {h.market: h.status for h in market_histories(md, ["US", "ES", "IT", "NL", "JP"], t)}
    assert statuses == {"US": "judged", "ES": "dormant", "IT": "short_history", "NL": "no_sales", "JP": "no_orders"}


def test_judged_columns_mark_only_the_trailing_run_of_judged_markets():
    df = pd.concat([daily_market("US", 60), daily_market("DE", 50), daily_market("IT", 5)], ignore_index=True)
    md = market_day_frame(df, ["US", "DE", "IT"])
    histories = market_histories(md, ["US", "DE", "IT"])
    judged = judged_market_days(md, histories)

    assert list(judged.columns) == [*MARKET_DAY_COLUMNS, *JUDGED_COLUMNS]
    de = judged[judged["market"] == "DE"]
    run = de["demand_date"] > pd.Timestamp("2026-02-23")
    assert run.sum() == 10
    assert (de.loc[run, "quiet_run_probability"] == histories[1].quiet_run_probability).all()
    assert histories[1].quiet_run_probability < 1e-6
    assert (de.loc[~run, "quiet_run_probability"] == 1.0).all()
    # IT is quiet for 55 days but has 5 selling days: not judged, probability 1.
    assert (judged.loc[judged["market"] == "IT", "quiet_run_probability"] == 1.0).all()
    assert (judged["returns_ceiling"] == judged["units_sold"] + 5).all()
    assert judged["weekday"].iloc[0] == 0  # 2026-01-05 is a Monday


def test_returning_skus_counts_skus_returning_more_than_they_sold():
    df = frame(
        [
            ("A", "US", pd.Timestamp("2026-01-05"), 0, 3),
            ("B", "US", pd.Timestamp("2026-01-05"), 1, 2),
            ("C", "US", pd.Timestamp("2026-01-05"), 4, 1),
        ]
    )
    md = market_day_frame(df, ["US"])
    assert md["returning_skus"].tolist() == [2]
    assert md["active_skus"].tolist() == [3]


@pytest.mark.parametrize("selling_days, allowed", [(0, 0), (28, 5), (61, 7), (365, 19)])
def test_allowed_return_days_is_a_binomial_tail(selling_days, allowed):
    from scipy.stats import binom

    t = GateThresholds()
    assert allowed_return_days(selling_days, t) == allowed
    if selling_days:
        # one more day than allowed would happen to a healthy market less than once in 10,000
        assert binom.sf(allowed, selling_days, t.max_return_share_of_days) <= t.return_days_probability
        assert binom.sf(allowed - 1, selling_days, t.max_return_share_of_days) > t.return_days_probability
    assert allowed_return_days(100, GateThresholds(max_return_share_of_days=0)) == 0
