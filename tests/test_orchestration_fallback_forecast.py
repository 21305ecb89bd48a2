"""The demand_forecast asset when the model lost its backtest: the best baseline's forecast is staged in its place."""
import dagster as dg
import pytest

from ml.fallback_forecast import choose_fallback, is_fallback
from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import judge_forecast, model_beats_the_baselines
from orchestration.defs.forecast.inputs import FORECAST, TOTALS
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

pytestmark = pytest.mark.slow

try:
    from test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse


def test_a_model_that_lost_its_backtest_is_replaced_by_the_best_baseline(tmp_path):
    path, models = tmp_path / "w.duckdb", tmp_path / "models"
    _warehouse(path, AS_OF)
    warehouse = WarehouseResource(database=str(path))
    resources = {
        "warehouse": warehouse,
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(models)),
    }
    config = {"config": {**SMALL, "backtest_windows": 1}}
    assert dg.materialize([forecast_accuracy], resources=resources, run_config={"ops": {"forecast_accuracy": config}}).success
    # the synthetic model wins; make it lose to every baseline, decisively, as the DataCo export cut at 2018-01-26 did
    with warehouse.open() as tables:
        tables.execute("update plan_next.forecast_accuracy set weekly_wape = 9.0 where scope = 'overall' and model = 'lightgbm'")
        tables.execute("update plan_next.forecast_accuracy set model_ratio_low = 2.0, model_ratio_high = 3.0 "
                       "where scope = 'overall' and model <> 'lightgbm'")
        overall = tables.query("select * from plan_next.forecast_accuracy where scope = 'overall'").set_index("model")
    best = choose_fallback(overall).baseline

    check = model_beats_the_baselines(warehouse=warehouse)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["what_to_do"].value.startswith(f"This run's forecast is the {best} baseline")

    result = dg.materialize([demand_forecast], resources=resources, run_config={"ops": {"publish__demand_forecast": config}})
    assert result.success
    events = {m.asset_key: {k: v.value for k, v in m.metadata.items()}
              for m in result.asset_materializations_for_node("publish__demand_forecast")}
    forecast = events[FORECAST]
    assert forecast["fallback_baseline"] == best and is_fallback(forecast["model_version"])
    assert forecast["model_version"] == f"baseline-{best}-{AS_OF:%Y%m%d}" and "does not beat" in forecast["model_lost"]
    assert events[TOTALS]["method"] == "bottom_up"
    assert not models.exists()  # no model was trained for a forecast that would not be published

    staged = _query(path, "select count(*), count(distinct (sku, market)), min(horizon), max(horizon), "
                          "bool_and(p10 <= p50 and p50 <= p90), bool_or(stopped), sum(mean) from plan_next.demand_forecast")
    rows, series, first, last, ordered, stopped, units = staged[0]
    assert rows == series * SMALL["horizon_days"] and (first, last) == (1, SMALL["horizon_days"]) and units > 0
    assert ordered and not stopped
    assert forecast["series"] == series and forecast["dagster/row_count"] == rows
    # the totals are the sums of the SKUs, and the forecast passes its own quality gate before any plan reads it
    [(gap,)] = _query(path, "select max(abs(t.mean - s.mean)) from plan_next.forecast_totals t join (select market, "
                            "forecast_date, sum(mean) as mean from plan_next.demand_forecast group by all) s "
                            "using (market, forecast_date) where t.level = 'market'")
    assert gap < 1e-6
    gate = judge_forecast(warehouse)
    assert gate.passed, gate.description
