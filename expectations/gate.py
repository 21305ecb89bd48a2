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

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import great_expectations as gx
import pandas as pd

from crossdock.wording import listed
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
    text_or,
    unrun_or_missing_text,
    validate_with_examples,
)

from expectations.market_days import (
    SOURCE_COLUMNS,
    WEEKDAYS,
    MarketHistory,
    failing_markets,
    judged_market_days,
    market_day_frame,
    market_histories,
    markets_still_planned,
    markets_to_hold_back,
    recent_unit_shares,
    why_not_held_back,
)
from expectations.suites import (
    FLIP_DESCRIPTION,
    MARKET_DAYS_SUITE_NAME,
    ROWS_SUITE_NAME,
    STOP_DESCRIPTION,
    training_data_market_days_suite,
    training_data_rows_suite,
)
from expectations.thresholds import GateThresholds

__all__ = ["GateResult", "GateThresholds", "validate_training_data"]

# Short suite names used in messages ("market_days: ...; rows: ...").
SUITE_LABELS: dict[str, str] = {ROWS_SUITE_NAME: "rows", MARKET_DAYS_SUITE_NAME: "market_days"}
# What a failure counts, per suite ("failed on 3 rows"); also that of an expectation GX could not run.
SUITE_UNITS: dict[str, str] = {ROWS_SUITE_NAME: "rows", MARKET_DAYS_SUITE_NAME: "market-days"}
MESSAGE_MARKETS = 8  # per-market breakdowns shown in the message


# ----------------------------------------------------------------------------- formatting


def _row_label(row: pd.Series) -> str:
    parts = [text_or(row.get("market"), "<null market>"), date_text(row.get("demand_date"))]
    if "sku" in row.index:
        parts.append(f"sku {text_or(row.get('sku'), '<null>')}")
    return " ".join(parts)


def _market_day_label(item: dict) -> str:
    return f"{text_or(item.get('market'), '<null market>')} {date_text(item.get('demand_date'))}"


# ----------------------------------------------------------------------------- GX plumbing


def _validate_rows(batch: Any, markets: list[str]) -> tuple[gx.ExpectationSuite, Any]:
    """Row-level suite: counts for all (BASIC), example positions for failures (SUMMARY)."""
    suite = training_data_rows_suite(markets)
    result = validate_with_examples(
        batch, suite, lambda: training_data_rows_suite(markets), {"expect_table_columns_to_match_set"}
    )
    return suite, result


# ----------------------------------------------------------------------------- failures


def _row_failure(result: Any, frame: pd.DataFrame) -> dict:
    kwargs = result.expectation_config.kwargs
    kind = result.expectation_config.type
    if kind == "expect_table_columns_to_match_set":
        return missing_columns_failure(ROWS_SUITE_NAME, result, frame)

    failure = base_failure(ROWS_SUITE_NAME, result, "rows")
    rows = example_rows(result, frame)
    column = kwargs.get("column")
    examples: list[str] = []
    for _, row in rows.iterrows():
        label = _row_label(row)
        if column and column not in ("sku", "market", "demand_date"):
            label += f" ({column}={plain_number(row.get(column))})"
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
    failure = base_failure(MARKET_DAYS_SUITE_NAME, result, "market-days")
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
        {k: (date_text(v) if k == "demand_date" else plain_number(v)) for k, v in it.items()} for it in items[:MAX_EXAMPLES]
    ]
    by_market: dict[str, dict] = {}
    for it in items:
        market = text_or(it.get("market"), "<null market>")
        day = date_text(it.get("demand_date"))
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
        f"{label} (units_returned {plain_number(r['units_returned'])} over {plain_number(r['returning_skus'])} SKUs, "
        f"units_sold {plain_number(r['units_sold'])}; a usual selling day sells {plain_number(history.usual_units_sold)} units)"
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _probability(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}".replace(".0e", "e")


def _stop_sentence(history: MarketHistory, thresholds: GateThresholds) -> str:
    start = history.quiet_run_start
    days = history.quiet_run_days
    span = date_text(history.end_day) if days == 1 else f"{date_text(start)}..{date_text(history.end_day)}"
    run_weekdays = sorted({(start + pd.Timedelta(days=i)).weekday() for i in range(min(days, 7))})
    pattern = ", ".join(f"{WEEKDAYS[w]} {_share(history.weekday_shares[w])}" for w in run_weekdays)
    return (
        f"market {history.market} sold nothing on {span} ({days} {plural(days, 'days')}); "
        f"before that it sold on {_share(history.active_share)} of its days "
        f"({history.selling_days} of {history.history_days}; {pattern}), so a quiet run this long has "
        f"probability {_probability(history.quiet_run_probability)} by its own weekday pattern "
        f"(limit {_probability(thresholds.stop_probability)})"
    )


STOPPED_WHAT_TO_DO = (
    "If the export stops short, land the missing days; if the market really stopped selling, take it out of "
    "crossdock.yaml's markets (its countries then plan in the catch-all) or raise gates.stop_probability"
)
_CHECK_RETURNS = (
    "Check those days' return lines in the orders feed: a day of sales sent as returns (line_type, or the sign of "
    "quantity) or returns counted twice; land a corrected export of those days (the same order and line ids)"
)
RETURN_DAYS_WHAT_TO_DO = (
    f"{_CHECK_RETURNS}. A market that really takes back more than it sells on that many days can allow it "
    "(gates.max_return_share_of_days)"
)
FLIP_WHAT_TO_DO = (
    f"{_CHECK_RETURNS}. Returns far above a day's usual sales are what a sign-flipped day looks like; a merchant whose "
    "returns come in such batches can raise gates.flip_share_of_usual_sales or gates.min_flip_units"
)


def _describe(failure: dict) -> str:
    head = failure_head(failure, SUITE_LABELS)
    common = unrun_or_missing_text(failure, head)
    if common is not None:
        return common
    count = failure["unexpected_count"]
    text = f"{head} failed on {count} {plural(count, failure['unit'])}"
    if failure.get("stopped"):
        return f"{text}: " + "; ".join(failure["stopped"][:MESSAGE_MARKETS]) + f". {STOPPED_WHAT_TO_DO}"
    if failure.get("unexpected_percent") is not None:
        text += f" ({percent_text(failure['unexpected_percent'])})"
    if failure.get("unexpected_values"):
        values = list(failure["unexpected_values"].items())
        text += f"; unexpected values {listed([f'{v} ({n} rows)' for v, n in values], MESSAGE_MARKETS)}"
    if failure.get("by_market"):
        parts = []
        for market, entry in list(failure["by_market"].items())[:MESSAGE_MARKETS]:
            span = entry["first"] if entry["first"] == entry["last"] else f"{entry['first']}..{entry['last']}"
            parts.append(f"{market} {entry['count']} {plural(entry['count'], 'day')} ({span})")
        more = f", +{len(failure['by_market']) - MESSAGE_MARKETS} markets" if len(failure["by_market"]) > MESSAGE_MARKETS else ""
        text += f" by market: {', '.join(parts)}{more}"
    if failure["examples"]:
        text += f", e.g. {', '.join(failure['examples'][:MESSAGE_EXAMPLES])}"
    if failure["suite"] == MARKET_DAYS_SUITE_NAME and failure["description"] == FLIP_DESCRIPTION:
        text += f". {FLIP_WHAT_TO_DO}"
    elif failure["suite"] == MARKET_DAYS_SUITE_NAME and failure.get("by_market"):  # a market's return days
        text += f". {RETURN_DAYS_WHAT_TO_DO}"
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
            stats["start_date"] = date_text(start)
            stats["end_date"] = date_text(end)
            stats["days"] = int((end.normalize() - start.normalize()).days) + 1
    return stats


def _held_back(
    failures: list[dict], market_days: pd.DataFrame | None, histories: Sequence[MarketHistory], thresholds: GateThresholds,
) -> tuple[list[str], str | None]:
    """The markets to hold back, when the failures are all market-days of some markets: those markets, as
    `markets_to_hold_back` allows, or why not (`why_not_held_back`). Any row-level failure, or a failure Great
    Expectations and `failing_markets` name differently, stops the whole forecast instead."""
    if market_days is None or any(f["suite"] != MARKET_DAYS_SUITE_NAME or not f.get("by_market") for f in failures):
        return [], None
    named = list(dict.fromkeys(m for f in failures for m in f["by_market"]))
    judged = failing_markets(market_days, histories, thresholds)
    if set(named) != set(judged):
        return [], None
    shares = recent_unit_shares(market_days)
    return markets_to_hold_back(judged, histories, shares, thresholds), why_not_held_back(judged, histories, shares, thresholds)


def _held_back_text(held_back: Sequence[str], histories: Sequence[MarketHistory]) -> str:
    others = markets_still_planned(histories, held_back)
    return (
        f"HELD BACK {', '.join(held_back)}: the forecast and the plan go on without "
        f"{'it' if len(held_back) == 1 else 'them'} (planning {', '.join(others)}); "
        f"{'its' if len(held_back) == 1 else 'their'} own failures follow."
    )


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

    context = gx_context()
    source = context.data_sources.add_pandas(name=f"crossdock_gate_{uuid.uuid4().hex[:8]}")

    suites: list[tuple[str, gx.ExpectationSuite, Any]] = []
    rows_suite, rows_result = _validate_rows(dataframe_batch(source, "fct_daily_demand", frame), markets)
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
        md_result = dataframe_batch(source, "fct_daily_demand_market_days", market_days).validate(
            md_suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["market", "demand_date"],
                "partial_unexpected_count": max(MAX_EXAMPLES, len(markets)),
            },
        )
        suites.append((MARKET_DAYS_SUITE_NAME, md_suite, md_result))
    by_market = {h.market: h for h in histories}

    def failure_of(suite_name: str, res: Any) -> dict:
        if suite_name == ROWS_SUITE_NAME:
            return _row_failure(res, frame)
        return _market_day_failure(res, market_days, markets, by_market, thresholds)

    # Message order: market-day failures (the business symptom) before row-level ones.
    failures, evaluated, successful = collect_failures(suites, MARKET_DAYS_SUITE_NAME, failure_of, SUITE_UNITS)

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
    held_back, not_held_back = (_held_back(failures, market_days, histories, thresholds) if not passed and skipped_note is None
                                else ([], None))
    if passed:
        message = (
            f"All {evaluated} expectations passed on {frame_stats['rows']} {plural(frame_stats['rows'], 'rows')} "
            f"({frame_stats['markets']} {plural(frame_stats['markets'], 'markets')}, "
            f"{frame_stats['days']} {plural(frame_stats['days'], 'days')}"
            + (f", {frame_stats['start_date']}..{frame_stats['end_date']})" if frame_stats["start_date"] else ")")
            + "."
        )
    else:
        parts = [_describe(f) for f in failures]
        if skipped_note:
            parts.append(skipped_note)
        message = f"Training data failed {len(failures)} of {evaluated} expectations: " + "; ".join(parts) + "."
        if held_back:
            message = _held_back_text(held_back, histories) + " " + message
        elif not_held_back:  # first, as HELD BACK is: the planner reads why the whole forecast stops before the days
            message = f"{not_held_back}; the forecast stops and the last good plan, if any, stays published. {message}"
    message += _notes(histories, thresholds)
    return GateResult(
        passed=passed,
        message=message,
        failures=failures,
        statistics=statistics,
        markets=[h.as_dict() for h in histories],
        held_back=held_back,
    )
