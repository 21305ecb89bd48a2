"""What both quality gates share: the Great Expectations run, its result and the words of its message.

The training-data gate (`expectations.gate`) and the forecast gate
(`expectations.forecast_gate`) validate different frames with different
suites, but run them the same way: an ephemeral GX context with a pandas
source, whole-dataframe batches, counts for every expectation and example
rows only for the failed ones, results walked in the suite's own order, a
failed expectation turned into a failure dict (missing columns and expectations
GX could not run worded alike), and one `GateResult` whose message a planner
can act on. That machinery lives here, once; each gate
keeps its suites and how it describes its own failures.

GX analytics are switched off (GX_ANALYTICS_ENABLED, unless set) when the
first context is made, not at import: a gate must not wait on the network,
and importing this module must not change the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

MAX_EXAMPLES = 20  # kept in GateResult.failures
MESSAGE_EXAMPLES = 5  # shown in GateResult.message

Suite = tuple[str, gx.ExpectationSuite, Any]
"""A suite's name, the suite, and GX's validation result for it."""


@dataclass
class GateResult:
    """Outcome of the training-data gate.

    passed: every evaluated expectation succeeded.
    message: one human paragraph naming what broke (or what passed).
    failures: one dict per failed expectation: suite, expectation_type,
        description, column, columns, unit, unexpected_count,
        unexpected_percent, examples (list[str]) and, where relevant,
        unexpected_values, missing, by_market, error.
    statistics: evaluated_expectations, successful_expectations,
        unsuccessful_expectations, rows, markets, start_date, end_date, days,
        market_days, seconds; for the training data also expected_markets,
        judged_markets and the markets not judged on gaps (markets_without_orders,
        markets_without_sales, dormant_markets, short_history_markets: lists).
    markets: the training-data gate's per-market history (MarketHistory.as_dict:
        status, selling days, weekday shares, quiet run and its probability,
        flip limits, return days and allowance); empty for other gates.
    held_back: the markets whose own failures are all that failed, and that
        the forecast leaves out so the other markets' plan goes on
        (`expectations.market_days.markets_to_hold_back`); empty when the
        gate passed or must stop the whole forecast.
    """

    passed: bool
    message: str
    failures: list[dict] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)
    markets: list[dict] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- words of the message


def date_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<null date>"
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        return str(value)


def text_or(value: Any, null: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return null
    return str(value)


def plain_number(value: Any) -> Any:
    """A plain Python scalar for messages and JSON metadata."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def percent_text(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}%"
    if value >= 0.1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def plural(count: Any, unit: str) -> str:
    """'rows' -> 'row' and 'market-days' -> 'market-day' when count is 1."""
    if count == 1 and unit.endswith("s"):
        return unit[:-1]
    if count != 1 and not unit.endswith("s"):
        return unit + "s"
    return unit


# ----------------------------------------------------------------------------- GX plumbing


def gx_context() -> Any:
    """An ephemeral GX context with its progress bars off, and analytics off unless the environment says so."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    context = gx.get_context(mode="ephemeral")
    # tqdm bars on stderr are noise in a Dagster run log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def dataframe_batch(source: Any, asset_name: str, frame: pd.DataFrame) -> Any:
    asset = source.add_dataframe_asset(name=asset_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{asset_name}_whole")
    return batch_definition.get_batch(batch_parameters={"dataframe": frame})


def suite_subset(name: str, build_suite: Callable[[], gx.ExpectationSuite], keep: Collection[str]) -> gx.ExpectationSuite:
    """The expectations of a freshly built suite whose descriptions are in `keep`, as suite `name`.

    Built anew, not copied: an expectation object belongs to the suite it was added to.
    """
    return gx.ExpectationSuite(name=name, expectations=[e for e in build_suite().expectations if e.description in keep])


def validate_with_examples(
    batch: Any,
    suite: gx.ExpectationSuite,
    build_suite: Callable[[], gx.ExpectationSuite],
    without_examples: Collection[str],
) -> Any:
    """GX's result for `suite` on `batch`: counts for all, example row positions for the failed ones.

    COMPLETE on a 1M-row frame makes GX list every unexpected row and build an
    index query (~25 s with failures); BASIC gives the counts in ~1.2 s. So the
    suite runs once with BASIC, and only the expectations that failed run again
    (rebuilt by `build_suite`) with SUMMARY, whose `partial_unexpected_index_list`
    (up to MAX_EXAMPLES positions, the frame having a 0..n-1 index) is copied
    into the BASIC result. Expectation types in `without_examples` (table-level:
    no rows to point at) and expectations GX could not run are not run again.
    """
    result = batch.validate(suite, result_format={"result_format": "BASIC"})
    failed = {
        r.expectation_config.description
        for r in result.results
        if not r.success and exception_message(r) is None and r.expectation_config.type not in without_examples
    }
    if failed:
        retry = suite_subset(f"{suite.name}_examples", build_suite, failed)
        detailed = batch.validate(
            retry, result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}
        )
        by_description = {r.expectation_config.description: r for r in detailed.results}
        for r in result.results:
            extra = by_description.get(r.expectation_config.description)
            if extra is not None and extra.result:
                r.result["partial_unexpected_index_list"] = extra.result.get("partial_unexpected_index_list", [])
    return result


def exception_message(result: Any) -> str | None:
    """The first exception message GX recorded for an expectation, if any."""
    info = result.exception_info or {}
    messages = [info] if info.get("raised_exception") else [
        value for value in info.values() if isinstance(value, dict) and value.get("raised_exception")
    ]
    if not messages:
        return None
    text = str(messages[0].get("exception_message") or "unknown error")
    return text.removeprefix("Error: ").strip().rstrip(".")


def expectation_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    if "column_set" in kwargs:
        return list(kwargs["column_set"])
    return []


def base_failure(suite_name: str, result: Any, unit: str) -> dict:
    config = result.expectation_config
    columns = expectation_columns(config.kwargs)
    stats = result.result or {}
    return {
        "suite": suite_name,
        "expectation_type": config.type,
        "description": config.description or config.type,
        "column": ", ".join(columns) if columns else None,
        "columns": columns,
        "unit": unit,
        "unexpected_count": plain_number(stats.get("unexpected_count")),
        "unexpected_percent": plain_number(stats.get("unexpected_percent")),
        "examples": [],
    }


def missing_columns_failure(suite_name: str, result: Any, frame: pd.DataFrame) -> dict:
    """A failed expect_table_columns_to_match_set: the columns `frame` lacks, in the suite's order (GX sorts them)."""
    missing = [c for c in result.expectation_config.kwargs["column_set"] if c not in frame.columns]
    failure = base_failure(suite_name, result, "columns")
    failure.update(unexpected_count=len(missing), missing=missing, examples=missing)
    return failure


def example_rows(result: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` (0..n-1 index) at the positions GX gave as examples of a failure, at most MAX_EXAMPLES."""
    stats = result.result or {}
    positions = [int(i) for i in stats.get("partial_unexpected_index_list") or [] if not isinstance(i, dict)]
    return frame.iloc[positions[:MAX_EXAMPLES]] if positions else frame.iloc[0:0]


def collect_failures(
    suites: Iterable[Suite],
    first: str,
    failure_of: Callable[[str, Any], dict],
    units: Mapping[str, str],
) -> tuple[list[dict], int, int]:
    """(failures, evaluated, successful) over the suites' results, suite `first` first, each in its suite's order.

    GX returns results in its own order; the message follows the suite's, with
    the suite that names the business symptom first. An expectation GX could
    not run becomes a failure with its `error` (counted in its suite's entry of
    `units`); any other failure is `failure_of(suite_name, result)`.
    """
    failures: list[dict] = []
    evaluated = successful = 0
    for suite_name, suite, result in sorted(suites, key=lambda s: s[0] != first):
        position = {e.description: i for i, e in enumerate(suite.expectations)}
        for res in sorted(result.results, key=lambda r: position.get(r.expectation_config.description, 10**6)):
            evaluated += 1
            if res.success:
                successful += 1
                continue
            error = exception_message(res)
            failures.append(_error_failure(suite_name, res, error, units[suite_name]) if error is not None else failure_of(suite_name, res))
    return failures, evaluated, successful


def _error_failure(suite_name: str, result: Any, error: str, unit: str) -> dict:
    failure = base_failure(suite_name, result, unit)
    failure.update(unexpected_count=None, unexpected_percent=None, error=error)
    return failure


def failure_head(failure: dict, labels: Mapping[str, str]) -> str:
    """'rows: p10 <= p50 [expect_...]': the start of every failure's sentence, the suite by its short label."""
    label = labels.get(failure["suite"], failure["suite"])
    return f"{label}: {failure['description']} [{failure['expectation_type']}]"


def unrun_or_missing_text(failure: dict, head: str) -> str | None:
    """The sentence for an expectation GX could not run or for missing columns, worded alike by both gates; None otherwise."""
    if failure.get("error"):
        return f"{head} could not run: {failure['error']}"
    if failure["unit"] == "columns":
        return f"{head} failed: missing column(s) {', '.join(failure['missing'])}"
    return None
