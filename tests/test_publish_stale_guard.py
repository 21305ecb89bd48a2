"""The publish step refuses a plan_next that mixes two runs' plans (orchestration/defs/publish/assets.py).

The guard reads, from Dagster's event log, when each plan table and each of its
inputs was last materialized. These tests store those materializations under
run ids of their own in a real (temporary) instance and ask the guard.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry

from crossdock.settings import Settings
from orchestration.defs.publish.assets import behind_this_run, older_than_their_inputs, plan_keys, stale_plan_tables


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """The asset graph of the daily_planning job, as the publish step sees it."""
    from orchestration.definitions import build_definitions

    job = build_definitions(Settings.under(tmp_path_factory.mktemp("defs"))).resolve_job_def("daily_planning")
    return job.asset_layer.asset_graph


def materialized(instance: dg.DagsterInstance, key: dg.AssetKey, run_id: str) -> None:
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name="daily_planning",
        event_specific_data=StepMaterializationData(dg.AssetMaterialization(asset_key=key)),
    )
    instance.store_event(EventLogEntry(
        error_info=None, level="INFO", user_message="", run_id=run_id, timestamp=time.time(), dagster_event=event,
    ))


def guard(graph, instance: dg.DagsterInstance) -> list[str]:
    context = SimpleNamespace(job_def=SimpleNamespace(asset_layer=SimpleNamespace(asset_graph=graph)), instance=instance)
    return older_than_their_inputs(context)


def a_whole_run(graph, instance: dg.DagsterInstance, run_id: str) -> None:
    """Every plan table and every input of one materialized by `run_id`, inputs first."""
    inputs = {parent for key in plan_keys() for parent in graph.get(key).parent_keys} - set(plan_keys())
    for key in [*sorted(inputs), *plan_keys()]:
        materialized(instance, key, run_id)


def test_a_plan_never_built_is_named_table_by_table(graph):
    with dg.instance_for_test() as instance:
        stale = guard(graph, instance)
    assert stale == [f"{key.to_user_string()} (never built)" for key in plan_keys()]


def test_one_run_that_built_the_whole_plan_is_one_plan(graph):
    with dg.instance_for_test() as instance:
        a_whole_run(graph, instance, "run-a")
        assert guard(graph, instance) == []


def test_an_input_rebuilt_by_a_later_run_makes_the_tables_built_from_it_stale(graph):
    [table, *_] = plan_keys()
    [parent, *_] = sorted(graph.get(table).parent_keys)
    readers = sorted(key.to_user_string() for key in plan_keys() if parent in graph.get(key).parent_keys)
    with dg.instance_for_test() as instance:
        a_whole_run(graph, instance, "run-a")
        time.sleep(0.01)  # the event log orders by time: the later run's event must be later
        materialized(instance, parent, "run-b")
        stale = guard(graph, instance)
    assert sorted(line.split(" (")[0] for line in stale) == readers
    assert all(f"(older than {parent.to_user_string()} of run run-b)" in line for line in stale)


def behind(graph, instance: dg.DagsterInstance, run_id: str) -> list[str]:
    context = SimpleNamespace(job_def=SimpleNamespace(asset_layer=SimpleNamespace(asset_graph=graph)), instance=instance,
                              run_id=run_id)
    return behind_this_run(context, stale_plan_tables(context))


def test_the_forecast_behind_inputs_this_run_rebuilt_is_waited_for_and_behind_another_runs_is_not(graph):
    """Declarative automation runs the market-partitioned forecast after its inputs' run: that run's publish waits."""
    training = dg.AssetKey(["marts", "fct_daily_demand"])
    partitioned = sorted(key.to_user_string() for key in plan_keys() if graph.get(key).is_partitioned)
    assert partitioned == ["publish/demand_forecast", "publish/forecast_totals"]
    with dg.instance_for_test() as instance:
        a_whole_run(graph, instance, "run-a")
        assert behind(graph, instance, "run-a") == []
        time.sleep(0.01)
        # the automation's first run: the inputs and every plan table but the market-partitioned forecast
        inputs = {parent for key in plan_keys() for parent in graph.get(key).parent_keys} - set(plan_keys())
        for key in [training, *sorted(inputs - {training}), *(k for k in plan_keys() if not graph.get(k).is_partitioned)]:
            materialized(instance, key, "run-b")
        stale = guard(graph, instance)
        assert {line.split(" (")[0] for line in stale} == set(partitioned)  # only the forecast is behind
        assert sorted(behind(graph, instance, "run-b")) == partitioned  # run-b's publish waits for it
        assert behind(graph, instance, "run-c") == []  # a later run that did not rebuild them: the guard fails it
