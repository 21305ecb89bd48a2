"""What the forecast gate expects of `publish.demand_forecast`: its two suites and the series frame.

`forecast_rows_suite` runs on the forecast itself (one row per sku, market,
horizon), with `expected_forecast_date` (as_of + horizon days) added to the
gate's copy of the frame, since GX has no date arithmetic. `forecast_series_suite`
runs on `series_frame(...)`: one row per SKU x market the caller expects
forecast, with how many rows and distinct horizons it got. The runner that
validates them and words the failures is `expectations.forecast_gate`; the
training data's counterparts are `expectations.suites` and `expectations.market_days`.
"""
from __future__ import annotations

import operator
import sys
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd

FORECAST_ROWS_SUITE_NAME = "demand_forecast_rows"
FORECAST_SERIES_SUITE_NAME = "demand_forecast_series"
REQUIRED_COLUMNS: tuple[str, ...] = (
    "sku",
    "market",
    "category",
    "forecast_date",
    "horizon",
    "p10",
    "p50",
    "p90",
    "mean",
    "model_version",
    "as_of",
)
# Every required column but category: a null category is let through.
NOT_NULL_COLUMNS: tuple[str, ...] = tuple(c for c in REQUIRED_COLUMNS if c != "category")
QUANTITY_COLUMNS: tuple[str, ...] = ("p10", "p50", "p90", "mean")
# (lower, upper) quantile pairs that must not cross: p10 <= p50 <= p90.
ORDERED_QUANTILES: tuple[tuple[str, str], ...] = (("p10", "p50"), ("p50", "p90"))
# One planning date in the whole table. Runs over some of the markets train their own model
# (orchestration/lib/market_partitions.py), so the model is one per market.
SINGLE_VALUE_COLUMNS: tuple[str, ...] = ("as_of",)
KEY_COLUMNS: tuple[str, ...] = ("sku", "market", "horizon")
SERIES_KEY: tuple[str, ...] = ("sku", "market")
SERIES_COLUMNS: tuple[str, ...] = (
    "sku",
    "market",
    "rows",  # forecast rows of the series; 0 when the series is missing
    "days",  # distinct horizons in 1..H; null when the series is missing
    "first_horizon",  # null when the series is missing
    "last_horizon",  # null when the series is missing
)
# Added to the gate's copy of the frame: as_of + horizon days.
EXPECTED_DATE_COLUMN = "expected_forecast_date"
# Added to the gate's copy of the frame: how many model versions the row's market has.
MODELS_IN_MARKET_COLUMN = "model_versions_in_market"
DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    EXPECTED_DATE_COLUMN: ("as_of", "horizon"),
    MODELS_IN_MARKET_COLUMN: ("market", "model_version"),
}
# Largest finite float: `<= FINITE_MAX` rejects +inf (GX ignores NaN; the not-null expectations catch it).
FINITE_MAX = sys.float_info.max


def checked_horizon(horizon_days: Any) -> int:
    try:
        days = operator.index(horizon_days)
    except TypeError:
        raise TypeError(f"horizon_days must be an int, not {type(horizon_days).__name__}") from None
    if days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {days}")
    return days


def forecast_rows_suite(horizon_days: int) -> gx.ExpectationSuite:
    """Row-level suite on `publish.demand_forecast` (plus the derived expected_forecast_date)."""
    horizon = checked_horizon(horizon_days)
    E = gx.expectations
    return gx.ExpectationSuite(
        name=FORECAST_ROWS_SUITE_NAME,
        expectations=[
            E.ExpectTableColumnsToMatchSet(
                column_set=list(REQUIRED_COLUMNS), exact_match=False, description="required columns exist"
            ),
            *[
                E.ExpectColumnValuesToNotBeNull(column=c, mostly=1.0, description=f"{c} not null")
                for c in NOT_NULL_COLUMNS
            ],
            *[
                E.ExpectColumnValuesToBeBetween(
                    column=c, min_value=0, max_value=FINITE_MAX, mostly=1.0, description=f"{c} >= 0 and finite"
                )
                for c in QUANTITY_COLUMNS
            ],
            # A null on either side is the not-null expectations' business, not a crossing.
            *[
                E.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=high,
                    column_B=low,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                    mostly=1.0,
                    description=f"{low} <= {high}",
                )
                for low, high in ORDERED_QUANTILES
            ],
            E.ExpectCompoundColumnsToBeUnique(
                column_list=list(KEY_COLUMNS), mostly=1.0, description="(sku, market, horizon) unique"
            ),
            E.ExpectColumnValuesToBeBetween(
                column="horizon",
                min_value=1,
                max_value=horizon,
                mostly=1.0,
                description=f"horizon between 1 and {horizon}",
            ),
            *[
                E.ExpectColumnUniqueValueCountToBeBetween(
                    column=c, min_value=1, max_value=1, description=f"exactly one {c}"
                )
                for c in SINGLE_VALUE_COLUMNS
            ],
            E.ExpectColumnValuesToBeBetween(
                column=MODELS_IN_MARKET_COLUMN, min_value=1, max_value=1, mostly=1.0,
                description="one model_version per market",
            ),
            E.ExpectColumnPairValuesToBeEqual(
                column_A="forecast_date",
                column_B=EXPECTED_DATE_COLUMN,
                ignore_row_if="both_values_are_missing",
                mostly=1.0,
                description="forecast_date == as_of + horizon days",
            ),
        ],
    )


def forecast_series_suite(horizon_days: int) -> gx.ExpectationSuite:
    """Suite on `series_frame(...)`: every expected series present, horizons 1..H without gaps."""
    horizon = checked_horizon(horizon_days)
    E = gx.expectations
    return gx.ExpectationSuite(
        name=FORECAST_SERIES_SUITE_NAME,
        expectations=[
            E.ExpectColumnValuesToBeBetween(
                column="rows", min_value=1, mostly=1.0, description="every expected SKU x market forecast"
            ),
            # `days` is null for a missing series: GX skips it, the expectation above names it.
            E.ExpectColumnValuesToBeBetween(
                column="days",
                min_value=horizon,
                max_value=horizon,
                mostly=1.0,
                description=f"horizons 1..{horizon} without gaps",
            ),
        ],
    )


# ----------------------------------------------------------------------------- the series frame the series suite runs on


def expected_series_keys(expected_series: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SERIES_KEY if c not in getattr(expected_series, "columns", [])]
    if missing:
        raise ValueError(f"expected_series needs columns sku, market (missing {', '.join(missing)})")
    expected = expected_series.loc[:, list(SERIES_KEY)].dropna()
    expected = expected.astype(str).drop_duplicates().reset_index(drop=True)
    if expected.empty:
        raise ValueError("expected_series is empty: the forecast gate needs at least one SKU x market")
    return expected


def series_frame(forecast: pd.DataFrame, expected_series: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """One row per expected SKU x market, in `expected_series` order, with its forecast coverage.

    Columns `SERIES_COLUMNS`: rows (int, 0 when the series has no forecast
    rows), days (distinct integer horizons in 1..horizon_days), first_horizon
    and last_horizon (min and max horizon); the last three are null for a
    missing series. Forecast rows with a null sku or market, and series that
    are not expected, are ignored (the row-level suite reports nulls).
    Keys are compared as strings. Raises KeyError if `forecast` lacks sku,
    market or horizon; ValueError if `expected_series` is empty or lacks sku,
    market.
    """
    horizon_max = checked_horizon(horizon_days)
    expected = expected_series_keys(expected_series)
    missing = [c for c in (*SERIES_KEY, "horizon") if c not in forecast.columns]
    if missing:
        raise KeyError(f"series_frame needs columns {missing} missing from the forecast")

    keep = forecast["sku"].notna().to_numpy() & forecast["market"].notna().to_numpy()
    horizon = pd.to_numeric(forecast["horizon"], errors="coerce").to_numpy(dtype="float64")[keep]
    rows = pd.DataFrame(
        {
            "sku": forecast["sku"].to_numpy()[keep].astype(str),
            "market": forecast["market"].to_numpy()[keep].astype(str),
            "horizon": horizon,
        }
    )
    grouped = rows.groupby(list(SERIES_KEY), sort=False)
    stats = grouped.agg(
        rows=("horizon", "size"), first_horizon=("horizon", "min"), last_horizon=("horizon", "max")
    )
    in_range = (horizon >= 1) & (horizon <= horizon_max) & (np.mod(horizon, 1) == 0)
    days = rows[in_range].groupby(list(SERIES_KEY), sort=False)["horizon"].nunique()
    stats["days"] = days.reindex(stats.index, fill_value=0)

    out = expected.merge(stats.reset_index(), on=list(SERIES_KEY), how="left", sort=False)
    out["rows"] = out["rows"].fillna(0).astype("int64")
    for column in ("days", "first_horizon", "last_horizon"):
        out[column] = out[column].astype("float64")  # nullable: NaN for a missing series
    return out.loc[:, list(SERIES_COLUMNS)]
