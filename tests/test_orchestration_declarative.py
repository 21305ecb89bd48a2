"""A landing starts one planning run, never a cascade: no asset carries an automation condition, and the landing
sensor asks for daily_planning over every market (declarative automation split it into ~10 runs, some started before
their inputs' run ended, one publishing the plan of the day before)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg

from crossdock.merchant_config import load_config
from crossdock.settings import Settings
from orchestration.defs.automation.freshness import PUBLISHED_FRESHNESS
from orchestration.defs.automation.sensors import landing_files_sensor
from orchestration.lib.resources import LandingFolder, MerchantConfigFile


def definitions(tmp_path) -> dg.Definitions:
    from orchestration.definitions import build_definitions

    return build_definitions(Settings.under(tmp_path))


def test_nothing_is_started_by_declarative_automation(tmp_path):
    defs = definitions(tmp_path)
    graph = defs.resolve_asset_graph()
    assert not [k for k in graph.get_all_asset_keys() if graph.get(k).automation_condition]
    # so Dagster adds no default_automation_condition_sensor either
    assert {s.name for s in defs.get_repository_def().sensor_defs} == {
        "landing_files_sensor", "run_failures_to_audit", "recover_killed_runs"}
    instance = dg.DagsterInstance.ephemeral()
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["raw", "orders"])))
    assert dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor).total_requested == 0


def test_a_landing_asks_for_one_planning_run_over_every_market(tmp_path):
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    config = tmp_path / "crossdock.yaml"
    config.write_text((Path(__file__).resolve().parents[1] / "demo" / "crossdock.yaml").read_text())
    landed = tmp_path / "landing" / "orders" / "orders_2026-10-30.csv"
    landed.write_text("order_id\n1\n")
    old = time.time() - 120
    for path in (landed, config):
        os.utime(path, (old, old))
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources={
        "landing": LandingFolder(path=str(tmp_path / "landing")), "merchant_config": MerchantConfigFile(path=str(config))})
    request = landing_files_sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert landing_files_sensor.job_name == "daily_planning"  # ingest, models, forecast, plans, publish: one run
    markets = load_config(config).market_codes
    assert instance.get_dynamic_partitions("market") == markets  # synced to the file by the tick
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        markets[0], markets[-1])
    assert request.tags["crossdock/files_dated"] == "2026-10-30..2026-10-30"


def test_published_tables_carry_the_daily_freshness_policy(tmp_path):
    graph = definitions(tmp_path).resolve_asset_graph()
    published = [k for k in graph.get_all_asset_keys() if k.path[0] == "publish" and graph.get(k).is_materializable]
    assert len(published) >= 15
    assert all(graph.get(k).freshness_policy == PUBLISHED_FRESHNESS for k in published)
