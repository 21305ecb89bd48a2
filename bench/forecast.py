"""Time and score the forecast on a full-size history: `python bench/forecast.py`.

    python bench/forecast.py --history fct_daily_demand.parquet
    python bench/forecast.py --landing /tmp/demo/landing      # orders CSVs, e.g. from demo.generate

Runs `forecast_demand` and `backtest` the way the pipeline does and prints
run times and the backtest's overall and per-market figures. `--landing`
builds the input from order files with a quick approximation of
`marts.fct_daily_demand` (units sold = positive quantities per SKU x ship-to
country x local order date; category from the supplier catalogue), so the
forecast can be measured without the warehouse. Timing lives here, not in
tests: the shared machines are too noisy for time assertions.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import time
from pathlib import Path

import pandas as pd

from ml.backtest import backtest
from ml.forecast import forecast_demand


def history_from_landing(landing: Path) -> pd.DataFrame:
    """Daily demand per sku x market from a landing folder's orders and catalogue CSVs."""
    files = sorted(glob.glob(str(Path(landing) / "orders" / "orders_*.csv")))
    if not files:
        raise FileNotFoundError(f"no orders_*.csv under {landing}/orders")
    cols = ["sku", "quantity", "ordered_at", "ship_to_country", "unit_price"]
    orders = pd.concat([pd.read_csv(f, dtype=str, usecols=cols) for f in files], ignore_index=True)
    qty = orders["quantity"].astype(int)
    frame = pd.DataFrame(
        {
            "sku": orders["sku"],
            "market": orders["ship_to_country"],
            "demand_date": pd.to_datetime(orders["ordered_at"].str[:10]),  # the local date as written
            "units_sold": qty.clip(lower=0),
            "units_returned": (-qty).clip(lower=0),
        }
    )
    daily = frame.groupby(["sku", "market", "demand_date"], as_index=False)[["units_sold", "units_returned"]].sum()
    cat_files = glob.glob(str(Path(landing) / "suppliers" / "catalogue_*.csv"))
    catalogue = pd.concat([pd.read_csv(f, dtype=str, usecols=["sku", "category"]) for f in cat_files])
    daily = daily.merge(catalogue.drop_duplicates("sku"), on="sku", how="left")
    daily["category"] = daily["category"].fillna("unknown")
    daily["revenue_eur"] = float("nan")  # not needed by the forecast
    return daily


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--history", type=Path, help="parquet or CSV shaped like marts.fct_daily_demand")
    src.add_argument("--landing", type=Path, help="landing folder with orders/ and suppliers/ CSVs")
    parser.add_argument("--horizon", type=int, default=56)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    if args.landing:
        history = history_from_landing(args.landing)
    elif args.history.suffix == ".parquet":
        history = pd.read_parquet(args.history)
    else:
        history = pd.read_csv(args.history, parse_dates=["demand_date"])
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    as_of = history["demand_date"].max().date()
    n_series = history.groupby(["sku", "market"]).ngroups
    days = (history["demand_date"].max() - history["demand_date"].min()).days + 1

    t0, c0 = time.perf_counter(), time.process_time()
    fc = forecast_demand(history, as_of, args.horizon, args.seed)
    t1 = time.perf_counter()
    bt = backtest(history, as_of, args.horizon, args.windows, args.seed)
    t2, c2 = time.perf_counter(), time.process_time()

    m = bt.metrics
    show = m[m["scope"].isin(["overall", "market"])].pivot_table(
        index=["scope", "scope_value"], columns="model", values=["wape", "bias", "mase"], sort=False
    )
    cov = m[(m["model"] == "lightgbm") & m["scope"].isin(["overall", "market"])].set_index(["scope", "scope_value"])
    show[("coverage_p10_p90", "lightgbm")] = cov["coverage_p10_p90"]
    show[("mean_bias", "lightgbm")] = cov["mean_bias"]
    print(f"history: {len(history):,} rows, {n_series} series, {days} days, as_of {as_of}")
    print(f"forecast: {len(fc.forecast):,} rows, {fc.forecast[['sku', 'market']].drop_duplicates().shape[0]} series, "
          f"{fc.training_rows:,} training rows, {fc.model_version}")
    print(f"time: forecast {t1 - t0:.1f}s, backtest ({args.windows} windows) {t2 - t1:.1f}s, "
          f"total {t2 - t0:.1f}s wall, {c2 - c0:.1f}s CPU; load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(show.round(3).to_string())
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "as_of": str(as_of),
                    "series": n_series,
                    "forecast_seconds": round(t1 - t0, 2),
                    "backtest_seconds": round(t2 - t1, 2),
                    "metrics": json.loads(m.to_json(orient="records")),
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
