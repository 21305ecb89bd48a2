"""Score and time the forecast against its baselines on both demo merchants: `python bench/forecast.py`.

    python bench/forecast.py                                # tidy and messy demo merchants side by side
    python bench/forecast.py --profiles messy --windows 2   # one demo merchant
    python bench/forecast.py --scale tidy=2,messy=1 --days 760 --json out.json
    python bench/forecast.py --data-seeds 7,11,23,42          # four draws of each demo merchant, and their range
    python bench/forecast.py --history fct_daily_demand.parquet
    python bench/forecast.py --model-setting tweedie_variance_power=1.2   # a ModelConfig field set for the run
    python bench/forecast.py --warehouse warehouse/crossdock.duckdb   # a merchant's marts.fct_daily_demand
    python bench/forecast.py --landing DIR [--config crossdock.yaml]  # a landing folder's orders files

For each input it runs `forecast_demand` (train + predict, as the pipeline
does) and the rolling-origin `backtest` with its baselines (seasonal naive 7,
naive 1, the 28-day mean, zero, statsforecast AutoETS and CrostonOptimized),
and, when mlforecast is installed (`pip install -e .[bench]`), times
mlforecast fitting the same LightGBM objectives (p10, p90, the mean) with the same booster
settings on comparable lags and rolling means. Then it prints, per model,
the key metrics of every input in adjacent columns (weekly WAPE of the
expected units, the gate's metric; its ratio to seasonal naive; RMSSE; daily
p50 WAPE; mean bias; below p10 / above p90 of the raw and of the published
band), weekly WAPE by market per input, each input's gate verdict and issue
16's target lines, a table of those targets per input (with, per merchant
generated with several `--data-seeds`, their mean, lowest and highest), and a
timing table (train + predict, backtest, mlforecast fit + predict, their ratio):
bench/forecast_report.py prints and writes them; this script runs the inputs.

The band the targets judge is the published one: `demand_forecast` scales the
boosters' p10 / p90 per demand class by factors its backtest fitted
(`ml.calibration`), and the backtest scores each window's band scaled by the
factors of the other windows. One generated history is one draw of a merchant:
a figure near its target is read across `--data-seeds`, not from one.

Inputs. Without --history / --warehouse / --landing, the demo merchants of
`--profiles` (default `tidy,messy`) are generated in a temporary folder
(`demo.generate`, profile tidy: 8 markets, every market selling daily;
messy: 5 markets and the catch-all ROW for 35 more countries, wholesale
lines, write-offs, cancellations, a partial catalogue). `--scale` and
`--days` take one value for every profile or `profile=value` pairs
(`--scale tidy=2,messy=0.5`); the defaults, scale 1 and 760 days for both
(~1,200 tidy and ~1,450 messy series), finish in about 9 minutes on 2
shared cores (load 4-5). A messy history shorter than its default ten years is the
young shop's first years, not the mature shop's last: the simulation anchors
its growth curve at the first day, and its write-offs are a count per run,
not per year (its wholesale orders come about one a month, whatever the
length).

The history is built from the landing files the way the pipeline builds
`marts.fct_daily_demand`, without the warehouse or dbt (bench/demand_history.py
says how).

Timing lives here, not in tests: the shared machines are too noisy for time
assertions.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/forecast.py

from bench.demand_history import (  # noqa: E402  (the tests read them from this module too)
    demo_config,
    demo_history,
    history_from_landing,
    holiday_subdivisions,
    warehouse_history,
)
from bench.forecast_report import InputRun, Settings, report, to_json  # noqa: E402
from crossdock.merchant_config import load_config  # noqa: E402
from ml.backtest import backtest
from ml.forecast import forecast_demand
from ml.model import QUANTILES, ModelConfig
from ml.series_selection import active_series

PROFILES = ("tidy", "messy")
DEFAULT_SCALE = {"tidy": 1.0, "messy": 1.0}
DEFAULT_DAYS = {"tidy": 760, "messy": 760}


# --- running one input ------------------------------------------------------------------------------------------

def time_mlforecast(history: pd.DataFrame, as_of: pd.Timestamp, horizon: int, config: ModelConfig, seed: int) -> dict | None:
    """Fit + predict the same LightGBM objectives (`ml.model.QUANTILES` and the mean) with mlforecast, or None when
    it is not installed.

    Same booster settings (rounds, leaves, learning rate, min rows per leaf,
    bagging, bins, seed), lags 1/7/14/28/364 and rolling means 7/28/91 of
    lag 1, day-of-week / month / week features, recursive over the horizon
    (mlforecast's default). Its training set is every day of the last
    `train_days` days (crossdock samples 40% of series x day x horizon rows),
    so the ratio compares two complete pipelines, not two identical ones.
    A first, untimed fit on two series keeps one-off start-up cost out of it.
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
        learning_rate=config.learning_rate, num_leaves=config.num_leaves,
        min_child_samples=config.min_data_in_leaf, colsample_bytree=config.feature_fraction,
        subsample=config.bagging_fraction, subsample_freq=config.bagging_freq, reg_lambda=config.lambda_l2,
        max_bin=config.max_bin, random_state=seed, n_jobs=config.num_threads, verbose=-1,
    )

    def pipeline(rounds: int) -> MLForecast:
        models = {
            f"p{round(a * 100)}": lgb.LGBMRegressor(objective="quantile", alpha=a, n_estimators=rounds, **common)
            for a in QUANTILES
        }
        models["mean"] = lgb.LGBMRegressor(objective="tweedie", tweedie_variance_power=config.tweedie_variance_power,
                                           n_estimators=rounds, **common)
        return MLForecast(
            models=models, freq="D", lags=[1, 7, 14, 28, 364],
            lag_transforms={1: [RollingMean(7), RollingMean(28), RollingMean(91)]},
            date_features=["dayofweek", "month", "week"],
        )

    # an untimed first fit (one round, two series): the first call's one-off set-up, seconds on this machine,
    # would otherwise be charged to whichever input comes first
    pipeline(1).fit(df[df["unique_id"].isin(ids[:2])], max_horizon=None, dropna=True)
    mlf = pipeline(config.num_boost_round)
    t0 = time.perf_counter()
    mlf.fit(df, max_horizon=None, dropna=True)
    t1 = time.perf_counter()
    pred = mlf.predict(horizon)
    t2 = time.perf_counter()
    return {"series": len(ids), "rows": len(df), "fit_seconds": t1 - t0, "predict_seconds": t2 - t1, "forecast_rows": len(pred)}


def run_input(label: str, history: pd.DataFrame, subdivisions: Mapping[str, str | None] | None, settings: Settings,
              build_seconds: float = 0.0, profile: str | None = None) -> InputRun:
    """Forecast, backtest and (optionally) mlforecast on one history, timed; prints a progress line per step."""
    history = history.copy()
    history["demand_date"] = pd.to_datetime(history["demand_date"])
    as_of = history["demand_date"].max()
    print(f"[{label}] history: {len(history):,} rows, {history.groupby(['sku', 'market']).ngroups:,} series, "
          f"{history['market'].nunique()} markets, as_of {as_of.date()} (built in {build_seconds:.1f}s)", flush=True)
    t0 = time.perf_counter()
    config = ModelConfig(**settings.model)
    fc = forecast_demand(history, as_of.date(), settings.horizon, settings.seed, config=config,
                         holiday_subdivisions=subdivisions)
    t1 = time.perf_counter()
    print(f"[{label}] forecast: train + predict {t1 - t0:.1f}s; backtesting {settings.windows} windows", flush=True)
    bt = backtest(history, as_of.date(), settings.horizon, settings.windows, settings.seed, config=config,
                  baseline_jobs=settings.baseline_jobs, holiday_subdivisions=subdivisions)
    t2 = time.perf_counter()
    print(f"[{label}] backtest: {t2 - t1:.1f}s", flush=True)
    ml = time_mlforecast(history, as_of, settings.horizon, config, settings.seed) if settings.mlforecast else None
    return InputRun(
        label=label, history=history, as_of=as_of, build_seconds=build_seconds, forecast_seconds=t1 - t0,
        backtest_seconds=t2 - t1, active_series=fc.forecast[["sku", "market"]].drop_duplicates().shape[0],
        training_rows=fc.training_rows, backtest_result=bt, mlforecast=ml, load_average=os.getloadavg()[0],
        profile=profile,
    )


# --- the command line ------------------------------------------------------------------------------------------

def per_profile(text: str | None, profiles: list[str], cast: Callable[[str], float | int],
                defaults: Mapping[str, float | int]) -> dict[str, float | int]:
    """`--scale 2` (every profile) or `--scale tidy=2,messy=0.5` (per profile; the others keep their default)."""
    values = {p: defaults[p] for p in profiles}
    if text is None:
        return values
    if "=" not in text:
        return {p: cast(text) for p in profiles}
    for part in text.split(","):
        profile, _, value = part.partition("=")
        if profile.strip() not in PROFILES:
            raise ValueError(f"unknown profile {profile.strip()!r} in {text!r}; choose from {', '.join(PROFILES)}")
        values[profile.strip()] = cast(value)
    return {p: values[p] for p in profiles}


def parse_profiles(text: str) -> list[str]:
    profiles = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown or not profiles:
        raise ValueError(f"--profiles takes {' and/or '.join(PROFILES)}, not {text!r}")
    return list(dict.fromkeys(profiles))


def parse_seeds(text: str) -> list[int]:
    """`--data-seeds 7,11,23`: distinct integers, in the order given."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--data-seeds takes comma-separated integers, not {text!r}") from None
    if not seeds:
        raise ValueError(f"--data-seeds takes comma-separated integers, not {text!r}")
    return list(dict.fromkeys(seeds))


def parse_model_settings(pairs: list[str]) -> dict[str, float | int]:
    """`--model-setting name=value` pairs as `ml.model.ModelConfig` fields, each cast to its default's type.

    So a setting is compared on the same inputs and draws without a copy of the code per value (a worktree each,
    as the variance power's comparison was made, ml/README.md).
    """
    defaults = ModelConfig().as_dict()
    settings: dict[str, float | int] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or name not in defaults:
            raise ValueError(f"--model-setting {pair!r}: expected name=value with name one of {', '.join(defaults)}")
        try:
            settings[name] = type(defaults[name])(text.strip())
        except ValueError:
            raise ValueError(f"--model-setting {pair!r}: {text.strip()!r} is not a {type(defaults[name]).__name__}, "
                             f"like the default {defaults[name]!r}") from None
    return settings


def single_input(args: argparse.Namespace) -> tuple[str, pd.DataFrame, dict[str, str | None] | None]:
    """The one history named by --warehouse, --landing or --history, its label and holiday subdivisions."""
    if args.warehouse:
        history, subdivisions = warehouse_history(args.warehouse)
        return args.warehouse.name, history, subdivisions
    if args.landing:
        config = load_config(args.config) if args.config else None
        return args.landing.name, history_from_landing(args.landing, config), holiday_subdivisions(config)
    history = pd.read_parquet(args.history) if args.history.suffix == ".parquet" else pd.read_csv(args.history)
    return args.history.name, history, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--history", type=Path, help="parquet or CSV shaped like marts.fct_daily_demand")
    source.add_argument("--landing", type=Path, help="landing folder with orders/ (and suppliers/) CSVs")
    source.add_argument("--warehouse", type=Path, help="a crossdock warehouse: its marts.fct_daily_demand (any merchant, any layout)")
    parser.add_argument("--config", type=Path, help="with --landing: the merchant's crossdock.yaml (country -> market)")
    parser.add_argument("--profiles", default=",".join(PROFILES), help="demo merchants to generate: tidy, messy or both (default)")
    parser.add_argument("--scale", help="demo scale, one value or per profile: 1.0 or tidy=2,messy=1 (default 1 each)")
    parser.add_argument("--days", help="demo history days, one value or per profile (default 760 each)")
    parser.add_argument("--horizon", type=int, default=56)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7, help="the model's seed, and the demo generator's without --data-seeds")
    parser.add_argument("--data-seeds", help="demo generator seeds, comma-separated (default: --seed): one history each, "
                        "and the targets' mean, lowest and highest per merchant")
    parser.add_argument("--baseline-jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes for AutoETS")
    parser.add_argument("--no-mlforecast", action="store_true", help="skip the mlforecast timing")
    parser.add_argument("--model-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="an ml.model.ModelConfig field for every forecast and backtest of the run, e.g. "
                        "tweedie_variance_power=1.2 (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        model = parse_model_settings(args.model_setting)
    except ValueError as exc:
        parser.error(str(exc))
    settings = Settings(horizon=args.horizon, windows=args.windows, seed=args.seed,
                        baseline_jobs=args.baseline_jobs, mlforecast=not args.no_mlforecast, model=model)

    runs = []
    if args.history or args.landing or args.warehouse:
        t0 = time.perf_counter()
        label, history, subdivisions = single_input(args)
        runs.append(run_input(label, history, subdivisions, settings, time.perf_counter() - t0))
    else:
        try:
            profiles = parse_profiles(args.profiles)
            scales = per_profile(args.scale, profiles, float, DEFAULT_SCALE)
            days = per_profile(args.days, profiles, int, DEFAULT_DAYS)
            data_seeds = parse_seeds(args.data_seeds) if args.data_seeds else [args.seed]
        except ValueError as exc:
            parser.error(str(exc))
        for profile in profiles:
            for data_seed in data_seeds:
                label = profile if len(data_seeds) == 1 else f"{profile}/s{data_seed}"
                t0 = time.perf_counter()
                print(f"[{label}] generating the demo merchant: scale {scales[profile]:g}, {days[profile]} days, "
                      f"seed {data_seed}", flush=True)
                history = demo_history(profile, scales[profile], days[profile], data_seed)
                runs.append(run_input(label, history, holiday_subdivisions(demo_config(profile)), settings,
                                      time.perf_counter() - t0, profile=profile))
    report(runs, settings)
    if args.json:
        args.json.write_text(json.dumps(to_json(runs, settings), indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
