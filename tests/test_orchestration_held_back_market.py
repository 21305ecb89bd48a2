"""A market whose own feed stopped is held back by the training-data gate, and the forecast goes on without it."""
import dagster as dg
import pandas as pd
import pytest

from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import judge_forecast, training_data_quality_gate
from orchestration.defs.forecast.inputs import FORECAST
from orchestration.lib.held_back import held_back_markets, held_back_markets_in, held_back_series, held_back_series_in
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

pytestmark = pytest.mark.slow

try:
    from test_orchestration_backtest_cadence import AS_OF, FORECASTABLE, SMALL, _query, _warehouse
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, FORECASTABLE, SMALL, _query, _warehouse

QUIET_DAYS = 14


def _merchant(tmp_path, stopped: str) -> tuple[WarehouseResource, dict]:
    """US and a DE a quarter its size; `stopped` sold nothing in the last QUIET_DAYS days (its rows of those days
    kept in main.quiet_days, to land them again)."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF, FORECASTABLE)
    warehouse = WarehouseResource(database=str(path))
    with warehouse.open() as tables:
        tables.execute("update marts.fct_daily_demand set units_sold = units_sold // 4 where market = 'DE'")
        quiet = f"market = '{stopped}' and demand_date > date '{AS_OF}' - interval {QUIET_DAYS} day"
        tables.execute(f"create table main.quiet_days as select * from marts.fct_daily_demand where {quiet}")
        tables.execute(f"delete from marts.fct_daily_demand where {quiet}")
    return warehouse, {
        "warehouse": warehouse,
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(tmp_path / "models")),
    }


def test_the_forecast_and_its_gate_go_on_without_a_small_market_whose_feed_stopped(tmp_path):
    warehouse, resources = _merchant(tmp_path, stopped="DE")
    gate = training_data_quality_gate(warehouse=warehouse)
    assert gate.severity == dg.AssetCheckSeverity.WARN and gate.metadata["held_back"].value == ["DE"]
    with warehouse.open() as tables:  # the backtest's decision sums the market-days in SQL: the same verdict
        history = tables.query("select * from marts.fct_daily_demand")
        assert held_back_markets_in(tables, "marts.fct_daily_demand") == held_back_markets(tables, history) == ["DE"]

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
    with warehouse.open() as tables:
        assert held_back_markets_in(tables, "marts.fct_daily_demand") == []


def test_a_backtest_made_without_a_held_back_market_is_run_again_when_it_comes_back(tmp_path):
    """The proof made while DE was held back scored US alone: once DE's late orders land, the same planning date
    backtests again, with DE, rather than reuse it for up to a week."""
    warehouse, resources = _merchant(tmp_path, stopped="DE")
    config = {"config": {**SMALL, "backtest_windows": 1}}

    def backtest() -> None:
        result = dg.materialize([forecast_accuracy], resources=resources, run_config={"ops": {"forecast_accuracy": config}})
        assert result.success

    backtest()
    runs = "select markets, reason from audit.backtest_runs order by ran_at"
    [(markets, _)] = _query(tmp_path / "w.duckdb", runs)
    assert markets == ["US"]
    backtest()  # the same data: the proof holds
    assert len(_query(tmp_path / "w.duckdb", runs)) == 1
    with warehouse.open() as tables:
        tables.execute("insert into marts.fct_daily_demand select * from main.quiet_days")
    backtest()
    [_, (markets, reason)] = _query(tmp_path / "w.duckdb", runs)
    assert markets == ["DE", "US"] and "the markets changed (added DE)" in reason, reason
    assert _query(tmp_path / "w.duckdb", "select distinct market from plan_next.forecast_backtest order by 1") == [("DE",), ("US",)]


def _backtest_with_a_young_us(tmp_path, us_days: int, windows: int) -> tuple[WarehouseResource, dict]:
    """DE held back (its feed stopped) and US selling for its last `us_days` days only: the backtest of `windows`."""
    warehouse, resources = _merchant(tmp_path, stopped="DE")
    with warehouse.open() as tables:
        tables.execute(f"delete from marts.fct_daily_demand where market = 'US' and demand_date <= date '{AS_OF}' - interval {us_days} day")
    config = {"config": {**SMALL, "backtest_windows": windows}}
    result = dg.materialize([forecast_accuracy], resources=resources, run_config={"ops": {"forecast_accuracy": config}})
    assert result.success
    return warehouse, resources


def test_a_held_back_market_with_the_oldest_history_leaves_the_backtest_the_windows_the_rest_holds(tmp_path):
    """DE, held back, sold for 420 days; US for 50: two 14-day windows fit in the whole history, one in US's. The
    backtest runs on US with that one window rather than fail on a window US's history cannot train."""
    _backtest_with_a_young_us(tmp_path, us_days=50, windows=2)
    assert _query(tmp_path / "w.duckdb", 'select distinct market, "window" from plan_next.forecast_backtest') == [("US", 1)]


def test_a_held_back_market_backtested_because_no_window_fits_without_it_does_not_rerun_the_backtest_every_day(tmp_path):
    """US sold for 30 days only: no 14-day window fits without DE, so DE is backtested after all. Its record leaves
    DE out as the next run's shape does (a record counting DE would look like a change on every run while DE is held
    back), so the next run reuses it."""
    warehouse, resources = _backtest_with_a_young_us(tmp_path, us_days=30, windows=1)
    assert _query(tmp_path / "w.duckdb", "select distinct market from plan_next.forecast_backtest order by 1") == [("DE",), ("US",)]
    config = {"config": {**SMALL, "backtest_windows": 1}}
    assert dg.materialize([forecast_accuracy], resources=resources, run_config={"ops": {"forecast_accuracy": config}}).success
    assert _query(tmp_path / "w.duckdb", "select markets from audit.backtest_runs") == [(["US"],)]


def test_the_held_back_series_are_those_active_when_their_market_last_sold(tmp_path):
    """A slow mover DE last sold 100 days before the planning date, 86 before its feed stopped: the plan must not
    call its stock idle, since the data has been blind to DE for the last 14 days."""
    warehouse, _ = _merchant(tmp_path, stopped="DE")
    with warehouse.open() as tables:
        history = tables.query("select * from marts.fct_daily_demand")
    slow = history[(history["market"] == "DE")].iloc[:1].assign(sku="SLOW", units_sold=1,
                                                                 demand_date=pd.Timestamp(AS_OF) - pd.Timedelta(days=100))
    history = pd.concat([history, slow], ignore_index=True)
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    with warehouse.open() as tables:
        series = held_back_series(tables, history, AS_OF)
    assert set(series["market"]) == {"DE"} and "SLOW" in set(series["sku"])
    with warehouse.open() as tables:  # the consensus reads the same series from the table, loading DE's rows alone
        in_table = held_back_series_in(tables, "marts.fct_daily_demand", AS_OF)
        from_frame = held_back_series(tables, tables.query("select * from marts.fct_daily_demand"), AS_OF)
    assert len(in_table) > 0 and set(in_table["market"]) == {"DE"}
    assert in_table.sort_values(["sku", "market"]).reset_index(drop=True).equals(
        from_frame.sort_values(["sku", "market"]).reset_index(drop=True))
