"""The forecast quality gate (`expectations.forecast_gate.validate_forecast`)."""
from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations.forecast_gate import GateResult, validate_forecast  # noqa: E402
from expectations.forecast_suites import SERIES_COLUMNS, series_frame  # noqa: E402

SKUS = ["SKU-0001", "SKU-0002", "SKU-0003"]
MARKETS = ["US", "DE"]
HORIZON = 7
AS_OF = pd.Timestamp("2026-10-31")
EXPECTED = pd.DataFrame([(s, m) for s in SKUS for m in MARKETS], columns=["sku", "market"])
# Both suites, every expectation: 22 row-level + 2 series-level.
EXPECTATIONS = 24


def clean_forecast(seed: int = 7) -> pd.DataFrame:
    """3 SKUs x 2 markets x 7 days, ordered quantiles, one model version and as_of."""
    rng = np.random.default_rng(seed)
    rows = []
    for sku in SKUS:
        for market in MARKETS:
            for h in range(1, HORIZON + 1):
                p50 = float(rng.uniform(1, 20))
                rows.append(
                    {
                        "sku": sku,
                        "market": market,
                        "category": "home",
                        "forecast_date": AS_OF + pd.Timedelta(days=h),
                        "horizon": h,
                        "p10": round(p50 * 0.5, 3),
                        "p50": round(p50, 3),
                        "p90": round(p50 * 1.8, 3),
                        "mean": round(p50 * 1.1, 3),
                        "model_version": "lgbm-abc123",
                        "as_of": AS_OF,
                    }
                )
    return pd.DataFrame(rows)


def row_at(df: pd.DataFrame, sku: str, market: str, horizon: int) -> int:
    hit = df.index[(df["sku"] == sku) & (df["market"] == market) & (df["horizon"] == horizon)]
    assert len(hit) == 1
    return hit[0]


def failure_for(result: GateResult, description: str) -> dict:
    matches = [f for f in result.failures if f["description"] == description]
    assert matches, f"no failure {description!r} in {[f['description'] for f in result.failures]}"
    return matches[0]


def failed(result: GateResult) -> list[str]:
    return [f["description"] for f in result.failures]


def test_clean_forecast_passes():
    df = clean_forecast()
    before = df.copy()
    result = validate_forecast(df, EXPECTED, HORIZON)
    assert result.passed, result.message
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is left alone
    assert result.failures == []
    stats = result.statistics
    assert stats["evaluated_expectations"] == stats["successful_expectations"] == EXPECTATIONS
    assert stats["rows"] == 42 and stats["series"] == 6 and stats["expected_series"] == 6
    assert stats["model_versions"] == ["lgbm-abc123"] and stats["as_of"] == "2026-10-31"
    assert result.message == (
        f"forecast: {EXPECTATIONS} expectations passed on 42 rows, 6 series x 7 days "
        "(model_version lgbm-abc123, as_of 2026-10-31)"
    )


def test_negative_p10_fails_naming_row_and_value():
    df = clean_forecast()
    i = row_at(df, "SKU-0002", "DE", 3)
    df.loc[i, "p10"] = -1.5

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["p10 >= 0 and finite"]
    negative = failure_for(result, "p10 >= 0 and finite")
    assert negative["suite"] == "demand_forecast_rows"
    assert negative["column"] == "p10" and negative["unexpected_count"] == 1
    assert negative["examples"] == ["SKU-0002 DE h3 (p10=-1.5)"]
    assert result.message.startswith(
        f"forecast: failed 1 of {EXPECTATIONS} expectations: rows: p10 >= 0 and finite "
        "[expect_column_values_to_be_between] failed on 1 row"
    )
    assert "e.g. SKU-0002 DE h3 (p10=-1.5)" in result.message


def test_infinite_mean_fails():
    df = clean_forecast()
    df.loc[row_at(df, "SKU-0001", "US", 1), "mean"] = np.inf

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert failed(result) == ["mean >= 0 and finite"]
    assert "SKU-0001 US h1 (mean=inf)" in result.message


def test_crossed_quantiles_fail():
    df = clean_forecast()
    i = row_at(df, "SKU-0003", "US", 5)
    df.loc[i, "p90"] = df.loc[i, "p50"] - 1

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["p50 <= p90"]
    crossed = failure_for(result, "p50 <= p90")
    assert crossed["expectation_type"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert crossed["unexpected_count"] == 1
    p50, p90 = df.loc[i, "p50"], df.loc[i, "p90"]
    assert crossed["examples"] == [f"SKU-0003 US h5 (p50={p50:g} > p90={p90:g})"]
    assert "rows: p50 <= p90" in result.message and "SKU-0003 US h5" in result.message


def test_missing_expected_series_fails_naming_it():
    df = clean_forecast()
    df = df[~((df["sku"] == "SKU-0001") & (df["market"] == "US"))]

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    # Only that: a missing series has no horizons to have gaps in.
    assert failed(result) == ["every expected SKU x market forecast"]
    missing = failure_for(result, "every expected SKU x market forecast")
    assert missing["suite"] == "demand_forecast_series"
    assert missing["unexpected_count"] == 1
    assert missing["examples"] == ["SKU-0001 US"]
    assert "series: every expected SKU x market forecast" in result.message
    assert "1 expected SKU x market missing (17%), e.g. SKU-0001 US" in result.message


def test_missing_horizon_day_fails_naming_series_and_day():
    df = clean_forecast()
    df = df.drop(index=row_at(df, "SKU-0002", "DE", 4))

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["horizons 1..7 without gaps"]
    gaps = failure_for(result, "horizons 1..7 without gaps")
    assert gaps["unexpected_count"] == 1
    assert gaps["examples"] == ["SKU-0002 DE has 6 of 7 days (missing day 4)"]
    assert "1 series with horizon gaps (17%), e.g. SKU-0002 DE has 6 of 7 days (missing day 4)" in result.message


def test_duplicated_row_fails():
    # A non-default index: examples must still point at the right rows.
    df = clean_forecast().set_index(pd.RangeIndex(500, 542))
    dupe = df[(df["sku"] == "SKU-0003") & (df["market"] == "DE") & (df["horizon"] == 2)]
    df = pd.concat([df, dupe])

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["(sku, market, horizon) unique"]
    unique = failure_for(result, "(sku, market, horizon) unique")
    assert unique["columns"] == ["sku", "market", "horizon"]
    assert unique["unexpected_count"] == 2  # both copies
    assert unique["examples"] == ["SKU-0003 DE h2"]
    assert "failed on 2 rows" in result.message and "e.g. SKU-0003 DE h2" in result.message


def test_two_model_versions_in_one_market_fail_naming_the_rows():
    df = clean_forecast()
    df.loc[(df["market"] == "DE") & (df["sku"] == "SKU-0002"), "model_version"] = "lgbm-def456"

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["one model_version per market"]
    versions = failure_for(result, "one model_version per market")
    assert versions["unexpected_count"] == 21  # every DE row: its market has two
    assert versions["examples"][0] == "SKU-0001 DE h1 (model_version=lgbm-abc123, one of 2 in its market)"
    assert "one model_version per market" in result.message


def test_a_model_per_market_passes():
    """Runs over one market each (Dagster market partitions) train a model each: the table holds one per market."""
    df = clean_forecast()
    df.loc[df["market"] == "DE", "model_version"] = "lgbm-def456"

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert result.passed, result.message
    assert "model_versions lgbm-abc123, lgbm-def456" in result.message or "model_versions lgbm-def456, lgbm-abc123" in result.message


def test_nan_mean_fails_as_null_only():
    df = clean_forecast()
    df.loc[row_at(df, "SKU-0001", "DE", 7), "mean"] = np.nan

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    # GX's range check skips nulls, so the NaN is reported once, as a null.
    assert failed(result) == ["mean not null"]
    assert failure_for(result, "mean not null")["examples"] == ["SKU-0001 DE h7 (mean=null)"]
    assert "rows: mean not null" in result.message


def test_forecast_date_off_by_one_day_fails():
    df = clean_forecast()
    i = row_at(df, "SKU-0002", "US", 6)
    df.loc[i, "forecast_date"] = df.loc[i, "forecast_date"] + pd.Timedelta(days=1)

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result) == ["forecast_date == as_of + horizon days"]
    off = failure_for(result, "forecast_date == as_of + horizon days")
    assert off["unexpected_count"] == 1
    assert off["examples"] == [
        "SKU-0002 US h6 (forecast_date=2026-11-07, as_of 2026-10-31 + 6 days = 2026-11-06)"
    ]
    assert "forecast_date == as_of + horizon days" in result.message


def test_several_problems_are_all_named_series_first():
    df = clean_forecast()
    df = df[df["sku"] != "SKU-0003"].copy()
    df.loc[df.index[0], "p10"] = -2.0
    df.loc[df.index[1], "as_of"] = AS_OF - pd.Timedelta(days=1)

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failed(result)[0] == "every expected SKU x market forecast"
    assert set(failed(result)) == {
        "every expected SKU x market forecast",
        "p10 >= 0 and finite",
        "exactly one as_of",
        "forecast_date == as_of + horizon days",
    }
    assert "2 expected SKU x market missing" in result.message
    assert "e.g. SKU-0003 US, SKU-0003 DE" in result.message


def test_missing_column_fails_without_raising():
    df = clean_forecast().drop(columns=["mean", "as_of"])

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failure_for(result, "required columns exist")["missing"] == ["mean", "as_of"]
    assert "missing column(s) mean, as_of" in result.message
    assert "5 expectations not run: the forecast lacks mean, as_of" in result.message
    assert result.statistics["not_run_expectations"] == [
        "mean not null",
        "as_of not null",
        "mean >= 0 and finite",
        "exactly one as_of",
        "forecast_date == as_of + horizon days",
    ]


def test_empty_forecast_fails_naming_missing_series():
    df = clean_forecast().iloc[0:0]

    result = validate_forecast(df, EXPECTED, HORIZON)

    assert not result.passed
    assert failure_for(result, "every expected SKU x market forecast")["unexpected_count"] == 6
    assert failure_for(result, "exactly one as_of")["unexpected_count"] == 0


def test_series_frame_counts_rows_days_and_missing_series():
    df = clean_forecast()
    df = df[~((df["sku"] == "SKU-0001") & (df["market"] == "US"))]
    df = df.drop(index=row_at(df, "SKU-0002", "DE", 4))
    extra = df[(df["sku"] == "SKU-0003") & (df["market"] == "US") & (df["horizon"] == 7)].assign(horizon=9)
    df = pd.concat([df, extra])

    series = series_frame(df, EXPECTED, HORIZON)

    assert list(series.columns) == list(SERIES_COLUMNS)
    assert list(zip(series["sku"], series["market"])) == list(zip(EXPECTED["sku"], EXPECTED["market"]))
    by_key = series.set_index(["sku", "market"])
    assert by_key.loc[("SKU-0001", "US"), "rows"] == 0
    assert pd.isna(by_key.loc[("SKU-0001", "US"), "days"])
    assert by_key.loc[("SKU-0002", "DE"), ["rows", "days"]].tolist() == [6, 6]
    # Horizon 9 is out of range: a row, not a day.
    assert by_key.loc[("SKU-0003", "US"), ["rows", "days", "last_horizon"]].tolist() == [8, 7, 9]


@pytest.mark.parametrize(
    "expected, horizon",
    [(EXPECTED.iloc[0:0], HORIZON), (EXPECTED[["sku"]], HORIZON), (EXPECTED, 0)],
    ids=["no-expected-series", "no-market-column", "zero-horizon"],
)
def test_caller_errors_raise(expected, horizon):
    with pytest.raises(ValueError):
        validate_forecast(clean_forecast(), expected, horizon)
