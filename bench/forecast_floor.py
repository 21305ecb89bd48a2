"""How good can a forecast of the demo merchant get? `python bench/forecast_floor.py`

    .venv/bin/python bench/forecast_floor.py                      # tidy demo, scale 1, the backtest's 4 x 56 days
    .venv/bin/python bench/forecast_floor.py --scale 0.3 --backtest   # and crossdock's own backtest on the same merchant

The demo generator (`demo/demand.py`) draws each SKU x market's daily units
as Poisson around a structural mean (popularity, market, weekday, season,
holidays, events, trend, launch and phase-out) times three factors no
history can foresee: a per-day gamma draw, a market-day shock and an AR(1)
momentum. So there is a best possible forecast, and a ratio to seasonal
naive that no model can beat on this data. This prints, in the windows the
backtest scores (origins as_of - k x H, series with a sale in the 91 days
to the origin, weekly WAPE of the expected units as the gate reads it):

  structural mean       the generator's own expected units, every factor known;
  + momentum at origin  that times the momentum's expectation given its exact
                        level on the origin day (which no forecaster observes):
                        the floor of any forecast of the mean;
  seasonal naive        last week's units repeated, the gate's yardstick;
  mean of 28 days       the last four weeks' daily mean.

With `--backtest` it also generates the merchant's feeds, builds the history
as the mart does (`bench/demand_history.py`) and runs `ml.backtest.backtest`
on it, so crossdock's ratio prints beside the floor. The two are scored on
the same merchant but not on the same numbers: the floor on the units the
generator drew, the backtest on the order lines made from them (returns and
cancellations netted as the mart nets them), each against its own seasonal
naive. A ratio target below the floor's ratio cannot be met by any model on
this data. Timing is not the point here; accuracy is, and it is deterministic
for a seed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/forecast_floor.py

from demo import demand as generator  # noqa: E402
from demo.catalogue import build_catalogue  # noqa: E402
from demo.clock import Timeline  # noqa: E402
from demo.generate import DEFAULT_DAYS, DEFAULT_END  # noqa: E402
from demo.rng import stream  # noqa: E402
from ml.baselines import seasonal_naive, window_average  # noqa: E402
from ml.metrics import weekly_wape  # noqa: E402
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS  # noqa: E402

def expected_momentum(level_at_origin: np.ndarray, horizon_days: int) -> np.ndarray:
    """E[momentum factor on day origin + h | log level at origin], h = 1 .. H, for the generator's AR(1).

    The log level is AR(1) with coefficient phi and stationary sd s, and the
    factor is exp(level - s^2 / 2); given the level l0 at the origin the level
    h days on is normal with mean phi^h l0 and variance s^2 (1 - phi^2h).
    """
    phi, sd = generator.MOMENTUM_PHI, generator.MOMENTUM_SD
    h = np.arange(1, horizon_days + 1)[None, :]
    variance = sd**2 * (1.0 - phi ** (2 * h))
    return np.exp(phi**h * level_at_origin[:, None] + 0.5 * variance - 0.5 * sd**2)


def floor_scores(demand: generator.Demand, horizon_days: int, n_windows: int) -> dict[str, float]:
    """Weekly WAPE of each reference forecast over the backtest's windows (all windows pooled, as the gate pools them)."""
    S, M, D = demand.units.shape
    units = demand.units.reshape(S * M, D).astype(float)
    mu = demand.mu.reshape(S * M, D)
    log_level = np.log(demand.momentum.reshape(S * M, D)) + 0.5 * generator.MOMENTUM_SD**2
    forecasts: dict[str, list[np.ndarray]] = {name: [] for name in ("structural mean", "+ momentum at origin", "seasonal naive", "mean of 28 days")}
    actual: list[np.ndarray] = []
    for k in range(n_windows, 0, -1):
        origin = D - 1 - k * horizon_days
        days = slice(origin + 1, origin + 1 + horizon_days)
        active = units[:, origin + 1 - DEFAULT_INACTIVE_AFTER_DAYS: origin + 1].sum(axis=1) > 0
        actual.append(units[active, days])
        forecasts["structural mean"].append(mu[active, days])
        forecasts["+ momentum at origin"].append(mu[active, days] * expected_momentum(log_level[active, origin], horizon_days))
        forecasts["seasonal naive"].append(seasonal_naive(units[active], origin, horizon_days))
        forecasts["mean of 28 days"].append(window_average(units[active], origin, horizon_days))
    a = np.concatenate(actual).ravel()
    return {name: weekly_wape(a, np.concatenate(f).ravel(), horizon_days) for name, f in forecasts.items()}


def crossdock_scores(scale: float, days: int, seed: int, horizon_days: int, n_windows: int) -> dict[str, float]:
    """crossdock's backtest on the same merchant's feeds: weekly WAPE of the model and of seasonal naive."""
    from bench.demand_history import demo_history
    from ml.backtest import backtest
    from ml.backtest_scores import MODEL, NAIVE

    history = demo_history("tidy", scale, days, seed)
    as_of = history["demand_date"].max().date()
    overall = backtest(history, as_of, horizon_days, n_windows).overall()
    return {"crossdock (lightgbm)": float(overall.loc[MODEL, "weekly_wape"]), "seasonal naive": float(overall.loc[NAIVE, "weekly_wape"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (default 1)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"days of history (default {DEFAULT_DAYS})")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7, the demo's)")
    parser.add_argument("--horizon", type=int, default=56, help="days per backtest window (default 56)")
    parser.add_argument("--windows", type=int, default=4, help="backtest windows (default 4)")
    parser.add_argument("--backtest", action="store_true", help="also run crossdock's backtest on the same merchant (minutes)")
    args = parser.parse_args(argv)

    timeline = Timeline(end=DEFAULT_END, days=args.days)
    catalogue = build_catalogue(args.scale, stream(args.seed, "catalogue"))
    demand = generator.simulate_demand(catalogue, timeline, args.scale, stream(args.seed, "demand"))
    print(f"tidy demo, scale {args.scale}, seed {args.seed}, {args.days} days to {timeline.end}; "
          f"{args.windows} windows of {args.horizon} days; weekly WAPE of the expected units")
    floor = floor_scores(demand, args.horizon, args.windows)
    naive = floor["seasonal naive"]
    print("\non the units the generator drew:")
    for name, wape in floor.items():
        print(f"  {name:24s} {wape:.3f}   {wape / naive:.3f}x seasonal naive")
    print(f"\nno forecast of the mean can do better than ~{floor['+ momentum at origin'] / naive:.2f}x seasonal naive on this merchant")
    if args.backtest:
        ours = crossdock_scores(args.scale, args.days, args.seed, args.horizon, args.windows)
        print("\ncrossdock's backtest on the same merchant's orders:")
        for name, wape in ours.items():
            print(f"  {name:24s} {wape:.3f}   {wape / ours['seasonal naive']:.3f}x seasonal naive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
