"""A market whose own feed stopped is held back by the training-data gate, and the forecast goes on without it."""
import dagster as dg
import pytest

from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import judge_forecast, training_data_quality_gate
from orchestration.defs.forecast.inputs import FORECAST
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

pytestmark = pytest.mark.slow

try:
    from test_orchestration_backtest_cadence import AS_OF, FORECASTABLE, SMALL, _query, _warehouse
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, FORECASTABLE, SMALL, _query, _warehouse

QUIET_DAYS = 14


def _merchant(tmp_path, stopped: str) -> tuple[WarehouseResource, dict]:
    """US and a DE a quarter its size; `stopped` sold nothing in the last QUIET_DAYS days."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF, FORECASTABLE)
    warehouse = WarehouseResource(database=str(path))
    with warehouse.open() as tables:
        tables.execute("update marts.fct_daily_demand set units_sold = units_sold // 4 where market = 'DE'")
        tables.execute(f"delete from marts.fct_daily_demand where market = '{stopped}' "
                       f"and demand_date > date '{AS_OF}' - interval {QUIET_DAYS} day")
    return warehouse, {
        "warehouse": warehouse,
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(tmp_path / "models")),
    }


def test_the_forecast_and_its_gate_go_on_without_a_small_market_whose_feed_stopped(tmp_path):
    warehouse, resources = _merchant(tmp_path, stopped="DE")
    gate = training_data_quality_gate(warehouse=warehouse)
    assert gate.severity == dg.AssetCheckSeverity.WARN and gate.metadata["held_back"].value == ["DE"]

    config = {"config": {**SMALL, "backtest_windows": 1}}
    result = dg.materialize([forecast_accuracy, demand_forecast], resources=resources, run_config={
        "ops": {"forecast_accuracy": config, "publish__demand_forecast": config}})
    assert result.success
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    assert forecast.metadata["held_back_markets"].value == ["DE"]
    markets = _query(tmp_path / "w.duckdb", "select distinct market from plan_next.demand_forecast")
    assert markets == [("US",)]  # DE is not forecast from a history its own gate failed
    # nor backtested: its quiet days would be scored as demand, and the verdict, blend and band read them
    assert _query(tmp_path / "w.duckdb", "select distinct market from plan_next.forecast_backtest") == [("US",)]
    # the forecast's own gate asks for the active series of the markets planned, not DE's
    assert judge_forecast(warehouse).passed


def test_a_main_market_whose_feed_stopped_still_stops_the_forecast(tmp_path):
    warehouse, _ = _merchant(tmp_path, stopped="US")
    gate = training_data_quality_gate(warehouse=warehouse)
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR and "held_back" not in gate.metadata
    assert "market US sold nothing" in gate.description
