"""Forecast assets: the published demand forecast and its backtest accuracy.

Both read the gated training data (marts.fct_daily_demand); the blocking
quality gate on that table stops them in the run where it fails.
"""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from crossdock.warehouse import read_sql, replace_table
from ml.backtest import backtest
from ml.forecast import forecast_demand
from orchestration.assets.dbt import model_key
from orchestration.resources import WAREHOUSE_POOL

TRAINING_DATA = model_key("marts", "fct_daily_demand")
HORIZON_DAYS = 56
BACKTEST_WINDOWS = 3
SEED = 7


# both forecast assets read the gated training data and write the warehouse
FORECAST_ASSET_SETTINGS = dict(
    deps=[TRAINING_DATA],
    group_name="forecast",
    kinds={"python", "lightgbm", "duckdb"},
    owners=["team:planning"],
    pool=WAREHOUSE_POOL,
)


class ForecastConfig(dg.Config):
    horizon_days: int = HORIZON_DAYS
    backtest_windows: int = BACKTEST_WINDOWS
    seed: int = SEED


def load_training_data(warehouse: DuckDBResource) -> pd.DataFrame:
    with warehouse.get_connection() as conn:
        history = read_sql(conn, f"select * from {'.'.join(TRAINING_DATA.path)} order by sku, market, demand_date")
    if history.empty:
        raise dg.Failure(description="marts.fct_daily_demand is empty: ingest some orders first (landing/orders/).")
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    return history


@dg.asset(
    key=["publish", "demand_forecast"],
    **FORECAST_ASSET_SETTINGS,
    description="Daily demand forecast per SKU x market for the planning horizon: p10/p50/p90 quantiles and the expected units (mean) that planning sums, from global LightGBM models; rows carry the model version.",
)
def demand_forecast(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    history = load_training_data(warehouse)
    as_of = history["demand_date"].max().date()
    context.log.info(f"forecasting {config.horizon_days} days after {as_of} from {len(history):,} history rows")
    result = forecast_demand(history, as_of=as_of, horizon_days=config.horizon_days, seed=config.seed)
    frame = result.forecast.assign(as_of=pd.Timestamp(as_of), model_version=result.model_version)
    with warehouse.get_connection() as conn:
        rows = replace_table(conn, "publish.demand_forecast", frame)
    by_market = frame.groupby("market")[["p10", "p50", "mean", "p90"]].sum().round(0).reset_index()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "model_version": result.model_version,
            "series": int(frame[["sku", "market"]].drop_duplicates().shape[0]),
            "horizon_days": config.horizon_days,
            "training_rows": result.training_rows,
            "features": dg.MetadataValue.json(list(result.feature_names)),
            "units_by_market_over_horizon": dg.MetadataValue.md(by_market.to_markdown(index=False)),
        }
    )


@dg.asset(
    key=["publish", "forecast_accuracy"],
    **FORECAST_ASSET_SETTINGS,
    description="Rolling-origin backtest of the forecast against the seasonal-naive baseline: WAPE, bias, MASE and p10-p90 coverage, overall and per market and category.",
)
def forecast_accuracy(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    history = load_training_data(warehouse)
    as_of = history["demand_date"].max().date()
    result = backtest(history, as_of=as_of, horizon_days=config.horizon_days, n_windows=config.backtest_windows, seed=config.seed)
    metrics = result.metrics.assign(as_of=pd.Timestamp(as_of))
    with warehouse.get_connection() as conn:
        rows = replace_table(conn, "publish.forecast_accuracy", metrics)
    overall = metrics[metrics["scope"] == "overall"].set_index("model")
    model_wape = float(overall.loc["lightgbm", "wape"])
    naive_wape = float(overall.loc["seasonal_naive_7", "wape"])
    context.log.info(f"backtest WAPE: lightgbm {model_wape:.3f} vs seasonal naive {naive_wape:.3f}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "wape_lightgbm": model_wape,
            "wape_seasonal_naive": naive_wape,
            "wape_ratio_to_naive": model_wape / naive_wape if naive_wape else float("nan"),
            "bias_lightgbm": float(overall.loc["lightgbm", "bias"]),
            "coverage_p10_p90": float(overall.loc["lightgbm", "coverage_p10_p90"]),
            "metrics": dg.MetadataValue.md(metrics.drop(columns=["as_of"]).round(3).to_markdown(index=False)),
        }
    )
