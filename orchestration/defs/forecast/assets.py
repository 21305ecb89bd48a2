"""The published forecast: `demand_forecast` and its coherent totals, from the planning date with the newest history.

It depends on the backtest (backtest.py), so a model that loses to a simple
baseline that plans stock never publishes: the best baseline's forecast is
published in its place (ml/fallback_forecast.py; no model is trained) and
the plan goes on. Its own blocking Great Expectations check (checks.py)
keeps a broken forecast from the inventory plan. It applies what
the last backtest chose: the blend of the mean with the series' regular level
and the zeroing of series that stopped selling (ml/blend.py), the
reconciliation with its totals (ml/hierarchy.py, published as
`forecast_totals`) and the band's calibration per demand class
(ml/calibration.py). It always forecasts from the planning date with the
newest history, but trains its boosters on a cadence (ml/retrain_cadence.py
decides): between retrains the last saved model predicts. It is partitioned
by market (orchestration/lib/market_partitions.py): the daily run covers
every market with one model; a run over some markets trains on, and stages,
theirs alone.
"""

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from crossdock.engine import WarehouseLike
from crossdock.publish import stage_rows, stage_table, staged
from crossdock.published import published_table
from crossdock.settings import MARKET_MODELS_FOLDER
from crossdock.wording import listed
from ml.backtest_cadence import BacktestRecord
from ml.backtest_store import last_backtest
from ml.backtest_gate import gate_verdict
from ml.blend import MODEL_ALONE, MeanChoice, blend_forecast
from ml.calibration import calibrate_forecast
from ml.fallback_forecast import KEPT_MODEL, FallbackChoice, choose_fallback, fallback_forecast, fallback_version
from ml.hierarchy import BOTTOM, BOTTOM_UP, reconcile
from ml.panel import Panel, build_panel
from ml.registry import save_model
from ml.retrain_cadence import forecast_or_reuse
from ml.season_ahead import season_ahead
from ml.season_lift import SeasonLift, lift_forecast, season_lift
from ml.series_selection import DROPPED_SHARE_WARNING, dropped_note, dropped_series
from ml.stopped_series import out_of_stock, stopped_note
from orchestration.defs.forecast.inputs import (
    ACCURACY, BACKTEST, FORECAST, FORECAST_SPEC_SETTINGS, MARKETS, TOTALS, TRAINING_DATA, ForecastConfig,
    last_fallback, load_training_data, md_table, staged_overall_backtest,
)
from orchestration.lib.column_schemas import documented_table
from orchestration.lib.dbt_models import PLANNING_CALENDAR, model_key
from orchestration.lib.held_back import without_held_back
from orchestration.lib.market_partitions import MARKET_PARTITIONS, MarketScope, scope_of_run
from orchestration.lib.resources import WAREHOUSE_POOL, ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

STOCK_POSITION = model_key("intermediate", "int_stock_position")  # a series out of stock is never forecast 0 as stopped
PLOTS_FOLDER = "forecast_plots"


def _reconciled(forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, method: str,
                summed_up: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The SKU forecast and every level's totals, made coherent by `method` (ml/hierarchy.py), the markets in
    `summed_up` bottom-up; nothing to sum: as is."""
    if forecast.empty:
        levels = pd.DataFrame({c: pd.Series(dtype=object) for c in ("level", "market", "category", "sku", "forecast_date")})
        return forecast, levels.assign(horizon=pd.Series(dtype="int64"), base_mean=pd.Series(dtype=float),
                                       mean=pd.Series(dtype=float), method=pd.Series(dtype=object))
    coherent = reconcile(forecast, history, as_of, method, summed_up_markets=summed_up)
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


def _season(context: dg.AssetExecutionContext, history: pd.DataFrame, as_of: dt.date, horizon_days: int,
            method: str, choice: MeanChoice | None, window_origins: Sequence[dt.date]) -> list[str]:
    """The markets whose weeks ahead hold a season none of the backtest's windows (`window_origins`) held
    (ml/season_ahead.py): what the backtest proved there, the blend with the 28-day level (`choice`) and MinTrace
    (`method`), is set aside. Judged only when the backtest chose either."""
    if method == BOTTOM_UP and (choice is None or choice.weight == MODEL_ALONE):
        return []
    try:
        season = season_ahead(history, as_of, horizon_days, window_origins)
    except Exception as exc:  # noqa: BLE001 - a check that fails must not stop the plan: what was proven stands
        context.log.warning(f"the season ahead could not be judged ({exc}); the backtest's choices stand")
        return []
    if season.unscored:
        context.log.warning(
            f"a season ahead no backtest window scored in {', '.join(season.unscored)} ({season.describe()}; "
            f"ml/season_ahead.py): their forecast is the model's mean alone, not blended with the 28-day level, "
            f"and their totals are summed up (bottom_up)"
        )
    return season.unscored


def _lifted(context: dg.AssetExecutionContext, forecast: pd.DataFrame, levels: pd.DataFrame, history: pd.DataFrame,
            as_of: dt.date, horizon_days: int, window_origins: Sequence[dt.date],
            max_lift: float) -> tuple[pd.DataFrame, pd.DataFrame, SeasonLift | None]:
    """The forecast and its totals with each category lifted to last year's season where no backtest window held
    one like it (ml/season_lift.py), judged on `history` of every market, whichever a run forecasts; a lift that
    fails leaves them as they were, with a warning."""
    try:
        lift = season_lift(forecast, history, as_of, horizon_days, window_origins, max_lift)
        lifted, lifted_levels = lift_forecast(forecast, levels, lift)
    except Exception as exc:  # noqa: BLE001 - a lift that fails must not stop the plan: the forecast stands
        context.log.warning(f"the season lift could not be judged ({exc}); the forecast stands as the backtest chose it")
        return forecast, levels, None
    if lift.lifts:
        context.log.warning(
            f"a season ahead no backtest window scored in {', '.join(sorted(lift.lifts))}, which the forecast fell "
            f"short of: lifted to last year's ({lift.describe()}; ml/season_lift.py, forecast.season_lift_max)"
        )
    return lifted, lifted_levels, lift


def _lifted_metadata(lift: SeasonLift | None) -> dg.MetadataValue:
    """The UI's season_lifted_categories: category -> factor and markets, empty when nothing was lifted or the lift
    failed."""
    return dg.MetadataValue.json(lift.metadata() if lift else {})


def _coherent(context: dg.AssetExecutionContext, forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date,
              method: str, last: BacktestRecord | None, summed_up: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The forecast reconciled by `method`, the one the last backtest chose, its totals and the method used.

    The markets in `summed_up` (`_season`) are summed up whatever the
    method, and a MinTrace that fails on today's data is replaced by summing
    up, with a warning: the plan is never stopped by its totals.
    """
    context.log.info(f"forecast totals: {method} (chosen by the backtest of {last.as_of if last else 'none: no backtest yet'})")
    try:
        return (*_reconciled(forecast, history, as_of, method, summed_up), method)
    except Exception as exc:  # noqa: BLE001 - MinTrace failing on today's data must not stop the plan
        if method == BOTTOM_UP:
            raise
        context.log.warning(f"forecast totals: {method} failed ({exc}); summed up (bottom_up) instead")
        return (*_reconciled(forecast, history, as_of, BOTTOM_UP), BOTTOM_UP)


def _totals_metadata(totals: pd.DataFrame, rows: int, last: BacktestRecord | None) -> dict[str, object]:
    """What the UI shows of the forecast's totals: the method, which backtest chose it, units per market."""
    markets = totals[totals["level"] == "market"]
    per_market = markets.groupby(["market", "method"])["mean"].sum().round(0).reset_index()
    return {
        "dagster/row_count": rows,
        "method": ", ".join(sorted(markets["method"].astype(str).unique())) or BOTTOM_UP,
        "chosen_by_backtest_of": str(last.as_of) if last else "none (no backtest yet: bottom_up)",
        "units_by_market_over_horizon": dg.MetadataValue.md(per_market.to_markdown(index=False)),
    }


def _totals_frame(levels: pd.DataFrame, model_version: str, as_of: dt.date) -> pd.DataFrame:
    """publish.forecast_totals from `ml.hierarchy.Reconciled.levels`: the levels above the SKUs, category 'all' on
    markets, each row with the method its market was reconciled by."""
    totals = levels[levels["level"] != BOTTOM].drop(columns="sku")
    return totals.assign(category=totals["category"].fillna("all"), model_version=model_version, as_of=pd.Timestamp(as_of))


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
                         as_of: dt.date, held_back: list[str]):
    """A run over markets without demand history (new in crossdock.yaml), or only markets the training-data gate
    held back: their staged rows are emptied, and said."""
    why = (f"held back by the training-data gate ({', '.join(held_back)})" if set(scope.markets) <= set(held_back)
           else f"no demand history before {as_of}")
    context.log.warning(f"{scope.describe()}: {why}; nothing to forecast")
    with warehouse.open() as tables:
        rows = {name: _stage(tables, name, published_table(name).empty(),
                             context.run_id, scope) for name in ("demand_forecast", "forecast_totals")}
    note = {"markets": scope.describe(), "as_of": str(as_of), "forecast": f"nothing to forecast: {why}"}
    yield dg.MaterializeResult(asset_key=TOTALS, metadata={"dagster/row_count": rows["forecast_totals"], **note})
    yield dg.MaterializeResult(asset_key=FORECAST, metadata={"dagster/row_count": rows["demand_forecast"], **note})


def _pictured(history: pd.DataFrame, frame: pd.DataFrame, artifacts: ArtifactFolders,
              backtest_predictions: pd.DataFrame | None = None) -> tuple[int, dict[str, object]]:
    """Write a plot per market of the staged forecast `frame`; how many, and what the UI shows of it: rows and units
    by market, the plots folder and each plot (a run over several markets records it on each market's event)."""
    from ml.plots import market_forecast_pngs, markdown_image, write_pngs  # matplotlib: not when the code location loads

    folder = Path(artifacts.exports) / PLOTS_FOLDER
    pngs = market_forecast_pngs(history, frame, backtest_predictions=backtest_predictions)
    files = write_pngs(pngs, folder)
    by_market = frame.groupby("market")[["p10", "p50", "mean", "p90"]].sum().round(0).reset_index()
    return len(files), {
        "rows_by_market": dg.MetadataValue.json({str(m): int(n) for m, n in frame.groupby("market").size().items()}),
        "units_by_market_over_horizon": dg.MetadataValue.md(by_market.to_markdown(index=False)),
        "plots_folder": dg.MetadataValue.path(str(folder)),
        **{f"plot_{market}": dg.MetadataValue.md(markdown_image(png, f"{market} forecast")) for market, png in pngs.items()},
    }


def _say_dropped(context: dg.AssetExecutionContext, panel: Panel, scope: MarketScope) -> tuple[pd.DataFrame, float]:
    """The series that left the forecast and their share of the year's units (ml/series_selection.py), said: as a
    warning from a tenth of those units."""
    dropped, share = dropped_series(panel)
    if len(dropped):
        note = dropped_note(dropped, share) if scope.every else f"{scope.describe()}: {dropped_note(dropped, share)}"
        (context.log.warning if share >= DROPPED_SHARE_WARNING else context.log.info)(note)
    return dropped, share


def _lost_the_backtest(warehouse: WarehouseResource) -> tuple[pd.DataFrame, str] | None:
    """The staged backtest's overall rows and the gate's verdict when the model lost to a baseline; else None.

    The same reading as the check model_beats_the_baselines (checks.py), from the same staged table.
    """
    overall = staged_overall_backtest(warehouse)
    if overall.empty:
        return overall, "no backtest: too little history for one window"
    verdict = gate_verdict(overall)
    return None if verdict.passed else (overall, verdict.summary())


def _fallback(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: WarehouseResource,
              artifacts: ArtifactFolders, scope: MarketScope, history: pd.DataFrame, as_of: dt.date,
              choice: FallbackChoice, verdict: str, overall_empty: bool, held_back: list[str], max_lift: float,
              every_market: pd.DataFrame):
    """Stage the best baseline's forecast in the model's place (ml/fallback_forecast.py), summed up to its totals and
    lifted, as the model's would be, where a category's season ahead is one no backtest window held: a baseline is
    flat before a peak whichever is chosen."""
    why = "no backtest could prove the model" if overall_empty else "the model lost its backtest"
    context.log.warning(f"{why} (check model_beats_the_baselines); the plan goes on with {choice.describe()}")
    with warehouse.open() as tables:
        backtest_rows = tables.query(f"select * from {staged('forecast_backtest')}")
    made = fallback_forecast(history, as_of, config.horizon_days, choice.baseline, backtest_rows, config.baseline_jobs)
    if made.bulk.days:  # ml/bulk_orders.py: one-off orders no daily forecast can place
        context.log.warning(made.bulk.describe())
    dropped, dropped_share = _say_dropped(context, made.panel, scope)
    version = fallback_version(choice.baseline, as_of)
    forecast, levels = _reconciled(made.forecast, history, as_of, BOTTOM_UP)
    origins = sorted(backtest_rows["origin"].dropna().unique()) if "origin" in backtest_rows.columns else []
    forecast, levels, lift = _lifted(context, forecast, levels, every_market, as_of, config.horizon_days, origins,
                                     max_lift)
    frame = forecast.assign(as_of=pd.Timestamp(as_of), model_version=version)
    totals = _totals_frame(levels, version, as_of)
    with warehouse.open() as tables:
        rows = _stage(tables, "demand_forecast", frame, context.run_id, scope)
        total_rows = _stage(tables, "forecast_totals", totals, context.run_id, scope)
    _, pictured = _pictured(history, frame, artifacts)
    yield dg.MaterializeResult(asset_key=TOTALS, metadata={
        **_totals_metadata(totals, total_rows, None), "chosen_by_backtest_of": "none: a baseline's forecast is summed up"})
    yield dg.MaterializeResult(asset_key=FORECAST, metadata={
        "dagster/row_count": rows,
        "as_of": str(as_of),
        "markets": scope.describe(),
        "held_back_markets": dg.MetadataValue.json(held_back),
        "model_version": version,
        "fallback": choice.describe(),
        "model_lost": verdict,
        "fallback_baseline": choice.baseline,
        "season_lifted_categories": _lifted_metadata(lift),
        "series_no_longer_forecast": len(dropped),
        "their_share_of_last_364_days_units": round(dropped_share, 4),
        "quantile_scales": dg.MetadataValue.json({k: list(v) for k, v in made.scales.items()}),
        "series": int(frame[["sku", "market"]].drop_duplicates().shape[0]),
        "horizon_days": config.horizon_days,
        **pictured,
    })


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
            "(forecast_totals; in a market whose weeks ahead hold a season no backtest window held, the mean is the "
            "model's alone and summed up: ml/season_ahead.py, metadata season_unscored_markets), a category whose "
            "weeks ahead hold a season no backtest window held, and which the forecast falls short of, is lifted to "
            "last year's season (ml/season_lift.py, metadata season_lifted_categories) and "
            "the p10-p90 band is scaled per demand class by the last backtest's calibration (ml/calibration.py). "
            "A plot per market is attached and written to CROSSDOCK_EXPORTS/forecast_plots/. When the model lost its "
            "backtest (check model_beats_the_baselines), the forecast is the best baseline's instead, with a count's "
            "band calibrated per demand class, model_version baseline-<name>-<as_of> and no model trained "
            "(ml/fallback_forecast.py; the last plan's baseline is kept while it ties the best). Markets the "
            "training-data gate held back (their own feed stopped or broke) are not forecast "
            "(orchestration/lib/held_back.py). Partitioned by market: "
            "the daily run covers every market in one run with one model; a run over some markets trains on and "
            "replaces only theirs (orchestration/lib/market_partitions.py).",
        ),
        dg.AssetSpec(
            TOTALS, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS, ACCURACY, BACKTEST], **FORECAST_SPEC_SETTINGS,
            metadata=documented_table("publish", "forecast_totals"),
            description="The forecast's market and category x market totals per day, coherent with the SKU forecasts "
            "(each the exact sum of the SKUs below it), for S&OP: reconciled by the method the last backtest chose "
            "(bottom-up, or MinTrace when it beat bottom-up at every total; ml/hierarchy.py), bottom-up in a market "
            "whose weeks ahead hold a season no backtest window held (ml/season_ahead.py).",
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
    with warehouse.open() as tables:
        history, held_back = without_held_back(tables, history)
    if held_back:  # the training-data gate's warning names why
        context.log.warning(f"held back by the training-data gate, not forecast in this run: {', '.join(held_back)}")
    scope = scope_of_run(context.instance, context.run.tags)
    every_market = history  # the season lift judges a category over every market, whichever this run forecasts
    if not scope.every:
        history = history[history["market"].isin(scope.markets)].reset_index(drop=True)
        if history.empty:
            yield from _nothing_to_forecast(context, warehouse, scope, as_of, held_back)
            return
    settings = merchant_config.forecast()
    lost = _lost_the_backtest(warehouse)
    if lost is not None:  # a model worse than a baseline that plans stock never reaches the plans; that baseline does
        overall, verdict = lost
        choice = choose_fallback(overall, last=last_fallback(warehouse, None if scope.every else scope.markets))
        if choice is not None:
            yield from _fallback(context, config, warehouse, artifacts, scope, history, as_of, choice, verdict,
                                 overall.empty, held_back, settings.season_lift_max, every_market)
            return
        context.log.warning(f"the model lost its backtest (check model_beats_the_baselines); {KEPT_MODEL}")
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
        origins = [row[0] for row in tables.rows(f"select distinct origin from {staged('forecast_backtest')}")]
    panel = build_panel(history, as_of)  # the series' level and demand class on the planning date, read once
    choice = last.mean_choice() if last else None  # ml/blend.py: the model's mean with the series' regular level
    method = (last.reconciliation if last else None) or BOTTOM_UP  # ml/hierarchy.py: how the totals are made
    unscored = _season(context, history, as_of, config.horizon_days, method, choice, origins)
    blended, judged = blend_forecast(result.forecast, panel, choice, _out_of_stock(warehouse, panel.series, panel.start),
                                     model_alone_markets=unscored)
    stopped, short = judged[~judged["out_of_stock"].astype(bool)], judged[judged["out_of_stock"].astype(bool)]
    if len(stopped):
        context.log.warning(stopped_note(stopped))
    dropped, dropped_share = _say_dropped(context, panel, scope)
    if len(short):
        context.log.info(f"{len(short)} series look stopped but are out of stock at their market's node: their forecast "
                         f"is kept (ml/stopped_series.py): {listed([f'{r.sku} in {r.market}' for r in short.itertuples()], 5)}")
    forecast, levels, method = _coherent(context, blended, history, as_of, method, last, unscored)
    forecast, levels, lift = _lifted(context, forecast, levels, every_market, as_of, config.horizon_days, origins,
                                     settings.season_lift_max)
    scales = (last.quantile_scales if last else None) or {}  # ml/calibration.py: the band per demand class
    frame = calibrate_forecast(forecast, panel, scales).assign(
        as_of=pd.Timestamp(as_of), model_version=result.model_version,
        stopped=lambda f: pd.MultiIndex.from_frame(f[["sku", "market"]]).isin(pd.MultiIndex.from_frame(stopped[["sku", "market"]])),
    )
    totals = _totals_frame(levels, result.model_version, as_of)
    with warehouse.open() as tables:
        metrics = tables.query(f"select * from {staged('forecast_accuracy')}")
        last_window = tables.query(
            f'select * from {staged("forecast_backtest")} where "window" = (select min("window") from {staged("forecast_backtest")})'
        )
        rows = _stage(tables, "demand_forecast", frame, context.run_id, scope)
        total_rows = _stage(tables, "forecast_totals", totals, context.run_id, scope)
    # a reused model is already saved (with the backtest metrics it was first published with)
    model_folder = save_model(result, models, metrics) if decision.retrain else decision.last.folder
    plots, pictured = _pictured(history, frame, artifacts, backtest_predictions=last_window)
    saved = "saved to" if decision.retrain else "reused from"
    context.log.info(f"model {saved} {model_folder}; {plots} plots in {Path(artifacts.exports) / PLOTS_FOLDER}")
    yield dg.MaterializeResult(asset_key=TOTALS, metadata=_totals_metadata(totals, total_rows, last))
    yield dg.MaterializeResult(
        asset_key=FORECAST,
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "markets": scope.describe(),
            "held_back_markets": dg.MetadataValue.json(held_back),
            "reconciliation": method if not unscored or method == BOTTOM_UP else f"{method}; bottom_up in {', '.join(unscored)}",
            "season_unscored_markets": dg.MetadataValue.json(unscored),
            "season_lifted_categories": _lifted_metadata(lift),
            "quantile_scales": dg.MetadataValue.json({k: list(v) for k, v in scales.items()}),
            "mean_weight": choice.weight if choice else 1.0,
            "stopped_series": len(stopped),
            "stopped_looking_series_out_of_stock": len(short),
            "series_no_longer_forecast": len(dropped),
            "their_share_of_last_364_days_units": round(dropped_share, 4),
            "stopped_series_forecast_zero": md_table(stopped.sort_values("quiet_days").head(20)),
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
            "top_features": md_table(result.feature_importance.head(12)),
            **pictured,
        }
    )
