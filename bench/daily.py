"""Time a merchant's day: the first full run, a run after one new day of orders, a run with nothing new.

    .venv/bin/python bench/daily.py                       # the demo merchant at scale 1.0 in a temp folder
    .venv/bin/python bench/daily.py --scale 0.3 --keep    # smaller; keep the folder to look at
    .venv/bin/python bench/daily.py --workdir DIR         # DIR already holds a planned merchant: skip the full run

Each run is `crossdock run` in a subprocess, as a planner types it, so the
times include start-up and the summary. The daily run's ratio to the full run
(same session, same machine) is what issue 15 targets (<= 10%, <= 60 s), and
the nothing-new run should stop in seconds. The new day is the last order day's
lines again, a day later, under new order ids, in its own export file.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def environment(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CROSSDOCK_WAREHOUSE": str(root / "warehouse" / "crossdock.duckdb"),
        "CROSSDOCK_LANDING": str(root / "landing"),
        "CROSSDOCK_EXPORTS": str(root / "exports"),
        "CROSSDOCK_MODELS": str(root / "models"),
        "CROSSDOCK_CONFIG": str(root / "crossdock.yaml"),
        "DAGSTER_HOME": str(root / ".dagster_home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def crossdock(root: Path, *args: str) -> tuple[float, str]:
    """Run `crossdock <args>` on the merchant under `root`; its wall time and stdout (fails loudly)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli", *args], env=environment(root), cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"crossdock {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def _last_day_named(path: Path) -> dt.date:
    """The last day an export's name covers: orders_2026-10.csv is October, orders_2026-10-31.csv one day.

    By name alone the day file sorts before its month's file, so a second run landed the same day again.
    """
    period = path.stem.removeprefix("orders_")
    if len(period) == len("2026-10-31"):
        return dt.date.fromisoformat(period)
    first = dt.date.fromisoformat(f"{period}-01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def land_one_more_day(landing: Path) -> Path:
    """The last order day's lines again, one day later and under new ids, as a new export file."""
    exports = (landing / "orders").glob("orders_*.csv")
    orders = pd.read_csv(max(exports, key=lambda p: (_last_day_named(p), len(p.name))), dtype=str)  # the day file wins a tie
    local_days = pd.to_datetime(orders["ordered_at"].str[:10]).dt.date  # the day as the shop wrote it
    last = orders[local_days == local_days.max()].copy()
    last["ordered_at"] = [
        (pd.Timestamp(s) + pd.Timedelta(days=1)).isoformat() for s in last["ordered_at"]
    ]
    last["order_id"] = "NEXTDAY-" + last["order_id"]
    day = local_days.max() + dt.timedelta(days=1)
    path = landing / "orders" / f"orders_{day.isoformat()}.csv"
    last.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="a merchant already planned here: skip generate and the full run")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="crossdock-daily-"))
    if args.workdir is not None and not (root / "warehouse" / "crossdock.duckdb").exists():
        sys.exit(f"--workdir {root}: no planned merchant there (no warehouse/crossdock.duckdb); leave --workdir out "
                 "to generate one and plan it first, or point it at a folder `make demo` or `--keep` left")
    times: dict[str, float] = {}
    if args.workdir is None:
        print(f"generating the demo merchant (scale {args.scale}) in {root} ...", flush=True)
        crossdock(root, "generate", "--scale", str(args.scale), "--seed", str(args.seed))
        print("full run (first plan of the merchant) ...", flush=True)
        times["full run"], _ = crossdock(root, "run")
        print(f"  {times['full run']:.0f} s", flush=True)
    new_file = land_one_more_day(root / "landing")
    print(f"one new day landed: {new_file.name} ({sum(1 for _ in new_file.open()) - 1} lines); daily run ...", flush=True)
    times["daily run"], _ = crossdock(root, "run")
    print(f"  {times['daily run']:.0f} s", flush=True)
    times["nothing new"], out = crossdock(root, "run")
    print(f"  nothing new: {times['nothing new']:.1f} s ({'skipped' if 'nothing new' in out else 'RAN AGAIN'})", flush=True)

    print("\nrun            seconds   vs full run")
    for name, seconds in times.items():
        ratio = f"{seconds / times['full run']:.3f}x" if "full run" in times else "-"
        print(f"{name:<14} {seconds:>7.1f}   {ratio}")
    if args.workdir is None and not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"\nmerchant kept in {root}")


if __name__ == "__main__":
    main()
