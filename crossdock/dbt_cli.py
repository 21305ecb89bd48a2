"""How crossdock calls dbt outside Dagster: finding the executable, and the data dictionary.

The data dictionary is dbt's docs site for every table, as one static HTML file.

`dbt docs generate --static` writes a self-contained page (manifest and
catalog inlined), so it can be mailed, put on a file share or opened from
disk with no server. The catalog reads column types from the warehouse, so
generate it after a run, not during one (DuckDB allows one writer).
"""
from __future__ import annotations

import json
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
