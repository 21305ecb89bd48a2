"""Forecast assets: backtest accuracy first, then the published forecast.

Order matters for the gates: `forecast_accuracy` backtests the model against
its baselines and carries the blocking check "model beats seasonal naive";
`demand_forecast` depends on it, so a model that loses to the naive forecast
never publishes, and its own blocking Great Expectations check keeps a broken
forecast from the inventory plan. Both read the gated training data
(marts.fct_daily_demand) and start from the run's planning date (the last day
of intermediate.int_planning_calendar: the last order day, or the run's
`as_of`).
"""

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from crossdock.publish import stage_table, staged
from crossdock.warehouse import read_sql
from ml.backtest import DEFAULT_WINDOWS, MODEL, NAIVE, backtest
from ml.forecast import forecast_demand
from ml.plots import market_forecast_pngs, markdown_image, write_pngs
from ml.registry import save_model
from orchestration.assets.dbt import PLANNING_CALENDAR, model_key, planning_date
from orchestration.column_schemas import documented_table
from orchestration.resources import WAREHOUSE_POOL, ArtifactFolders

TRAINING_DATA = model_key("marts", "fct_daily_demand")
MARKETS = model_key("reference", "markets")  # each market's holiday subdivision, for the calendar features
ACCURACY = dg.AssetKey(["publish", "forecast_accuracy"])
BACKTEST = dg.AssetKey(["publish", "forecast_backtest"])
FORECAST = dg.AssetKey(["publish", "demand_forecast"])
HORIZON_DAYS = 56
SEED = 7
PLOTS_FOLDER = "forecast_plots"

# both forecast assets read the gated training data and write the warehouse
FORECAST_SPEC_SETTINGS = dict(group_name="forecast", kinds={"python", "lightgbm", "duckdb"}, owners=["team:planning"])


class ForecastConfig(dg.Config):
    horizon_days: int = HORIZON_DAYS
    backtest_windows: int = DEFAULT_WINDOWS
    seed: int = SEED
    baseline_jobs: int = min(2, os.cpu_count() or 1)  # processes for the statsforecast baselines


def load_training_data(warehouse: DuckDBResource) -> tuple[pd.DataFrame, dt.date, dict[str, str | None]]:
    """The demand history, the planning date (the forecast's origin) and each market's holiday subdivision."""
    with warehouse.get_connection() as conn:
        history = read_sql(conn, f"select * from {'.'.join(TRAINING_DATA.path)} order by sku, market, demand_date")
        as_of = planning_date(conn)
        subdivisions = dict(conn.execute("select market_code, holiday_subdivision from reference.markets").fetchall())
    if history.empty or as_of is None:
        raise dg.Failure(description="marts.fct_daily_demand is empty: ingest some orders first (landing/orders/).")
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    return history, pd.Timestamp(as_of).date(), subdivisions


def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.round(3).to_markdown(index=False))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ACCURACY, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS], **FORECAST_SPEC_SETTINGS, metadata=documented_table("publish", "forecast_accuracy"),
            description="Rolling-origin backtest (4 windows of the planning horizon) of the LightGBM forecast against "
            "seasonal naive (7), AutoETS and CrostonOptimized on the same series and days: WAPE, bias, MASE, pinball loss "
            "per quantile and p10-p90 coverage, overall and per market and category.",
        ),
        dg.AssetSpec(
            BACKTEST, deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS], **FORECAST_SPEC_SETTINGS, metadata=documented_table("publish", "forecast_backtest"),
            description="The backtest day by day: per SKU x market x window x day, what sold and what LightGBM "
            "(p10/p50/p90/mean) and each baseline forecast from the window's origin. Feeds forecast-vs-actual charts.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def forecast_accuracy(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBResource):
    history, as_of, subdivisions = load_training_data(warehouse)
    context.log.info(f"backtesting {config.backtest_windows} windows x {config.horizon_days} days before {as_of}")
    result = backtest(
        history, as_of=as_of, horizon_days=config.horizon_days, n_windows=config.backtest_windows, seed=config.seed,
        baseline_jobs=config.baseline_jobs, holiday_subdivisions=subdivisions,
    )
    metrics = result.metrics.assign(as_of=pd.Timestamp(as_of))
    predictions = result.predictions.assign(as_of=pd.Timestamp(as_of))
    with warehouse.get_connection() as conn:
        rows = stage_table(conn, "forecast_accuracy", metrics, context.run_id)
        backtest_rows = stage_table(conn, "forecast_backtest", predictions, context.run_id)
    overall = result.overall()
    context.log.info(
        "backtest WAPE: " + ", ".join(f"{m} {overall.loc[m, 'wape']:.3f}" for m in overall.index)
    )
    shown = ["model", "wape", "wape_ratio_to_naive", "bias", "mase", "coverage_p10_p90", "pinball_p10", "pinball_p50", "pinball_p90"]
    by_market = metrics[metrics["scope"] == "market"].pivot(index="scope_value", columns="model", values="wape").reset_index()
    by_category = metrics[metrics["scope"] == "category"].pivot(index="scope_value", columns="model", values="wape").reset_index()
    yield dg.MaterializeResult(
        asset_key=BACKTEST,
        metadata={"dagster/row_count": backtest_rows, "as_of": str(as_of), "windows": config.backtest_windows},
    )
    yield dg.MaterializeResult(
        asset_key=ACCURACY,
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "windows": config.backtest_windows,
            "backtest_rows": backtest_rows,
            **{f"wape_{m}": float(overall.loc[m, "wape"]) for m in overall.index},
            "wape_ratio_to_naive": float(overall.loc[MODEL, "wape_ratio_to_naive"]),
            "coverage_p10_p90": float(overall.loc[MODEL, "coverage_p10_p90"]),
            "overall": _md(overall.reset_index()[shown]),
            "wape_by_market": _md(by_market),
            "wape_by_category": _md(by_category),
            "windows_detail": _md(result.windows.assign(origin=result.windows["origin"].dt.date.astype(str))[
                ["window", "origin", "n_series", "training_rows", "model_version"]
                + [c for c in result.windows.columns if c.startswith("seconds_")]
            ]),
        }
    )


@dg.asset_check(
    asset=ACCURACY,
    name="model_beats_seasonal_naive",
    blocking=True,
    pool=WAREHOUSE_POOL,  # it opens the warehouse: queue with the writers
    description="Fails when the model's overall backtest WAPE is worse than the seasonal-naive (7) baseline's, "
    "so a bad model never publishes a forecast or reaches the plans.",
)
def model_beats_seasonal_naive(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        overall = read_sql(conn, f"select * from {staged('forecast_accuracy')} where scope = 'overall'").set_index("model")
    model, naive = float(overall.loc[MODEL, "wape"]), float(overall.loc[NAIVE, "wape"])
    others = {m: float(overall.loc[m, "wape"]) for m in overall.index if m not in (MODEL, NAIVE)}
    verdict = "beats" if model <= naive else "is worse than"
    return dg.AssetCheckResult(
        passed=bool(model <= naive),
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"backtest WAPE {model:.3f} {verdict} seasonal naive {naive:.3f} (ratio {model / naive:.2f})",
        metadata={
            "wape_model": model,
            "wape_seasonal_naive": naive,
            "ratio_to_naive": model / naive,
            **{f"ratio_to_{m}": model / w for m, w in others.items() if w},
        },
    )


@dg.asset(
    key=FORECAST,
    deps=[TRAINING_DATA, PLANNING_CALENDAR, MARKETS, ACCURACY, BACKTEST],
    **FORECAST_SPEC_SETTINGS,
    pool=WAREHOUSE_POOL,
    metadata=documented_table("publish", "demand_forecast"),
    description="Daily demand forecast per SKU x market for the planning horizon: p10/p50/p90 quantiles and the expected "
    "units (mean) that planning sums, from global LightGBM models; rows carry the model version, whose boosters, "
    "features, training window and backtest metrics are saved under CROSSDOCK_MODELS/<model_version>/. "
    "A plot per market is attached and written to CROSSDOCK_EXPORTS/forecast_plots/.",
)
def demand_forecast(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBResource, artifacts: ArtifactFolders
) -> dg.MaterializeResult:
    history, as_of, subdivisions = load_training_data(warehouse)
    context.log.info(f"forecasting {config.horizon_days} days after {as_of} from {len(history):,} history rows")
    result = forecast_demand(
        history, as_of=as_of, horizon_days=config.horizon_days, seed=config.seed, holiday_subdivisions=subdivisions
    )
    frame = result.forecast.assign(as_of=pd.Timestamp(as_of), model_version=result.model_version)
    with warehouse.get_connection() as conn:
        metrics = read_sql(conn, f"select * from {staged('forecast_accuracy')}")
        last_window = read_sql(
            conn, f'select * from {staged("forecast_backtest")} where "window" = (select min("window") from {staged("forecast_backtest")})'
        )
        rows = stage_table(conn, "demand_forecast", frame, context.run_id)
    model_folder = save_model(result, Path(artifacts.models), metrics)
    pngs = market_forecast_pngs(history, frame, backtest_predictions=last_window)
    files = write_pngs(pngs, Path(artifacts.exports) / PLOTS_FOLDER)
    context.log.info(f"model saved to {model_folder}; {len(files)} plots in {Path(artifacts.exports) / PLOTS_FOLDER}")
    by_market = frame.groupby("market")[["p10", "p50", "mean", "p90"]].sum().round(0).reset_index()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "model_version": result.model_version,
            "model_folder": dg.MetadataValue.path(str(model_folder)),
            "series": int(frame[["sku", "market"]].drop_duplicates().shape[0]),
            "horizon_days": config.horizon_days,
            "training_rows": result.training_rows,
            "training_window": dg.MetadataValue.json(result.training_window),
            "features": dg.MetadataValue.json(list(result.feature_names)),
            "top_features": _md(result.feature_importance.head(12)),
            "units_by_market_over_horizon": dg.MetadataValue.md(by_market.to_markdown(index=False)),
            "plots_folder": dg.MetadataValue.path(str(Path(artifacts.exports) / PLOTS_FOLDER)),
            **{f"plot_{market}": dg.MetadataValue.md(markdown_image(png, f"{market} forecast")) for market, png in pngs.items()},
        }
    )
