"""A run's dbt parse state is carried back to the project's target folder, so the next run parses less."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crossdock.dbt_cli import PARTIAL_PARSE, dbt_executable, keep_partial_parse
from crossdock.settings import DBT_PROJECT_DIR


def test_the_invocations_state_replaces_the_projects(tmp_path):
    invocation, project = tmp_path / "target" / "crossdock_dbt_models-abc", tmp_path / "target"
    invocation.mkdir(parents=True)
    (project / PARTIAL_PARSE).write_bytes(b"old")
    (invocation / PARTIAL_PARSE).write_bytes(b"new")
    assert keep_partial_parse(invocation, project)
    assert (project / PARTIAL_PARSE).read_bytes() == b"new"
    assert sorted(p.name for p in project.iterdir()) == sorted([PARTIAL_PARSE, invocation.name])  # no staged copy left


def test_an_invocation_without_state_leaves_the_project_alone(tmp_path):
    invocation, project = tmp_path / "inv", tmp_path / "target"
    invocation.mkdir()
    project.mkdir()
    (project / PARTIAL_PARSE).write_bytes(b"old")
    assert not keep_partial_parse(invocation, project)
    assert (project / PARTIAL_PARSE).read_bytes() == b"old"


def _parse(target: Path, warehouse: Path) -> str:
    env = {**os.environ, "CROSSDOCK_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    done = subprocess.run(
        [dbt_executable(), "parse", "--target-path", str(target), "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=True,
    )
    return done.stdout + done.stderr


@pytest.mark.slow
def test_the_next_invocation_on_the_same_warehouse_parses_partially(tmp_path):
    """What dagster-dbt does between two runs: seed a new invocation folder from the project's target."""
    warehouse, project = tmp_path / "w.duckdb", tmp_path / "target"
    first = tmp_path / "run-1"
    _parse(first, warehouse)
    assert keep_partial_parse(first, project)
    second = tmp_path / "run-2"
    second.mkdir()
    shutil.copyfile(project / PARTIAL_PARSE, second / PARTIAL_PARSE)
    assert "Unable to do partial parsing" not in _parse(second, warehouse)
