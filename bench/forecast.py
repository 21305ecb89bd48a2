"""Score and time the forecast against its baselines at benchmark scale: `python bench/forecast.py`.

    python bench/forecast.py                          # demo data, scale 2 (~2,400 series), 760 days
    python bench/forecast.py --history fct_daily_demand.parquet
    python bench/forecast.py --warehouse warehouse/crossdock.duckdb   # a merchant's marts.fct_daily_demand
    python bench/forecast.py --scale 2 --days 760 --windows 4 --json out.json

Runs `forecast_demand` (train + predict, as the pipeline does) and the
rolling-origin `backtest` with its baselines (seasonal naive 7, naive 1, the
28-day mean, zero, statsforecast AutoETS and CrostonOptimized) and prints, per
model, weekly WAPE of the expected units (the gate's metric), RMSSE, daily p50
WAPE, MASE, bias and p10-p90 coverage, the model / baseline ratios, the gate's
verdict, issue 16's targets, and the time each method took.
When mlforecast is installed (`pip install -e .[bench]`), it also times
mlforecast fitting the same four LightGBM objectives with the same booster
settings on comparable lags and rolling means, and prints the time ratio.

Without --history the input is built from demo order files with a quick
approximation of `marts.fct_daily_demand` (units sold per SKU x ship-to
country x local order date, revenue converted at the demo's fixed rates), so
the benchmark needs neither the warehouse nor dbt. Timing lives here, not in
tests: the shared machines are too noisy for time assertions.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ml.backtest import MODEL, NAIVE, backtest, gate_verdict
from ml.forecast import forecast_demand
from ml.model import ModelConfig
from ml.series_selection import active_series


def history_from_landing(landing: Path) -> pd.DataFrame:
    """Daily demand per sku x market from a landing folder's orders and catalogue CSVs."""
    from demo.market_profiles import FX_PER_EUR

    files = sorted(glob.glob(str(Path(landing) / "orders" / "orders_*.csv")))
    if not files:
        raise FileNotFoundError(f"no orders_*.csv under {landing}/orders")
    cols = ["sku", "quantity", "ordered_at", "ship_to_country", "unit_price", "currency"]
    orders = pd.concat([pd.read_csv(f, dtype=str, usecols=cols) for f in files], ignore_index=True)
    qty = orders["quantity"].astype(int)
    sold = qty.clip(lower=0)
    frame = pd.DataFrame(
        {
            "sku": orders["sku"],
            "market": orders["ship_to_country"],
            "demand_date": pd.to_datetime(orders["ordered_at"].str[:10]),  # the local date as written
            "units_sold": sold,
            "units_returned": (-qty).clip(lower=0),
            "revenue_eur": sold * orders["unit_price"].astype(float) / orders["currency"].map(FX_PER_EUR),
        }
    )
    daily = frame.groupby(["sku", "market", "demand_date"], as_index=False)[
        ["units_sold", "units_returned", "revenue_eur"]
    ].sum()
    cat_files = glob.glob(str(Path(landing) / "suppliers" / "catalogue_*.csv"))
    catalogue = pd.concat([pd.read_csv(f, dtype=str, usecols=["sku", "category"]) for f in cat_files])
    daily = daily.merge(catalogue.drop_duplicates("sku"), on="sku", how="left")
    daily["category"] = daily["category"].fillna("unknown")
    return daily


def demo_history(scale: float, days: int, seed: int) -> pd.DataFrame:
    from demo.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), scale=scale, seed=seed, days=days, quiet=True)
        return history_from_landing(Path(tmp))


def time_mlforecast(history: pd.DataFrame, as_of: pd.Timestamp, horizon: int, config: ModelConfig, seed: int) -> dict | None:
    """Fit + predict the same four LightGBM objectives with mlforecast, or None when it is not installed.

    Same booster settings (rounds, leaves, learning rate, min rows per leaf,
    bagging, bins, seed), lags 1/7/14/28/364 and rolling means 7/28/91 of
    lag 1, day-of-week / month / week features, recursive over the horizon
    (mlforecast's default). Its training set is every day of the last
    `train_days` days (crossdock samples 40% of series x day x horizon rows),
    so the ratio compares two complete pipelines, not two identical ones.
    """
    try:
        import lightgbm as lgb
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean
    except ImportError:
        return None
    active = active_series(history, as_of.date())
    daily = history.groupby(["sku", "market", "demand_date"], as_index=False)["units_sold"].sum()
    daily = daily.merge(active[["sku", "market"]], on=["sku", "market"])
    daily["unique_id"] = daily["sku"] + "|" + daily["market"]
    start = as_of - pd.Timedelta(days=config.train_days + 400)  # room for the 364-day lag
    ids = daily["unique_id"].unique()
    grid = pd.MultiIndex.from_product([ids, pd.date_range(start, as_of, freq="D")], names=["unique_id", "ds"])
    y = daily.set_index(["unique_id", "demand_date"])["units_sold"]
    y.index.names = ["unique_id", "ds"]
    df = y.reindex(grid, fill_value=0.0).reset_index(name="y")
    common = dict(
        n_estimators=config.num_boost_round, learning_rate=config.learning_rate, num_leaves=config.num_leaves,
        min_child_samples=config.min_data_in_leaf, colsample_bytree=config.feature_fraction,
        subsample=config.bagging_fraction, subsample_freq=config.bagging_freq, reg_lambda=config.lambda_l2,
        max_bin=config.max_bin, random_state=seed, n_jobs=config.num_threads, verbose=-1,
    )
    models = {
        f"p{round(a * 100)}": lgb.LGBMRegressor(objective="quantile", alpha=a, **common) for a in (0.1, 0.5, 0.9)
    }
    models["mean"] = lgb.LGBMRegressor(objective="tweedie", tweedie_variance_power=config.tweedie_variance_power, **common)
    mlf = MLForecast(
        models=models, freq="D", lags=[1, 7, 14, 28, 364],
        lag_transforms={1: [RollingMean(7), RollingMean(28), RollingMean(91)]},
        date_features=["dayofweek", "month", "week"],
    )
    t0 = time.perf_counter()
    mlf.fit(df, max_horizon=None, dropna=True)
    t1 = time.perf_counter()
    pred = mlf.predict(horizon)
    t2 = time.perf_counter()
    return {"series": len(ids), "rows": len(df), "fit_seconds": t1 - t0, "predict_seconds": t2 - t1, "forecast_rows": len(pred)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, help="parquet or CSV shaped like marts.fct_daily_demand")
    parser.add_argument("--landing", type=Path, help="landing folder with orders/ and suppliers/ CSVs")
    parser.add_argument("--warehouse", type=Path, help="a crossdock warehouse: its marts.fct_daily_demand (any merchant, any layout)")
    parser.add_argument("--scale", type=float, default=2.0, help="demo scale when no input is given (2.0 ~ 2,400 series)")
    parser.add_argument("--days", type=int, default=760, help="demo history length in days")
    parser.add_argument("--horizon", type=int, default=56)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes for AutoETS")
    parser.add_argument("--no-mlforecast", action="store_true", help="skip the mlforecast timing")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    t_load = time.perf_counter()
    if args.warehouse:
        import duckdb

        with duckdb.connect(str(args.warehouse), read_only=True) as conn:
            history = conn.execute("select * from marts.fct_daily_demand").df()
    elif args.landing:
        history = history_from_landing(args.landing)
    elif args.history:
        history = pd.read_parquet(args.history) if args.history.suffix == ".parquet" else pd.read_csv(args.history)
    else:
        history = demo_history(args.scale, args.days, args.seed)
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    as_of = history["demand_date"].max()
    n_series = history.groupby(["sku", "market"]).ngroups
    days = (as_of - history["demand_date"].min()).days + 1
    print(f"history: {len(history):,} rows, {n_series:,} series, {days} days, as_of {as_of.date()} "
          f"(built in {time.perf_counter() - t_load:.1f}s)", flush=True)

    t0 = time.perf_counter()
    fc = forecast_demand(history, as_of.date(), args.horizon, args.seed)
    t1 = time.perf_counter()
    bt = backtest(history, as_of.date(), args.horizon, args.windows, args.seed, baseline_jobs=args.baseline_jobs)
    t2 = time.perf_counter()
    print(f"forecast: {fc.forecast[['sku', 'market']].drop_duplicates().shape[0]:,} active series x {args.horizon} days, "
          f"{fc.training_rows:,} training rows, train + predict {t1 - t0:.1f}s; backtest {args.windows} windows {t2 - t1:.1f}s "
          f"(load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs)")

    overall = bt.overall()
    seconds = {m: bt.windows[f"seconds_{m}"].sum() for m in overall.index if f"seconds_{m}" in bt.windows}
    table = overall[["weekly_wape", "rmsse", "wape", "mase", "bias", "mean_bias", "coverage_p10_p90", "below_p10", "above_p90",
                     "pinball_p50"]].copy()
    for metric in ("weekly_wape", "rmsse", "wape"):
        table[f"model_{metric}_ratio"] = overall.loc[MODEL, metric] / overall[metric]
    table["seconds_all_windows"] = pd.Series(seconds)
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print("\noverall (model_*_ratio = lightgbm / that row's model; < 1 means lightgbm is better)")
        print(table.round(3).to_string())
        by_market = bt.metrics[bt.metrics["scope"] == "market"].pivot(index="scope_value", columns="model", values="weekly_wape")
        print("\nweekly WAPE by market")
        print(by_market.round(3).to_string())

    weekly = overall.loc[MODEL, "weekly_wape"] / overall.loc[NAIVE, "weekly_wape"]
    daily = overall.loc[MODEL, "wape"] / overall.loc[NAIVE, "wape"]
    mean_bias = overall.loc[MODEL, "mean_bias"]
    cov = overall.loc[MODEL, "coverage_p10_p90"]
    print(f"\ngate: {'passes' if gate_verdict(overall).passed else 'FAILS'}: {gate_verdict(overall).summary()}")
    print(f"targets (issue 16): weekly WAPE of mean / seasonal naive = {weekly:.3f} (<= 0.85: {'yes' if weekly <= 0.85 else 'NO'}); "
          f"daily p50 WAPE / seasonal naive = {daily:.3f} (<= 0.80: {'yes' if daily <= 0.8 else 'NO'}); mean bias {mean_bias:+.3f} "
          f"(within 10%: {'yes' if abs(mean_bias) <= 0.1 else 'NO'}); p10-p90 coverage {cov:.3f}, below p10 "
          f"{overall.loc[MODEL, 'below_p10']:.3f} (<= 0.10), above p90 {overall.loc[MODEL, 'above_p90']:.3f} (0.08-0.12)")

    ml = None if args.no_mlforecast else time_mlforecast(history, as_of, args.horizon, ModelConfig(), args.seed)
    if ml is None:
        print("mlforecast: not timed (not installed: pip install -e .[bench], or --no-mlforecast)")
    else:
        ours = t1 - t0
        theirs = ml["fit_seconds"] + ml["predict_seconds"]
        print(f"mlforecast: {ml['series']:,} series, {ml['rows']:,} training days, fit {ml['fit_seconds']:.1f}s + "
              f"predict {ml['predict_seconds']:.1f}s = {theirs:.1f}s; crossdock train + predict {ours:.1f}s; "
              f"ratio crossdock / mlforecast = {ours / theirs:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "as_of": str(as_of.date()), "series": n_series, "days": days,
            "forecast_seconds": round(t1 - t0, 2), "backtest_seconds": round(t2 - t1, 2),
            "seconds_by_model": {k: round(float(v), 2) for k, v in seconds.items()},
            "mlforecast": ml, "metrics": json.loads(bt.metrics.to_json(orient="records")),
        }, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
