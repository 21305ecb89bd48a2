"""Score and time the forecast against its baselines on both demo merchants: `python bench/forecast.py`.

    python bench/forecast.py                                # tidy and messy demo merchants side by side
    python bench/forecast.py --profiles messy --windows 2   # one demo merchant
    python bench/forecast.py --scale tidy=2,messy=1 --days 760 --json out.json
    python bench/forecast.py --data-seeds 7,11,23,42          # four draws of each demo merchant, and their range
    python bench/forecast.py --history fct_daily_demand.parquet
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
timing table (train + predict, backtest, mlforecast fit + predict, their ratio).

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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/forecast.py

from bench.demand_history import (  # noqa: E402  (the tests read them from this module too)
    demo_config,
    demo_history,
    history_from_landing,
    holiday_subdivisions,
    warehouse_history,
)
from crossdock.merchant_config import load_config  # noqa: E402
from ml.backtest import MODEL, MODEL_COLUMNS, NAIVE, BacktestResult, backtest
from ml.backtest_gate import WATCHED_BASELINES, gate_verdict
from ml.forecast import forecast_demand
from ml.model import QUANTILES, ModelConfig
from ml.series_selection import active_series

PROFILES = ("tidy", "messy")
DEFAULT_SCALE = {"tidy": 1.0, "messy": 1.0}
DEFAULT_DAYS = {"tidy": 760, "messy": 760}
KEY_METRICS = (
    "weekly_wape", "weekly_wape_ratio_to_naive", "rmsse", "wape", "mean_bias", "mean_bias_regular", "below_p10", "above_p90",
    "below_p10_calibrated", "above_p90_calibrated",
)
"""The side-by-side table's columns, each once per input: what the gate judges, what the targets name."""
SHORT_NAMES = {"weekly_wape_ratio_to_naive": "ratio_snaive", "wape": "daily_p50_wape",
               "below_p10_calibrated": "below_p10_published", "above_p90_calibrated": "above_p90_published"}


@dataclass(frozen=True)
class Settings:
    """What every input is run with, so the columns compare like with like."""

    horizon: int = 56
    windows: int = 4
    seed: int = 7
    baseline_jobs: int = 1
    mlforecast: bool = True


@dataclass
class InputRun:
    """One input's history, its backtest and the seconds each step took."""

    label: str
    history: pd.DataFrame
    as_of: pd.Timestamp
    build_seconds: float
    forecast_seconds: float
    backtest_seconds: float
    active_series: int
    training_rows: int
    backtest_result: BacktestResult
    mlforecast: dict | None
    load_average: float
    profile: str | None = None  # the demo merchant generated for this input, None for a history given

    @property
    def series(self) -> int:
        return self.history.groupby(["sku", "market"]).ngroups

    @property
    def days(self) -> int:
        return (self.as_of - self.history["demand_date"].min()).days + 1

    @property
    def overall(self) -> pd.DataFrame:
        return self.backtest_result.overall()


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
    fc = forecast_demand(history, as_of.date(), settings.horizon, settings.seed, holiday_subdivisions=subdivisions)
    t1 = time.perf_counter()
    print(f"[{label}] forecast: train + predict {t1 - t0:.1f}s; backtesting {settings.windows} windows", flush=True)
    bt = backtest(history, as_of.date(), settings.horizon, settings.windows, settings.seed,
                  baseline_jobs=settings.baseline_jobs, holiday_subdivisions=subdivisions)
    t2 = time.perf_counter()
    print(f"[{label}] backtest: {t2 - t1:.1f}s", flush=True)
    ml = time_mlforecast(history, as_of, settings.horizon, ModelConfig(), settings.seed) if settings.mlforecast else None
    return InputRun(
        label=label, history=history, as_of=as_of, build_seconds=build_seconds, forecast_seconds=t1 - t0,
        backtest_seconds=t2 - t1, active_series=fc.forecast[["sku", "market"]].drop_duplicates().shape[0],
        training_rows=fc.training_rows, backtest_result=bt, mlforecast=ml, load_average=os.getloadavg()[0],
        profile=profile,
    )


# --- what is printed ----------------------------------------------------------------------------------------------

def side_by_side(runs: list[InputRun]) -> pd.DataFrame:
    """One row per model, each key metric once per input in adjacent columns: (metric, input) column pairs."""
    models = [m for m in MODEL_COLUMNS if any(m in r.overall.index for r in runs)]
    columns = pd.MultiIndex.from_product([[SHORT_NAMES.get(m, m) for m in KEY_METRICS], [r.label for r in runs]])
    table = pd.DataFrame(index=pd.Index(models, name="model"), columns=columns, dtype=float)
    for run in runs:
        overall = run.overall.reindex(models)
        for metric in KEY_METRICS:
            table[(SHORT_NAMES.get(metric, metric), run.label)] = overall[metric].astype(float) if metric in overall else np.nan
    return table


def metric_blocks(inputs: int, width: int = 16) -> list[list[str]]:
    """The side-by-side table's metrics in blocks of at most `width` columns (at least one metric each), so eight
    inputs print as several tables a terminal can show rather than one line of 80 columns."""
    per_block = max(1, width // max(inputs, 1))
    names = [SHORT_NAMES.get(m, m) for m in KEY_METRICS]
    return [names[i:i + per_block] for i in range(0, len(names), per_block)]


def weekly_wape_by_market(run: InputRun) -> pd.DataFrame:
    """The gate's metric per market and model: where an input's overall figure comes from."""
    metrics = run.backtest_result.metrics
    by_market = metrics[metrics["scope"] == "market"].pivot(index="scope_value", columns="model", values="weekly_wape")
    return by_market[[m for m in MODEL_COLUMNS if m in by_market.columns]]


@dataclass(frozen=True)
class Targets:
    """Issue 16's figures for one input, each judged against its target.

    The band judged is the one `demand_forecast` publishes: each backtest
    window's p10 / p90 scaled by the demand-class factors fitted on the other
    windows (`ml.calibration`), so held out as the published band is.
    The raw booster band is kept beside it for reading.
    """

    weekly_ratio: float
    daily_ratio: float
    mean_bias: float
    mean_bias_regular: float
    below_p10: float
    above_p90: float
    below_p10_raw: float
    above_p90_raw: float

    @classmethod
    def of(cls, overall: pd.DataFrame) -> Targets:
        model = overall.loc[MODEL]
        return cls(
            weekly_ratio=model["weekly_wape"] / overall.loc[NAIVE, "weekly_wape"],
            daily_ratio=model["wape"] / overall.loc[NAIVE, "wape"],
            mean_bias=model["mean_bias"],
            mean_bias_regular=model["mean_bias_regular"],
            below_p10=model["below_p10_calibrated"],
            above_p90=model["above_p90_calibrated"],
            below_p10_raw=model["below_p10"],
            above_p90_raw=model["above_p90"],
        )

    def met(self) -> dict[str, bool]:
        return {
            "weekly_ratio": self.weekly_ratio <= 0.85, "daily_ratio": self.daily_ratio <= 0.80,
            "mean_bias": abs(self.mean_bias) <= 0.10, "mean_bias_regular": abs(self.mean_bias_regular) <= 0.10,
            "below_p10": self.below_p10 <= 0.10, "above_p90": 0.08 <= self.above_p90 <= 0.12,
        }

    def line(self) -> str:
        met = {k: "yes" if v else "NO" for k, v in self.met().items()}
        return (f"weekly WAPE of mean / seasonal naive = {self.weekly_ratio:.3f} (<= 0.85: {met['weekly_ratio']}); "
                f"daily p50 WAPE / seasonal naive = {self.daily_ratio:.3f} (<= 0.80: {met['daily_ratio']}); "
                f"mean bias {self.mean_bias:+.3f} against all units sold (within 10%: {met['mean_bias']}), "
                f"{self.mean_bias_regular:+.3f} against the regular demand (within 10%: {met['mean_bias_regular']}); "
                f"published band: below p10 {self.below_p10:.3f} (<= 0.10: {met['below_p10']}), above p90 "
                f"{self.above_p90:.3f} (0.08-0.12: {met['above_p90']}); the boosters' raw band {self.below_p10_raw:.3f} / "
                f"{self.above_p90_raw:.3f}")


def class_band_line(run: InputRun) -> str | None:
    """The published band's tails per demand class (issue 16 judges calibration per class), with each class's size."""
    m = run.backtest_result.metrics
    rows = m[(m["scope"] == "demand_class") & (m["model"] == MODEL)]
    if rows.empty:
        return None
    parts = [f"{r.scope_value} ({r.n_series} series) {r.below_p10_calibrated:.3f} / {r.above_p90_calibrated:.3f}"
             for r in rows.itertuples()]
    return f"[{run.label}] published band by demand class, below p10 / above p90: " + "; ".join(parts)


def verdict_lines(run: InputRun) -> list[str]:
    """The gate's verdict, the warning check's (the 28-day mean) and issue 16's targets, for one input."""
    overall = run.overall
    gate, watched = gate_verdict(overall), gate_verdict(overall, WATCHED_BASELINES)
    lines = [
        f"[{run.label}] gate: {'passes' if gate.passed else 'FAILS'}: {gate.summary()}",
        f"[{run.label}] warning check: {'passes' if watched.passed else 'warns'}: {watched.summary()}",
        f"[{run.label}] targets (issue 16): {Targets.of(overall).line()}",
    ]
    if (by_class := class_band_line(run)) is not None:
        lines.append(by_class)
    if {"bulk_units", "actual_units"} <= set(overall.columns):
        units, bulk = overall.loc[MODEL, "actual_units"], overall.loc[MODEL, "bulk_units"]
        lines.append(f"[{run.label}] bulk days: {bulk:,.0f} of {units:,.0f} units scored ({bulk / units:.1%}) above the "
                     "series' bulk bounds")
    return lines


def targets_table(runs: list[InputRun]) -> pd.DataFrame:
    """One row of issue 16's figures per input and, per demo merchant run with several data seeds, their mean,
    lowest and highest: one generated history is one draw of that merchant, so a figure near its target is
    read across draws, not from one."""
    rows = {r.label: asdict(Targets.of(r.overall)) for r in runs}
    table = pd.DataFrame(rows).T
    groups: dict[str, list[str]] = {}
    for r in runs:
        if r.profile is not None:
            groups.setdefault(r.profile, []).append(r.label)
    summaries = []
    for profile, labels in groups.items():
        if len(labels) < 2:
            continue
        part = table.loc[labels]
        summaries += [part.mean().rename(f"{profile}: mean of {len(labels)} seeds"),
                      part.min().rename(f"{profile}: lowest"), part.max().rename(f"{profile}: highest")]
    return pd.concat([table, pd.DataFrame(summaries)]) if summaries else table


def timings(runs: list[InputRun]) -> pd.DataFrame:
    """Seconds per step and input, with mlforecast's fit + predict and the ratio crossdock / mlforecast."""
    rows = {}
    for run in runs:
        ml = run.mlforecast
        theirs = ml["fit_seconds"] + ml["predict_seconds"] if ml else np.nan
        rows[run.label] = {
            "series": run.series, "active": run.active_series, "days": run.days, "training_rows": run.training_rows,
            "history_s": run.build_seconds, "train_predict_s": run.forecast_seconds, "backtest_s": run.backtest_seconds,
            **{f"bt_{m}_s": run.backtest_result.windows[f"seconds_{m}"].sum()
               for m in ("lightgbm", "auto_ets", "croston_optimized") if f"seconds_{m}" in run.backtest_result.windows},
            "mlf_fit_s": ml["fit_seconds"] if ml else np.nan, "mlf_predict_s": ml["predict_seconds"] if ml else np.nan,
            "mlf_total_s": theirs, "crossdock/mlf": run.forecast_seconds / theirs if ml else np.nan,
            "load_avg": run.load_average,
        }
    return pd.DataFrame(rows)


def _formatted(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as whole numbers with thousands separators, seconds and ratios with two decimals."""
    counts = {"series", "active", "days", "training_rows"}
    return pd.DataFrame({c: [f"{v:,.0f}" if i in counts else f"{v:,.2f}" for i, v in table[c].items()] for c in table},
                        index=table.index)


def report(runs: list[InputRun], settings: Settings) -> None:
    """Print the side-by-side table, the per-market tables, the verdicts and the timings."""
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(f"\noverall, {settings.windows} windows x {settings.horizon} days (ratio_snaive = weekly WAPE / "
              f"seasonal naive's; daily_p50_wape = WAPE of the daily p50 point)")
        table = side_by_side(runs).round(3)
        for metrics in metric_blocks(len(runs)):
            print(table.loc[:, metrics].to_string())
        for run in runs:
            print(f"\n[{run.label}] weekly WAPE by market")
            print(weekly_wape_by_market(run).round(3).to_string())
    print()
    for run in runs:
        print("\n".join(verdict_lines(run)))
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print("\nissue 16's figures per input (below_p10 / above_p90: the published band, held out)")
        print(targets_table(runs).round(3).to_string())
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(f"\ntimings, seconds ({os.cpu_count()} CPUs; load average at the end of each input)")
        print(_formatted(timings(runs)).to_string())
    if any(r.mlforecast is None for r in runs):
        print("mlforecast: not timed (not installed: pip install -e .[bench], or --no-mlforecast)")


def to_json(runs: list[InputRun], settings: Settings) -> dict:
    """Everything printed, and every metric row, per input."""
    return {
        "settings": settings.__dict__,
        "inputs": {
            r.label: {
                "as_of": str(r.as_of.date()), "series": r.series, "days": r.days,
                "forecast_seconds": round(r.forecast_seconds, 2), "backtest_seconds": round(r.backtest_seconds, 2),
                "gate_passed": gate_verdict(r.overall).passed, "mlforecast": r.mlforecast,
                "metrics": json.loads(r.backtest_result.metrics.to_json(orient="records")),
            }
            for r in runs
        },
        "side_by_side": json.loads(side_by_side(runs).to_json(orient="split")),
        "targets": json.loads(targets_table(runs).to_json(orient="index")),
    }


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
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    settings = Settings(horizon=args.horizon, windows=args.windows, seed=args.seed,
                        baseline_jobs=args.baseline_jobs, mlforecast=not args.no_mlforecast)

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
