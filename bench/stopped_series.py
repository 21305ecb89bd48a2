"""What forecasting stopped series 0 changes, held out: `python bench/stopped_series.py`

    .venv/bin/python bench/stopped_series.py                                  # tidy and messy demo, scale 1, seed 7
    .venv/bin/python bench/stopped_series.py --scale 0.1 --data-seeds 7,11,23,42
    .venv/bin/python bench/stopped_series.py --warehouse /path/crossdock.duckdb   # a merchant's marts.fct_daily_demand

Runs `ml.backtest.backtest` once per input and scores its windows twice from
the same predictions: with the choice the backtest made held out (`ml.blend`:
the blend's weight and whether stopped series, `ml.stopped_series`, are
forecast 0), and with the rule never on (the weight alone, held out the same
way). So the two figures differ only by the rule, on the same models and
draws. Prints per input the weekly WAPE of the expected units both ways,
their ratio to seasonal naive, which windows chose the rule and how many
series looked stopped in each.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/stopped_series.py

from bench.demand_history import demo_config, holiday_subdivisions, warehouse_history  # noqa: E402
from bench.forecast import demo_history  # noqa: E402
from ml import metrics  # noqa: E402
from ml.backtest import backtest  # noqa: E402
from ml.backtest_scores import BacktestResult  # noqa: E402
from ml.blend import blend, blend_errors, held_out_choices  # noqa: E402


def scores(result: BacktestResult, horizon: int) -> dict[str, float]:
    """Weekly WAPE of the expected units with the backtest's held-out choice (`chosen`), with the stopped rule never
    on (`never`: each window's weight held out from the others' errors without the rule), and seasonal naive's."""
    p = result.predictions
    errors = {k: blend_errors(rows["actual"].to_numpy(), rows["mean_model"].to_numpy(), rows["level_28"].to_numpy()[::horizon],
                              horizon) for k, rows in p.groupby("window", sort=False)}  # no series stopped: the rule never on
    weight = p["window"].map({k: c.weight for k, c in held_out_choices(errors).items()}).to_numpy(dtype=float)
    never = blend(p["mean_model"].to_numpy(dtype=float), p["level_28"].to_numpy(dtype=float), weight)
    actual = p["actual"].to_numpy()
    return {"never": metrics.weekly_wape(actual, never, horizon), "chosen": metrics.weekly_wape(actual, p["mean"].to_numpy(), horizon),
            "naive": metrics.weekly_wape(actual, p["seasonal_naive_7"].to_numpy(), horizon)}


def compare(label: str, history: pd.DataFrame, subdivisions: dict | None, horizon: int, windows: int) -> None:
    """Backtest `history` and print its weekly WAPE with the held-out choice and with the stopped rule never on."""
    t0 = time.perf_counter()
    history = history.assign(demand_date=pd.to_datetime(history["demand_date"]))
    result = backtest(history, history["demand_date"].max().date(), horizon, windows, 7, holiday_subdivisions=subdivisions)
    s = scores(result, horizon)
    p = result.predictions
    looked = p[p["stopped"]].drop_duplicates(["window", "sku", "market"]).groupby("window").size().to_dict()
    print(f"[{label}] weekly WAPE rule never on {s['never']:.4f} -> held-out choice {s['chosen']:.4f} "
          f"({s['chosen'] - s['never']:+.4f}); x seasonal naive {s['never'] / s['naive']:.3f} -> {s['chosen'] / s['naive']:.3f}; "
          f"windows choosing it {dict(zip(result.windows['window'], result.windows['zero_stopped']))}; published forecast "
          f"{'zeroes' if result.zero_stopped else 'keeps'} stopped series; series looking stopped per window {looked} "
          f"({time.perf_counter() - t0:.0f}s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="tidy,messy")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=760)
    parser.add_argument("--data-seeds", default="7")
    parser.add_argument("--warehouse", type=Path, help="score this warehouse's marts.fct_daily_demand instead")
    parser.add_argument("--horizon", type=int, default=56)
    parser.add_argument("--windows", type=int, default=4)
    args = parser.parse_args(argv)
    if args.warehouse:
        history, subdivisions = warehouse_history(args.warehouse)
        compare(args.warehouse.name, history, subdivisions, args.horizon, args.windows)
        return
    for profile in args.profiles.split(","):
        for seed in (int(s) for s in args.data_seeds.split(",")):
            history = demo_history(profile, args.scale, args.days, seed)
            compare(f"{profile} scale {args.scale} seed {seed}", history, holiday_subdivisions(demo_config(profile)),
                    args.horizon, args.windows)


if __name__ == "__main__":
    main()
