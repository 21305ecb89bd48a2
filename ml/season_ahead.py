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

The same check judges categories pooled over the markets (`by="category"`)
for ml/season_lift.py, like for like there: the days ahead count only the
series that sold in the level days, so a launch is no season (a category
holds few SKUs, and one launch moves it).
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

COLUMNS = ("ratio_ahead", "lowest_scored", "highest_scored", "beyond", "unscored", "ratio_year_before")
"""Beside the group's own column (`market`, or `category` pooled over the markets)."""


@dataclass(frozen=True)
class SeasonAhead:
    """The season check of one forecast, by market or by category.

    groups: one row per group of the history: the group (column `by`), ratio_ahead (last
        year's season ratio at the forecast's origin; NaN when not judged),
        lowest_scored / highest_scored (the windows' lowest and highest ratio;
        NaN without a window that sold), beyond (how far last year's ratio
        lies beyond the windows': its ratio to the highest, or the lowest's
        to it, whichever is larger), unscored (beyond > `UNSCORED_FACTOR`),
        ratio_year_before (the same ratio 52 weeks earlier still, judged
        alike: ml/season_lift.py asks whether a season repeats).
    """

    groups: pd.DataFrame
    by: str = "market"

    @property
    def unscored(self) -> list[str]:
        """Groups whose season ahead no window scored, sorted."""
        return sorted(self.groups.loc[self.groups["unscored"], self.by].astype(str))

    def describe(self) -> str:
        """One sentence per unscored group, for the run's log and the totals' metadata."""
        rows = self.groups[self.groups["unscored"]].sort_values(self.by)
        return "; ".join(
            f"{getattr(r, self.by)}: the same weeks last year sold {r.ratio_ahead:.2f}x their level, the backtest's windows "
            f"{r.lowest_scored:.2f}x-{r.highest_scored:.2f}x"
            for r in rows.itertuples()
        )


def _series_days(regular: pd.DataFrame, by: str) -> tuple[pd.DataFrame, pd.Series]:
    """Units sold per day x series (sku x market) of `regular_daily_sales`'s frame, indexed by the days that sold,
    and each series' group."""
    series = (regular["sku"].astype(str) + "|" + regular["market"].astype(str)).rename("series")
    daily = regular["units_sold"].groupby([regular["demand_date"].rename("day"), series]).sum().unstack(fill_value=0.0)
    group_of = pd.Series(regular[by].astype(str).to_numpy(), index=series.to_numpy()).groupby(level=0).last()
    return daily, group_of.reindex(daily.columns)


def _ratios(daily: pd.DataFrame, group_of: pd.Series, first_sale: pd.Series, origin: pd.Timestamp, horizon_days: int,
            like_for_like: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per group: the season ratio at `origin`, the units of its level days and the ratio's standard error on the
    log scale, as counts of those units give it; NaN where the history does not
    cover the horizon, or the group's level days began before its `first_sale` (days it was not yet selling
    would read as a low level). Like for like, the days ahead count only the series that sold in the level days:
    a launch is no season."""
    level_start = origin - pd.Timedelta(days=LEVEL_DAYS - 1)
    horizon_end = origin + pd.Timedelta(days=horizon_days)
    if level_start < daily.index.min() or horizon_end > daily.index.max():
        nothing = pd.Series(np.nan, index=first_sale.index)
        return nothing, nothing, nothing
    level = daily.loc[level_start:origin].sum()
    ahead = daily.loc[origin + pd.Timedelta(days=1):horizon_end].sum()
    if like_for_like:
        ahead = ahead.where(level > 0, 0.0)
    level = level.groupby(group_of).sum().reindex(first_sale.index, fill_value=0.0).where(first_sale <= level_start)
    ahead = ahead.groupby(group_of).sum().reindex(first_sale.index, fill_value=0.0)
    ratio = (ahead / horizon_days) / (level / LEVEL_DAYS).where(level > 0)
    error = np.sqrt(1.0 / level.where(level > 0) + 1.0 / ahead.clip(lower=1.0))
    return ratio, level, error


def _towards(ratio: pd.Series, error: pd.Series, lowest: pd.Series, highest: pd.Series, z: float) -> pd.Series:
    """A ratio beyond the windows' taken `z` standard errors of its own counts back towards them, never past them:
    what its units vouch for."""
    shift = np.exp(z * error.fillna(0.0))
    return ratio.where(~(ratio > highest), np.maximum(ratio / shift, highest)).where(
        ~(ratio < lowest), np.minimum(ratio * shift, lowest))


def season_ahead(
    history: pd.DataFrame, as_of: dt.date, horizon_days: int, window_origins: Sequence[dt.date | pd.Timestamp],
    by: str = "market", like_for_like: bool = False, noise_z: float = 0.0,
) -> SeasonAhead:
    """Judge the weeks after `as_of` against the backtest windows at `window_origins` (module docstring), per
    market, or with `by="category"` per category pooled over the markets (ml/season_lift.py).

    `history` is `marts.fct_daily_demand` (market, category, demand_date,
    units_sold); only days up to `as_of` are read. With `noise_z`, last
    year's ratio (and the year before's) is taken that many standard errors
    of its own counts towards the windows before it is judged: a category
    of a few units a day needs a larger season to count, and counts for
    less (ml/season_lift.py).
    """
    end = to_timestamp(as_of)
    last_year = end - pd.Timedelta(days=SAME_WEEKDAY_LAST_YEAR_DAYS)
    year_before = last_year - pd.Timedelta(days=SAME_WEEKDAY_LAST_YEAR_DAYS)
    origins = [to_timestamp(o) for o in window_origins]
    history = history.assign(demand_date=pd.to_datetime(history["demand_date"]).dt.tz_localize(None).dt.normalize())
    history = history[(history["demand_date"] <= end) & (pd.to_numeric(history["units_sold"]) > 0) & history[by].notna()]
    if history.empty:
        empty = {by: pd.Series(dtype=object), **{c: pd.Series(dtype=bool if c == "unscored" else float) for c in COLUMNS}}
        return SeasonAhead(pd.DataFrame(empty), by)
    first_sale = history.groupby(history[by].astype(str))["demand_date"].min()
    start = max(first_sale.min(), min([year_before, *origins]) - pd.Timedelta(days=LEVEL_DAYS - 1))
    regular = regular_daily_sales(history, end, (end - start).days + 1)
    if by not in regular.columns:  # a SKU's category, as the history names it last
        regular[by] = regular["sku"].map(history.drop_duplicates("sku", keep="last").set_index("sku")[by])
    daily, group_of = _series_days(regular, by)
    daily = daily.reindex(index=pd.date_range(start, end, freq="D"), fill_value=0.0)
    ahead, last_level, ahead_error = _ratios(daily, group_of, first_sale, last_year, horizon_days, like_for_like)
    before, before_level, before_error = _ratios(daily, group_of, first_sale, year_before, horizon_days, like_for_like)
    ahead = ahead.where(last_level >= LEVEL_DAYS)  # under a unit a day: too few units to judge
    before = before.where(before_level >= LEVEL_DAYS)
    scored = pd.DataFrame({str(o): _ratios(daily, group_of, first_sale, o, horizon_days, like_for_like)[0]
                           for o in origins}, index=first_sale.index)
    lowest, highest = scored.min(axis=1), scored.max(axis=1)
    if noise_z:
        ahead = _towards(ahead, ahead_error, lowest, highest, noise_z)
        before = _towards(before, before_error, lowest, highest, noise_z)
    beyond = pd.concat([ahead / highest, lowest / ahead], axis=1).max(axis=1)
    groups = pd.DataFrame({
        by: first_sale.index.astype(str), "ratio_ahead": ahead.to_numpy(), "lowest_scored": lowest.to_numpy(),
        "highest_scored": highest.to_numpy(), "beyond": beyond.to_numpy(), "unscored": (beyond > UNSCORED_FACTOR).to_numpy(),
        "ratio_year_before": before.to_numpy(),
    })
    return SeasonAhead(groups.reset_index(drop=True), by)
