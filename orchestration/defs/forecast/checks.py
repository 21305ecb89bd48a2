"""The forecast's gates: Great Expectations on its training data and on the forecast, the backtest's against baselines.

Blocking: when the training-data gate fails, the forecast assets downstream
of marts.fct_daily_demand are not materialized in that run, so bad data never
reaches the plans; when the forecast gate fails, the inventory plan is not
made. When the model does not beat its baselines in the backtest
(`model_beats_the_baselines`), the forecast asset publishes the best
baseline's forecast in its place when one scored below the model
(ml/fallback_forecast.py; else the model's, unproven), so the plan goes on,
and the check fails as a warning that says which. It used to block, and a
merchant whose model lost its first backtests had no plan at all.

The training-data gate judges each market against its own history
(expectations/market_days.py); its thresholds (expectations.thresholds.
GateThresholds) come from the one-row table config.gates when the merchant
config wrote one (a column per threshold, null = default), else the defaults.
When what failed is some markets' own history (a feed that stopped, a day of
orders come in as returns) and the other markets sold most of the last year's
units, the gate fails as a warning instead: those markets are held back, the
forecast, its gate and the inventory plan go on without them
(orchestration/lib/held_back.py works them out from the data, as the gate
does), and the check says so.

Great Expectations is imported when a gate runs, not when the definitions
load: its import is ~3 CPU-s, half of loading the whole project, and the UI's
code server, `dagster definitions validate`, sensors and every process that
only builds the definitions never validate anything.
"""
import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd

from crossdock.publish import staged
from ml.backtest_scores import MODEL
from ml.backtest_gate import GATE_BASELINES, GATE_METRICS, HIGH, LOW, GateVerdict, gate_verdict
from ml.fallback_forecast import KEPT_MODEL, choose_fallback
from ml.series_selection import active_series
from orchestration.defs.forecast.inputs import ACCURACY, FORECAST, TRAINING_DATA, last_fallback, staged_overall_backtest
from orchestration.lib.gate_checks import WHAT_TO_DO, blocking_gate, gate_result, warning_check, warning_result
from orchestration.lib.held_back import gate_thresholds, without_held_back
from orchestration.lib.market_partitions import MarketScope, scope_of_run
from orchestration.lib.retries import WarehouseResource

if TYPE_CHECKING:
    from expectations.gx_runner import GateResult


def held_back_what_to_do(markets: list[str]) -> str:
    """What a planner does about held-back markets, in the run's words (one market or several)."""
    one = len(markets) == 1
    it, its = ("it", "its") if one else ("them", "their")
    return (f"The plan was made without {', '.join(markets)}: not forecast, and {its} SKUs' stock neither called idle "
            f"nor moved, in this run. If {its} export stops short, land the missing days; if {'it' if one else 'they'} "
            f"really stopped selling, take {it} out of crossdock.yaml's markets ({its} countries then plan in the "
            f"catch-all); gates.max_held_back_share: 0 stops the whole forecast instead")


def _check_result(result: "GateResult", **extra: dg.MetadataValue) -> dg.AssetCheckResult:
    """The gate's message, failures and statistics (and per-market history) as the check's metadata."""
    metadata = {
        "message": result.message,
        "failures": dg.MetadataValue.json(result.failures),
        "statistics": dg.MetadataValue.json({k: str(v) for k, v in result.statistics.items()}),
    }
    if result.markets:
        metadata["markets"] = dg.MetadataValue.json(result.markets)
    metadata.update(extra)
    return gate_result(result.passed, result.message, metadata)


@blocking_gate(
    asset=TRAINING_DATA,
    name="training_data_quality_gate",
    description="Great Expectations suites on the forecast training data: types and ranges per row, and each "
    "market against its own history: no sales stopped against its weekday pattern, no day of sign-flipped "
    "orders, returns above sales on few selling days. Thresholds from config.gates when present. "
    "Blocks the forecast on failure, unless what failed is some markets' own history and the others sold most "
    "of the last year's units: those markets are then held back (not forecast, not planned) and the check fails "
    "as a warning naming them.",
)
def training_data_quality_gate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from expectations.gate import validate_training_data

    with warehouse.open() as tables:
        training = tables.query("select * from marts.fct_daily_demand")
        markets = [r for (r,) in tables.rows("select market_code from reference.markets order by 1")]
        thresholds = gate_thresholds(tables)
    result = validate_training_data(training, expected_markets=markets, thresholds=thresholds)
    extra = {"thresholds": dg.MetadataValue.json(thresholds.as_dict()),
             "thresholds_overridden": dg.MetadataValue.json(thresholds.overridden())}
    if result.held_back:  # their own failures: the forecast goes on without them (demand_forecast drops them too)
        return warning_result(False, result.message, {
            **_check_result(result).metadata, **extra, "held_back": dg.MetadataValue.json(result.held_back),
            WHAT_TO_DO: held_back_what_to_do(result.held_back),
        })
    return _check_result(result, **extra)


@blocking_gate(
    asset=FORECAST,
    name="forecast_quality_gate",
    description="Great Expectations suites on the published forecast: non-negative, p10 <= p50 <= p90, one model "
    "version per market, every active SKU x market present with every day of the horizon (of the run's markets, "
    "when it covers some; not of the markets the training-data gate held back). Blocks the inventory plan on failure.",
)
def forecast_quality_gate(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return judge_forecast(warehouse, scope_of_run(context.instance, context.run.tags))


def _mixed(forecast: pd.DataFrame, one_model: bool) -> str | None:
    """What is mixed in the whole staged table, whatever markets the run covers: planning dates (runs over some
    markets made on other days), or models when the run forecast every market with one."""
    dates = sorted(str(pd.Timestamp(d).date()) for d in forecast["as_of"].dropna().unique())
    if len(dates) > 1:
        by_date = forecast.groupby(forecast["as_of"].astype(str))["market"].unique()
        return (f"plan_next.demand_forecast mixes planning dates {', '.join(dates)} "
                f"({'; '.join(f'{d[:10]}: {sorted(m)}' for d, m in by_date.items())}): forecast every market "
                "again (daily_planning) or the markets of the older dates")
    models = forecast["model_version"].dropna().unique()
    if one_model and len(models) > 1:
        return f"a run over every market staged {len(models)} model versions, not one: {', '.join(sorted(models))}"
    return None


def judge_forecast(warehouse: WarehouseResource, scope: MarketScope | None = None) -> dg.AssetCheckResult:
    """The forecast gate's verdict on the staged forecast: of `scope`'s markets, or of every market (None)."""
    from expectations.forecast_gate import validate_forecast

    with warehouse.open() as tables:
        forecast = tables.query(f"select * from {staged('demand_forecast')}")  # this run's, before it is published
        history = tables.query("select sku, market, category, demand_date, units_sold, units_returned from marts.fct_daily_demand")
        history, held_back = without_held_back(tables, history)  # not forecast: the training-data gate held them back
    # the horizon the run forecast: of the whole table, so a scope whose rows are missing is judged on it too
    horizon = int(forecast["horizon"].max()) if not forecast.empty else 1
    mixed = _mixed(forecast, one_model=scope is None or scope.every)
    if mixed:
        return gate_result(False, mixed, {"markets": scope.describe() if scope else "every market"})
    if scope is not None and not scope.every:  # a run over some markets answers for theirs; the other markets' rows are other runs'
        forecast = forecast[forecast["market"].isin(scope.markets)]
        history = history[history["market"].isin(scope.markets)]
        if history.empty and forecast.empty:
            why = "held back by the training-data gate" if set(scope.markets) <= set(held_back) else "no demand history"
            return gate_result(True, f"{scope.describe()}: {why}, nothing to forecast", {"markets": scope.describe()})
    as_of = forecast["as_of"].max() if not forecast.empty else history["demand_date"].max()
    expected = active_series(history, as_of)
    return _check_result(validate_forecast(forecast, expected[["sku", "market"]], horizon))


LOST_TO_A_BASELINE = (
    "The backtest runs again on every run with new data (a day of orders, a corrected export) until the model beats "
    "its baselines, so a few more days of orders can be enough; crossdock.yaml `forecast: backtest_windows` "
    "(default 4) scores more weeks with more windows, as many as the history holds (forecast_accuracy's log says "
    "when it holds another), and "
    "ml/README.md ('Baselines, metrics and the gate') says how the check judges."
)
"""What `crossdock run` tells a planner under the failed check, after what the plan was made with instead."""


NO_BACKTEST = ("The backtest runs once the history covers a window of the horizon and four weeks before it "
               "(forecast_accuracy's metadata says when); until then no forecast can be proven.")


def _fallback_note(overall: pd.DataFrame, last: str | None) -> str:
    """What this run's plan is made with while the model loses: the best baseline (ml/fallback_forecast.py), or the
    last plan's within a tie of it, or the model when it beat every baseline that plans stock."""
    choice = choose_fallback(overall, last=last)
    if choice is None:
        return f"This run's forecast: {KEPT_MODEL}. "
    band = ("Its band is a count's at the larger of its rate and the series' last 28 days', widened per demand class "
            "where the backtest's days say so. " if choice.proven else "")
    return f"This run's forecast is {choice.describe()}. {band}"


@warning_check(
    asset=ACCURACY,
    name="model_beats_the_baselines",
    description=f"Fails unless the model's overall backtest beats {', '.join(GATE_BASELINES[:-1])} and {GATE_BASELINES[-1]} on "
    f"{' and '.join(GATE_METRICS)} (the WAPE of weekly totals of the expected units per SKU x market, which a "
    "forecast of nothing cannot win on intermittent demand: it scores 1, and a ratio within 1 % of a baseline's is "
    "a tie). When the model fails, demand_forecast publishes the best baseline's forecast (never the zero forecast) "
    "in its place, with a calibrated band, if one scored below the model; else (the model lost to forecasting nothing "
    "alone, or tied a baseline) the model's, unproven (ml/fallback_forecast.py). This check then fails as a warning "
    "saying which; with no backtest (too little history for one window) it fails and the forecast is the 28-day "
    "mean's. A comparison the weeks the backtest scored cannot decide (the 90 % interval of the ratio from "
    "resampling them holds 1) is not judged: the model's forecast is then published unproven, and the "
    "check says so (judged = false). RMSSE and daily p50 WAPE are in the metadata, not gated. Reads the run's "
    "backtest result, fresh or reused, and names the planning date it was proven on.",
)
def model_beats_the_baselines(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return judge_backtest(warehouse, scope_of_run(context.instance, context.run.tags))


def judge_backtest(warehouse: WarehouseResource, scope: MarketScope | None = None) -> dg.AssetCheckResult:
    """The check's verdict on the run's staged backtest, and what the forecast of `scope`'s markets (None: every
    market) does about it: it keeps the baseline those markets' published plan ran on within a tie."""
    last = last_fallback(warehouse, None if scope is None or scope.every else scope.markets)
    overall, proven_on = _overall_backtest(warehouse)
    if proven_on is None:  # no window fit in the history (forecast_accuracy's metadata says how long it must be)
        return warning_result(False, "no backtest: too little history for one window, so nothing is proven yet",
                              {WHAT_TO_DO: _fallback_note(overall, last) + NO_BACKTEST})
    verdict = gate_verdict(overall)
    metadata = _verdict_metadata(overall, proven_on, verdict)
    if not verdict.passed:
        metadata[WHAT_TO_DO] = _fallback_note(overall, last) + LOST_TO_A_BASELINE
    return warning_result(verdict.passed, f"backtest of {proven_on}: {verdict.summary()}", metadata)


def _overall_backtest(warehouse: WarehouseResource) -> tuple[pd.DataFrame, dt.date | None]:
    """The run's staged backtest, overall rows by model, and the planning date it was proven on (None: no backtest)."""
    overall = staged_overall_backtest(warehouse)
    return overall, None if overall.empty else pd.Timestamp(overall["as_of"].max()).date()


def _verdict_metadata(overall: pd.DataFrame, proven_on: dt.date, verdict: GateVerdict) -> dict[str, object]:
    intervals = {f"{column}_{model}": float(overall.loc[model, column]) for column in (LOW, HIGH) if column in overall.columns
                 for model in overall.index if model != MODEL}
    return {
        "proven_on": str(proven_on),
        "judged": verdict.judged,  # false: published unproven, the weeks scored could not tell it from a baseline
        **intervals,
        **{f"{metric}_{model}": float(overall.loc[model, metric])
           for metric in (*GATE_METRICS, "rmsse", "wape") for model in overall.index if metric in overall.columns},
        **verdict.ratios,
    }
