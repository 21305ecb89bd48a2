"""Whether the weeks ahead hold a season the backtest's windows never scored, market by market.

The backtest proves two choices on its windows, which all lie behind the
planning date, and both rest on the weeks before the origin: the blend
partner of the model's mean is the series' 28-day level (`ml.blend`), and
MinTrace's upper levels (`ml.hierarchy`) are AutoETS with a weekly season
and no yearly one, carrying the level of the weeks before into the horizon.
Where the horizon sells about what the weeks before it did, as in the
windows they were proven on, that is fair; before a peak it is not, and
both pull the peak down to the quiet weeks before it (ml/README.md, "The
blend and the reconciliation before a season the windows never held": a
Christmas merchant's November-December forecast went from 0.61x of what
sold to 0.77x once set aside).

What is compared, per market: its season ratio, the units sold per day over
the H days after an origin divided by those over the `LEVEL_DAYS` days up
to it, in regular demand (`crossdock.bulk_days`: a wholesaler's pallet is
neither a season nor a level). For each backtest window that is what the
window held; for the weeks ahead it is what the same weeks held 52 weeks
before (the ratio at as_of - 364 days, same weekdays). The season ahead is
unscored in a market when last year's ratio lies beyond every window's by
more than `UNSCORED_FACTOR`, above the highest or below the lowest: a peak
coming, or one ending. There the forecast asset keeps the model's mean (it
has the year-ago and calendar features) and sums the totals up from the
SKUs (bottom-up, which needs no proof). Not judged, so left to the
backtest's choices: a market without the history a year back (its first
sale after last year's level days began), or selling under a unit a day in
last year's level days (a ratio of a handful of units says nothing). A
window whose level days came before a market's first sale scores nothing
for it either.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.bulk_days import regular_daily_sales
from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS
from ml.panel import to_timestamp

LEVEL_DAYS = 28
"""Days up to an origin whose rate is the level the season ratio divides by: each weekday four times."""
UNSCORED_FACTOR = 1.5
"""How far beyond every window's ratio last year's may lie before the season ahead counts as unscored."""

COLUMNS = ("market", "ratio_ahead", "lowest_scored", "highest_scored", "beyond", "unscored")


@dataclass(frozen=True)
class SeasonAhead:
    """The season check of one forecast.

    markets: one row per market of the history: market, ratio_ahead (last
        year's season ratio at the forecast's origin; NaN when not judged),
        lowest_scored / highest_scored (the windows' lowest and highest ratio;
        NaN without a window that sold), beyond (how far last year's ratio
        lies beyond the windows': its ratio to the highest, or the lowest's
        to it, whichever is larger), unscored (beyond > `UNSCORED_FACTOR`).
    """

    markets: pd.DataFrame

    @property
    def unscored(self) -> list[str]:
        """Markets whose season ahead no window scored, sorted."""
        return sorted(self.markets.loc[self.markets["unscored"], "market"].astype(str))

    def describe(self) -> str:
        """One sentence per unscored market, for the run's log and the totals' metadata."""
        rows = self.markets[self.markets["unscored"]].sort_values("market")
        return "; ".join(
            f"{r.market}: the same weeks last year sold {r.ratio_ahead:.2f}x their level, the backtest's windows "
            f"{r.lowest_scored:.2f}x-{r.highest_scored:.2f}x"
            for r in rows.itertuples()
        )


def _market_days(daily: pd.DataFrame) -> pd.DataFrame:
    """Units sold per market x day of `regular_daily_sales`'s frame: indexed by the days that sold, one column per
    market."""
    by = [daily["demand_date"].rename("day"), daily["market"].astype(str).rename("market")]
    return daily["units_sold"].groupby(by).sum().unstack(fill_value=0.0)


def _ratios(daily: pd.DataFrame, first_sale: pd.Series, origin: pd.Timestamp, horizon_days: int) -> tuple[pd.Series, pd.Series]:
    """Per market: the season ratio at `origin` and the units of its level days; NaN where the history does not
    cover the horizon, or the market's level days began before its `first_sale` (days it was not yet selling
    would read as a low level)."""
    level_start = origin - pd.Timedelta(days=LEVEL_DAYS - 1)
    horizon_end = origin + pd.Timedelta(days=horizon_days)
    if level_start < daily.index.min() or horizon_end > daily.index.max():
        nothing = pd.Series(np.nan, index=daily.columns)
        return nothing, nothing
    selling = first_sale.reindex(daily.columns) <= level_start
    level = daily.loc[level_start:origin].sum().where(selling)
    ahead = daily.loc[origin + pd.Timedelta(days=1):horizon_end].sum()
    ratio = (ahead / horizon_days) / (level / LEVEL_DAYS).where(level > 0)
    return ratio, level


def season_ahead(
    history: pd.DataFrame, as_of: dt.date, horizon_days: int, window_origins: Sequence[dt.date | pd.Timestamp]
) -> SeasonAhead:
    """Judge the weeks after `as_of` against the backtest windows at `window_origins` (module docstring).

    `history` is `marts.fct_daily_demand` (market, demand_date, units_sold);
    only days up to `as_of` are read.
    """
    end = to_timestamp(as_of)
    last_year = end - pd.Timedelta(days=SAME_WEEKDAY_LAST_YEAR_DAYS)
    origins = [to_timestamp(o) for o in window_origins]
    history = history.assign(demand_date=pd.to_datetime(history["demand_date"]).dt.tz_localize(None).dt.normalize())
    history = history[(history["demand_date"] <= end) & (pd.to_numeric(history["units_sold"]) > 0)]
    if history.empty:
        return SeasonAhead(pd.DataFrame({c: pd.Series(dtype=bool if c == "unscored" else float) for c in COLUMNS}))
    first_sale = history.groupby(history["market"].astype(str))["demand_date"].min()
    start = max(first_sale.min(), min([last_year, *origins]) - pd.Timedelta(days=LEVEL_DAYS - 1))
    daily = _market_days(regular_daily_sales(history, end, (end - start).days + 1))
    daily = daily.reindex(index=pd.date_range(start, end, freq="D"), columns=first_sale.index, fill_value=0.0)
    ahead, last_level = _ratios(daily, first_sale, last_year, horizon_days)
    ahead = ahead.where(last_level >= LEVEL_DAYS)  # under a unit a day: too few units to judge
    scored = pd.DataFrame({str(o): _ratios(daily, first_sale, o, horizon_days)[0] for o in origins},
                          index=daily.columns)
    lowest, highest = scored.min(axis=1), scored.max(axis=1)
    beyond = pd.concat([ahead / highest, lowest / ahead], axis=1).max(axis=1)
    markets = pd.DataFrame({
        "market": daily.columns.astype(str), "ratio_ahead": ahead.to_numpy(), "lowest_scored": lowest.to_numpy(),
        "highest_scored": highest.to_numpy(), "beyond": beyond.to_numpy(), "unscored": (beyond > UNSCORED_FACTOR).to_numpy(),
    })
    return SeasonAhead(markets.reset_index(drop=True))
