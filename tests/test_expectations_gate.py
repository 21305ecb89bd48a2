"""The training-data quality gate (`expectations.gate.validate_training_data`)."""
from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations.gate import GateResult, GateThresholds, validate_training_data  # noqa: E402

MARKETS = ["US", "CA", "GB", "DE", "FR", "NL", "AU", "JP"]
START = pd.Timestamp("2026-09-01")
END = pd.Timestamp("2026-10-31")  # a Saturday
BAD_DAY = pd.Timestamp("2026-10-12")
# Rows suite 11 + "no market's sales stopped" + "returns not far above sales" + one return-days share per judged market.
ROW_EXPECTATIONS = 11
STOP = "no market's sales stopped"
FLIP = "returns not far above sales on any market-day"


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
    assert stats["evaluated_expectations"] == stats["successful_expectations"] == ROW_EXPECTATIONS + 2 + 8
    assert stats["rows"] == len(df)
    assert stats["markets"] == 8
    assert stats["judged_markets"] == 8
    assert stats["start_date"] == "2026-09-01" and stats["end_date"] == "2026-10-31"
    assert result.message == (
        f"All 21 expectations passed on {len(df)} rows (8 markets, 61 days, 2026-09-01..2026-10-31)."
    )
    assert [m["market"] for m in result.markets] == MARKETS
    assert all(m["status"] == "judged" and m["active_share"] == 1.0 for m in result.markets)


def test_day_of_sign_flipped_orders_in_us_and_ca_fails_naming_markets_and_date():
    df = clean_frame()
    hit = df["market"].isin(["US", "CA"]) & (df["demand_date"] == BAD_DAY)
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"]
    df.loc[hit, "units_sold"] = 0
    df.loc[hit, "revenue_eur"] = 0.0

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    assert "US 2026-10-12" in result.message and "CA 2026-10-12" in result.message
    flip = failure_for(result, FLIP)
    assert flip["suite"] == "training_data_market_days"
    assert flip["expectation_type"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert flip["columns"] == ["returns_ceiling", "units_returned"]
    assert flip["unexpected_count"] == 2
    assert [e.split(" (")[0] for e in flip["examples"]] == ["US 2026-10-12", "CA 2026-10-12"]
    assert flip["by_market"] == {
        "US": {"count": 1, "first": "2026-10-12", "last": "2026-10-12"},
        "CA": {"count": 1, "first": "2026-10-12", "last": "2026-10-12"},
    }
    us = df.loc[hit & (df["market"] == "US")]
    assert f"US 2026-10-12 (units_returned {us['units_returned'].sum()} over {len(us)} SKUs, units_sold 0;" in (
        result.message
    )
    # the flip's own advice, not the return-days check's setting (a review of the first cut)
    assert "gates.flip_share_of_usual_sales" in result.message and "max_return_share_of_days" not in result.message
    # One quiet day in the middle is not a stop, and one day is within any market's share of return days.
    assert [f["description"] for f in result.failures] == [FLIP]
    # two of eight like-sized markets: held back, the six others planned without them
    assert result.held_back == ["US", "CA"]
    assert result.message.startswith("HELD BACK US, CA: the forecast and the plan go on without them (planning GB, DE, "
                                     f"FR, NL, AU, JP); their own failures follow. Training data failed 1 of 21 "
                                     f"expectations: market_days: {FLIP}")


def test_sign_flipped_last_day_fails_as_a_flip_not_a_stop():
    df = clean_frame()
    hit = (df["market"] == "NL") & (df["demand_date"] == END)
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"]
    df.loc[hit, "units_sold"] = 0

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    assert [f["description"] for f in result.failures] == [FLIP]
    assert "NL 2026-10-31" in result.message


def test_one_bulk_return_is_not_a_flip():
    # A customer sends back 200 units of one SKU: returns far above that day's
    # sales, but over one SKU, not the whole day's orders.
    df = clean_frame()
    row = df.index[(df["market"] == "US") & (df["demand_date"] == BAD_DAY)][0]
    df.loc[row, "units_returned"] = 200

    result = validate_training_data(df, MARKETS)

    assert result.passed, result.message
    us = next(m for m in result.markets if m["market"] == "US")
    assert us["return_days"] == 1 and us["return_days_allowed"] == 7


def test_returns_above_sales_on_many_market_days_fails():
    df = clean_frame()
    hit = (df["market"] == "FR") & (df["demand_date"] > END - pd.Timedelta(days=20))
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"] + 5

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    returned = failure_for(result, "returns above sales on at most 7 of FR's 61 selling days")
    assert returned["expectation_type"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert returned["unexpected_count"] == 20
    assert returned["by_market"] == {"FR": {"count": 20, "first": "2026-10-12", "last": "2026-10-31"}}
    assert "FR 20 days (2026-10-12..2026-10-31)" in result.message
    # what to do about returns, not the stopped market's advice (a data steward's test)
    assert "Check those days' return lines in the orders feed" in result.message
    assert "gates.max_return_share_of_days" in result.message  # its flip check fails too, with its own advice
    assert "land the missing days" not in result.message


def test_returns_above_sales_on_a_few_selling_days_is_normal():
    df = clean_frame()
    # Five scattered days (8%) on which FR's returns exceed its sales: under the
    # 7 days a healthy market with 2% such days reaches bar a 1-in-10,000 fluke.
    for day in pd.date_range(START + pd.Timedelta(days=3), periods=5, freq="9D"):
        hit = (df["market"] == "FR") & (df["demand_date"] == day)
        first = df.index[hit][0]
        df.loc[first, "units_returned"] = int(df.loc[hit, "units_sold"].sum()) + 2

    result = validate_training_data(df, MARKETS)

    assert result.passed, result.message
    fr = next(m for m in result.markets if m["market"] == "FR")
    assert fr["return_days"] == 5


def test_market_vanishing_for_last_ten_days_fails_naming_market():
    df = clean_frame()
    df = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=10)))]

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    stop = failure_for(result, STOP)
    assert stop["suite"] == "training_data_market_days"
    assert stop["column"] == "quiet_run_probability"
    assert stop["unexpected_count"] == 10
    assert list(stop["by_market"]) == ["DE"]
    assert stop["by_market"]["DE"] == {"count": 10, "first": "2026-10-22", "last": "2026-10-31"}
    assert stop["examples"][0] == "DE 2026-10-31"
    assert [f["description"] for f in result.failures] == [STOP]
    assert "market DE sold nothing on 2026-10-22..2026-10-31 (10 days)" in result.message
    assert "before that it sold on 100% of its days (51 of 51;" in result.message
    assert "limit 1e-04" in result.message
    assert "take it out of crossdock.yaml's markets" in result.message and "land the missing days" in result.message
    de = next(m for m in result.markets if m["market"] == "DE")
    assert de["quiet_run_days"] == 10 and de["quiet_run_probability"] < 1e-8


def test_a_few_quiet_days_at_the_end_of_a_daily_market_are_not_yet_a_stop():
    # 51..58 days of history: each weekday sold 7..9 of 7..9 times, so a_w ~ 0.9
    # and a quiet day has probability ~0.1; three in a row (1e-3) are not
    # improbable enough, five (1e-5) are.
    df = clean_frame()
    three = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=3)))]
    assert validate_training_data(three, MARKETS).passed
    five = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=5)))]
    result = validate_training_data(five, MARKETS)
    assert not result.passed
    assert "market DE sold nothing on 2026-10-27..2026-10-31 (5 days)" in result.message


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


def test_declared_market_without_orders_passes_and_is_named():
    df = clean_frame()
    df = df[df["market"] != "JP"]

    result = validate_training_data(df, MARKETS)

    # Nothing to forecast for JP, so nothing to block; the message says so.
    assert result.passed, result.message
    assert result.statistics["markets_without_orders"] == ["JP"]
    assert result.statistics["judged_markets"] == 7
    assert result.message.endswith("Not judged on gaps or return days: JP (declared, no orders: nothing to forecast).")
    jp = next(m for m in result.markets if m["market"] == "JP")
    assert jp["status"] == "no_orders" and jp["selling_days"] == 0


def test_missing_column_fails_without_raising():
    df = clean_frame().drop(columns=["units_returned"])

    result = validate_training_data(df, MARKETS)

    assert not result.passed
    columns = failure_for(result, "required columns exist")
    assert columns["missing"] == ["units_returned"]
    assert "missing column(s) units_returned" in result.message
    assert "market_days suite not run: the frame lacks units_returned" in result.message


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


# ----------------------------------------------------------------------------- merchants that do not sell every day


def merchant_frame(sells, start=START, end=END, skus=4, seed=11, returns_on_quiet_days=0.0) -> pd.DataFrame:
    """Sparse mart-like frame: `sells[market](day, rng)` says whether the market sells that day.

    On a selling day SKU 0 sells and the others sometimes; on a quiet day a
    return may still come in (one unit of one SKU) with `returns_on_quiet_days`.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for market, sells_on in sells.items():
        for day in pd.date_range(start, end, freq="D"):
            if sells_on(day, rng):
                for s in range(skus):
                    if s and rng.random() < 0.5:
                        continue
                    sold = int(rng.integers(1, 15))
                    rows.append((f"SKU-{s:03d}", market, "home", day, sold, int(rng.random() < 0.1), sold * 9.5))
            elif rng.random() < returns_on_quiet_days:
                rows.append(("SKU-001", market, "home", day, 0, 1, 0.0))
    return pd.DataFrame(
        rows, columns=["sku", "market", "category", "demand_date", "units_sold", "units_returned", "revenue_eur"]
    )


def every_day(day, rng):
    return True


def closed_on_saturdays(day, rng):
    return day.weekday() != 5


def twice_a_week(seed):
    """Buys on two random days of each ISO week."""
    picks = {}
    local = np.random.default_rng(seed)

    def sells(day, rng):
        week = tuple(day.isocalendar()[:2])
        if week not in picks:
            picks[week] = set(local.choice(7, size=2, replace=False).tolist())
        return day.weekday() in picks[week]

    return sells


def long_tail(day, rng):
    return rng.random() < 0.3


def test_shop_closed_on_saturdays_passes():
    # The data ends on a Saturday, so the shop's last day is quiet too.
    assert END.weekday() == 5
    df = merchant_frame({"US": every_day, "DE": closed_on_saturdays})

    result = validate_training_data(df, ["US", "DE"])

    assert result.passed, result.message
    de = next(m for m in result.markets if m["market"] == "DE")
    assert de["status"] == "judged"
    assert de["weekday_active_share"]["Sat"] == 0.0 and de["weekday_active_share"]["Mon"] == 1.0
    assert de["quiet_run_days"] == 1 and de["quiet_run_probability"] > 0.5


YEAR_START = pd.Timestamp("2026-01-01")  # ten months: enough selling days to judge a sparse market


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_market_that_buys_twice_a_week_passes(seed):
    df = merchant_frame({"US": every_day, "CA": twice_a_week(seed)}, start=YEAR_START, seed=seed)

    result = validate_training_data(df, ["US", "CA"])

    assert result.passed, result.message
    ca = next(m for m in result.markets if m["market"] == "CA")
    assert ca["status"] == "judged"
    assert 0.25 < ca["active_share"] < 0.32


def test_long_tail_catch_all_with_returns_on_quiet_days_passes():
    # Sells on ~30% of days, returns come in on ~10% of its quiet days: many
    # market-days with returns above sales (zero), none of them a flip.
    df = merchant_frame({"US": every_day, "ROW": long_tail}, start=YEAR_START, returns_on_quiet_days=0.1, seed=3)

    result = validate_training_data(df, ["US", "ROW"])

    assert result.passed, result.message
    row = next(m for m in result.markets if m["market"] == "ROW")
    assert row["status"] == "judged"
    md = df[df["market"] == "ROW"].groupby("demand_date")[["units_sold", "units_returned"]].sum()
    assert (md["units_returned"] > md["units_sold"]).sum() >= 10  # return-only days, not judged as return days


def test_declared_market_with_orders_only_from_last_year_is_dormant_and_passes():
    start = pd.Timestamp("2025-09-01")
    df = pd.concat(
        [
            merchant_frame({"US": every_day}, start=start),
            merchant_frame({"ES": every_day}, start=start, end=pd.Timestamp("2025-12-31")),
        ],
        ignore_index=True,
    )

    result = validate_training_data(df, ["US", "ES", "JP"])

    assert result.passed, result.message
    assert result.statistics["dormant_markets"] == ["ES"]
    assert result.statistics["markets_without_orders"] == ["JP"]
    assert "ES (dormant: no sale since 2025-12-31, 304 days, more than 91; the forecast no longer plans it)" in (
        result.message
    )


def test_new_market_with_short_history_is_not_judged_on_gaps():
    df = pd.concat(
        [
            merchant_frame({"US": every_day}),
            merchant_frame({"IT": every_day}, start=END - pd.Timedelta(days=24), end=END - pd.Timedelta(days=8)),
        ],
        ignore_index=True,
    )

    result = validate_training_data(df, ["US", "IT"])

    assert result.passed, result.message
    assert result.statistics["short_history_markets"] == ["IT"]
    assert "IT (17 selling days, fewer than 28)" in result.message


def test_closed_on_saturdays_shop_whose_feed_stops_fails_naming_its_weekdays():
    df = merchant_frame({"US": every_day, "DE": closed_on_saturdays})
    df = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=6)))]

    result = validate_training_data(df, ["US", "DE"])

    assert not result.passed
    assert [f["description"] for f in result.failures] == [STOP]
    assert "market DE sold nothing on 2026-10-26..2026-10-31 (6 days)" in result.message
    assert "Mon 100%, Tue 100%, Wed 100%, Thu 100%, Fri 100%, Sat 0%" in result.message


def test_twice_a_week_market_whose_feed_stops_for_six_weeks_fails():
    df = merchant_frame({"US": every_day, "CA": twice_a_week(7)}, start=YEAR_START, seed=7)
    df = df[~((df["market"] == "CA") & (df["demand_date"] > END - pd.Timedelta(days=42)))]

    result = validate_training_data(df, ["US", "CA"])

    assert not result.passed
    stop = failure_for(result, STOP)
    assert list(stop["by_market"]) == ["CA"]
    assert "market CA sold nothing on" in result.message


def test_thresholds_are_parameters():
    df = clean_frame()
    df = df[~((df["market"] == "DE") & (df["demand_date"] > END - pd.Timedelta(days=10)))]

    # A stricter probability limit lets the 10-day run (p ~ 2e-10) through ...
    assert validate_training_data(df, MARKETS, GateThresholds(stop_probability=1e-12)).passed
    # ... and so does asking for more history than DE has.
    result = validate_training_data(df, MARKETS, GateThresholds(min_history_days=60))
    assert result.passed, result.message
    assert "DE (51 selling days, fewer than 60)" in result.message
    # A higher flip limit lets the flipped day through.
    flipped = clean_frame()
    hit = (flipped["market"] == "US") & (flipped["demand_date"] == BAD_DAY)
    flipped.loc[hit, "units_returned"] = flipped.loc[hit, "units_sold"]
    flipped.loc[hit, "units_sold"] = 0
    assert not validate_training_data(flipped, MARKETS).passed
    assert validate_training_data(flipped, MARKETS, GateThresholds(flip_share_of_usual_sales=3.0)).passed


def test_thresholds_validate_and_read_config_rows():
    assert GateThresholds.from_rows([]) == GateThresholds()
    t = GateThresholds.from_rows([{"stop_probability": 1e-6, "min_history_days": 56.0, "min_flip_units": None}])
    assert t.stop_probability == 1e-6 and t.min_history_days == 56 and isinstance(t.min_history_days, int)
    assert t.min_flip_units == GateThresholds().min_flip_units
    assert t.overridden() == {"stop_probability": 1e-6, "min_history_days": 56}
    # Whole days as floats (a YAML mapping of floats) are days; pandas.NA is a null.
    assert GateThresholds(min_history_days=56.0, dormant_after_days=60.0).dormant_after_days == 60
    assert GateThresholds.from_mapping({"min_history_days": pd.NA}) == GateThresholds()
    with pytest.raises(ValueError, match="min_history_days"):
        GateThresholds(min_history_days=5.5)
    with pytest.raises(ValueError, match="unknown setting.*stop_prob"):
        GateThresholds.from_rows([{"stop_prob": 1e-6}])
    with pytest.raises(ValueError, match="one row"):
        GateThresholds.from_rows([{}, {}])
    with pytest.raises(ValueError, match="stop_probability"):
        GateThresholds(stop_probability=0)
    with pytest.raises(ValueError, match="max_return_share_of_days"):
        GateThresholds(max_return_share_of_days=1.5)
    assert GateThresholds.field_names() == [
        "stop_probability",
        "min_history_days",
        "dormant_after_days",
        "max_return_share_of_days",
        "return_days_probability",
        "flip_share_of_usual_sales",
        "min_flip_units",
        "max_held_back_share",
    ]
    with pytest.raises(ValueError, match="max_held_back_share"):
        GateThresholds(max_held_back_share=1.2)


def test_dormant_default_follows_the_forecast():
    from expectations.thresholds import FORECAST_INACTIVE_AFTER_DAYS
    from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS

    assert GateThresholds().dormant_after_days == FORECAST_INACTIVE_AFTER_DAYS == DEFAULT_INACTIVE_AFTER_DAYS


# ----------------------------------------------------------------------------- markets held back


def _stopped(df: pd.DataFrame, market: str, days: int = 10) -> pd.DataFrame:
    return df[~((df["market"] == market) & (df["demand_date"] > END - pd.Timedelta(days=days)))]


def _flipped_returns(df: pd.DataFrame, market: str) -> pd.DataFrame:
    df = df.copy()
    hit = (df["market"] == market) & (df["demand_date"] > END - pd.Timedelta(days=20))
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"] + 5
    return df


SCENARIOS = {  # what breaks -> (the data, its markets)
    "DE's feed stopped": (lambda: _stopped(clean_frame(), "DE"), MARKETS),
    "FR returns above sales for 20 days": (lambda: _flipped_returns(clean_frame(), "FR"), MARKETS),
    "a day of US and CA orders came in as returns": (lambda: _flipped_on(clean_frame(), ["US", "CA"], BAD_DAY), MARKETS),
    "the Saturday-closed DE stopped": (
        lambda: _stopped(merchant_frame({"US": every_day, "DE": closed_on_saturdays}), "DE", 6), ["US", "DE"]),
    "every market stopped": (lambda: clean_frame()[lambda f: f["demand_date"] <= END - pd.Timedelta(days=10)]
                             .pipe(lambda f: pd.concat([f, clean_frame(["XX"])])), [*MARKETS, "XX"]),
    "nothing broke": (clean_frame, MARKETS),
}


def _flipped_on(df: pd.DataFrame, markets: list[str], day: pd.Timestamp) -> pd.DataFrame:
    hit = df["market"].isin(markets) & (df["demand_date"] == day)
    df.loc[hit, "units_returned"] = df.loc[hit, "units_sold"]
    df.loc[hit, "units_sold"] = 0
    return df


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_markets_the_forecast_holds_back_are_those_great_expectations_failed(scenario):
    """The forecast works out the held-back markets in pandas (no word from the check): it must name the markets
    Great Expectations failed, and hold back what the gate holds back."""
    from expectations.market_days import failing_markets, held_back_markets, judged_market_days, market_day_frame, market_histories

    make, markets = SCENARIOS[scenario]
    df = make()
    result = validate_training_data(df, markets)
    named_by_gx = {m for f in result.failures for m in f.get("by_market", {})}
    market_days = market_day_frame(df, markets)
    histories = market_histories(market_days, markets, GateThresholds())
    assert set(failing_markets(judged_market_days(market_days, histories), histories, GateThresholds())) == named_by_gx
    assert held_back_markets(df, markets, GateThresholds()) == result.held_back


def test_a_small_market_whose_feed_stopped_is_held_back_and_a_main_one_stops_the_forecast():
    # DE sells a tenth of US's units: its stop holds DE back; US's stops everything (the last good plan stays whole)
    df = merchant_frame({"US": every_day, "DE": every_day}, start=YEAR_START, seed=5)
    df.loc[df["market"] == "DE", "units_sold"] = (df.loc[df["market"] == "DE", "units_sold"] // 10).clip(lower=1)
    small = validate_training_data(_stopped(df, "DE"), ["US", "DE"])
    assert not small.passed and small.held_back == ["DE"]
    assert small.message.startswith("HELD BACK DE: the forecast and the plan go on without it (planning US)")
    assert "market DE sold nothing on 2026-10-22..2026-10-31 (10 days)" in small.message
    main = validate_training_data(_stopped(df, "US"), ["US", "DE"])
    assert not main.passed and main.held_back == [] and not main.message.startswith("HELD BACK")
    assert main.message.startswith(  # first, before the days: why US stops everything
        "NOT HELD BACK US: it sold 88.0% of the last 364 days' units, more than gates.max_held_back_share (50.0%) lets "
        "the plan go on without; the forecast stops and the last good plan, if any, stays published. Training data "
        "failed 1 of"), main.message
    # the share is the merchant's to set: 0 stops the forecast on any failing market, and says so
    never = validate_training_data(_stopped(df, "DE"), ["US", "DE"], GateThresholds(max_held_back_share=0))
    assert never.held_back == [] and never.message.startswith(
        "NOT HELD BACK DE: gates.max_held_back_share is 0, so a market's own failure stops the whole forecast; ")


def test_a_market_is_never_held_back_beside_a_row_level_failure_or_when_no_market_would_be_left():
    df = _stopped(clean_frame(), "DE")
    df.loc[df.index[0], "units_sold"] = -3  # a row the whole table fails on
    result = validate_training_data(df, MARKETS)
    assert not result.passed and result.held_back == []
    only = _stopped(clean_frame(["DE"]), "DE")
    assert validate_training_data(only, ["DE"]).held_back == []
    assert "NOT HELD BACK" not in result.message  # a row-level failure: no market-day choice to explain
