"""The manifest Dagster reads is parsed again when a file of the dbt project changed, and only then, by one process."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from crossdock.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.lib.resources import manifest_is_stale


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_a_changed_model_makes_the_manifest_stale_and_what_dbt_writes_does_not(tmp_path):
    project = SimpleNamespace(project_dir=tmp_path, manifest_path=tmp_path / "target" / "manifest.json")
    assert manifest_is_stale(project)  # no manifest yet
    _touch(tmp_path / "dbt_project.yml", 1_000)
    _touch(tmp_path / "models" / "staging" / "stg_orders.sql", 1_000)
    _touch(project.manifest_path, 2_000)
    # dbt's own output, however new and however many files: a run's folder, its logs
    for n in range(50):
        _touch(tmp_path / "target" / f"crossdock_dbt_models-{n}" / "run_results.json", 3_000)
    _touch(tmp_path / "logs" / "dbt.log", 3_000)
    assert not manifest_is_stale(project)
    _touch(tmp_path / "models" / "staging" / "stg_orders.sql", 2_500)
    assert manifest_is_stale(project)


def test_only_the_newest_dbt_invocation_folders_are_kept(tmp_path):
    from crossdock.dbt_cli import prune_invocation_folders

    for n in range(13):
        folder = tmp_path / f"crossdock_dbt_models-run{n:02d}"
        _touch(folder / "run_results.json", 1_000 + n)
        os.utime(folder, (1_000 + n, 1_000 + n))
    _touch(tmp_path / "manifest.json", 5_000)  # the project's own manifest is not an invocation folder
    (tmp_path / "docs").mkdir()
    removed = prune_invocation_folders(tmp_path, "crossdock_dbt_models", keep=10)
    assert sorted(p.name for p in removed) == ["crossdock_dbt_models-run00", "crossdock_dbt_models-run01", "crossdock_dbt_models-run02"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [f"crossdock_dbt_models-run{n:02d}" for n in range(3, 13)] + ["docs", "manifest.json"]


PARSE_ONCE = """
import json, sys
from pathlib import Path
from dagster_dbt import DbtProject
from orchestration.lib.resources import parse_if_stale
project = DbtProject(project_dir=Path(sys.argv[1]), profiles_dir=Path(sys.argv[1]))
print("parsed" if parse_if_stale(project) else "fresh")
json.loads(Path(project.manifest_path).read_text())  # whole, whatever the other process did
"""


@pytest.mark.slow
def test_processes_starting_together_parse_the_project_once_and_leave_a_whole_manifest(tmp_path):
    """Two workers of a fresh checkout both found the manifest missing and wrote it at once; one could not read it."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CROSSDOCK_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    runs = [subprocess.Popen([sys.executable, "-c", PARSE_ONCE, str(project)], cwd=PROJECT_ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = []
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        outcomes.append(out.strip().splitlines()[-1])
    assert sorted(outcomes) == ["fresh", "parsed"]
    assert json.loads((project / "target" / "manifest.json").read_text())["nodes"]
