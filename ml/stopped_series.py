"""Series that have stopped selling: a trailing quiet run too long for the series' own rate of selling days.

A product taken off sale, delisted by a marketplace or cut off by a border
keeps selling in a forecast: its lags and rolling means remember the weeks
before it stopped, and the 28-day level the published mean is blended with
(`ml.blend`) does too. On the real DataCo export (`../shared/data/real/`) nine
SKUs carrying 86 % of the units stopped on one day; the window of the
backtest that began nine days later forecast them at their old pace, and the
model's weekly WAPE was 39.6 there against the zero forecast's 1.0.

The rule is the training-data gate's stop check (`expectations.market_days`)
for one series rather than one market, on a series' own history:

- its rate of selling days is r = s / (n + `PRIOR_DAYS`), s its days with a
  sale and n its days from its first sale (or the start of the last
  `WINDOW_DAYS`) to its last sale. The prior days shrink the rate of a young
  series: five sales on its first five days are r = 0.15, not 1;
- the trailing quiet run of q days after its last sale has, taking days as
  independent, probability P = (1 - r)^q;
- the series has stopped when P < `STOP_PROBABILITY` and q >= `MIN_QUIET_DAYS`.
  A week at least, so a shop closed over Christmas or a long weekend does not
  stop its daily sellers: the forecast's weekly pattern covers a shorter gap.

A series out of stock at its market's node in the latest inventory snapshot
is never judged stopped in the published forecast (`out_of_stock`): it sells
nothing whether or not anyone wants it, and a forecast of 0 would keep the
plan from ever reordering it. Without an inventory feed that is not known,
and each series forecast 0 is raised for a person to check
(`sop.exceptions.stopped_selling`).

Whether forecasting a stopped series at 0 is better than the model's mean is
not assumed: the backtest decides it held out, with the blend's weight
(`ml.blend`), and a merchant whose quiet runs are stock-outs rather than
stops keeps the model's forecast. A daily seller quiet for a week, P about
1e-8, is judged stopped; one that has sold on one day in ten for a year needs
31 quiet days (its rate is 36 / (364 + 28)).

A season ending is no stop: a series quiet over the same days a year before,
which then sold again, is left to the model (`seasonal_lull`).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS
from crossdock.wording import listed

STOP_PROBABILITY = 0.05
MIN_QUIET_DAYS = 7
PRIOR_DAYS = 28
WINDOW_DAYS = 364
SEASON_DAYS = SAME_WEEKDAY_LAST_YEAR_DAYS
LULL_SHARE = 0.2


def quiet_run_probability(Y: np.ndarray, first: np.ndarray, origin: int, window: int = WINDOW_DAYS
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Per series: the probability of its trailing quiet run at its own rate of selling days, and the run's length.

    `Y[series, day]` is units per day (zero-filled), `first` each series' first
    day with a sale (days before it are not part of the series). Only the
    `window` days up to `origin` are read. A series without a sale in them has
    P = 1 and a run of -1: nothing to judge (`ml.series_selection` drops it
    before it gets this old).
    """
    rate, quiet = _selling_rate(Y, first, origin, window)
    return _run_probability(rate, quiet), quiet


def _selling_rate(Y: np.ndarray, first: np.ndarray, origin: int, window: int = WINDOW_DAYS
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per series: its rate of selling days r = s / (n + PRIOR_DAYS) and its trailing quiet run (-1 without a sale in
    the `window` days up to `origin`), which `quiet_run_probability` and `stopped` both read."""
    if origin < 0 or origin >= Y.shape[1]:
        raise ValueError("origin outside the history")
    lo = max(origin - window + 1, 0)
    days = np.arange(lo, origin + 1)
    sold = (Y[:, lo: origin + 1] > 0) & (days[None, :] >= np.asarray(first)[:, None])
    any_sold = sold.any(axis=1)
    last = lo + (len(days) - 1 - np.argmax(sold[:, ::-1], axis=1))
    quiet = np.where(any_sold, origin - last, -1)
    span = last - np.maximum(np.asarray(first), lo) + 1
    return sold.sum(axis=1) / (span + PRIOR_DAYS), quiet


def _run_probability(rate: np.ndarray, quiet: np.ndarray) -> np.ndarray:
    """P = (1 - r)^q of each trailing quiet run, taking days as independent; 1 for a series without a sale."""
    return np.where(quiet >= 0, (1.0 - rate) ** np.maximum(quiet, 0), 1.0)


def seasonal_lull(Y: np.ndarray, first: np.ndarray, origin: int, quiet: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Which series were about as quiet over the days of their quiet run up to `origin` a year before, and sold
    after: a season ending, not a product that stopped (a bool per series).

    A year is `SEASON_DAYS` (52 weeks, so weekdays line up). About as quiet: selling on at most `LULL_SHARE` of
    the days its `rate` of selling days would give (a summer line sells a day or two into autumn some years). A
    Shopify merchant's summer lines, quiet since September, were judged stopped at the end of October: 48
    stopped_selling exceptions, and a forecast of 0 into next spring would have missed the season's start. The
    series must have been selling (past its first sale) when last year's run began; a series that was as quiet by
    chance a year before is taken for seasonal, about as rarely as the stop rule's own false alarms.
    """
    n_days = Y.shape[1]
    start = origin - SEASON_DAYS - quiet + 1  # last year's run: [start, origin - SEASON_DAYS]
    end = origin - SEASON_DAYS
    comeback_end = origin - quiet  # sold again after it, before this year's run began
    sold = np.concatenate([np.zeros((Y.shape[0], 1)), np.cumsum(Y > 0, axis=1)], axis=1)

    def sales(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # days with a sale in [lo, hi], per series
        lo, hi = np.clip(lo, 0, n_days), np.clip(hi + 1, 0, n_days)
        rows = np.arange(Y.shape[0])
        return sold[rows, np.maximum(hi, lo)] - sold[rows, lo]

    end_days = np.full_like(start, end)
    known = (quiet >= 1) & (start >= np.asarray(first))
    as_quiet = sales(start, end_days) <= LULL_SHARE * np.asarray(rate) * quiet
    return known & as_quiet & (sales(end_days + 1, comeback_end) > 0)


def stopped(Y: np.ndarray, first: np.ndarray, origin: int) -> np.ndarray:
    """Which series have stopped selling at `origin` (a bool per series), by the rule above; a seasonal lull
    (`seasonal_lull`) is no stop."""
    rate, quiet = _selling_rate(Y, first, origin)
    probability = _run_probability(rate, quiet)
    judged = (quiet >= MIN_QUIET_DAYS) & (probability < STOP_PROBABILITY)
    return judged & ~seasonal_lull(Y, first, origin, quiet, rate)


def out_of_stock(series: pd.DataFrame, market_nodes: Mapping[str, str], stock: pd.DataFrame) -> np.ndarray:
    """Which `series` (sku, market, last_sale_date) hold no stock at their market's fulfilment node (`market_nodes`)
    in a snapshot taken since their last sale, a bool each.

    `stock`: sku, node, on_hand, snapshot_date of each node's latest
    inventory snapshot (`intermediate.int_stock_position` rows with a
    snapshot). A node absent from it has no inventory feed, so its series are
    not known to be out of stock; a SKU absent at a node that has a snapshot
    holds none there. A snapshot older than the series' last sale says
    nothing of its quiet run: the series sold after it.
    """
    node = series["market"].map(dict(market_nodes))
    keys = pd.MultiIndex.from_arrays([series["sku"], node])
    held = stock.groupby(["sku", "node"])["on_hand"].sum()
    on_hand = held.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    # the count a SKU's figure comes from (a smaller file may update a few SKUs after the node's full count), else
    # the node's latest: a SKU a count left out holds none since that count
    dates = pd.to_datetime(stock["snapshot_date"])
    own = dates.groupby([stock["sku"], stock["node"]]).max().reindex(keys).to_numpy()
    taken = np.where(pd.isna(own), node.map(dates.groupby(stock["node"]).max()).to_numpy(), own)
    recent = (pd.to_datetime(pd.Series(taken)) >= pd.to_datetime(series["last_sale_date"]).reset_index(drop=True)).to_numpy()
    return node.isin(set(stock["node"])).to_numpy() & (on_hand <= 0) & recent


def stopped_note(stopped: pd.DataFrame) -> str:
    """The warning for the series forecast 0 because they stopped selling (sku, market, quiet_days)."""
    examples = [f"{r.sku} in {r.market} ({r.quiet_days} days)" for r in stopped.sort_values("quiet_days").itertuples()]
    return (f"{len(stopped)} series stopped selling and are forecast 0, as the last backtest proved better than their "
            f"old pace: {listed(examples, 5)}. The plan orders nothing for their demand in those markets until they sell "
            "again; each is raised as a stopped_selling exception, since without stock at their node in an inventory "
            "snapshot a product taken off sale cannot be told from one out of stock (ml/stopped_series.py)")
