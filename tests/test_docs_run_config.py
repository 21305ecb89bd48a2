"""The run config the docs tell a user to paste into the Dagster launchpad is valid for the job it names.

A step renamed (an asset turned multi-asset takes its function's name) or a
config field renamed would otherwise leave the docs pointing at keys the
launchpad refuses. Every ```yaml block that starts with `ops:` and every
inline `ops: {...}` in docs/ is checked against daily_planning.
"""
from __future__ import annotations

import re

import dagster as dg
import pytest
import yaml

from crossdock.settings import PROJECT_ROOT

BLOCK = re.compile(r"```yaml\n(ops:\n.*?)```", re.DOTALL)
INLINE = re.compile(r"`(ops: \{.*?\})`")


def documented_run_configs() -> list[tuple[str, str]]:
    found = []
    for page in sorted((PROJECT_ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        found += [(f"{page.name}: block", block) for block in BLOCK.findall(text)]
        found += [(f"{page.name}: {snippet}", snippet) for snippet in INLINE.findall(text.replace("\n", " "))]
    return found


def test_the_docs_show_run_config_for_the_steps_a_planner_tunes():
    shown = " ".join(snippet for _, snippet in documented_run_configs())
    for step in ("scenarios", "inventory_planning", "forecast_accuracy", "crossdock_dbt_models"):
        assert f"{step}:" in shown, step


@pytest.mark.parametrize("where, snippet", documented_run_configs(), ids=lambda value: value[:60])
def test_documented_run_config_is_valid_for_the_daily_job(where, snippet):
    from orchestration.definitions import defs

    job = defs.resolve_job_def("daily_planning")
    assert dg.validate_run_config(job, yaml.safe_load(snippet)), where
