"""Importing a module of the project does no work: no subprocess, no folder or file written, no
environment change, no project file read.

Work at import runs in every process that merely imports the module (the
Dagster UI's code server, a test, `crossdock --help`), in whatever directory
it was started from, before any setting could point it elsewhere; before
this test, importing orchestration.resources could spawn `dbt parse` and
importing orchestration.definitions wrote os.environ and made the warehouse
folder. Every package is imported, module by module, in one fresh interpreter
started in an empty temp folder, with an audit hook that records what our
own code does and which project line did it (a library doing its own set-up
while it is imported is not counted: that is the library's business). Each
act is laid at the door of the package holding that line, so one interpreter
serves every package's test: a fresh one per package imported dagster, dbt
and pandas eleven times over (~38 s of the suite against ~11 s).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(path.parent.name for path in PROJECT_ROOT.glob("*/__init__.py"))

# Modules that still read a project file at import, each with why it is not fixed here. Keep it short:
# the test fails when one of them stops (remove it) or another starts.
STILL_READING_AT_IMPORT: dict[str, str] = {}

pytestmark = pytest.mark.slow

PROBE = r"""
import importlib, json, os, pkgutil, sys

root, packages = os.path.realpath(sys.argv[1]), sys.argv[2:]
venv = os.path.join(root, ".venv")
cwd = os.path.realpath(os.getcwd())
events = []


def project(frame):
    name = frame.f_code.co_filename
    return name.startswith(root) and not name.startswith(venv)


def culprit():
    # The module-level project line that led to the act (the statement run at import), or None when a
    # library acted while it was itself being imported.
    frame = sys._getframe(2)
    while frame and not project(frame):
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return None
        frame = frame.f_back
    found = None
    while frame and not frame.f_code.co_filename.startswith("<frozen importlib"):
        if project(frame):
            found = frame
        frame = frame.f_back
    return (os.path.relpath(found.f_code.co_filename, root), found.f_lineno) if found else None


def ours(path):
    path = os.path.realpath(path)
    return (path.startswith(root) and not path.startswith(venv)) or path.startswith(cwd)


def hook(event, args):
    if event == "open":
        path, mode = args[0], args[1] or "r"
        if not isinstance(path, (str, bytes, os.PathLike)) or str(path).endswith((".py", ".pyc")):
            return
        path = os.fsdecode(path)
        writes = any(flag in str(mode) for flag in "wax+")
        if not writes and (not ours(path) or ".egg-info" in path):
            return
        detail = ("write " if writes else "read ") + path
    elif event in ("subprocess.Popen", "os.system", "os.mkdir", "os.putenv", "os.unsetenv", "os.rename", "os.remove"):
        detail = f"{event} {str(args[:2])[:200]}"
    else:
        return
    where = culprit()
    if where:
        events.append({"file": where[0], "line": where[1], "what": detail})


sys.addaudithook(hook)
for package in packages:
    top = importlib.import_module(package)
    for module in pkgutil.walk_packages(top.__path__, package + "."):
        if not module.name.endswith(".__main__"):  # a __main__ runs its command: that is what it is for
            importlib.import_module(module.name)
print(json.dumps(events))
"""


def _package_of(project_file: str) -> str:
    """The package a project file (relative to the root) belongs to: its top folder."""
    return Path(project_file).parts[0]


@pytest.fixture(scope="module")
def import_work(tmp_path_factory) -> dict[str, tuple[list[dict], list[str]]]:
    """`package` -> (what its own lines did while every package was imported, what the imports left in their
    empty working folder), from one fresh interpreter for all the packages."""
    cwd = tmp_path_factory.mktemp("imports")
    # a script, not `python -c`: with no __file__ on __main__, pyspark (imported by Great Expectations when it
    # is installed) takes the run for its own doctests and exits 0 in the middle of the imports
    probe = tmp_path_factory.mktemp("probe") / "probe.py"
    probe.write_text(PROBE)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, str(probe), str(PROJECT_ROOT), *PACKAGES],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    events = json.loads(result.stdout.strip().splitlines()[-1])
    left = sorted(p.name for p in cwd.iterdir())
    outside = [e for e in events if _package_of(e["file"]) not in PACKAGES]
    assert outside == [], f"acts at import by project lines outside every package: {outside}"
    return {package: ([e for e in events if _package_of(e["file"]) == package], left) for package in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_does_no_work(package, import_work):
    events, left_in_cwd = import_work[package]
    assert left_in_cwd == [], "importing wrote into the current directory"
    unexpected = [e for e in events if not (e["what"].startswith("read ") and e["file"] in STILL_READING_AT_IMPORT)]
    assert unexpected == [], "\n".join(f"{e['file']}:{e['line']}: {e['what']}" for e in unexpected)


def test_the_modules_still_reading_at_import_are_the_listed_ones(import_work):
    """The list above is exact: a module that stops reading at import leaves it, one that starts is caught."""
    readers = {e["file"] for package in PACKAGES for e in import_work[package][0] if e["what"].startswith("read ")}
    assert readers == set(STILL_READING_AT_IMPORT)


def test_building_the_definitions_does_not_load_the_libraries_only_a_step_needs(tmp_path):
    """statsforecast brings statsmodels (2 s of every start): only a backtest that fits its baselines loads it.
    Great Expectations (~3 CPU-s) is loaded by a quality gate when it runs, LightGBM (with scikit-learn, 0.9 s)
    where a booster is trained or read, matplotlib (0.6 s) where the forecast's charts are drawn, scipy.stats
    (0.6-1 s) where an override raises a forecast of nothing: not by the code server, a run's process or the CLI
    building the job."""
    probe = (
        "import sys, pathlib, ml.backtest; from orchestration.definitions import build_definitions; "
        "from crossdock.settings import Settings; "
        f"build_definitions(Settings.under(pathlib.Path({str(tmp_path)!r}))).resolve_job_def('daily_planning'); "
        "print(sorted(m for m in ('statsforecast', 'statsmodels', 'great_expectations', 'lightgbm', 'sklearn', "
        "'matplotlib', 'scipy.stats') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
