"""Time the forecast charts per market against an earlier ml/plots.py: `python bench/plots.py`.

    python bench/plots.py                                     # 8 markets x 10 SKUs, 5 runs, against acac203
    python bench/plots.py --markets 40 --skus 60 --runs 3
    python bench/plots.py --baseline HEAD~1 --json out.json

Builds a seeded input shaped like what the demand_forecast asset passes to
`ml.plots.market_forecast_pngs`: a sparse daily history per SKU x market
(a missing day sold 0, a long tail of SKU sizes), a 56-day forecast with
p10/p50/p90/mean and a model version, and the latest backtest window with its
actuals. It loads the baseline's ml/plots.py (`git show REV:ml/plots.py`)
under another name next to the working tree's, renders the same input with
both, alternating them run after run, and prints per market the median CPU
time of the process and the median wall time of each, and the ratio
baseline / current. CPU time is the steadier figure on a shared machine:
another process's load stretches wall time more than it does CPU time. It
also says in how many charts the two give the same pixels (decoded PNGs
compared), and their mean PNG size, since a faster chart that draws
something else is no gain.

The default baseline, acac203, is the last commit before issue 15's work on
the charts. Timing lives here, not in tests: the shared machines are too
noisy for time assertions.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ml import plots

REPO = Path(__file__).resolve().parents[1]

DEFAULT_BASELINE = "acac203"
MARKET_CODES = ["AU", "CA", "DE", "FR", "GB", "JP", "NL", "US", "ES", "IT", "SE", "PL", "BE", "AT", "CH", "DK"]
CATEGORIES = ["home", "outdoor", "electronics_accessories", "toys", "gifts"]


def synthetic_input(markets: int, skus: int, history_days: int, horizon: int, seed: int):
    """History, forecast and one backtest window for `markets` x `skus` series."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-10-30")
    days = pd.date_range(end=as_of, periods=history_days, freq="D")
    weekday = 1.0 + 0.25 * np.sin(2 * np.pi * days.dayofweek.to_numpy() / 7)
    origin = as_of - pd.Timedelta(days=horizon)
    codes = MARKET_CODES[:markets] + [f"M{i:02d}" for i in range(max(markets - len(MARKET_CODES), 0))]
    hist, fc, bt = [], [], []
    steps = np.arange(1, horizon + 1)
    for m, market in enumerate(codes):
        for k in range(skus):
            sku = f"SKU-{m:02d}{k:03d}"
            cat = CATEGORIES[(m + k) % len(CATEGORIES)]
            level = 6.0 / (1 + k) ** 0.8 * rng.uniform(0.5, 2.0)  # a long tail of sizes
            units = rng.poisson(level * weekday * rng.gamma(2.0, 0.5, len(days))).astype(float)
            keep = units > 0  # sparse like the mart
            hist.append(pd.DataFrame({"sku": sku, "market": market, "category": cat,
                                      "demand_date": days[keep], "units_sold": units[keep]}))
            for kind, start in (("fc", as_of), ("bt", origin)):
                p50 = level * (1 + 0.25 * np.sin(2 * np.pi * (start + pd.to_timedelta(steps, unit="D")).dayofweek / 7))
                p50 = np.asarray(p50) * rng.uniform(0.8, 1.1, horizon)
                frame = pd.DataFrame({
                    "sku": sku, "market": market, "category": cat, "horizon": steps,
                    "forecast_date": start + pd.to_timedelta(steps, unit="D"),
                    "p10": p50 * 0.25, "p50": p50, "p90": p50 * 2.4, "mean": p50 * 1.15,
                    "model_version": "lgbm-quantile-20261030-bench",
                })
                if kind == "fc":
                    fc.append(frame.assign(as_of=as_of))
                else:
                    bt.append(frame.assign(window=1, origin=origin, actual=units[-horizon:]))
    return pd.concat(hist, ignore_index=True), pd.concat(fc, ignore_index=True), pd.concat(bt, ignore_index=True)


def baseline_module(rev: str):
    """ml/plots.py as it was at `rev`, imported as `plots_baseline`."""
    source = subprocess.run(["git", "show", f"{rev}:ml/plots.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="bench-plots-") as folder:
        path = Path(folder) / "plots_baseline.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("plots_baseline", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["plots_baseline"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markets", type=int, default=8)
    ap.add_argument("--skus", type=int, default=10, help="SKUs per market")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each version, alternated")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision whose ml/plots.py is the baseline")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    import matplotlib
    import PIL

    load_before = os.getloadavg()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "ml/plots.py"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip())
    print(f"environment: {os.cpu_count()} CPUs, matplotlib {matplotlib.__version__}, pillow {PIL.__version__}, "
          f"pandas {pd.__version__}; load average before {', '.join(f'{x:.2f}' for x in load_before)}")
    history, forecast, backtest = synthetic_input(args.markets, args.skus, 200, 56, args.seed)
    print(f"input: {args.markets} markets x {args.skus} SKUs, {len(history):,} history rows, "
          f"{len(forecast):,} forecast rows, {len(backtest):,} backtest rows")

    versions = {f"baseline {args.baseline}": baseline_module(args.baseline),
                f"current {head}{' + edits' if dirty else ''}": plots}
    outputs = {}
    for name, module in versions.items():  # untimed: fonts, caches and imports warm up
        outputs[name] = module.market_forecast_pngs(history, forecast, backtest_predictions=backtest)
    cpu = {name: [] for name in versions}
    wall = {name: [] for name in versions}
    for _ in range(args.runs):
        for name, module in versions.items():
            c, w = time.process_time(), time.perf_counter()
            module.market_forecast_pngs(history, forecast, backtest_predictions=backtest)
            cpu[name].append((time.process_time() - c) / args.markets * 1000)
            wall[name].append((time.perf_counter() - w) / args.markets * 1000)

    (base_name, base_out), (cur_name, cur_out) = outputs.items()
    same = sum(np.array_equal(_pixels(base_out[m]), _pixels(cur_out[m])) for m in base_out)
    results = {}
    for name in versions:
        results[name] = {
            "cpu_ms_per_market": statistics.median(cpu[name]),
            "wall_ms_per_market": statistics.median(wall[name]),
            "png_kb_mean": statistics.mean(len(p) for p in outputs[name].values()) / 1000,
        }
        r = results[name]
        print(f"{name:28s} cpu {r['cpu_ms_per_market']:7.1f} ms/market (runs {', '.join(f'{x:.0f}' for x in cpu[name])})"
              f"   wall {r['wall_ms_per_market']:7.1f} ms/market   png {r['png_kb_mean']:.1f} kB")
    ratio_cpu = results[base_name]["cpu_ms_per_market"] / results[cur_name]["cpu_ms_per_market"]
    ratio_wall = results[base_name]["wall_ms_per_market"] / results[cur_name]["wall_ms_per_market"]
    print(f"ratio baseline / current: cpu {ratio_cpu:.2f}x, wall {ratio_wall:.2f}x faster")
    print(f"same pixels in {same} of {len(base_out)} charts")
    load_after = os.getloadavg()
    print(f"load average after: {', '.join(f'{x:.2f}' for x in load_after)}")
    if args.json:
        args.json.write_text(json.dumps({
            "markets": args.markets, "skus": args.skus, "runs": args.runs, "versions": results,
            "ratio_cpu": ratio_cpu, "ratio_wall": ratio_wall, "same_pixels": same, "charts": len(base_out),
            "load_average_before": load_before, "load_average_after": load_after,
        }, indent=2))


if __name__ == "__main__":
    main()
