"""The quality gates: Great Expectations on the forecast's training data and on the forecast itself.

Blocking: when the training-data gate fails, the forecast assets downstream
of marts.fct_daily_demand are not materialized in that run, so bad data never
reaches the plans; when the forecast gate fails, the inventory plan is not.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from crossdock.warehouse import read_sql
from expectations.forecast_gate import validate_forecast
from expectations.gate import GateResult, validate_training_data
from ml.forecast import active_series
from orchestration.assets.forecast import FORECAST, TRAINING_DATA
from orchestration.resources import WAREHOUSE_POOL


def _check_result(result: GateResult) -> dg.AssetCheckResult:
    """A failed gate is an ERROR: with blocking=True it stops everything downstream in the run."""
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.message,
        metadata={
            "message": result.message,
            "failures": dg.MetadataValue.json(result.failures),
            "statistics": dg.MetadataValue.json({k: str(v) for k, v in result.statistics.items()}),
        },
    )


@dg.asset_check(
    asset=TRAINING_DATA,
    name="training_data_quality_gate",
    blocking=True,
    pool=WAREHOUSE_POOL,  # it opens the warehouse: queue with the writers
    description="Great Expectations suites on the forecast training data: types and ranges per row, "
    "every configured market selling every day, returns never above sales. Blocks the forecast on failure.",
)
def training_data_quality_gate(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        training = read_sql(conn, "select * from marts.fct_daily_demand")
        markets = [r for (r,) in conn.execute("select market_code from reference.markets order by 1").fetchall()]
    return _check_result(validate_training_data(training, expected_markets=markets))


@dg.asset_check(
    asset=FORECAST,
    name="forecast_quality_gate",
    blocking=True,
    pool=WAREHOUSE_POOL,  # it opens the warehouse: queue with the writers
    description="Great Expectations suites on the published forecast: non-negative, p10 <= p50 <= p90, one model "
    "version, every active SKU x market present with every day of the horizon. Blocks the inventory plan on failure.",
)
def forecast_quality_gate(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        forecast = read_sql(conn, "select * from publish.demand_forecast")
        history = read_sql(conn, "select sku, market, category, demand_date, units_sold from marts.fct_daily_demand")
    as_of = forecast["as_of"].max() if not forecast.empty else history["demand_date"].max()
    expected = active_series(history, as_of)
    horizon = int(forecast["horizon"].max()) if not forecast.empty else 0
    return _check_result(validate_forecast(forecast, expected[["sku", "market"]], horizon))
