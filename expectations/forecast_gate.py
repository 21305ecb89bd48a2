"""The blocking quality gate on the published demand forecast.

`validate_forecast(forecast, expected_series, horizon_days)` validates
`publish.demand_forecast` (as a pandas DataFrame) before the inventory plan
reads it, with Great Expectations 1.x, the same way `expectations.gate`
validates the training data, and returns the same `GateResult`.

Two suites, built as code in `expectations.forecast_suites`:

- `demand_forecast_rows` on the forecast itself (one row per sku, market,
  horizon): columns, nulls, non-negative finite quantities, ordered quantiles
  (p10 <= p50 <= p90), the (sku, market, horizon) key, the horizon range, one
  model_version per market and one as_of, and forecast_date == as_of + horizon days. The
  last one compares `forecast_date` with a derived column
  `expected_forecast_date` (as_of + horizon days) that the gate adds to its copy
  of the frame: GX has no date-arithmetic expectation.
- `demand_forecast_series` on `series_frame(...)`: one row per expected SKU x
  market (the caller's active series) left-joined to that series' forecast row
  count, distinct in-range horizons (`days`) and first/last horizon. A series
  without rows has `rows == 0` and null `days`, so it fails only "every expected
  series forecast"; a series with rows but a hole in 1..H fails only "no horizon
  gaps". Together with the row-level key and horizon-range expectations this
  means every series has exactly H rows with horizons 1..H.

The run itself is `expectations.gx_runner`, shared with `expectations.gate`.
Result formats follow `expectations.gate`: the row-level suite runs once with
BASIC (counts), and only failed column-map expectations run again with SUMMARY
for the positions of up to MAX_EXAMPLES example rows (the frame is handed to GX
with a 0..n-1 index). The series frame is small and runs once with COMPLETE.

No Dagster imports: an asset check turns the `GateResult` into an
`AssetCheckResult`.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd

from crossdock.wording import listed
from expectations.forecast_suites import (
    DERIVED_SOURCES,
    EXPECTED_DATE_COLUMN,
    MODELS_IN_MARKET_COLUMN,
    FORECAST_ROWS_SUITE_NAME,
    FORECAST_SERIES_SUITE_NAME,
    KEY_COLUMNS,
    SERIES_KEY,
    checked_horizon,
    expected_series_keys,
    forecast_rows_suite,
    forecast_series_suite,
    series_frame,
)
from expectations.gx_runner import (
    MAX_EXAMPLES,
    MESSAGE_EXAMPLES,
    GateResult,
    base_failure,
    collect_failures,
    dataframe_batch,
    date_text,
    example_rows,
    failure_head,
    gx_context,
    missing_columns_failure,
    percent_text,
    plain_number,
    plural,
    suite_subset,
    text_or,
    unrun_or_missing_text,
    validate_with_examples,
)

# Short suite names used in messages ("series: ...; rows: ...").
FORECAST_SUITE_LABELS: dict[str, str] = {FORECAST_ROWS_SUITE_NAME: "rows", FORECAST_SERIES_SUITE_NAME: "series"}
# What a failure counts, per suite ("failed on 3 rows"); also that of an expectation GX could not run.
FORECAST_SUITE_UNITS: dict[str, str] = {FORECAST_ROWS_SUITE_NAME: "rows", FORECAST_SERIES_SUITE_NAME: "series"}

TABLE_LEVEL_TYPES = frozenset(
    {"expect_table_columns_to_match_set", "expect_column_unique_value_count_to_be_between"}
)

def _day_runs(days: list[int]) -> str:
    """[3, 4, 5, 9] -> '3..5, 9'."""
    runs: list[str] = []
    start = prev = None
    for day in days + [None]:
        if start is not None and day is not None and day == prev + 1:
            prev = day
            continue
        if start is not None:
            runs.append(str(start) if start == prev else f"{start}..{prev}")
        start = prev = day
    return ", ".join(runs)


# ----------------------------------------------------------------------------- formatting


def _value(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "null"
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        # Show a time of day or time zone: they make "equal-looking" dates differ.
        return date_text(stamp) if stamp.tz is None and stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, (float, np.floating)):
        if np.isinf(value):
            return "inf" if value > 0 else "-inf"
        return str(plain_number(round(float(value), 3)))
    return str(plain_number(value))


def _series_label(sku: Any, market: Any) -> str:
    return f"{text_or(sku, '<null sku>')} {text_or(market, '<null market>')}"


def _row_label(row: pd.Series) -> str:
    label = _series_label(row.get("sku"), row.get("market"))
    horizon = row.get("horizon")
    if horizon is not None and not pd.isna(horizon):
        label += f" h{_value(horizon)}"
    elif "horizon" in row.index:
        label += " h<null>"
    return label


def _row_detail(kind: str, columns: list[str], row: pd.Series) -> str:
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        high, low = columns  # expects A >= B: a breach reads "B=.. > A=.."
        return f"{low}={_value(row.get(low))} > {high}={_value(row.get(high))}"
    if kind == "expect_column_pair_values_to_be_equal":
        return (
            f"forecast_date={_value(row.get('forecast_date'))}, "
            f"as_of {_value(row.get('as_of'))} + {_value(row.get('horizon'))} "
            f"{plural(plain_number(row.get('horizon')), 'days')} = "
            f"{_value(row.get(EXPECTED_DATE_COLUMN))}"
        )
    if kind == "expect_compound_columns_to_be_unique":
        return ""
    if columns == [MODELS_IN_MARKET_COLUMN]:
        return f"model_version={_value(row.get('model_version'))}, one of {_value(row.get(MODELS_IN_MARKET_COLUMN))} in its market"
    return ", ".join(f"{c}={_value(row.get(c))}" for c in columns if c not in KEY_COLUMNS)


def _json_value(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return date_text(value)
    if isinstance(value, (float, np.floating)) and np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return plain_number(value)


# ----------------------------------------------------------------------------- GX plumbing


def _source_columns(expectation: Any) -> list[str]:
    """Columns of the forecast an expectation reads (derived columns mapped to their sources)."""
    kwargs = expectation.configuration.kwargs
    if expectation.expectation_type == "expect_table_columns_to_match_set":
        return []
    columns: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if key in kwargs:
            columns.append(kwargs[key])
    columns.extend(kwargs.get("column_list") or [])
    return list(dict.fromkeys(s for column in columns for s in DERIVED_SOURCES.get(column, (column,))))


def _gx_frame(forecast: pd.DataFrame) -> pd.DataFrame:
    """The caller's frame with a 0..n-1 index, expected_forecast_date and model_versions_in_market (caller's frame
    untouched)."""
    frame = forecast.reset_index(drop=True)
    if "as_of" in frame.columns and "horizon" in frame.columns:
        try:
            as_of = pd.to_datetime(frame["as_of"], errors="coerce")
            days = pd.to_timedelta(pd.to_numeric(frame["horizon"], errors="coerce"), unit="D")
            frame[EXPECTED_DATE_COLUMN] = as_of + days
        except (TypeError, ValueError, OverflowError):
            frame[EXPECTED_DATE_COLUMN] = pd.NaT
    if "market" in frame.columns and "model_version" in frame.columns:
        frame[MODELS_IN_MARKET_COLUMN] = frame.groupby("market", dropna=False)["model_version"].transform("nunique")
    return frame


def _validate_rows(batch: Any, frame: pd.DataFrame, horizon_days: int) -> tuple[gx.ExpectationSuite, Any, list[dict]]:
    """Row-level suite: counts for all (BASIC), example positions for failures (SUMMARY).

    Expectations on columns the frame lacks are not run; they come back as
    `not_run` entries (description, missing columns).
    """
    full = forecast_rows_suite(horizon_days)
    not_run: list[dict] = []
    runnable: set[str] = set()
    for expectation in full.expectations:
        absent = [c for c in _source_columns(expectation) if c not in frame.columns]
        if absent:
            not_run.append({"description": expectation.description, "missing": absent})
        else:
            runnable.add(expectation.description)
    builder = lambda: forecast_rows_suite(horizon_days)  # noqa: E731
    suite = full if not not_run else suite_subset(FORECAST_ROWS_SUITE_NAME, builder, runnable)
    return full, validate_with_examples(batch, suite, builder, TABLE_LEVEL_TYPES), not_run


# ----------------------------------------------------------------------------- failures


def _row_failure(result: Any, frame: pd.DataFrame) -> dict:
    config = result.expectation_config
    kind = config.type
    if kind == "expect_table_columns_to_match_set":
        return missing_columns_failure(FORECAST_ROWS_SUITE_NAME, result, frame)

    failure = base_failure(FORECAST_ROWS_SUITE_NAME, result, "rows")
    stats = result.result or {}
    columns = failure["columns"]

    if kind == "expect_column_unique_value_count_to_be_between":
        column = config.kwargs["column"]
        counts = frame[column].dropna().value_counts(sort=False)
        values = {_value(k): int(v) for k, v in counts.items()}
        failure.update(
            unit="distinct values",
            unexpected_count=plain_number(stats.get("observed_value", len(values))),
            unexpected_percent=None,
            unexpected_values=values,
            examples=[f"{v} ({n:,} {plural(n, 'rows')})" for v, n in values.items()],
        )
        return failure

    rows = example_rows(result, frame)
    examples: list[str] = []
    shown_rows: list[dict] = []
    shown = [c for c in (*KEY_COLUMNS, "forecast_date", *columns) if c in frame.columns]
    if kind == "expect_column_pair_values_to_be_equal":
        shown += [c for c in ("as_of",) if c in frame.columns]
    for _, row in rows.iterrows():
        label = _row_label(row)
        detail = _row_detail(kind, columns, row)
        if detail:
            label += f" ({detail})"
        if label not in examples:
            examples.append(label)
        shown_rows.append({c: _json_value(row.get(c)) for c in dict.fromkeys(shown)})
    failure["examples"] = examples
    failure["example_rows"] = shown_rows
    return failure


def _series_failure(result: Any, series: pd.DataFrame, forecast: pd.DataFrame, horizon_days: int) -> dict:
    failure = base_failure(FORECAST_SERIES_SUITE_NAME, result, "series")
    stats = result.result or {}
    positions = sorted(int(i) for i in stats.get("unexpected_index_list") or [] if not isinstance(i, dict))
    picked = series.iloc[positions[:MAX_EXAMPLES]]
    column = result.expectation_config.kwargs.get("column")
    examples: list[str] = []
    if column == "rows":
        failure["kind"] = "missing_series"
        examples = [_series_label(r.sku, r.market) for r in picked.itertuples(index=False)]
    else:
        failure["kind"] = "horizon_gaps"
        sku = forecast["sku"].astype(str).to_numpy()
        market = forecast["market"].astype(str).to_numpy()
        horizon = pd.to_numeric(forecast["horizon"], errors="coerce").to_numpy(dtype="float64")
        for r in picked.itertuples(index=False):
            label = f"{_series_label(r.sku, r.market)} has {_value(r.days)} of {horizon_days} {plural(horizon_days, 'days')}"
            present = set(horizon[(sku == r.sku) & (market == r.market)].tolist())
            gaps = [d for d in range(1, horizon_days + 1) if float(d) not in present]
            if gaps:
                label += f" (missing {plural(len(gaps), 'days')} {_day_runs(gaps)})"
            examples.append(label)
    failure["examples"] = examples
    failure["example_rows"] = [
        {c: _json_value(v) for c, v in row.items()} for row in picked.to_dict(orient="records")
    ]
    return failure


def _describe(failure: dict) -> str:
    head = failure_head(failure, FORECAST_SUITE_LABELS)
    common = unrun_or_missing_text(failure, head)
    if common is not None:
        return common
    if failure["unit"] == "distinct values":
        count = failure["unexpected_count"]
        column = failure["column"]
        values = failure["examples"]
        text = f"{head} failed: {count} distinct {column} {plural(count, 'values')}"
        if values:
            text += f": {listed(values, MESSAGE_EXAMPLES)}"
        return text

    count = failure["unexpected_count"]
    pct = f" ({percent_text(failure['unexpected_percent'])})" if failure.get("unexpected_percent") is not None else ""
    if failure.get("kind") == "missing_series":
        text = f"{head} failed: {count} expected SKU x market missing{pct}"
    elif failure.get("kind") == "horizon_gaps":
        text = f"{head} failed: {count} series with horizon gaps{pct}"
    else:
        text = f"{head} failed on {count} {plural(count, failure['unit'])}{pct}"
    if failure["examples"]:
        text += f", e.g. {', '.join(failure['examples'][:MESSAGE_EXAMPLES])}"
    return text


# ----------------------------------------------------------------------------- entry point


def _frame_statistics(forecast: pd.DataFrame) -> dict:
    stats: dict[str, Any] = {"rows": int(len(forecast)), "series": 0, "model_versions": [], "as_of": None}
    if all(c in forecast.columns for c in SERIES_KEY):
        stats["series"] = int(len(forecast.loc[:, list(SERIES_KEY)].dropna().drop_duplicates()))
    if "model_version" in forecast.columns:
        stats["model_versions"] = [str(v) for v in forecast["model_version"].dropna().unique()[:MAX_EXAMPLES]]
    if "as_of" in forecast.columns:
        values = pd.to_datetime(forecast["as_of"], errors="coerce").dropna().unique()
        if len(values) == 1:
            stats["as_of"] = date_text(values[0])
        elif len(values) > 1:  # the gate fails; keep what was there
            stats["as_of"] = [date_text(v) for v in values[:MAX_EXAMPLES]]
    return stats


def validate_forecast(forecast: pd.DataFrame, expected_series: pd.DataFrame, horizon_days: int) -> GateResult:
    """Validate `publish.demand_forecast` before the inventory plan reads it.

    Runs `demand_forecast_rows` on `forecast` and `demand_forecast_series` on
    `series_frame(forecast, expected_series, horizon_days)`. Expectations on
    columns the forecast lacks are not run (the gate fails, naming them), and
    the series suite is skipped when sku, market or horizon is missing.
    Raises ValueError if `expected_series` is empty or lacks sku / market, or if
    `horizon_days` < 1; never raises because the forecast is bad.
    """
    started = time.perf_counter()
    horizon = checked_horizon(horizon_days)
    expected_series_keys(expected_series)  # caller errors first, before GX does any work

    frame = _gx_frame(forecast)
    context = gx_context()
    source = context.data_sources.add_pandas(name=f"crossdock_forecast_gate_{uuid.uuid4().hex[:8]}")

    suites: list[tuple[str, gx.ExpectationSuite, Any]] = []
    rows_suite, rows_result, not_run = _validate_rows(dataframe_batch(source, "demand_forecast", frame), frame, horizon)
    suites.append((FORECAST_ROWS_SUITE_NAME, rows_suite, rows_result))

    series_suite = forecast_series_suite(horizon)
    series = None
    notes: list[str] = []
    if not_run:
        absent = list(dict.fromkeys(c for entry in not_run for c in entry["missing"]))
        notes.append(
            f"rows: {len(not_run)} {plural(len(not_run), 'expectations')} not run: "
            f"the forecast lacks {', '.join(absent)}"
        )
    missing_keys = [c for c in (*SERIES_KEY, "horizon") if c not in frame.columns]
    if missing_keys:
        notes.append(
            f"series suite ({len(series_suite.expectations)} expectations) not run: "
            f"the forecast lacks {', '.join(missing_keys)}"
        )
    else:
        series = series_frame(frame, expected_series, horizon)
        series_result = dataframe_batch(source, "demand_forecast_series", series).validate(
            series_suite, result_format={"result_format": "COMPLETE"}
        )
        suites.append((FORECAST_SERIES_SUITE_NAME, series_suite, series_result))

    def failure_of(suite_name: str, res: Any) -> dict:
        if suite_name == FORECAST_ROWS_SUITE_NAME:
            return _row_failure(res, frame)
        return _series_failure(res, series, frame, horizon)

    # Message order: series failures (what the plan would miss) before row-level ones.
    failures, evaluated, successful = collect_failures(suites, FORECAST_SERIES_SUITE_NAME, failure_of, FORECAST_SUITE_UNITS)

    frame_stats = _frame_statistics(forecast)
    expected_count = int(len(series)) if series is not None else int(len(expected_series_keys(expected_series)))
    statistics = {
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        "not_run_expectations": [entry["description"] for entry in not_run]
        + ([e.description for e in series_suite.expectations] if missing_keys else []),
        **frame_stats,
        "expected_series": expected_count,
        "horizon_days": horizon,
        "seconds": round(time.perf_counter() - started, 3),
    }

    passed = not failures and not notes
    if passed:
        message = (
            f"forecast: {evaluated} expectations passed on {frame_stats['rows']:,} "
            f"{plural(frame_stats['rows'], 'rows')}, {expected_count:,} series x {horizon} "
            f"{plural(horizon, 'days')}"
        )
        if frame_stats["model_versions"] and frame_stats["as_of"]:
            versions = frame_stats["model_versions"]
            models = f"model_version {versions[0]}" if len(versions) == 1 else f"model_versions {', '.join(versions)}"
            message += f" ({models}, as_of {frame_stats['as_of']})"
    else:
        parts = [_describe(f) for f in failures] + notes
        message = f"forecast: failed {len(failures)} of {evaluated} expectations: " + "; ".join(parts)
    return GateResult(passed=passed, message=message, failures=failures, statistics=statistics)
