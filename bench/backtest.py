"""Time the backtest with its baselines fitted on a year against a shorter window: `python bench/backtest.py`.

    python bench/backtest.py                                  # demo data, scale 1 (~800 series), 820 days
    python bench/backtest.py --before 364 --after 112 --windows 4
    python bench/backtest.py --history fct_daily_demand.parquet --json out.json

Runs `ml.backtest.backtest` twice on the same history, once with the
statsforecast baselines (AutoETS, CrostonOptimized) fitted on `--before` days
per series and once on `--after` days, and prints for each the wall time of
the whole backtest, the seconds per model summed over the windows and every
model's overall WAPE, then the ratio before / after. The LightGBM part and
seasonal naive are the same in both runs (the lightgbm WAPE must match), so
the difference is the baselines' cost, and the WAPE columns show what the
cheaper yardstick gives up or gains.

Same input as `bench/forecast.py` (`bench/demand_history.py`: the tidy demo
merchant's feeds built like the mart, or `--history` / `--landing`). Timing lives here, not in tests:
the shared machines are too noisy for time assertions.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/backtest.py

from bench.demand_history import demo_history, history_from_landing  # noqa: E402
from ml.backtest import backtest  # noqa: E402
from ml.backtest_scores import MODEL, NAIVE  # noqa: E402


def timed_backtest(history: pd.DataFrame, as_of, args: argparse.Namespace, fit_days: int) -> dict:
    """One backtest with the baselines fitted on `fit_days` days: wall time, seconds per model, overall WAPE."""
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = backtest(
        history, as_of, args.horizon, args.windows, args.seed,
        baseline_fit_days=fit_days, baseline_jobs=args.baseline_jobs,
    )
    wall = time.perf_counter() - t0
    overall = result.overall()
    seconds = {
        m: float(result.windows[f"seconds_{m}"].sum()) for m in overall.index if f"seconds_{m}" in result.windows
    }
    return {
        "fit_days": fit_days,
        "wall_seconds": wall,
        "cpu_seconds_main_process": time.process_time() - cpu0,
        "seconds_by_model": seconds,
        "wape": {m: float(overall.loc[m, "wape"]) for m in overall.index},
        "load_average_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, help="parquet or CSV shaped like marts.fct_daily_demand")
    parser.add_argument("--landing", type=Path, help="landing folder with orders/ and suppliers/ CSVs")
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale when no input is given (1.0 = make demo)")
    parser.add_argument("--days", type=int, default=820, help="demo history length in days")
    parser.add_argument("--horizon", type=int, default=56)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", type=int, default=364, help="baseline fit days of the old setting")
    parser.add_argument("--after", type=int, default=None, help="baseline fit days of the new one (default: the code's)")
    parser.add_argument("--baseline-jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.after is None:
        import inspect

        args.after = inspect.signature(backtest).parameters["baseline_fit_days"].default

    t_load = time.perf_counter()
    if args.landing:
        history = history_from_landing(args.landing)
    elif args.history:
        history = pd.read_parquet(args.history) if args.history.suffix == ".parquet" else pd.read_csv(args.history)
    else:
        history = demo_history("tidy", args.scale, args.days, args.seed)
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    as_of = history["demand_date"].max().date()
    print(f"history: {len(history):,} rows, {history.groupby(['sku', 'market']).ngroups:,} series, as_of {as_of} "
          f"(built in {time.perf_counter() - t_load:.1f}s); load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs, baseline_jobs {args.baseline_jobs}", flush=True)

    runs = [timed_backtest(history, as_of, args, days) for days in (args.before, args.after)]
    for run in runs:
        per_model = ", ".join(f"{m} {s:.1f}s" for m, s in run["seconds_by_model"].items())
        wapes = ", ".join(f"{m} {w:.3f}" for m, w in run["wape"].items())
        print(f"baselines fitted on {run['fit_days']:>3} days: backtest {run['wall_seconds']:.1f}s ({per_model}); "
              f"WAPE {wapes}; load average after {run['load_average_after']:.2f}")
    before, after = runs
    gate = [r["wape"][MODEL] / r["wape"][NAIVE] for r in runs]
    print(f"ratio before / after: backtest {before['wall_seconds'] / after['wall_seconds']:.2f}x faster; "
          + ", ".join(
              f"{m} {before['seconds_by_model'][m] / after['seconds_by_model'][m]:.2f}x"
              for m in after["seconds_by_model"] if m != MODEL and after["seconds_by_model"][m] > 0
          )
          + f"; gate ratio lightgbm / seasonal naive {gate[0]:.3f} -> {gate[1]:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"as_of": str(as_of), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
