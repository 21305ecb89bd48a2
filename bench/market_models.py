"""One model for every market, or one per market: accuracy and time on the demo merchants. `python bench/market_models.py`

    python bench/market_models.py                         # tidy and messy demo merchants, 2 backtest windows
    python bench/market_models.py --profiles tidy --windows 4 --days 760

The forecast is partitioned by market in Dagster (orchestration/lib/market_partitions.py):
the daily run covers every market with one pooled model; a run over some
markets trains on theirs alone, so on a cluster markets can run in parallel.
This prints what that costs and what it buys, on the same history:

- accuracy: the rolling-origin backtest (`ml.backtest.backtest`, the gate's
  metrics) of the pooled model, and of one model per market, whose
  predictions are scored together (`ml.backtest_scores.summarise`) over the same
  series and days;
- time: training + predicting the daily forecast (`ml.forecast.forecast_demand`)
  pooled, against per market, summed (one machine running the markets one
  after another) and the slowest market (the wall time when every market
  runs at once on its own machine), with the ratios to the pooled run.

Both in the same process, one after the other, so the ratios compare like
with like on a noisy shared machine. Timing lives here, not in tests.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from bench.demand_history import demo_config, demo_history, holiday_subdivisions  # noqa: E402
from ml.backtest import backtest  # noqa: E402
from ml.backtest_scores import MODEL, NAIVE, BacktestResult, summarise  # noqa: E402
from ml.forecast import forecast_demand  # noqa: E402

HORIZON = 56
SEED = 7


def per_market_backtest(history: pd.DataFrame, as_of, windows: int, subdivisions) -> tuple[pd.DataFrame, float]:
    """Every market backtested on its own history, scored together: the overall metrics and the seconds."""
    predictions, by_series, seconds = [], [], 0.0
    for market, own in history.groupby("market", sort=True):
        t0 = time.perf_counter()
        result = backtest(own, as_of, HORIZON, windows, SEED, baselines=(), holiday_subdivisions=subdivisions)
        seconds += time.perf_counter() - t0
        predictions.append(result.predictions)
        by_series.append(result.by_window_series)
    table = summarise(pd.concat(predictions, ignore_index=True), pd.concat(by_series, ignore_index=True), windows, HORIZON)
    return table[table["scope"] == "overall"].set_index("model"), seconds


def forecast_seconds(history: pd.DataFrame, as_of, subdivisions) -> tuple[float, dict[str, float]]:
    """Seconds to train + predict the daily forecast pooled, and per market."""
    t0 = time.perf_counter()
    forecast_demand(history, as_of, HORIZON, SEED, holiday_subdivisions=subdivisions)
    pooled = time.perf_counter() - t0
    markets = {}
    for market, own in history.groupby("market", sort=True):
        t0 = time.perf_counter()
        forecast_demand(own, as_of, HORIZON, SEED, holiday_subdivisions=subdivisions)
        markets[str(market)] = time.perf_counter() - t0
    return pooled, markets


def run_profile(profile: str, scale: float, days: int, windows: int) -> dict[str, object]:
    history = demo_history(profile, scale, days, SEED)
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    as_of = history["demand_date"].max().date()
    subdivisions = holiday_subdivisions(demo_config(profile))
    print(f"[{profile}] {history.groupby(['sku', 'market']).ngroups:,} series in {history['market'].nunique()} markets, "
          f"as_of {as_of}; backtesting {windows} windows pooled, then per market", flush=True)
    t0 = time.perf_counter()
    pooled: BacktestResult = backtest(history, as_of, HORIZON, windows, SEED, baselines=(), holiday_subdivisions=subdivisions)
    pooled_seconds = time.perf_counter() - t0
    pooled_overall = pooled.overall()
    split_overall, split_seconds = per_market_backtest(history, as_of, windows, subdivisions)
    pooled_fc, market_fc = forecast_seconds(history, as_of, subdivisions)
    return {
        "profile": profile,
        "markets": history["market"].nunique(),
        "weekly_wape_pooled": float(pooled_overall.loc[MODEL, "weekly_wape"]),
        "weekly_wape_per_market": float(split_overall.loc[MODEL, "weekly_wape"]),
        "weekly_wape_seasonal_naive": float(pooled_overall.loc[NAIVE, "weekly_wape"]),
        "mean_bias_pooled": float(pooled_overall.loc[MODEL, "mean_bias"]),
        "mean_bias_per_market": float(split_overall.loc[MODEL, "mean_bias"]),
        "backtest_s_pooled": pooled_seconds,
        "backtest_s_per_market_sum": split_seconds,
        "forecast_s_pooled": pooled_fc,
        "forecast_s_per_market_sum": sum(market_fc.values()),
        "forecast_s_slowest_market": max(market_fc.values()),
        "slowest_market": max(market_fc, key=market_fc.get),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="tidy,messy")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=760)
    parser.add_argument("--windows", type=int, default=2)
    args = parser.parse_args(argv)
    rows = [run_profile(p, args.scale, args.days, args.windows) for p in args.profiles.split(",")]
    table = pd.DataFrame(rows).set_index("profile")
    table["wape_ratio_per_market_to_pooled"] = table["weekly_wape_per_market"] / table["weekly_wape_pooled"]
    table["forecast_ratio_sum_to_pooled"] = table["forecast_s_per_market_sum"] / table["forecast_s_pooled"]
    table["forecast_ratio_slowest_to_pooled"] = table["forecast_s_slowest_market"] / table["forecast_s_pooled"]
    print(table.T.to_string(float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
