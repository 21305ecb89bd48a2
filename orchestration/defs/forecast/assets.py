"""Forecast assets: backtest accuracy first, then the published forecast.

Order matters for the gates: `forecast_accuracy` backtests the model against
its baselines and carries the blocking check "model beats the baselines";
the backtest runs on a cadence (ml/backtest_cadence.py decides, the result and
its record live in audit.backtest_* via ml/backtest_store.py), and a run that
reuses it stages the stored result like a fresh one;
`demand_forecast` depends on it, so a model that loses to a simple baseline
never publishes, and its own blocking Great Expectations check keeps a broken
forecast from the inventory plan. The backtest also chooses how the forecast
is made coherent with its totals (ml/hierarchy.py) and fits the band's
calibration per demand class (ml/calibration.py); `demand_forecast` applies
both and publishes the totals as `forecast_totals`. `demand_forecast` always forecasts from the
planning date with the newest history, but trains its boosters on a cadence
too (ml/retrain_cadence.py decides): between retrains the last saved model
predicts. `demand_forecast` is partitioned by market
(orchestration/lib/market_partitions.py): the daily run covers every market
with one model; a run over some markets trains on, and stages, theirs alone. Both read the gated training data
(marts.fct_daily_demand) and start from the run's planning date (the last day
of intermediate.int_planning_calendar: the last order day, or the run's
`as_of`).
"""

import dataclasses
import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from crossdock.engine import WarehouseLike
from crossdock.merchant_config import ForecastSettings
from crossdock.publish import stage_rows, stage_table, staged
from crossdock.published import published_table
from crossdock.settings import MARKET_MODELS_FOLDER
from crossdock.wording import listed
from ml.backtest import MODEL, NAIVE, backtest
from ml.backtest_cadence import BacktestRecord, Cadence
from ml.backtest_gate import GATE_BASELINES, GATE_METRICS, WATCHED_BASELINES, GateVerdict, gate_verdict
from ml.backtest_run import BacktestDecision, decide_backtest, proven
from ml.backtest_store import last_backtest, save_backtest, stage_last_backtest
from ml.blend import blend_forecast
from ml.calibration import calibrate_forecast
from ml.hierarchy import BOTTOM, BOTTOM_UP, MethodChoice, choose_method, reconcile
from ml.panel import build_panel
from ml.registry import save_model
from ml.retrain_cadence import forecast_or_reuse
from ml.series_selection import dropped_note, dropped_series
from ml.stopped_series import out_of_stock, stopped_note
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import PLANNING_CALENDAR, model_key, planning_date
from orchestration.lib.gate_checks import blocking_gate, gate_result, warning_check, warning_result
from orchestration.lib.market_partitions import MARKET_PARTITIONS, MarketScope, scope_of_run
from orchestration.lib.resources import WAREHOUSE_POOL, ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

TRAINING_DATA = model_key("marts", "fct_daily_demand")
MARKETS = model_key("reference", "markets")  # each market's holiday subdivision, for the calendar features
STOCK_POSITION = model_key("intermediate", "int_stock_position")  # a series out of stock is never forecast 0 as stopped
DROPPED_SHARE_WARNING = 0.1  # series leaving the forecast with a tenth of a year's units or more: a warning, not a note
ACCURACY = dg.AssetKey(["publish", "forecast_accuracy"])
BACKTEST = dg.AssetKey(["publish", "forecast_backtest"])
FORECAST = dg.AssetKey(["publish", "demand_forecast"])
TOTALS = dg.AssetKey(["publish", "forecast_totals"])
HORIZON_DAYS = 56
SEED = 7
PLOTS_FOLDER = "forecast_plots"

# both forecast assets read the gated training data and write the warehouse
FORECAST_SPEC_SETTINGS = dict(group_name="forecast", kinds={"python", "lightgbm", "duckdb"}, owners=["team:planning"])


class ForecastConfig(dg.Config):
    horizon_days: int = HORIZON_DAYS
    backtest_windows: int | None = None  # None: crossdock.yaml's forecast.backtest_windows (default 4)
    seed: int = SEED
    baseline_jobs: int = min(2, os.cpu_count() or 1)  # processes for the statsforecast baselines
    force_backtest: bool = False  # run the backtest even when the last one still holds (ml/backtest_cadence.py)
    force_retrain: bool = False  # train the forecast's model even when the last saved one still holds (ml/retrain_cadence.py)


def load_training_data(warehouse: WarehouseResource) -> tuple[pd.DataFrame, dt.date, dict[str, str | None]]:
    """The demand history, the planning date (the forecast's origin) and each market's holiday subdivision."""
    with warehouse.open() as tables:
        history = tables.query(f"select * from {'.'.join(TRAINING_DATA.path)} order by sku, market, demand_date")
        as_of = planning_date(tables)
        subdivisions = dict(tables.rows("select market_code, holiday_subdivision from reference.markets"))
    if history.empty or as_of is None:
        raise dg.Failure(description="marts.fct_daily_demand is empty: ingest some orders first (landing/orders/).")
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    return history, pd.Timestamp(as_of).date(), subdivisions


def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.round(3).to_markdown(index=False))


def _reconciled(forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SKU forecast and every level's totals, made coherent by `method` (ml/hierarchy.py); nothing to sum: as is."""
    if forecast.empty:
        levels = pd.DataFrame({c: pd.Series(dtype=object) for c in ("level", "market", "category", "sku", "forecast_date")})
        return forecast, levels.assign(horizon=pd.Series(dtype="int64"), base_mean=pd.Series(dtype=float),
                                       mean=pd.Series(dtype=float))
    coherent = reconcile(forecast, history, as_of, method)
    return coherent.forecast.drop(columns="base_mean"), coherent.levels


def _out_of_stock(warehouse: WarehouseResource, series: pd.DataFrame, panel_start: pd.Timestamp) -> pd.DataFrame:
    """The series (sku, market) out of stock at their market's fulfilment node in its latest inventory snapshot; none
    when the stock position was not built (a warehouse the dbt step has not run on: nothing known)."""
    position = ".".join(STOCK_POSITION.path)
    with warehouse.open() as tables:
        if not tables.exists(position):
            return series.iloc[:0][["sku", "market"]]
        stock = tables.query(f"select sku, node, on_hand, snapshot_date from {position} where snapshot_date is not null")
        nodes = dict(tables.rows("select market_code, fulfilment_node from reference.markets"))
    last_sales = series.assign(last_sale_date=panel_start + pd.to_timedelta(series["last_idx"], unit="D"))
    return series.loc[out_of_stock(last_sales, nodes, stock), ["sku", "market"]]


def _coherent(context: dg.AssetExecutionContext, forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date,
              last: BacktestRecord | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The forecast reconciled by the method the last backtest chose, its totals and the method used.

    A MinTrace that fails on today's data is replaced by summing up, with a
    warning: the plan is never stopped by its totals.
    """
    method = (last.reconciliation if last else None) or BOTTOM_UP
    context.log.info(f"forecast totals: {method} (chosen by the backtest of {last.as_of if last else 'none: no backtest yet'})")
    try:
        return (*_reconciled(forecast, history, as_of, method), method)
    except Exception as exc:  # noqa: BLE001 - MinTrace failing on today's data must not stop the plan
        if method == BOTTOM_UP:
            raise
        context.log.warning(f"forecast totals: {method} failed ({exc}); summed up (bottom_up) instead")
        return (*_reconciled(forecast, history, as_of, BOTTOM_UP), BOTTOM_UP)


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


def _totals_metadata(totals: pd.DataFrame, rows: int, last: BacktestRecord | None) -> dict[str, object]:
    """What the UI shows of the forecast's totals: the method, which backtest chose it, units per market."""
    per_market = totals[totals["level"] == "market"].groupby("market")["mean"].sum().round(0).reset_index()
    return {
        "dagster/row_count": rows,
        "method": str(totals["method"].iloc[0]) if len(totals) else BOTTOM_UP,
        "chosen_by_backtest_of": str(last.as_of) if last else "none (no backtest yet: bottom_up)",
        "units_by_market_over_horizon": dg.MetadataValue.md(per_market.to_markdown(index=False)),
    }


def _totals_frame(levels: pd.DataFrame, method: str, model_version: str, as_of: dt.date) -> pd.DataFrame:
    """publish.forecast_totals from `ml.hierarchy.Reconciled.levels`: the levels above the SKUs, category 'all' on markets."""
    totals = levels[levels["level"] != BOTTOM].drop(columns="sku")
    return totals.assign(
        category=totals["category"].fillna("all"), method=method, model_version=model_version, as_of=pd.Timestamp(as_of)
    )


def _stage(tables: WarehouseLike, table: str, frame: pd.DataFrame, run_id: str, scope: MarketScope) -> int:
    """Stage the run's forecast table by market: a run over every market replaces them all (and drops markets no
    longer known), a run over some replaces theirs; on Spark the table stays partitioned by market either way,
    so runs over different markets can stage side by side."""
    if not scope.every:
        return stage_rows(tables, table, frame, run_id, "market", scope.markets, known=scope.known)
    markets = tuple(sorted({*scope.markets, *frame["market"].astype(str)}))
    if not markets:  # nothing to forecast anywhere: an empty table, as before
        return stage_table(tables, table, frame, run_id)
    return stage_rows(tables, table, frame, run_id, "market", markets, known=markets)  # the others' rows go


def models_root(models: Path, scope: MarketScope) -> Path:
    """Where the run's models are saved and looked up: a run over some of the markets keeps its own, so
    per-market runs do not take each other's model for theirs (ml/retrain_cadence.py would retrain each time)."""
    return models if scope.every else models / MARKET_MODELS_FOLDER / "-".join(scope.markets)


def _nothing_to_forecast(context: dg.AssetExecutionContext, warehouse: WarehouseResource, scope: MarketScope,
                         as_of: dt.date):
    """A run over markets without demand history (new in crossdock.yaml): their staged rows are emptied, and said."""
    context.log.warning(f"{scope.describe()}: no demand history before {as_of}; nothing to forecast")
    with warehouse.open() as tables:
        rows = {name: _stage(tables, name, pd.DataFrame(columns=list(published_table(name).column_names)),
                             context.run_id, scope) for name in ("demand_forecast", "forecast_totals")}
    note = {"markets": scope.describe(), "as_of": str(as_of), "forecast": "no demand history in these markets"}
    yield dg.MaterializeResult(asset_key=TOTALS, metadata={"dagster/row_count": rows["forecast_totals"], **note})
    yield dg.MaterializeResult(asset_key=FORECAST, metadata={"dagster/row_count": rows["demand_forecast"], **note})


def _forecast_settings(merchant_config: MerchantConfigFile) -> ForecastSettings:
    """crossdock.yaml's `forecast:` section; the defaults while there is no file."""
    return merchant_config.load().forecast if merchant_config.file.is_file() else ForecastSettings()


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
        "overall": _md(overall.reset_index()[shown]),
        "weekly_wape_by_market": _md(by("market")),
        "weekly_wape_by_demand_class": _md(by("demand_class")),
        "calibration_by_demand_class": _md(
            metrics[(metrics["scope"] == "demand_class") & (metrics["model"] == MODEL)][
                ["scope_value", "n_series", "actual_units", "below_p10", "above_p90", "below_p10_calibrated",
                 "above_p90_calibrated", "mean_bias", "weekly_wape_ratio_to_naive"]
            ].rename(columns={"scope_value": "demand_class"})
        ),
        "weekly_wape_by_category": _md(by("category")),
    }


def run_backtest(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: WarehouseResource, decision: BacktestDecision
) -> tuple[BacktestRecord, dict[str, int], dict[str, object]]:
    """Run the backtest, stage and store it (ml/backtest_store.py); its record, rows staged and the windows' detail."""
    history, as_of, subdivisions = load_training_data(warehouse)
    context.log.info(f"backtesting {decision.windows} windows x {config.horizon_days} days before {as_of}: {decision.reason}")
    t0 = time.perf_counter()
    result = backtest(
        history, as_of=as_of, horizon_days=config.horizon_days, n_windows=decision.windows, seed=config.seed,
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
    return record, rows, {"windows_detail": _md(detail), "backtest_seconds": round(record.seconds, 1),
                          "reconciliation_scores": _md(choice.scores), "reconciliation_reason": choice.reason,
                          "quantile_scales": dg.MetadataValue.json(result.quantile_scales or {}),
                          "mean_weight": result.mean_weight, "zero_stopped": result.zero_stopped}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ACCURACY, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS], **FORECAST_SPEC_SETTINGS, metadata=documented_table("publish", "forecast_accuracy"),
            description="Rolling-origin backtest (4 windows of the planning horizon) of the LightGBM forecast against "
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
    settings = _forecast_settings(merchant_config)
    with warehouse.open() as tables:
        as_of = planning_date(tables)
        if as_of is None:
            raise dg.Failure(description="marts.fct_daily_demand is empty: ingest some orders first (landing/orders/).")
        decision = decide_backtest(
            tables, pd.Timestamp(as_of).date(), ".".join(TRAINING_DATA.path), horizon_days=config.horizon_days,
            windows=config.backtest_windows or settings.backtest_windows, seed=config.seed,
            cadence=_cadence(settings), force=config.force_backtest,
        )
    if decision.due:
        proof, rows, extra = run_backtest(context, config, warehouse, decision)
        note = f"backtest run on {decision.as_of} ({proof.seconds:.0f}s): {decision.reason}"
    else:
        proof, extra, note = decision.last, {}, decision.reuse_note()
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


@blocking_gate(
    asset=ACCURACY,
    name="model_beats_the_baselines",
    description=f"Fails unless the model's overall backtest beats {' and '.join(GATE_BASELINES)} on "
    f"{' and '.join(GATE_METRICS)} (the WAPE of weekly totals of the expected units per SKU x market, which a "
    "forecast of nothing cannot win on intermittent demand: it scores 1), so a bad model never publishes a "
    "forecast or reaches the plans. RMSSE and daily p50 WAPE are in the metadata, not gated. Reads the run's "
    "backtest result, fresh or reused, and names the planning date it was proven on.",
)
def model_beats_the_baselines(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    overall, proven_on = _overall_backtest(warehouse)
    verdict = gate_verdict(overall)
    return gate_result(verdict.passed, f"backtest of {proven_on}: {verdict.summary()}", _verdict_metadata(overall, proven_on, verdict))


@warning_check(
    asset=ACCURACY,
    name="model_beats_the_28_day_mean",
    description=f"Warns when the model's overall weekly WAPE is not below {', '.join(WATCHED_BASELINES)}'s (the mean "
    "of the last 28 days, every day). Not blocking yet: ml/backtest_gate.py WATCHED_BASELINES says why.",
)
def model_beats_the_28_day_mean(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    overall, proven_on = _overall_backtest(warehouse)
    verdict = gate_verdict(overall, WATCHED_BASELINES)
    return warning_result(verdict.passed, f"backtest of {proven_on}: {verdict.summary()}", _verdict_metadata(overall, proven_on, verdict))


def _overall_backtest(warehouse: WarehouseResource) -> tuple[pd.DataFrame, dt.date]:
    """The run's staged backtest, overall rows by model, and the planning date it was proven on."""
    with warehouse.open() as tables:
        overall = tables.query(f"select * from {staged('forecast_accuracy')} where scope = 'overall'").set_index("model")
    return overall, pd.Timestamp(overall["as_of"].max()).date()


def _verdict_metadata(overall: pd.DataFrame, proven_on: dt.date, verdict: GateVerdict) -> dict[str, object]:
    return {
        "proven_on": str(proven_on),
        **{f"{metric}_{model}": float(overall.loc[model, metric])
           for metric in (*GATE_METRICS, "rmsse", "wape") for model in overall.index if metric in overall.columns},
        **verdict.ratios,
    }


@dg.multi_asset(
    name="publish__demand_forecast",
    specs=[
        dg.AssetSpec(
            FORECAST, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS, ACCURACY, BACKTEST, STOCK_POSITION], **FORECAST_SPEC_SETTINGS,
            metadata=documented_table("publish", "demand_forecast"),
            description="Daily demand forecast per SKU x market for the planning horizon: p10/p50/p90 quantiles and the expected "
            "units (mean) that planning sums, from global LightGBM models; rows carry the model version, whose boosters, "
            "features, training window and backtest metrics are saved under CROSSDOCK_MODELS/<model_version>/. "
            "Always forecast from the planning date with features of the newest history; the models are trained again "
            "only every forecast.retrain_every_days (7) planning days, or when none is saved, the settings changed, a series "
            "is in a market or category the model does not know, or the run config sets force_retrain; other runs predict "
            "with the last saved model (ml/retrain_cadence.py). Days of one-off bulk orders are learned as the "
            "series' busy day (ml/bulk_orders.py), the mean is blended with the series' regular 28-day level by the "
            "weight the last backtest proved held out (ml/blend.py), a series that stopped selling is forecast 0 when that "
            "backtest proved it better (column stopped, ml/stopped_series.py), the means are reconciled with their totals "
            "(forecast_totals) and "
            "the p10-p90 band is scaled per demand class by the last backtest's calibration (ml/calibration.py). "
            "A plot per market is attached and written to CROSSDOCK_EXPORTS/forecast_plots/. Partitioned by market: "
            "the daily run covers every market in one run with one model; a run over some markets trains on and "
            "replaces only theirs (orchestration/lib/market_partitions.py).",
        ),
        dg.AssetSpec(
            TOTALS, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS, ACCURACY, BACKTEST], **FORECAST_SPEC_SETTINGS,
            metadata=documented_table("publish", "forecast_totals"),
            description="The forecast's market and category x market totals per day, coherent with the SKU forecasts "
            "(each the exact sum of the SKUs below it), for S&OP: reconciled by the method the last backtest chose "
            "(bottom-up, or MinTrace when it beat bottom-up at every total; ml/hierarchy.py).",
        ),
    ],
    pool=WAREHOUSE_POOL,
    partitions_def=MARKET_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),  # markets in one run share one model (CROSSDOCK_FORECAST_RUNS)
)
def demand_forecast(
    context: dg.AssetExecutionContext,
    config: ForecastConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactFolders,
    merchant_config: MerchantConfigFile,
):
    history, as_of, subdivisions = load_training_data(warehouse)
    scope = scope_of_run(context.instance, context.run.tags)
    if not scope.every:
        history = history[history["market"].isin(scope.markets)].reset_index(drop=True)
        if history.empty:
            yield from _nothing_to_forecast(context, warehouse, scope, as_of)
            return
    settings = _forecast_settings(merchant_config)
    context.log.info(f"forecasting {scope.describe()} {config.horizon_days} days after {as_of} from {len(history):,} history rows")
    models = models_root(Path(artifacts.models), scope)
    result, decision = forecast_or_reuse(
        history, as_of, models, config.horizon_days, config.seed, holiday_subdivisions=subdivisions,
        every_days=settings.retrain_every_days, force=config.force_retrain,
    )
    context.log.info(decision.note())
    if result.bulk.days:  # ml/bulk_orders.py: one-off orders no daily forecast can place
        context.log.warning(result.bulk.describe())
    with warehouse.open() as tables:
        last = last_backtest(tables)
    panel = build_panel(history, as_of)  # the series' level and demand class on the planning date, read once
    choice = last.mean_choice() if last else None  # ml/blend.py: the model's mean with the series' regular level
    blended, judged = blend_forecast(result.forecast, panel, choice, _out_of_stock(warehouse, panel.series, panel.start))
    stopped, short = judged[~judged["out_of_stock"].astype(bool)], judged[judged["out_of_stock"].astype(bool)]
    if len(stopped):
        context.log.warning(stopped_note(stopped))
    dropped, dropped_share = dropped_series(panel)
    if len(dropped):
        note = dropped_note(dropped, dropped_share) if scope.every else f"{scope.describe()}: {dropped_note(dropped, dropped_share)}"
        (context.log.warning if dropped_share >= DROPPED_SHARE_WARNING else context.log.info)(note)
    if len(short):
        context.log.info(f"{len(short)} series look stopped but are out of stock at their market's node: their forecast "
                         f"is kept (ml/stopped_series.py): {listed([f'{r.sku} in {r.market}' for r in short.itertuples()], 5)}")
    forecast, levels, method = _coherent(context, blended, history, as_of, last)
    scales = (last.quantile_scales if last else None) or {}  # ml/calibration.py: the band per demand class
    frame = calibrate_forecast(forecast, panel, scales).assign(
        as_of=pd.Timestamp(as_of), model_version=result.model_version,
        stopped=lambda f: pd.MultiIndex.from_frame(f[["sku", "market"]]).isin(pd.MultiIndex.from_frame(stopped[["sku", "market"]])),
    )
    totals = _totals_frame(levels, method, result.model_version, as_of)
    with warehouse.open() as tables:
        metrics = tables.query(f"select * from {staged('forecast_accuracy')}")
        last_window = tables.query(
            f'select * from {staged("forecast_backtest")} where "window" = (select min("window") from {staged("forecast_backtest")})'
        )
        rows = _stage(tables, "demand_forecast", frame, context.run_id, scope)
        total_rows = _stage(tables, "forecast_totals", totals, context.run_id, scope)
    # a reused model is already saved (with the backtest metrics it was first published with)
    model_folder = save_model(result, models, metrics) if decision.retrain else decision.last.folder
    from ml.plots import market_forecast_pngs, markdown_image, write_pngs  # matplotlib: not when the code location loads

    pngs = market_forecast_pngs(history, frame, backtest_predictions=last_window)
    files = write_pngs(pngs, Path(artifacts.exports) / PLOTS_FOLDER)
    saved = "saved to" if decision.retrain else "reused from"
    context.log.info(f"model {saved} {model_folder}; {len(files)} plots in {Path(artifacts.exports) / PLOTS_FOLDER}")
    by_market = frame.groupby("market")[["p10", "p50", "mean", "p90"]].sum().round(0).reset_index()
    yield dg.MaterializeResult(asset_key=TOTALS, metadata=_totals_metadata(totals, total_rows, last))
    yield dg.MaterializeResult(
        asset_key=FORECAST,
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "markets": scope.describe(),
            # a run over several markets records the same metadata on each market's materialization
            "rows_by_market": dg.MetadataValue.json({str(m): int(n) for m, n in frame.groupby("market").size().items()}),
            "reconciliation": method,
            "quantile_scales": dg.MetadataValue.json({k: list(v) for k, v in scales.items()}),
            "mean_weight": choice.weight if choice else 1.0,
            "stopped_series": len(stopped),
            "stopped_looking_series_out_of_stock": len(short),
            "series_no_longer_forecast": len(dropped),
            "their_share_of_last_364_days_units": round(dropped_share, 4),
            "stopped_series_forecast_zero": _md(stopped.sort_values("quiet_days").head(20)),
            "model_version": result.model_version,
            "model": decision.note(),
            "model_retrained": decision.retrain,
            "model_trained_on": str(decision.trained_on),
            "model_age_days": decision.model_age_days,
            "retrain_reason": decision.reason,
            "model_folder": dg.MetadataValue.path(str(model_folder)),
            "series": int(frame[["sku", "market"]].drop_duplicates().shape[0]),
            "horizon_days": config.horizon_days,
            "training_rows": result.training_rows,
            "training_window": dg.MetadataValue.json(result.training_window),
            "bulk_orders": result.bulk.describe(),
            "bulk_days": result.bulk.days,
            "bulk_units_left_out": round(result.bulk.units, 1),
            "features": dg.MetadataValue.json(list(result.feature_names)),
            "top_features": _md(result.feature_importance.head(12)),
            "units_by_market_over_horizon": dg.MetadataValue.md(by_market.to_markdown(index=False)),
            "plots_folder": dg.MetadataValue.path(str(Path(artifacts.exports) / PLOTS_FOLDER)),
            **{f"plot_{market}": dg.MetadataValue.md(markdown_image(png, f"{market} forecast")) for market, png in pngs.items()},
        }
    )
