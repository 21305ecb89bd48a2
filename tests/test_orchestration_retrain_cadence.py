"""The demand_forecast asset on a small warehouse: the next planning day reuses the saved model and says so."""
import datetime as dt
import json

import dagster as dg
import pytest
from orchestration.lib.retries import WarehouseResource

from ml.hierarchy import METHODS
from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.inputs import FORECAST, TOTALS
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile

try:
    from test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse, model_passes_its_backtest  # noqa: F401 (a fixture)
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse, model_passes_its_backtest  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("model_passes_its_backtest")]


def test_the_next_planning_day_reuses_the_model_and_a_forced_run_retrains(tmp_path):
    path, models = tmp_path / "w.duckdb", tmp_path / "models"
    _warehouse(path, AS_OF)
    resources = {
        "warehouse": WarehouseResource(database=str(path)),
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


def _backtest_and_forecast(tmp_path) -> tuple:
    """A small warehouse, its backtest (one window) and forecast materialized; its path and the run's result."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF)
    resources = {
        "warehouse": WarehouseResource(database=str(path)),
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(tmp_path / "models")),
    }
    config = {"config": {**SMALL, "backtest_windows": 1}}
    result = dg.materialize([forecast_accuracy, demand_forecast], resources=resources,
                            run_config={"ops": {"forecast_accuracy": config, "publish__demand_forecast": config}})
    assert result.success
    return path, result


def _incoherent_totals(path) -> int:
    """Staged totals that are not the sum of the SKU forecasts below them, day by day (markets carry category 'all')."""
    [(count,)] = _query(path, """
        with skus as (
            select market, category, forecast_date, sum(mean) as units from plan_next.demand_forecast group by all
        ), by_level as (
            select 'market/category' as level, market, category, forecast_date, units from skus
            union all
            select 'market', market, 'all', forecast_date, sum(units) from skus group by all
        )
        select count(*) from by_level full join plan_next.forecast_totals t using (level, market, category, forecast_date)
        where t.mean is null or by_level.units is null or abs(t.mean - by_level.units) > 1e-6
    """)
    return count


def _accuracy_event(result):
    [event] = [m for m in result.asset_materializations_for_node("forecast_accuracy") if m.asset_key.path[-1] == "forecast_accuracy"]
    return event


def test_the_forecast_publishes_totals_coherent_with_its_skus_by_the_method_the_backtest_chose(tmp_path):
    path, result = _backtest_and_forecast(tmp_path)
    [(method, scales, weight)] = _query(path, "select reconciliation, quantile_scales, mean_weight from audit.backtest_runs")
    assert method in METHODS
    # the band's factors per demand class are kept with the backtest and the forecast says which it applied
    classes = {c for (c,) in _query(path, "select distinct demand_class from plan_next.forecast_backtest")}
    assert set(json.loads(scales)) == classes
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    assert forecast.metadata["quantile_scales"].value == json.loads(scales)
    # one window proves no blend held out (ml/blend.py): the model's mean, stored and said so
    assert weight == 1.0 and forecast.metadata["mean_weight"].value == 1.0
    assert _accuracy_event(result).metadata["mean_weight"].value == 1.0
    assert _query(path, "select count(*) from plan_next.demand_forecast where not (p10 <= p50 and p50 <= p90)") == [(0,)]
    [totals] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == TOTALS]
    assert totals.metadata["method"].value == method
    accuracy = _accuracy_event(result)
    assert "bottom_up" in accuracy.metadata["reconciliation_scores"].value
    # every total is the sum of the SKU forecasts below it, day by day; markets carry category 'all'
    assert _incoherent_totals(path) == 0
    [(levels, markets)] = _query(path, "select list(distinct level order by level), count(distinct market) from plan_next.forecast_totals")
    assert levels == ["market", "market/category"] and markets == 2


def test_a_failing_comparison_of_reconciliations_falls_back_to_summing_up_and_says_so(tmp_path, monkeypatch):
    import orchestration.defs.forecast.backtest as forecast_backtest

    def broken(*args, **kwargs):
        raise RuntimeError("solver failed")

    monkeypatch.setattr(forecast_backtest, "choose_method", broken)
    path, result = _backtest_and_forecast(tmp_path)
    assert _query(path, "select reconciliation from audit.backtest_runs") == [("bottom_up",)]
    accuracy = _accuracy_event(result)
    assert accuracy.metadata["reconciliation_reason"].value == "bottom_up: the comparison failed (solver failed)"
    assert _query(path, "select distinct method from plan_next.forecast_totals") == [("bottom_up",)]


def test_a_market_with_a_season_ahead_no_window_scored_is_summed_up_whatever_the_backtest_chose(tmp_path, monkeypatch):
    """ml/season_ahead.py wired: the backtest chose MinTrace, the season check is handed the backtest's window
    origins, and the market it names is summed up, the other reconciled, and the forecast says which."""
    import pandas as pd

    import orchestration.defs.forecast.assets as forecast_assets
    import orchestration.defs.forecast.backtest as forecast_backtest
    from ml.hierarchy import BOTTOM_UP, MINT_WLS, MethodChoice
    from ml.season_ahead import SeasonAhead

    chosen = forecast_backtest.choose_method
    monkeypatch.setattr(forecast_backtest, "choose_method",
                        lambda *a, **k: MethodChoice(MINT_WLS, "chosen by the test", chosen(*a, **k).scores))
    asked = {}

    def season(history, as_of, horizon_days, window_origins):
        asked.update(as_of=as_of, origins=list(window_origins), markets=sorted(history["market"].unique()))
        markets = asked["markets"]
        return SeasonAhead(pd.DataFrame({"market": markets, "ratio_ahead": 3.0, "lowest_scored": 0.9,
                                         "highest_scored": 1.1, "unscored": [m == markets[0] for m in markets]}))

    monkeypatch.setattr(forecast_assets, "season_ahead", season)
    path, result = _backtest_and_forecast(tmp_path)
    assert asked["as_of"] == AS_OF and len(asked["markets"]) == 2
    assert [pd.Timestamp(o) for o in asked["origins"]] == [
        pd.Timestamp(o) for (o,) in _query(path, "select distinct origin from plan_next.forecast_backtest")]
    summed, reconciled = asked["markets"]
    methods = dict(_query(path, "select market, list(distinct method) from plan_next.forecast_totals group by market"))
    assert methods == {summed: [BOTTOM_UP], reconciled: [MINT_WLS]}
    [totals] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == TOTALS]
    assert totals.metadata["method"].value == f"{BOTTOM_UP}, {MINT_WLS}"
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    assert forecast.metadata["season_unscored_markets"].value == [summed]


@pytest.mark.parametrize("weight", [0.5, 1.0])
def test_the_season_is_judged_when_the_backtest_chose_a_blend_and_its_markets_keep_the_models_mean(tmp_path, monkeypatch, weight):
    """Bottom-up chosen: the season matters to the blend only, so it is judged when the weight is below 1, and the
    market it names goes to the blend as one whose series keep the model's mean."""
    import pandas as pd

    import orchestration.defs.forecast.assets as forecast_assets
    from ml.backtest_cadence import BacktestRecord
    from ml.blend import MeanChoice
    from ml.season_ahead import SeasonAhead

    import orchestration.defs.forecast.backtest as forecast_backtest
    from ml.hierarchy import BOTTOM_UP, MethodChoice

    chosen = forecast_backtest.choose_method
    monkeypatch.setattr(forecast_backtest, "choose_method",
                        lambda *a, **k: MethodChoice(BOTTOM_UP, "chosen by the test", chosen(*a, **k).scores))
    monkeypatch.setattr(BacktestRecord, "mean_choice", lambda self: MeanChoice(weight))
    judged, blended = [], {}

    def season(history, as_of, horizon_days, window_origins):
        markets = sorted(history["market"].unique())
        judged.append(markets)
        return SeasonAhead(pd.DataFrame({"market": markets, "ratio_ahead": 3.0, "lowest_scored": 0.9,
                                         "highest_scored": 1.1, "unscored": [m == markets[0] for m in markets]}))

    real_blend = forecast_assets.blend_forecast

    def blend(*args, **kwargs):
        blended.update(kwargs)
        return real_blend(*args, **kwargs)

    monkeypatch.setattr(forecast_assets, "season_ahead", season)
    monkeypatch.setattr(forecast_assets, "blend_forecast", blend)
    path, result = _backtest_and_forecast(tmp_path)
    assert _query(path, "select distinct method from plan_next.forecast_totals") == [("bottom_up",)]
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    if weight == 1.0:  # the model alone everywhere and summed up: nothing the season could change
        assert judged == [] and blended["model_alone_markets"] == []
        assert forecast.metadata["season_unscored_markets"].value == []
    else:
        assert len(judged) == 1 and blended["model_alone_markets"] == [judged[0][0]]
        assert forecast.metadata["season_unscored_markets"].value == [judged[0][0]]
        assert forecast.metadata["reconciliation"].value == "bottom_up"


def test_a_category_lifted_to_last_years_season_is_lifted_in_the_skus_and_the_totals_and_said(tmp_path, monkeypatch):
    """ml/season_lift.py wired: handed the reconciled forecast, the backtest's window origins and the default cap;
    the lifted category's SKU means are the reconciled ones times the factor in the market whose season agrees and
    as they were in the other, every total is still the sum of its SKUs, and the forecast's metadata says which."""
    import pandas as pd

    import orchestration.defs.forecast.assets as forecast_assets
    from ml.season_lift import MAX_LIFT, SeasonLift

    asked = {}

    def lift(forecast, history, as_of, horizon_days, window_origins, max_lift):
        category, markets = sorted(forecast["category"].unique())[0], sorted(forecast["market"].unique())
        asked.update(forecast=forecast.copy(), as_of=as_of, origins=list(window_origins), max_lift=max_lift,
                     category=category, market=markets[0])
        return SeasonLift(pd.DataFrame({"category": [category], "ratio_ahead": [3.0], "lowest_scored": [0.9],
                                        "highest_scored": [1.1], "ratio_year_before": [float("nan")],
                                        "season_ratio": [3.0], "forecast_ratio": [1.2], "lift": [2.5]}),
                          pd.DataFrame({"market": markets, "peak": [m == markets[0] for m in markets], "lull": False}))

    monkeypatch.setattr(forecast_assets, "season_lift", lift)
    path, result = _backtest_and_forecast(tmp_path)
    assert asked["as_of"] == AS_OF and asked["max_lift"] == MAX_LIFT
    assert [pd.Timestamp(o) for o in asked["origins"]] == [
        pd.Timestamp(o) for (o,) in _query(path, "select distinct origin from plan_next.forecast_backtest")]
    before = asked["forecast"].groupby(["market", "category"])["mean"].sum()
    after = {(m, c): units for m, c, units in _query(
        path, "select market, category, sum(mean) from plan_next.demand_forecast group by all")}
    lifted = (asked["market"], asked["category"])
    assert after[lifted] == pytest.approx(before[lifted] * 2.5)
    assert all(after[key] == pytest.approx(before[key]) for key in before.index if key != lifted)
    assert _query(path, "select count(*) from plan_next.demand_forecast where not (p10 <= p50 and p50 <= p90)") == [(0,)]
    assert _incoherent_totals(path) == 0
    [forecast] = [m for m in result.asset_materializations_for_node("publish__demand_forecast") if m.asset_key == FORECAST]
    assert forecast.metadata["season_lifted_categories"].value == {
        asked["category"]: {"factor": 2.5, "markets": [asked["market"]]}}
