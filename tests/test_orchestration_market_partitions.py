"""The forecast partitioned by market: one run over every market, then a run over one market that replaces only its own.

On a small warehouse of two markets (US, DE): the daily run's tags cover both
partitions, so one model forecasts both and Dagster records a materialization
per market; a later run over DE alone trains a DE model under
models/by_market/DE, replaces DE's staged rows and totals and leaves US's as
they were; the forecast gate of that run judges DE only; a market the config
adds before it has orders forecasts nothing and says so.
"""
import dagster as dg
import pytest

from orchestration.defs.forecast.assets import demand_forecast
from orchestration.defs.forecast.backtest import forecast_accuracy
from orchestration.defs.forecast.inputs import FORECAST, TOTALS
from orchestration.defs.forecast.checks import forecast_quality_gate
from orchestration.lib.market_partitions import (
    EVERY_MARKET_TAG,
    MARKET_PARTITIONS_NAME,
    RANGE_END_TAG,
    RANGE_START_TAG,
    scope_of_run,
    sync_market_partitions,
)
from orchestration.lib.resources import ArtifactFolders, MerchantConfigFile
from orchestration.lib.retries import WarehouseResource

try:
    from test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse, model_passes_its_backtest  # noqa: F401 (a fixture)
except ImportError:  # tests/ imported as a package
    from tests.test_orchestration_backtest_cadence import AS_OF, SMALL, _query, _warehouse, model_passes_its_backtest  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("model_passes_its_backtest")]

CONFIG = {"config": {**SMALL, "backtest_windows": 1}}


def _staged(path) -> dict[str, tuple]:
    """Per market of plan_next.demand_forecast: (rows, model versions, sum of means)."""
    rows = _query(path, "select market, count(*), list(distinct model_version order by model_version), sum(mean) "
                        "from plan_next.demand_forecast group by market order by market")
    return {market: (n, tuple(versions), round(total, 6)) for market, n, versions, total in rows}


def _materialized(result, node: str = "publish__demand_forecast") -> dict[str, dict]:
    """The run's materializations of the forecast, by partition: their metadata."""
    return {event.partition: {k: v.value for k, v in event.metadata.items()}
            for event in result.asset_materializations_for_node(node) if event.asset_key == FORECAST}


@pytest.fixture
def platform(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path, AS_OF)
    instance = dg.DagsterInstance.ephemeral()
    sync_market_partitions(instance, ["US", "DE"])
    resources = {
        "warehouse": WarehouseResource(database=str(path)),
        "merchant_config": MerchantConfigFile(path=str(tmp_path / "crossdock.yaml")),  # no file: the defaults
        "artifacts": ArtifactFolders(exports=str(tmp_path / "exports"), models=str(tmp_path / "models")),
    }

    def run(assets, **tags):
        ops = {a.op.name: CONFIG for a in assets if isinstance(a, dg.AssetsDefinition)}
        result = dg.materialize(assets, resources=resources, run_config={"ops": ops}, instance=instance, tags=tags)
        assert result.success
        return result

    return {"path": path, "instance": instance, "run": run, "models": tmp_path / "models"}


def test_a_run_over_one_market_replaces_only_its_rows_and_keeps_its_own_model(platform):
    path, run = platform["path"], platform["run"]
    every = run([forecast_accuracy, demand_forecast, forecast_quality_gate], **{RANGE_START_TAG: "US", RANGE_END_TAG: "DE"})
    assert sorted(_materialized(every)) == ["DE", "US"]  # one event per market partition, from one run
    assert {e.partition for e in every.asset_materializations_for_node("publish__demand_forecast")
            if e.asset_key == TOTALS} == {"DE", "US"}
    assert _materialized(every)["DE"]["markets"] == "every market"
    before = _staged(path)
    [version] = {versions for _, versions, _ in before.values()}
    assert set(before) == {"US", "DE"} and len(version) == 1  # one model for both markets
    totals_before = dict(_query(path, "select market, sum(mean) from plan_next.forecast_totals where level = 'market' group by market"))

    germany = run([demand_forecast, forecast_quality_gate], **{"dagster/partition": "DE"})
    assert list(_materialized(germany)) == ["DE"]
    meta = _materialized(germany)["DE"]
    assert meta["markets"] == "market DE" and meta["model_retrained"] is True
    assert meta["model_folder"].startswith(str(platform["models"] / "by_market" / "DE"))
    after = _staged(path)
    assert after["US"] == before["US"]  # untouched: another run's rows
    assert after["DE"][0] == before["DE"][0] and after["DE"][1] != version  # the same series, DE's own model
    totals_after = dict(_query(path, "select market, sum(mean) from plan_next.forecast_totals where level = 'market' group by market"))
    assert totals_after["US"] == totals_before["US"]
    assert totals_after["DE"] == pytest.approx(after["DE"][2])  # DE's totals now sum DE's new forecast
    [check] = germany.get_asset_check_evaluations()
    assert check.passed and "5 series" in check.description  # DE's, judged alone: US's rows are another run's

    again = run([demand_forecast], **{"dagster/partition": "DE"})
    assert _materialized(again)["DE"]["model_retrained"] is False  # DE's model is found under its own folder
    assert _staged(path)["US"] == before["US"]


def test_a_market_without_orders_yet_forecasts_nothing_and_says_so(platform):
    path, run, instance = platform["path"], platform["run"], platform["instance"]
    run([forecast_accuracy, demand_forecast], **{RANGE_START_TAG: "US", RANGE_END_TAG: "DE"})
    sync_market_partitions(instance, ["US", "DE", "JP"])  # JP added to crossdock.yaml, no orders yet
    assert instance.get_dynamic_partitions(MARKET_PARTITIONS_NAME) == ["US", "DE", "JP"]

    japan = run([demand_forecast, forecast_quality_gate], **{"dagster/partition": "JP"})
    assert _materialized(japan)["JP"]["dagster/row_count"] == 0
    assert "no demand history" in _materialized(japan)["JP"]["forecast"]
    [check] = japan.get_asset_check_evaluations()
    assert check.passed and "nothing to forecast" in check.description
    assert set(_staged(path)) == {"US", "DE"}

    scope = scope_of_run(instance, {RANGE_START_TAG: "US", RANGE_END_TAG: "DE"})
    assert scope.markets == ("US", "DE") and not scope.every  # JP is a partition now: US..DE is no longer all
    assert scope_of_run(instance, {RANGE_START_TAG: "US", RANGE_END_TAG: "DE", EVERY_MARKET_TAG: "every"}).every
    with pytest.raises(ValueError, match="not a market partition"):
        scope_of_run(instance, {"dagster/partition": "FR"})
    sync_market_partitions(instance, ["US", "DE"])  # JP taken out of the file again
    assert scope_of_run(instance, {RANGE_START_TAG: "US", RANGE_END_TAG: "DE"}).every
    assert scope_of_run(instance, {}).every  # a run launched without partitions forecasts every market
