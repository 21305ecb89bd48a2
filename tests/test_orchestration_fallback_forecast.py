"""The demand_forecast asset when the model lost its backtest: the best baseline's forecast is staged in its place."""
import dagster as dg
import pytest

from crossdock.plan_labels import is_fallback_version
from ml.fallback_forecast import choose_fallback, fallback_forecast
from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.checks import judge_backtest, judge_forecast
from orchestration.defs.forecast.inputs import ACCURACY, FORECAST, TOTALS, last_fallback
from orchestration.lib.market_partitions import MarketScope
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

pytestmark = pytest.mark.slow

try:
    from test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse


def _backtest_then(tmp_path, *updates: str) -> tuple:
    """A small warehouse and its backtest (one window), then `updates` to the staged result: the warehouse, the
    forecast's resources and run config, and the staged overall rows."""
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
    with warehouse.open() as tables:
        for update in updates:
            tables.execute(f"update plan_next.forecast_accuracy set {update}")
        overall = tables.query("select * from plan_next.forecast_accuracy where scope = 'overall'").set_index("model")
    return warehouse, resources, {"ops": {"publish__demand_forecast": config}}, overall


def _forecast(resources, run_config) -> dict:
    result = dg.materialize([demand_forecast], resources=resources, run_config=run_config)
    assert result.success
    return {m.asset_key: {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node("publish__demand_forecast")}


def test_a_model_that_lost_its_backtest_is_replaced_by_the_best_baseline(tmp_path):
    # the model loses to every baseline, decisively, as on the DataCo export cut at 2018-01-26
    warehouse, resources, run_config, overall = _backtest_then(
        tmp_path, "weekly_wape = 9.0 where scope = 'overall' and model = 'lightgbm'",
        "model_ratio_low = 2.0, model_ratio_high = 3.0 where scope = 'overall' and model <> 'lightgbm'",
    )
    path, models = tmp_path / "w.duckdb", tmp_path / "models"
    best = choose_fallback(overall).baseline

    check = judge_backtest(warehouse)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["what_to_do"].value.startswith(f"This run's forecast is the {best} baseline")

    events = _forecast(resources, run_config)
    forecast = events[FORECAST]
    assert forecast["fallback_baseline"] == best and is_fallback_version(forecast["model_version"])
    assert forecast["model_version"] == f"baseline-{best}-{AS_OF:%Y%m%d}" and "does not beat" in forecast["model_lost"]
    assert events[TOTALS]["method"] == "bottom_up"
    assert not models.exists()  # no model was trained for a forecast that would not be published

    staged = _query(path, "select count(*), count(distinct (sku, market)), min(horizon), max(horizon), "
                          "bool_and(p10 <= p50 and p50 <= p90), bool_or(stopped), sum(mean) from plan_next.demand_forecast")
    rows, series, first, last, ordered, stopped, units = staged[0]
    assert rows == series * SMALL["horizon_days"] and (first, last) == (1, SMALL["horizon_days"]) and units > 0
    assert ordered and not stopped
    with warehouse.open() as tables:  # the chosen baseline's forecast, as ml/fallback_forecast.py makes it
        history = tables.query("select * from marts.fct_daily_demand")
        backtest_rows = tables.query("select * from plan_next.forecast_backtest")
    expected = fallback_forecast(history, AS_OF, SMALL["horizon_days"], best, backtest_rows).forecast
    assert units == pytest.approx(expected["mean"].sum()) and len(expected) == rows
    assert forecast["series"] == series and forecast["dagster/row_count"] == rows
    # the totals are the sums of the SKUs, and the forecast passes its own quality gate before any plan reads it
    [(gap,)] = _query(path, "select max(abs(t.mean - s.mean)) from plan_next.forecast_totals t join (select market, "
                            "forecast_date, sum(mean) as mean from plan_next.demand_forecast group by all) s "
                            "using (market, forecast_date) where t.level = 'market'")
    assert gap < 1e-6
    gate = judge_forecast(warehouse)
    assert gate.passed, gate.description


def test_a_model_that_lost_to_the_zero_forecast_alone_stays_the_forecast(tmp_path):
    """It beat every baseline that plans stock: replacing it would publish a worse forecast (ml/fallback_forecast.py)."""
    warehouse, resources, run_config, _ = _backtest_then(
        tmp_path, "weekly_wape = 2.0 where scope = 'overall' and model not in ('lightgbm', 'zero')",
        "weekly_wape = 1.5 where scope = 'overall' and model = 'lightgbm'",
        "model_ratio_low = 1.2, model_ratio_high = 1.8 where scope = 'overall' and model = 'zero'",
    )
    check = judge_backtest(warehouse)
    assert not check.passed and "does not beat zero" in check.description
    assert check.metadata["what_to_do"].value.startswith("This run's forecast: the model's forecast is published unproven")
    forecast = _forecast(resources, run_config)[FORECAST]
    assert forecast["model_version"].startswith("lgbm-quantile-") and "fallback_baseline" not in forecast


def test_a_history_too_short_for_one_window_is_planned_on_the_28_day_mean_unproven(tmp_path):
    """35 days against a 14-day horizon and the four weeks a window's model needs: nothing can be backtested."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF, days=35)
    warehouse = WarehouseResource(database=str(path))
    resources = {
        "warehouse": warehouse,
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(tmp_path / "models")),
    }
    config = {"config": SMALL}
    result = dg.materialize([forecast_accuracy, demand_forecast], resources=resources,
                            run_config={"ops": {"forecast_accuracy": config, "publish__demand_forecast": config}})
    assert result.success
    [accuracy] = [m for m in result.asset_materializations_for_node("forecast_accuracy") if m.asset_key == ACCURACY]
    assert accuracy.metadata["backtest"].value.startswith("no backtest: no backtest window fits in the history since ")
    assert _query(path, "select count(*) from plan_next.forecast_accuracy") == [(0,)]
    # nothing proven, nothing stored to reuse
    assert _query(path, "select count(*) from information_schema.tables where table_name = 'backtest_runs'") == [(0,)]
    check = judge_backtest(warehouse)
    assert not check.passed and check.description.startswith("no backtest")
    assert "each series' rate over its last 28 days" in check.metadata["what_to_do"].value
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    assert forecast.metadata["model_version"].value == f"baseline-mean_28-{AS_OF:%Y%m%d}"
    assert _query(path, "select count(*) > 0, bool_and(p10 <= p50 and p50 <= p90) from plan_next.demand_forecast") == [(True, True)]
    assert judge_forecast(warehouse).passed


def test_the_last_plans_baseline_is_kept_while_it_ties_the_best(tmp_path):
    """The published plan ran on seasonal naive; this backtest scores the 28-day mean a hair better (within the
    1 % tie band): the forecast and the check's advice both keep seasonal naive, and say why."""
    warehouse, resources, run_config, _ = _backtest_then(
        tmp_path, "weekly_wape = 9.0 where scope = 'overall' and model = 'lightgbm'",
        "weekly_wape = 2.0 where scope = 'overall' and model not in ('lightgbm', 'zero')",
        "weekly_wape = 0.901 where scope = 'overall' and model = 'mean_28'",
        "weekly_wape = 0.905 where scope = 'overall' and model = 'seasonal_naive_7'",
        "model_ratio_low = 2.0, model_ratio_high = 3.0 where scope = 'overall' and model <> 'lightgbm'",
    )
    with warehouse.open() as tables:
        tables.execute("create schema if not exists publish")
        tables.execute("create table publish.demand_forecast as select 'A' as sku, 'US' as market, "
                       "'baseline-seasonal_naive_7-20250623' as model_version")
    check = judge_backtest(warehouse)
    assert "the seasonal_naive_7 baseline's forecast, in place of the model's, as in the last plan" in (
        check.metadata["what_to_do"].value)
    forecast = _forecast(resources, run_config)[FORECAST]
    assert forecast["fallback_baseline"] == "seasonal_naive_7" and "within 1% of the best, mean_28" in forecast["fallback"]
    with warehouse.open() as tables:  # per-market runs publish at other times: a run reads its own markets' baseline
        tables.execute("insert into publish.demand_forecast values ('A', 'DE', 'baseline-auto_ets-20250616')")
    assert last_fallback(warehouse) is None and last_fallback(warehouse, ["US"]) == "seasonal_naive_7"
    assert "as in the last plan" in judge_backtest(warehouse, MarketScope(("US",), every=False, known=("US", "DE"))).metadata["what_to_do"].value
    with warehouse.open() as tables:  # a model's published plan (or none) keeps nothing: the best is chosen
        tables.execute("update publish.demand_forecast set model_version = 'lgbm-quantile-20250623-abc'")
    assert _forecast(resources, run_config)[FORECAST]["fallback_baseline"] == "mean_28"


def test_a_baseline_in_the_models_place_is_lifted_to_last_years_season_as_the_model_would_be(tmp_path, monkeypatch):
    """A baseline is flat before a peak whichever wins: ml/season_lift.py judges it as it judges the model's."""
    import pandas as pd

    import orchestration.defs.forecast.assets as forecast_assets
    from ml.season_lift import SeasonLift

    _, resources, run_config, _ = _backtest_then(
        tmp_path, "weekly_wape = 9.0 where scope = 'overall' and model = 'lightgbm'",
        "model_ratio_low = 2.0, model_ratio_high = 3.0 where scope = 'overall' and model <> 'lightgbm'",
    )
    asked = {}

    def lift(forecast, history, as_of, horizon_days, window_origins, max_lift):
        asked.update(forecast=forecast.copy(), origins=list(window_origins), category=sorted(forecast["category"].unique())[0])
        return SeasonLift(pd.DataFrame({"category": [asked["category"]], "ratio_ahead": [3.0], "lowest_scored": [0.9],
                                        "highest_scored": [1.1], "ratio_year_before": [float("nan")],
                                        "season_ratio": [3.0], "forecast_ratio": [1.0], "lift": [3.0]}),
                          pd.DataFrame({"market": sorted(forecast["market"].unique()), "peak": True, "lull": False}))

    monkeypatch.setattr(forecast_assets, "season_lift", lift)
    events = _forecast(resources, run_config)
    path = tmp_path / "w.duckdb"
    assert is_fallback_version(events[FORECAST]["model_version"])
    assert events[FORECAST]["season_lifted_categories"] == {
        asked["category"]: {"factor": 3.0, "markets": sorted(asked["forecast"]["market"].unique())}}
    assert [pd.Timestamp(o) for o in asked["origins"]] == sorted(
        pd.Timestamp(o) for (o,) in _query(path, "select distinct origin from plan_next.forecast_backtest"))
    before = asked["forecast"].groupby("category")["mean"].sum()
    after = dict(_query(path, "select category, sum(mean) from plan_next.demand_forecast group by category"))
    assert after == pytest.approx({c: v * (3.0 if c == asked["category"] else 1.0) for c, v in before.items()})
    [(gap,)] = _query(path, "select max(abs(t.mean - s.mean)) from plan_next.forecast_totals t join (select market, "
                            "forecast_date, sum(mean) as mean from plan_next.demand_forecast group by all) s "
                            "using (market, forecast_date) where t.level = 'market'")
    assert gap < 1e-6
