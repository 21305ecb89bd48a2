"""Time the job as the Dagster UI runs it: in the run's process (the definitions' default), against a process per
step, spawned or forked from a server that imported the definitions once. `python bench/executor.py`.

    .venv/bin/python bench/executor.py                    # the demo merchant at scale 0.05 in a temp folder
    .venv/bin/python bench/executor.py --scale 0.2 --keep

A run launched from the UI, a schedule or a sensor executes daily_planning
with the definitions' executor (orchestration/lib/executors.py): its steps in
the run's process unless the launchpad asks for Dagster's multiprocess
executor, each step in a process of its own. Started by `spawn` (Dagster's
default start), every step process imports the code location again
(dagster, dagster-dbt, LightGBM, matplotlib, pandas: seconds of CPU) and
builds the definitions before doing its work; started by `forkserver`,
Dagster preloads the code location's module once in a server process and
forks each step from it. `crossdock run` is the last row.

Each row but the last is `dagster job execute -m orchestration.definitions -j
daily_planning`, with the executor's choice in the run config (none for the
default), the last `crossdock run`, each in a subprocess over its own copy of
the same generated landing folder, its own warehouse and Dagster instance,
one after the other. Prints each wall time and the ratios to the spawned
process per step. Timing lives here, not in tests.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere: python bench/executor.py

from crossdock.settings import Settings, settings_variables  # noqa: E402
from demo.generate import generate  # noqa: E402
from demo.network import install_demo_config  # noqa: E402

RUN_CONFIGS: dict[str, dict | None] = {
    "a process per step, spawned": {"multiprocess": {"start_method": {"spawn": {}}}},
    "a process per step, forkserver": {"multiprocess": {"start_method": {"forkserver": {}}}},
    "the definitions' default (the run's process)": None,
}


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ, **settings_variables(settings), "DAGSTER_HOME": str(settings.dagster_home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _timed(command: list[str], settings: Settings) -> float:
    """Seconds `command` took over the merchant `settings`; exits with its output when it fails."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(command, env=_environment(settings), cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="demo generator scale")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, help="default: a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the folder")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crossdock-executor-"))
    try:
        source = Settings.under(workdir / "generated")
        generate(source.landing, scale=args.scale, seed=args.seed)
        install_demo_config(source.config)
        print(f"merchant: demo scale {args.scale}, seed {args.seed}, under {workdir}", flush=True)
        runs: list[tuple[str, list[str]]] = []
        for index, (label, execution) in enumerate(RUN_CONFIGS.items()):
            command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "orchestration.definitions",
                       "-j", "daily_planning"]
            if execution is not None:
                run_config = workdir / f"run{index}.yaml"
                run_config.write_text(yaml.safe_dump({"execution": {"config": execution}}))
                command += ["-c", str(run_config)]
            runs.append((label, command))
        runs.append(("crossdock run (in-process executor)", [sys.executable, "-m", "cli", "run"]))
        seconds: dict[str, float] = {}
        for index, (label, command) in enumerate(runs):
            settings = dataclasses.replace(Settings.under(workdir / f"run{index}"), config=source.config)
            shutil.copytree(source.landing, settings.landing)
            seconds[label] = _timed(command, settings)
            print(f"{label:<45} {seconds[label]:7.1f} s", flush=True)
        baseline = next(iter(seconds.values()))
        for label, value in seconds.items():
            print(f"ratio to a spawned process per step: {label:<45} {value / baseline:.2f}x", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
