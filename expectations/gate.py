"""The blocking quality gate on the demand forecast's training data.

`validate_training_data(df, expected_markets, thresholds)` validates
`marts.fct_daily_demand` (as a pandas DataFrame) against the two suites in
`expectations.suites` with Great Expectations 1.x (ephemeral context, pandas
data source, whole-dataframe batch definitions) and returns a `GateResult`
whose message names what broke: the expectation, the column, how many rows or
market-days, and examples such as "US 2026-10-12".

The market-day suite judges each market against its own history
(`expectations.market_days`): a shop closed on Saturdays, a market that buys
twice a week or a long-tail catch-all passes; a market whose sales stop, a day
of sign-flipped orders, or returns above sales on more selling days than a
healthy market shows fails. Markets declared without orders, dormant markets
and markets with too short a history are not judged on gaps; the message and
`GateResult.markets` name them. `GateThresholds` (expectations.thresholds)
holds the numbers.

Result formats are chosen for a 1M-row mart. COMPLETE on the row-level suite
makes GX list every unexpected row and build an index query: ~25 s on 1M rows
with failures. So the row-level suite runs once with BASIC (counts only, ~1.2 s
on 1M rows), and only the expectations that failed run again with SUMMARY, whose
`partial_unexpected_index_list` gives the positions of up to MAX_EXAMPLES
unexpected rows (the frame is handed to GX with a 0..n-1 index, so a position
is a row) for the examples. The market-day frame is small (markets x days), so
its suite runs once with COMPLETE and
`unexpected_index_column_names=["market", "demand_date"]`.

No Dagster imports: the asset check turns the `GateResult` into an
`AssetCheckResult`.
"""
from __future__ import annotations

import os

# Before great_expectations is imported anywhere, so nothing waits on the network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from expectations.market_days import (  # noqa: E402
    SOURCE_COLUMNS,
    WEEKDAYS,
    MarketHistory,
    judged_market_days,
    market_day_frame,
    market_histories,
)
from expectations.suites import (  # noqa: E402
    FLIP_DESCRIPTION,
    MARKET_DAYS_SUITE_NAME,
    ROWS_SUITE_NAME,
    STOP_DESCRIPTION,
    training_data_market_days_suite,
    training_data_rows_suite,
)
from expectations.thresholds import GateThresholds  # noqa: E402

__all__ = ["GateResult", "GateThresholds", "validate_training_data"]

# Short suite names used in messages ("market_days: ...; rows: ...").
SUITE_LABELS: dict[str, str] = {ROWS_SUITE_NAME: "rows", MARKET_DAYS_SUITE_NAME: "market_days"}
MAX_EXAMPLES = 20  # kept in GateResult.failures
MESSAGE_EXAMPLES = 5  # shown in GateResult.message
MESSAGE_MARKETS = 8  # per-market breakdowns shown in the message


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
    """

    passed: bool
    message: str
    failures: list[dict] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)
    markets: list[dict] = field(default_factory=list)


# ----------------------------------------------------------------------------- formatting


def _date(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<null date>"
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        return str(value)


def _text(value: Any, null: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return null
    return str(value)


def _number(value: Any) -> Any:
    """A plain Python scalar for messages and JSON metadata."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _percent(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}%"
    if value >= 0.1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def _plural(count: Any, unit: str) -> str:
    """'rows' -> 'row' and 'market-days' -> 'market-day' when count is 1."""
    if count == 1 and unit.endswith("s"):
        return unit[:-1]
    if count != 1 and not unit.endswith("s"):
        return unit + "s"
    return unit


def _row_label(row: pd.Series) -> str:
    parts = [_text(row.get("market"), "<null market>"), _date(row.get("demand_date"))]
    if "sku" in row.index:
        parts.append(f"sku {_text(row.get('sku'), '<null>')}")
    return " ".join(parts)


def _market_day_label(item: dict) -> str:
    return f"{_text(item.get('market'), '<null market>')} {_date(item.get('demand_date'))}"


# ----------------------------------------------------------------------------- GX plumbing


def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    # tqdm bars on stderr are noise in a Dagster run log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _batch(source: Any, asset_name: str, frame: pd.DataFrame) -> Any:
    asset = source.add_dataframe_asset(name=asset_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{asset_name}_whole")
    return batch_definition.get_batch(batch_parameters={"dataframe": frame})


def _validate_rows(batch: Any, markets: list[str]) -> tuple[gx.ExpectationSuite, Any]:
    """Row-level suite: counts for all (BASIC), example positions for failures (SUMMARY)."""
    suite = training_data_rows_suite(markets)
    result = batch.validate(suite, result_format={"result_format": "BASIC"})
    failed = {
        r.expectation_config.description
        for r in result.results
        if not r.success
        and _exception_message(r) is None
        and r.expectation_config.type != "expect_table_columns_to_match_set"
    }
    if failed:
        # A fresh suite: an expectation object belongs to the suite it was added to.
        retry = training_data_rows_suite(markets)
        retry = gx.ExpectationSuite(
            name=f"{ROWS_SUITE_NAME}_examples",
            expectations=[e for e in retry.expectations if e.description in failed],
        )
        detailed = batch.validate(
            retry, result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}
        )
        by_description = {r.expectation_config.description: r for r in detailed.results}
        for r in result.results:
            extra = by_description.get(r.expectation_config.description)
            if extra is not None and extra.result:
                r.result["partial_unexpected_index_list"] = extra.result.get("partial_unexpected_index_list", [])
    return suite, result


def _exception_message(result: Any) -> str | None:
    """The first exception message GX recorded for an expectation, if any."""
    info = result.exception_info or {}
    messages = [info] if info.get("raised_exception") else [
        value for value in info.values() if isinstance(value, dict) and value.get("raised_exception")
    ]
    if not messages:
        return None
    text = str(messages[0].get("exception_message") or "unknown error")
    return text.removeprefix("Error: ").strip().rstrip(".")


def _columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    if "column_set" in kwargs:
        return list(kwargs["column_set"])
    return []


# ----------------------------------------------------------------------------- failures


def _base_failure(suite_name: str, result: Any, unit: str) -> dict:
    config = result.expectation_config
    columns = _columns(config.kwargs)
    stats = result.result or {}
    return {
        "suite": suite_name,
        "expectation_type": config.type,
        "description": config.description or config.type,
        "column": ", ".join(columns) if columns else None,
        "columns": columns,
        "unit": unit,
        "unexpected_count": _number(stats.get("unexpected_count")),
        "unexpected_percent": _number(stats.get("unexpected_percent")),
        "examples": [],
    }


def _row_failure(result: Any, frame: pd.DataFrame) -> dict:
    failure = _base_failure(ROWS_SUITE_NAME, result, "rows")
    stats = result.result or {}
    kwargs = result.expectation_config.kwargs
    kind = result.expectation_config.type

    if kind == "expect_table_columns_to_match_set":
        # In the suite's column order (GX reports them sorted).
        missing = [c for c in kwargs["column_set"] if c not in frame.columns]
        failure.update(unit="columns", unexpected_count=len(missing), missing=missing, examples=missing)
        return failure

    positions = [int(i) for i in stats.get("partial_unexpected_index_list") or [] if not isinstance(i, dict)]
    rows = frame.iloc[positions[:MAX_EXAMPLES]] if positions else frame.iloc[0:0]
    column = kwargs.get("column")
    examples: list[str] = []
    for _, row in rows.iterrows():
        label = _row_label(row)
        if column and column not in ("sku", "market", "demand_date"):
            label += f" ({column}={_number(row.get(column))})"
        if label not in examples:
            examples.append(label)
    failure["examples"] = examples

    if kind == "expect_column_values_to_be_in_set":
        # Name every unknown value, not only those among GX's first partial rows.
        values = frame[column]
        unknown = values[values.notna() & ~values.isin(list(kwargs["value_set"]))]
        counts = unknown.astype(str).value_counts()
        failure["unexpected_values"] = {str(k): int(v) for k, v in counts.items()}
    return failure


def _market_day_failure(
    result: Any,
    market_days: pd.DataFrame,
    expected_markets: Sequence[str],
    histories: dict[str, MarketHistory],
    thresholds: GateThresholds,
) -> dict:
    failure = _base_failure(MARKET_DAYS_SUITE_NAME, result, "market-days")
    stats = result.result or {}
    description = result.expectation_config.description

    order = {m: i for i, m in enumerate(expected_markets)}
    items = list(stats.get("unexpected_index_list") or stats.get("partial_unexpected_index_list") or [])
    # Most recent first: a gate blocks on what broke lately; ties in the caller's market order.
    items.sort(key=lambda it: (-pd.Timestamp(it["demand_date"]).value, order.get(it.get("market"), len(order))))
    labels = [_market_day_label(it) for it in items[:MAX_EXAMPLES]]
    if description == FLIP_DESCRIPTION:
        labels = [_flip_label(it, market_days, histories) for it in items[:MAX_EXAMPLES]]
        # GX counts against the broad-return days its row_condition kept; report against all market-days.
        if failure["unexpected_count"] is not None and len(market_days):
            failure["unexpected_percent"] = 100.0 * failure["unexpected_count"] / len(market_days)
    failure["examples"] = list(dict.fromkeys(labels))
    failure["example_rows"] = [
        {k: (_date(v) if k == "demand_date" else _number(v)) for k, v in it.items()} for it in items[:MAX_EXAMPLES]
    ]
    by_market: dict[str, dict] = {}
    for it in items:
        market = _text(it.get("market"), "<null market>")
        day = _date(it.get("demand_date"))
        entry = by_market.setdefault(market, {"count": 0, "first": day, "last": day})
        entry["count"] += 1
        entry["first"] = min(entry["first"], day)
        entry["last"] = max(entry["last"], day)
    failure["by_market"] = dict(sorted(by_market.items(), key=lambda kv: order.get(kv[0], len(order))))
    if description == STOP_DESCRIPTION:
        failure["stopped"] = [
            _stop_sentence(histories[m], thresholds) for m in failure["by_market"] if m in histories
        ]
    return failure


def _flip_label(item: dict, market_days: pd.DataFrame, histories: dict[str, MarketHistory]) -> str:
    label = _market_day_label(item)
    market, day = item.get("market"), item.get("demand_date")
    row = market_days[(market_days["market"] == market) & (market_days["demand_date"] == pd.Timestamp(day))]
    history = histories.get(market)
    if row.empty or history is None:
        return label
    r = row.iloc[0]
    return (
        f"{label} (units_returned {_number(r['units_returned'])} over {_number(r['returning_skus'])} SKUs, "
        f"units_sold {_number(r['units_sold'])}; a usual selling day sells {_number(history.usual_units_sold)} units)"
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _probability(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}".replace(".0e", "e")


def _stop_sentence(history: MarketHistory, thresholds: GateThresholds) -> str:
    start = history.quiet_run_start
    days = history.quiet_run_days
    span = _date(history.end_day) if days == 1 else f"{_date(start)}..{_date(history.end_day)}"
    run_weekdays = sorted({(start + pd.Timedelta(days=i)).weekday() for i in range(min(days, 7))})
    pattern = ", ".join(f"{WEEKDAYS[w]} {_share(history.weekday_shares[w])}" for w in run_weekdays)
    return (
        f"market {history.market} sold nothing on {span} ({days} {_plural(days, 'days')}); "
        f"before that it sold on {_share(history.active_share)} of its days "
        f"({history.selling_days} of {history.history_days}; {pattern}), so a quiet run this long has "
        f"probability {_probability(history.quiet_run_probability)} by its own weekday pattern "
        f"(limit {_probability(thresholds.stop_probability)})"
    )


def _error_failure(suite_name: str, result: Any, error: str) -> dict:
    failure = _base_failure(suite_name, result, "rows" if suite_name == ROWS_SUITE_NAME else "market-days")
    failure.update(unexpected_count=None, unexpected_percent=None, error=error)
    return failure


def _describe(failure: dict) -> str:
    label = SUITE_LABELS.get(failure["suite"], failure["suite"])
    head = f"{label}: {failure['description']} [{failure['expectation_type']}]"
    if failure.get("error"):
        return f"{head} could not run: {failure['error']}"
    if failure["unit"] == "columns":
        return f"{head} failed: missing column(s) {', '.join(failure['missing'])}"
    count = failure["unexpected_count"]
    text = f"{head} failed on {count} {_plural(count, failure['unit'])}"
    if failure.get("stopped"):
        return f"{text}: " + "; ".join(failure["stopped"][:MESSAGE_MARKETS])
    if failure.get("unexpected_percent") is not None:
        text += f" ({_percent(failure['unexpected_percent'])})"
    if failure.get("unexpected_values"):
        values = list(failure["unexpected_values"].items())
        shown = ", ".join(f"{v} ({n} rows)" for v, n in values[:MESSAGE_MARKETS])
        more = f" and {len(values) - MESSAGE_MARKETS} more" if len(values) > MESSAGE_MARKETS else ""
        text += f"; unexpected values {shown}{more}"
    if failure.get("by_market"):
        parts = []
        for market, entry in list(failure["by_market"].items())[:MESSAGE_MARKETS]:
            span = entry["first"] if entry["first"] == entry["last"] else f"{entry['first']}..{entry['last']}"
            parts.append(f"{market} {entry['count']} {_plural(entry['count'], 'day')} ({span})")
        more = f", +{len(failure['by_market']) - MESSAGE_MARKETS} markets" if len(failure["by_market"]) > MESSAGE_MARKETS else ""
        text += f" by market: {', '.join(parts)}{more}"
    if failure["examples"]:
        text += f", e.g. {', '.join(failure['examples'][:MESSAGE_EXAMPLES])}"
    return text


# ----------------------------------------------------------------------------- entry point


def _normalise_markets(expected_markets: Iterable[str]) -> list[str]:
    if isinstance(expected_markets, str):
        raise TypeError("expected_markets must be a list of ISO2 codes, not one string")
    markets = list(dict.fromkeys(str(m).strip().upper() for m in expected_markets))
    if not markets:
        raise ValueError("expected_markets is empty: the training data gate needs at least one market")
    return markets


def _frame_statistics(frame: pd.DataFrame) -> dict:
    stats: dict[str, Any] = {"rows": int(len(frame)), "markets": 0, "start_date": None, "end_date": None, "days": 0}
    if "market" in frame.columns:
        stats["markets"] = int(frame["market"].nunique(dropna=True))
    if "demand_date" in frame.columns and len(frame):
        dates = pd.to_datetime(frame["demand_date"], errors="coerce")
        if dates.notna().any():
            start, end = dates.min(), dates.max()
            stats["start_date"] = _date(start)
            stats["end_date"] = _date(end)
            stats["days"] = int((end.normalize() - start.normalize()).days) + 1
    return stats


def _notes(histories: Sequence[MarketHistory], thresholds: GateThresholds) -> str:
    notes = [n for n in (h.note(thresholds) for h in histories) if n]
    if not notes:
        return ""
    return f" Not judged on gaps or return days: {'; '.join(notes)}."


def validate_training_data(
    df: pd.DataFrame,
    expected_markets: list[str],
    thresholds: GateThresholds | None = None,
) -> GateResult:
    """Validate `marts.fct_daily_demand` for forecast training.

    Runs the `training_data_rows` suite on `df` and the
    `training_data_market_days` suite on the judged market-day frame
    (`market_day_frame`, `market_histories`, `judged_market_days`), each market
    against its own history with `thresholds` (default `GateThresholds()`).
    The market-day suite is skipped (and the gate fails) when `df` lacks a
    column the derivation needs. Raises ValueError if `expected_markets` is
    empty; never raises because the data is bad.
    """
    started = time.perf_counter()
    markets = _normalise_markets(expected_markets)
    thresholds = thresholds or GateThresholds()

    # GX reports row positions as index labels: give it a 0..n-1 index.
    frame = df
    if not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1):
        frame = df.reset_index(drop=True)

    context = _context()
    source = context.data_sources.add_pandas(name=f"crossdock_gate_{uuid.uuid4().hex[:8]}")

    suites: list[tuple[str, gx.ExpectationSuite, Any]] = []
    rows_suite, rows_result = _validate_rows(_batch(source, "fct_daily_demand", frame), markets)
    suites.append((ROWS_SUITE_NAME, rows_suite, rows_result))

    missing_sources = [c for c in SOURCE_COLUMNS if c not in frame.columns]
    market_days = None
    histories: list[MarketHistory] = []
    skipped_note = None
    if missing_sources:
        skipped_note = f"market_days suite not run: the frame lacks {', '.join(missing_sources)}"
    else:
        market_days = market_day_frame(frame, markets)
        histories = market_histories(market_days, markets, thresholds)
        market_days = judged_market_days(market_days, histories)
        md_suite = training_data_market_days_suite(histories, thresholds)
        md_result = _batch(source, "fct_daily_demand_market_days", market_days).validate(
            md_suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["market", "demand_date"],
                "partial_unexpected_count": max(MAX_EXAMPLES, len(markets)),
            },
        )
        suites.append((MARKET_DAYS_SUITE_NAME, md_suite, md_result))
    by_market = {h.market: h for h in histories}

    failures: list[dict] = []
    evaluated = successful = 0
    # Message order: market-day failures (the business symptom) before row-level ones.
    for suite_name, suite, result in sorted(suites, key=lambda s: s[0] != MARKET_DAYS_SUITE_NAME):
        # GX returns results in its own order; report them in the suite's.
        position = {e.description: i for i, e in enumerate(suite.expectations)}
        for res in sorted(result.results, key=lambda r: position.get(r.expectation_config.description, 10**6)):
            evaluated += 1
            if res.success:
                successful += 1
                continue
            error = _exception_message(res)
            if error is not None:
                failures.append(_error_failure(suite_name, res, error))
            elif suite_name == ROWS_SUITE_NAME:
                failures.append(_row_failure(res, frame))
            else:
                failures.append(_market_day_failure(res, market_days, markets, by_market, thresholds))

    frame_stats = _frame_statistics(frame)

    def _with(status: str) -> list[str]:
        return [h.market for h in histories if h.status == status]

    statistics = {
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        **frame_stats,
        "expected_markets": len(markets),
        "judged_markets": len(_with("judged")),
        "markets_without_orders": _with("no_orders"),
        "markets_without_sales": _with("no_sales"),
        "dormant_markets": _with("dormant"),
        "short_history_markets": _with("short_history"),
        "market_days": int(len(market_days)) if market_days is not None else 0,
        "seconds": round(time.perf_counter() - started, 3),
    }

    passed = not failures and skipped_note is None
    if passed:
        message = (
            f"All {evaluated} expectations passed on {frame_stats['rows']} {_plural(frame_stats['rows'], 'rows')} "
            f"({frame_stats['markets']} {_plural(frame_stats['markets'], 'markets')}, "
            f"{frame_stats['days']} {_plural(frame_stats['days'], 'days')}"
            + (f", {frame_stats['start_date']}..{frame_stats['end_date']})" if frame_stats["start_date"] else ")")
            + "."
        )
    else:
        parts = [_describe(f) for f in failures]
        if skipped_note:
            parts.append(skipped_note)
        message = f"Training data failed {len(failures)} of {evaluated} expectations: " + "; ".join(parts) + "."
    message += _notes(histories, thresholds)
    return GateResult(
        passed=passed,
        message=message,
        failures=failures,
        statistics=statistics,
        markets=[h.as_dict() for h in histories],
    )
