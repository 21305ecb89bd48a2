"""How often the season check sets a market aside, month by month: `python bench/season_ahead.py`

    .venv/bin/python bench/season_ahead.py                          # tidy and messy demo, scale 0.2, seed 7
    .venv/bin/python bench/season_ahead.py --days 960               # the tidy one with 32 months of history
    .venv/bin/python bench/season_ahead.py --landing DIR --config crossdock.yaml
    .venv/bin/python bench/season_ahead.py --warehouse /path/crossdock.duckdb   # a merchant's marts.fct_daily_demand
    .venv/bin/python bench/season_ahead.py --by category            # the categories the season lift judges

`ml.season_ahead` sets a market's blend and MinTrace aside when the weeks
ahead sold, last year, more than `UNSCORED_FACTOR` beyond every backtest
window's ratio. The factor trades a peak caught against what the backtest
proved being set aside on an ordinary month. This runs the check at every
month-end where it can judge (a year and the backtest's windows of history
before it), with the forecast's horizon and windows, and prints per factor
how many month-ends set at least one market aside and how many markets in
all, then the markets set aside at the shipped factor. Each factor is
applied to the ratios the check reports, the comparison it makes itself.
Nothing is forecast: a merchant of ten years takes seconds.

`--by category` counts the categories, pooled over the markets, like for
like and counting their noise, that `ml.season_lift` judges: it lifts those
where the forecast falls short of the season (and, history allowing, the
year before held one too).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/season_ahead.py

from bench.demand_history import demo_history, history_from_landing, warehouse_history  # noqa: E402
from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS  # noqa: E402
from crossdock.merchant_config import load_config  # noqa: E402
from ml.backtest import window_origins  # noqa: E402
from ml.season_ahead import LEVEL_DAYS, UNSCORED_FACTOR, season_ahead  # noqa: E402
from ml.season_lift import NOISE_Z  # noqa: E402

FACTORS = (1.0, 1.25, 1.5, 2.0)
HORIZON, WINDOWS = 56, 4  # the forecast's defaults (ForecastConfig)


def month_ends(history: pd.DataFrame, horizon: int, windows: int) -> list[pd.Timestamp]:
    """The month-ends the check can judge: a year and `windows` x `horizon` days (plus the level days) after the
    first sale, up to the day before the last."""
    days = pd.to_datetime(history["demand_date"])
    first = days.min() + pd.Timedelta(days=SAME_WEEKDAY_LAST_YEAR_DAYS + windows * horizon + LEVEL_DAYS)
    return list(pd.date_range(first, days.max() - pd.Timedelta(days=1), freq="ME"))


def set_aside(history: pd.DataFrame, horizon: int = HORIZON, windows: int = WINDOWS, by: str = "market") -> pd.DataFrame:
    """One row per month-end x judged group (`by`: market, or category pooled over the markets): as_of and
    `ml.season_ahead.SeasonAhead.groups`' columns, `beyond` the figure each factor is compared with."""
    lift_view = {"like_for_like": True, "noise_z": NOISE_Z} if by == "category" else {}  # as ml/season_lift.py judges
    rows = [season_ahead(history, as_of.date(), horizon, window_origins(as_of.date(), horizon, windows), by=by,
                         **lift_view).groups
            .dropna(subset=["ratio_ahead"]).assign(as_of=as_of) for as_of in month_ends(history, horizon, windows)]
    columns = ["as_of", by, "ratio_ahead", "lowest_scored", "highest_scored", "beyond"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def summary(judged: pd.DataFrame) -> dict[float, tuple[int, int]]:
    """Per factor: (month-ends with a market set aside, markets set aside in all)."""
    out = {}
    for factor in FACTORS:
        hit = judged[judged["beyond"] > factor]
        out[factor] = (hit["as_of"].nunique(), len(hit))
    return out


def report(label: str, history: pd.DataFrame, by: str = "market") -> None:
    months = month_ends(history, HORIZON, WINDOWS)
    judged = set_aside(history, by=by)
    per_month = judged.groupby("as_of").size()
    groups = "categories" if by == "category" else "markets"
    print(f"[{label}] {len(months)} month-ends {months[0].date() if months else '-'}..{months[-1].date() if months else '-'}, "
          f"{groups} judged a month {per_month.min() if len(per_month) else 0}-{per_month.max() if len(per_month) else 0}")
    for factor, (n, hits) in summary(judged).items():
        shipped = " (shipped)" if factor == UNSCORED_FACTOR else ""
        print(f"  factor {factor}{shipped}: {n} of {len(months)} month-ends set a {by} aside, {hits} {groups} in all")
    hit = judged[judged["beyond"] > UNSCORED_FACTOR]
    for as_of, rows in hit.groupby("as_of"):
        named = ", ".join(f"{getattr(r, by)} {r.ratio_ahead:.2f}x (windows {r.lowest_scored:.2f}-{r.highest_scored:.2f})"
                          for r in rows.itertuples())
        print(f"    {as_of.date()}: {named}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2, help="demo scale (default 0.2)")
    parser.add_argument("--seed", type=int, default=7, help="demo seed (default 7)")
    parser.add_argument("--days", type=int, help="demo days of history (default the generator's: tidy 820, messy ten years)")
    parser.add_argument("--landing", type=Path, help="a landing folder in the orders contract's layout instead of the demo")
    parser.add_argument("--config", type=Path, help="its crossdock.yaml (markets); without it each country is a market")
    parser.add_argument("--warehouse", type=Path, help="a warehouse's marts.fct_daily_demand instead of the demo")
    parser.add_argument("--by", choices=("market", "category"), default="market",
                        help="judge markets (the blend and MinTrace set aside) or categories pooled over the markets "
                             "(the season lift, ml/season_lift.py); default market")
    args = parser.parse_args(argv)
    if args.warehouse:
        report(str(args.warehouse), warehouse_history(args.warehouse)[0], args.by)
    elif args.landing:
        report(str(args.landing), history_from_landing(args.landing, load_config(args.config) if args.config else None),
               args.by)
    else:
        for profile in ("tidy", "messy"):
            report(f"{profile} scale {args.scale} seed {args.seed}", demo_history(profile, args.scale, args.days, args.seed),
                   args.by)
    return 0


if __name__ == "__main__":
    sys.exit(main())
