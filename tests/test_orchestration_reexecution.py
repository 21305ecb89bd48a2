"""A run that fails half-way is re-executed from failure: finished steps are not run again.

This is what the UI's Re-execute > From failure does. Jobs are built from a
module-level function so they are reconstructable, as a launched run's are.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

STATE = "CROSSDOCK_TEST_REEXECUTION_STATE"


def _log(step: str) -> None:
    state = Path(os.environ[STATE])
    with (state / "calls.jsonl").open("a") as calls:
        calls.write(json.dumps(step) + "\n")


@dg.asset
def extract() -> None:
    _log("extract")


@dg.asset(deps=[extract])
def model() -> None:
    _log("model")
    if (Path(os.environ[STATE]) / "broken").exists():
        raise RuntimeError("model input is broken: fix the feed and re-execute from failure")


@dg.asset(deps=[model])
def publish() -> None:
    _log("publish")


def nightly_job() -> dg.JobDefinition:
    job = dg.define_asset_job("nightly", executor_def=dg.in_process_executor)  # child processes could not import this file
    return dg.Definitions(assets=[extract, model, publish], jobs=[job]).resolve_job_def("nightly")


def test_a_failed_run_re_executes_from_failure_without_rerunning_what_succeeded(tmp_path, monkeypatch):
    monkeypatch.setenv(STATE, str(tmp_path))
    (tmp_path / "broken").touch()
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        job = dg.reconstructable(nightly_job)
        with dg.execute_job(job, instance=instance) as failed:
            assert not failed.success
        (tmp_path / "broken").unlink()  # the operator fixes the cause
        options = dg.ReexecutionOptions.from_failure(failed.run_id, instance)
        with dg.execute_job(job, instance=instance, reexecution_options=options) as retried:
            assert retried.success
            assert retried.dagster_run.parent_run_id == failed.run_id
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert calls == ["extract", "model", "model", "publish"]  # extract ran once; model twice; publish after the fix
