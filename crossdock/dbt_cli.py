"""How crossdock calls dbt outside Dagster: finding the executable, and the data dictionary.

The data dictionary is dbt's docs site for every table, as one static HTML file.

`dbt docs generate --static` writes a self-contained page (manifest and
catalog inlined), so it can be mailed, put on a file share or opened from
disk with no server. The catalog reads column types from the warehouse, so
generate it after a run, not during one (DuckDB allows one writer).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from crossdock.publish import PUBLISH_SCHEMA
from crossdock.settings import DBT_PROJECT_DIR, Settings, export_to_environment

# The docs build has its own target folder: its manifest names the published models
# publish.*, while the manifest Dagster runs from (target/manifest.json) must name
# plan_next.*, where a run builds them (a shared one made the next run count rows in
# the wrong schema).
DOCS_TARGET = DBT_PROJECT_DIR / "target" / "docs"


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so a venv that is not on PATH still works."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


def prune_invocation_folders(target: Path, prefix: str, keep: int = 10) -> list[Path]:
    """Remove all but the `keep` newest folders `<target>/<prefix>-*`; the folders removed.

    dagster-dbt gives every dbt invocation its own target folder (its manifest,
    run results and a debug log, about 10 MB) and never removes one: a daily
    run left 3.6 GB a year, and the code location's start walked them all.
    The newest are kept to look into a recent run.
    """
    folders = sorted((p for p in target.glob(f"{prefix}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = folders[keep:]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(invocation_target: Path, project_target: Path) -> bool:
    """Carry a dbt invocation's parse state back to the project's target folder; True when copied.

    dagster-dbt gives each invocation its own target folder and seeds it with
    `<project target>/partial_parse.msgpack`, but never copies the newer one
    back. The one in the project target comes from `dbt parse` (orchestration/lib/resources.py),
    and dbt throws a parse state away when the profile differs (here: the
    warehouse path, which `dbt parse` did not see), so every run parsed the whole
    project again: 9 s of CPU against 4.6 s with the state (measured on the demo
    project). dbt still checks every file's hash, vars and the profile before it
    trusts the state, so a stale copy costs a full parse, never a wrong build.
    The copy is written beside the target and renamed, so a concurrent run
    reads either the old file or the new one.
    """
    source = invocation_target / PARTIAL_PARSE
    if not source.is_file():
        return False
    project_target.mkdir(parents=True, exist_ok=True)
    staged = project_target / f".{PARTIAL_PARSE}.{os.getpid()}"
    shutil.copyfile(source, staged)
    os.replace(staged, project_target / PARTIAL_PARSE)
    return True


def generate_docs(settings: Settings) -> Path:
    """Write CROSSDOCK_EXPORTS/docs/index.html and return its path; raises with dbt's output on failure."""
    if not settings.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse}: run the planning job first (`crossdock demo`)")
    export_to_environment(settings)
    # the published models as BI reads them (publish.*), not where a run stages them (plan_next)
    command = [dbt_executable(), "docs", "generate", "--static", "--vars", json.dumps({"plan_schema": PUBLISH_SCHEMA}),
               "--target-path", str(DOCS_TARGET),
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    done = subprocess.run(command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt docs generate failed (exit {done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    target = settings.exports / "docs" / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DOCS_TARGET / "static_index.html", target)
    return target
