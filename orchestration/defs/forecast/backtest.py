"""The backtest asset: the model proven against its baselines, on a cadence, before any forecast publishes.

`forecast_accuracy` backtests the model against its baselines and carries the
check "model beats the baselines" (checks.py); `demand_forecast` (assets.py)
depends on it and reads the same verdict, so a model that loses to a simple
baseline that plans stock never publishes: the best baseline's forecast does.
The backtest runs on a cadence (ml/backtest_cadence.py decides, the result
and its record live in audit.backtest_* via ml/backtest_store.py), and
a run that reuses it stages the stored result like a fresh one. It also
chooses what the published forecast applies: how it is made coherent with its
totals (ml/hierarchy.py), the band's calibration per demand class
(ml/calibration.py), the blend's weight and whether series that stopped
selling are forecast 0 (ml/blend.py).
"""

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence

import dagster as dg
import pandas as pd

from crossdock.merchant_settings import ForecastSettings
from crossdock.publish import stage_table, staged
from crossdock.published import published_table
from ml.backtest import backtest, windows_that_fit
from ml.backtest_scores import MODEL, NAIVE
from ml.backtest_cadence import BacktestRecord, Cadence
from ml.backtest_gate import gate_verdict
from ml.backtest_run import BacktestDecision, decide_backtest, proven
from ml.backtest_store import save_backtest, stage_last_backtest
from ml.hierarchy import BOTTOM_UP, MethodChoice, choose_method
from orchestration.defs.forecast.inputs import (
    ACCURACY, BACKTEST, FORECAST_SPEC_SETTINGS, MARKETS, TRAINING_DATA, ForecastConfig,
    load_training_data, md_table,
)
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import PLANNING_CALENDAR, required_planning_date
from orchestration.lib.held_back import held_back_markets_in
from orchestration.lib.resources import WAREHOUSE_POOL, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource


def _choose_reconciliation(context: dg.AssetExecutionContext, predictions: pd.DataFrame, history: pd.DataFrame
                           ) -> MethodChoice:
    """The backtest's choice of reconciliation; bottom-up, said as a warning, when the comparison itself fails.

    Bottom-up leaves the SKU forecasts as the model made them, so a merchant whose
    totals cannot be compared (a solver or a fit that fails on odd data) still gets
    its plan, with totals that are the sums of its SKUs.
    """
    try:
        choice = choose_method(predictions, history)
    except Exception as exc:  # noqa: BLE001 - any failure of the comparison falls back to what needs no proof
        context.log.warning(f"hierarchy: could not compare the reconciliation methods ({exc}); the totals are summed up")
        return MethodChoice(BOTTOM_UP, f"bottom_up: the comparison failed ({exc})", pd.DataFrame())
    context.log.info(f"hierarchy: {choice.reason}")
    return choice


def _cadence(settings: ForecastSettings) -> Cadence:
    return Cadence(settings.backtest_every_days, settings.backtest_series_change_share)


def _accuracy_metadata(metrics: pd.DataFrame) -> dict[str, object]:
    """What the UI shows of a backtest result: the gate's metrics per model, tables by market, category and demand
    class, and the model's quantile calibration per demand class (below p10 / above p90 should each be <= 0.1)."""
    overall = metrics[metrics["scope"] == "overall"].set_index("model")
    shown = ["model", "weekly_wape", "weekly_wape_ratio_to_naive", "rmsse", "wape", "wape_ratio_to_naive", "bias", "mase",
             "coverage_p10_p90", "pinball_p10", "pinball_p50", "pinball_p90"]

    def by(scope: str) -> pd.DataFrame:
        return metrics[metrics["scope"] == scope].pivot(index="scope_value", columns="model", values="weekly_wape").reset_index()

    return {
        **{f"weekly_wape_{m}": float(overall.loc[m, "weekly_wape"]) for m in overall.index},
        **{f"rmsse_{m}": float(overall.loc[m, "rmsse"]) for m in overall.index},
        "weekly_wape_ratio_to_naive": float(overall.loc[MODEL, "weekly_wape_ratio_to_naive"]),
        "daily_p50_wape_ratio_to_naive": float(overall.loc[MODEL, "wape_ratio_to_naive"]),
        "coverage_p10_p90": float(overall.loc[MODEL, "coverage_p10_p90"]),
        "overall": md_table(overall.reset_index()[shown]),
        "weekly_wape_by_market": md_table(by("market")),
        "weekly_wape_by_demand_class": md_table(by("demand_class")),
        "calibration_by_demand_class": md_table(
            metrics[(metrics["scope"] == "demand_class") & (metrics["model"] == MODEL)][
                ["scope_value", "n_series", "actual_units", "below_p10", "above_p90", "below_p10_calibrated",
                 "above_p90_calibrated", "mean_bias", "weekly_wape_ratio_to_naive"]
            ].rename(columns={"scope_value": "demand_class"})
        ),
        "weekly_wape_by_category": md_table(by("category")),
    }


def _without_held_back(context: dg.AssetExecutionContext, history: pd.DataFrame, held_back: Sequence[str],
                       as_of: dt.date, horizon_days: int, windows: int) -> tuple[pd.DataFrame, int]:
    """The history to backtest and its windows: without the markets the training-data gate held back (their days
    since their feed stopped would be scored as demand; the forecast leaves them out too), on the windows the rest
    of the history holds. When it holds none (the held-back market was the oldest), they are kept: a backtest with
    them is better than none. `held_back` is the decision's (`BacktestDecision.shape`), so the backtest scores
    what its record describes."""
    if not held_back:
        return history, windows
    kept = history[~history["market"].isin(held_back)].reset_index(drop=True)
    selling = kept.loc[kept["units_sold"] > 0, "demand_date"]
    fit = windows_that_fit(selling.min().date() if len(selling) else None, as_of, horizon_days, windows)
    if fit == 0:
        context.log.warning(f"held back by the training-data gate, but backtested: without {', '.join(held_back)} no "
                            "window fits in the history (its record leaves them out, as the next run's shape "
                            "will: their return runs it again)")
        return history, windows
    context.log.warning(f"held back by the training-data gate, not backtested in this run: {', '.join(held_back)}"
                        + (f" ({fit} of {windows} windows fit without them)" if fit < windows else ""))
    return kept, fit


def run_backtest(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: WarehouseResource, decision: BacktestDecision
) -> tuple[BacktestRecord, dict[str, int], dict[str, object]]:
    """Run the backtest, stage and store it (ml/backtest_store.py); its record, rows staged and the windows' detail."""
    history, as_of, subdivisions = load_training_data(warehouse)
    history, windows = _without_held_back(context, history, decision.shape.held_back, as_of, config.horizon_days,
                                          decision.windows)
    context.log.info(f"backtesting {windows} windows x {config.horizon_days} days before {as_of}: {decision.reason}")
    t0 = time.perf_counter()
    result = backtest(
        history, as_of=as_of, horizon_days=config.horizon_days, n_windows=windows, seed=config.seed,
        baseline_jobs=config.baseline_jobs, holiday_subdivisions=subdivisions,
    )
    overall = result.overall()
    choice = _choose_reconciliation(context, result.predictions, history)
    record = proven(decision.fresh_record(context.run_id), time.perf_counter() - t0,
                    float(overall.loc[MODEL, "weekly_wape"]), float(overall.loc[NAIVE, "weekly_wape"]), gate_verdict(overall).passed)
    record = dataclasses.replace(record, reconciliation=choice.method, quantile_scales=result.quantile_scales,
                                 mean_weight=result.mean_weight, zero_stopped=result.zero_stopped)
    with warehouse.open() as tables:  # staged typed and checked first, then kept with its record
        rows = {
            "forecast_accuracy": stage_table(tables, "forecast_accuracy", result.metrics.assign(as_of=as_of), context.run_id),
            "forecast_backtest": stage_table(tables, "forecast_backtest", result.predictions.assign(as_of=as_of), context.run_id),
        }
        save_backtest(tables, record, decision.reason)
    context.log.info("backtest weekly WAPE: " + ", ".join(f"{m} {overall.loc[m, 'weekly_wape']:.3f}" for m in overall.index))
    windows = result.windows.assign(origin=result.windows["origin"].dt.date.astype(str))
    detail = windows[["window", "origin", "n_series", "training_rows", "model_version", "mean_weight", "zero_stopped"]
                     + [c for c in result.windows.columns if c.startswith("seconds_")]]
    return record, rows, {"windows_detail": md_table(detail), "backtest_seconds": round(record.seconds, 1),
                          "reconciliation_scores": md_table(choice.scores), "reconciliation_reason": choice.reason,
                          "quantile_scales": dg.MetadataValue.json(result.quantile_scales or {}),
                          "mean_weight": result.mean_weight, "zero_stopped": result.zero_stopped}


def _no_backtest(context: dg.AssetExecutionContext, warehouse: WarehouseResource, decision: BacktestDecision):
    """Stage empty backtest tables when no window fits in the history, and say why: nothing is proven, and
    demand_forecast publishes the 28-day mean's forecast (ml/fallback_forecast.py) until a window fits."""
    note = f"no backtest: {decision.short_history_note()}"
    context.log.warning(note)
    with warehouse.open() as tables:
        rows = {name: stage_table(tables, name, published_table(name).empty(), context.run_id)
                for name in ("forecast_backtest", "forecast_accuracy")}
    common = {"as_of": str(decision.as_of), "backtest": note, "windows": 0}
    yield dg.MaterializeResult(asset_key=BACKTEST, metadata={"dagster/row_count": rows["forecast_backtest"], **common})
    yield dg.MaterializeResult(asset_key=ACCURACY, metadata={"dagster/row_count": rows["forecast_accuracy"], **common})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ACCURACY, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS], **FORECAST_SPEC_SETTINGS, metadata=documented_table("publish", "forecast_accuracy"),
            description="Rolling-origin backtest (4 windows of the planning horizon, or those a short history holds: "
            "none under the horizon + 28 days, the tables then empty and the forecast the 28-day mean's) of the "
            "LightGBM forecast against "
            "seasonal naive (7), naive (1), the mean of the last 28 days, a zero forecast, AutoETS and CrostonOptimized "
            "on the same series and days of the dense, zero-filled panel: weekly WAPE of the expected units, RMSSE, "
            "daily p50 WAPE, bias, MASE, pinball loss per quantile and p10-p90 coverage, overall and per market and "
            "category. Run on a cadence "
            "(ml/backtest_cadence.py): when none was run, when the model or the data's shape changed, or every "
            "forecast.backtest_every_days (7) planning days; other runs reuse the last result, whose as_of is the "
            "day it was proven on. Force one with the run config force_backtest.",
        ),
        dg.AssetSpec(
            BACKTEST, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS], **FORECAST_SPEC_SETTINGS, metadata=documented_table("publish", "forecast_backtest"),
            description="The backtest day by day: per SKU x market x window x day, what sold and what LightGBM "
            "(p10/p50/p90/mean) and each baseline forecast from the window's origin. Feeds forecast-vs-actual charts. "
            "Rebuilt with forecast_accuracy, on its cadence.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def forecast_accuracy(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: WarehouseResource, merchant_config: MerchantConfigFile
):
    settings = merchant_config.forecast()
    with warehouse.open() as tables:
        as_of = required_planning_date(tables, "the forecast's backtest")
        decision = decide_backtest(
            tables, pd.Timestamp(as_of).date(), ".".join(TRAINING_DATA.path), horizon_days=config.horizon_days,
            windows=config.backtest_windows or settings.backtest_windows, seed=config.seed,
            cadence=_cadence(settings), force=config.force_backtest,
            held_back=held_back_markets_in(tables, ".".join(TRAINING_DATA.path)),
        )
    if decision.windows == 0:  # too little history to prove anything: the forecast is the 28-day mean's, unproven
        yield from _no_backtest(context, warehouse, decision)
        return
    if (short := decision.short_history_note()) is not None:
        context.log.warning(short)
    if decision.due:
        proof, rows, extra = run_backtest(context, config, warehouse, decision)
        note = f"backtest run on {decision.as_of} ({proof.seconds:.0f}s): {decision.reason}"
    else:
        # a failed proof reused on the same day and data says why, not when a passed one would be due
        proof, extra = decision.last, {}
        note = decision.reuse_note() if decision.last.passed else decision.reason
        with warehouse.open() as tables:  # this run's staging, like a fresh result
            rows = stage_last_backtest(tables, context.run_id)
    context.log.info(note)
    with warehouse.open() as tables:
        metrics = tables.query(f"select * from {staged('forecast_accuracy')}")
    common = {
        "as_of": str(decision.as_of),
        "proven_on": str(proof.as_of),
        "proven_days_ago": (decision.as_of - proof.as_of).days,
        "backtest": note,
        "fingerprint": proof.fingerprint,
        "windows": decision.windows,
        "reconciliation": proof.reconciliation or BOTTOM_UP,
    }
    yield dg.MaterializeResult(asset_key=BACKTEST, metadata={"dagster/row_count": rows["forecast_backtest"], **common})
    yield dg.MaterializeResult(
        asset_key=ACCURACY,
        metadata={
            "dagster/row_count": rows["forecast_accuracy"],
            **common,
            "backtest_rows": rows["forecast_backtest"],
            "active_series": decision.shape.n_series,
            **_accuracy_metadata(metrics),
            **extra,
        },
    )
