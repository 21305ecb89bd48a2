"""Declarative automation: new orders refresh what depends on orders, and nothing refreshes when nothing changed."""
from __future__ import annotations

import dagster as dg

from crossdock.settings import Settings
from orchestration.defs.automation.declarative import PUBLISHED_FRESHNESS
from orchestration.lib.market_partitions import sync_market_partitions


def definitions(tmp_path) -> dg.Definitions:
    from orchestration.definitions import build_definitions

    return build_definitions(Settings.under(tmp_path))


def requested(result) -> set[str]:
    return {key.to_user_string() for key in (r.key for r in result.results) if result.get_num_requested(key) > 0}


def test_new_orders_refresh_their_downstream_and_nothing_runs_when_nothing_changed(tmp_path):
    defs = definitions(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert requested(first) == set()  # turning the sensor on does not start a rebuild by itself

    sync_market_partitions(instance, ["US", "DE"])  # the forecast's market partitions (crossdock.yaml's markets)
    for key in graph.get_all_asset_keys():  # as if the daily job had built everything, every market of the forecast
        if key.path[0] != "raw":
            partitions = ["US", "DE"] if graph.get(key).is_partitioned else [None]
            for partition in partitions:
                instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))
    built = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=built.cursor)
    assert requested(built) == requested(quiet) == set()  # nothing changed, nothing runs

    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["raw", "orders"])))
    orders = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    after_orders = requested(orders)
    assert {"staging/stg_orders", "marts/fct_daily_demand", "publish/inventory_plan",
            "publish/order_landed_cost", "exports/bi_publish_copies"} <= after_orders
    assert not any(key.startswith("reference/") for key in after_orders)  # seeds do not depend on orders
    assert "staging/stg_suppliers" not in after_orders

    # The forecast is partitioned by market and its inputs are not, so Dagster cannot run them together: it
    # follows on the next tick, once the models it reads are rebuilt, every market of it.
    assert "publish/demand_forecast" not in after_orders
    for key in (dg.AssetKey(["marts", "fct_daily_demand"]), dg.AssetKey(["intermediate", "int_planning_calendar"])):
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    next_tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=orders.cursor)
    forecast = dg.AssetKey(["publish", "demand_forecast"])
    assert next_tick.get_num_requested(forecast) == 2  # US and DE


def test_published_tables_carry_the_daily_freshness_policy(tmp_path):
    graph = definitions(tmp_path).resolve_asset_graph()
    published = [k for k in graph.get_all_asset_keys() if k.path[0] == "publish" and graph.get(k).is_materializable]
    assert len(published) >= 15
    assert all(graph.get(k).freshness_policy == PUBLISHED_FRESHNESS for k in published)
