"""The demand_forecast asset on a small warehouse: the next planning day reuses the saved model and says so."""
import datetime as dt

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs.forecast.assets import FORECAST, demand_forecast, forecast_accuracy
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile

try:
    from test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse

pytestmark = pytest.mark.slow


def test_the_next_planning_day_reuses_the_model_and_a_forced_run_retrains(tmp_path):
    path, models = tmp_path / "w.duckdb", tmp_path / "models"
    _warehouse(path, AS_OF)
    resources = {
        "warehouse": DuckDBResource(database=str(path)),
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),  # no file: the defaults
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(models)),
    }

    def run(**config_values) -> dict:
        config = {"config": {**SMALL, "backtest_windows": 1, **config_values}}
        result = dg.materialize([forecast_accuracy, demand_forecast], resources=resources,
                                run_config={"ops": {"forecast_accuracy": config, "publish__demand_forecast": config}})
        assert result.success
        [event] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
        return {k: v.value for k, v in event.metadata.items()}

    first = run()
    assert first["model_retrained"] is True and first["model_trained_on"] == str(AS_OF) and first["model_age_days"] == 0
    assert first["retrain_reason"] == "no saved model yet"
    assert first["model"].startswith(f"model trained {AS_OF} (retrained this run: no saved model yet)")

    next_day = AS_OF + dt.timedelta(days=1)
    _warehouse(path, next_day)  # one more planning day
    second = run()
    assert second["model_retrained"] is False and second["model_version"] == first["model_version"]
    assert second["model_trained_on"] == str(AS_OF) and second["model_age_days"] == 1 and second["as_of"] == str(next_day)
    assert second["model"].startswith(f"model trained {AS_OF}, reused for 1 day; retrains when 7 days old")
    assert second["training_rows"] == first["training_rows"] and second["model_folder"] == first["model_folder"]
    staged = _query(path, "select distinct as_of, model_version, min(forecast_date) from plan_next.demand_forecast group by all")
    assert [(d, v, f) for d, v, f in staged] == [(next_day, first["model_version"], next_day + dt.timedelta(days=1))]

    forced = run(force_retrain=True)
    assert forced["model_retrained"] is True and "force_retrain" in forced["retrain_reason"]
    assert forced["model_trained_on"] == str(next_day) and forced["model_version"] != first["model_version"]
    assert sorted(p.name for p in models.iterdir()) == sorted([first["model_version"], forced["model_version"]])
