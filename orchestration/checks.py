"""The quality gate: Great Expectations on the forecast's training data.

Blocking: when it fails, the forecast assets downstream of
marts.fct_daily_demand are not materialized in that run, so bad data never
reaches the plans.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from crossdock.warehouse import read_sql
from expectations.gate import validate_training_data
from orchestration.assets.forecast import TRAINING_DATA


@dg.asset_check(
    asset=TRAINING_DATA,
    name="training_data_quality_gate",
    blocking=True,
    description="Great Expectations suites on the forecast training data: types and ranges per row, "
    "every configured market selling every day, returns never above sales. Blocks the forecast on failure.",
)
def training_data_quality_gate(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        training = read_sql(conn, "select * from marts.fct_daily_demand")
        markets = [r for (r,) in conn.execute("select market_code from reference.markets order by 1").fetchall()]
    result = validate_training_data(training, expected_markets=markets)
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
