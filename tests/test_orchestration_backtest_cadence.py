"""The forecast_accuracy asset on a small warehouse: the second run reuses the backtest, and the gate names its date."""
import datetime as dt

import dagster as dg
import duckdb
import pandas as pd
import pytest
from orchestration.lib.retries import WarehouseResource

import orchestration.defs.forecast.backtest as forecast_backtest
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import model_beats_the_baselines
from orchestration.defs.forecast.inputs import ACCURACY
from orchestration.lib.resources import MerchantConfigFile

pytestmark = pytest.mark.slow

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

AS_OF = dt.date(2025, 6, 30)
SMALL = {"horizon_days": 14, "backtest_windows": 2, "baseline_jobs": 1}


def _warehouse(path, as_of: dt.date, n_skus: int = 6, days: int = 420) -> None:
    """marts.fct_daily_demand (its last `days` days), the planning calendar up to `as_of` and reference.markets:
    what the asset reads."""
    history = make_history(n_skus=n_skus, markets=("US", "DE"), days=420, end=AS_OF, seed=3)
    history = history[pd.to_datetime(history["demand_date"]) > pd.Timestamp(AS_OF) - pd.Timedelta(days=days)]
    calendar = pd.DataFrame({"calendar_date": pd.date_range("2024-01-01", as_of, freq="D").date})
    markets = pd.DataFrame({"market_code": ["US", "DE"], "holiday_subdivision": [None, None]}).astype("string")
    with duckdb.connect(str(path)) as conn:
        for name, frame in (("marts.fct_daily_demand", history), ("intermediate.int_planning_calendar", calendar),
                            ("reference.markets", markets)):
            conn.execute(f"create schema if not exists {name.split('.')[0]}")
            conn.register("f", frame)
            conn.execute(f"create or replace table {name} as select * from f")
            conn.unregister("f")
        conn.execute("alter table marts.fct_daily_demand alter demand_date type date")


FORECASTABLE = 8
"""SKUs of a synthetic merchant whose model beats its baselines in the backtest (with 6, it loses to the 28-day mean)."""


@pytest.fixture
def model_passes_its_backtest(monkeypatch):
    """For tests of the model's path (its retrain cadence, its partitions): this small synthetic merchant's model
    loses to the 28-day mean, and its forecast would be the best baseline's (tests/test_orchestration_fallback_forecast.py
    tests that path)."""
    import orchestration.defs.forecast.assets as forecast_assets

    monkeypatch.setattr(forecast_assets, "_lost_the_backtest", lambda warehouse: None)


@pytest.fixture
def platform(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF, FORECASTABLE)
    calls: list[dt.date] = []
    original = forecast_backtest.backtest

    def counting(history, as_of, **kwargs):
        calls.append(as_of)
        return original(history, as_of=as_of, **kwargs)

    monkeypatch.setattr(forecast_backtest, "backtest", counting)
    config = tmp_path / "crossdock.yaml"

    def run(**config_values):
        """Materialize the backtest and its gate; the gate's verdict is returned, not required (tests of the cadence)."""
        result = dg.materialize(
            [forecast_accuracy, model_beats_the_baselines],
            resources={"warehouse": WarehouseResource(database=str(path)), "merchant_config": MerchantConfigFile(path=str(config))},
            run_config={"ops": {"forecast_accuracy": {"config": {**SMALL, **config_values}}}},
            raise_on_error=False,
        )
        [accuracy] = [m for m in result.asset_materializations_for_node("forecast_accuracy") if m.asset_key == ACCURACY]
        [check] = result.get_asset_check_evaluations()
        return result.run_id, {k: v.value for k, v in accuracy.metadata.items()}, check

    return path, run, calls, config


def _query(path, sql: str, params: list | None = None):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_the_second_run_reuses_the_backtest_and_stages_it_for_its_own_publish(platform):
    path, run, calls, _ = platform
    first_id, first, check = run()
    assert calls == [AS_OF]
    assert first["backtest"].startswith(f"backtest run on {AS_OF}") and "no earlier backtest" in first["backtest"]
    assert check.passed, check.description  # this synthetic history is forecastable
    # the UI shows the quantiles' calibration per demand class, as forecast_accuracy publishes it
    staged_classes = _query(path, "select scope_value from plan_next.forecast_accuracy where scope = 'demand_class' "
                                  "and model = 'lightgbm' order by 1")
    assert staged_classes and all(f"| {c} " in first["calibration_by_demand_class"] for (c,) in staged_classes)
    assert "above_p90" in first["calibration_by_demand_class"]
    accuracy_before = _query(path, "select * from plan_next.forecast_accuracy order by all")

    second_id, second, check = run()
    assert calls == [AS_OF], "the second run backtested again"
    assert second["backtest"].startswith(f"reused backtest of {AS_OF}, proven 0 days ago, reason next run: ")
    assert second["proven_on"] == str(AS_OF) and second["weekly_wape_lightgbm"] == first["weekly_wape_lightgbm"]
    assert f"backtest of {AS_OF}" in check.description
    assert _query(path, "select * from plan_next.forecast_accuracy order by all") == accuracy_before
    staged_by = _query(path, "select staged from plan_next.stage_log where run_id = ? order by 1", [second_id])
    assert staged_by == [("forecast_accuracy",), ("forecast_backtest",)]
    assert _query(path, "select run_id from audit.backtest_runs") == [(first_id,)]

    run(force_backtest=True)
    assert calls == [AS_OF, AS_OF]
    assert len(_query(path, "select * from audit.backtest_runs")) == 2


def test_the_cadence_comes_from_crossdock_yaml_and_counts_planning_days(platform, tmp_path):
    path, run, calls, config = platform
    run()
    _warehouse(path, AS_OF + dt.timedelta(days=1), FORECASTABLE)  # one more planning day (no new sales)
    _, reused, _ = run()
    assert calls == [AS_OF] and "proven 1 day ago" in reused["backtest"]

    config.write_text(
        "nodes: [{code: WH1, country: DE}]\n"
        "markets: [{code: DE, currency: EUR, timezone: Europe/Berlin, node: WH1},"
        " {code: US, currency: USD, timezone: America/New_York, node: WH1}]\n"
        "forecast: {backtest_every_days: 1}\n"
    )
    _, fresh, check = run()
    assert calls == [AS_OF, AS_OF + dt.timedelta(days=1)]
    assert "1 days old (every 1 days)" in fresh["backtest"]
    assert f"backtest of {AS_OF + dt.timedelta(days=1)}" in check.description


def test_a_short_history_is_backtested_on_the_windows_it_holds(tmp_path):
    """60 days against 14-day windows and the 28 days a window's model needs: 2 of the 4 asked, run for real."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF, days=60)
    result = dg.materialize(
        [forecast_accuracy],
        resources={"warehouse": WarehouseResource(database=str(path)),
                   "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml"))},
        run_config={"ops": {"forecast_accuracy": {"config": {**SMALL, "backtest_windows": 4}}}},
    )
    assert result.success
    [accuracy] = [m for m in result.asset_materializations_for_node("forecast_accuracy") if m.asset_key == ACCURACY]
    assert accuracy.metadata["windows"].value == 2
    assert _query(path, 'select count(distinct "window") from plan_next.forecast_backtest') == [(2,)]
    assert _query(path, "select count(*) from audit.backtest_runs") == [(1,)]  # proven on what fits, and kept
