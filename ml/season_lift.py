"""Lift a category's forecast to last year's season where no backtest window held a season like it.

Why: the model has year-ago and calendar features, but its trees do not
extrapolate past the ratios its training rows hold. With one or two
Christmases among them it forecast a Christmas merchant's peak at 0.77x of
what sold, even with the blend and MinTrace set aside (ml/season_ahead.py;
ml/README.md, "The season lift"). Last year's season of the same category
is the one measure of that peak's size the data holds, and pooled over the
markets it has units enough to read.

How, per category (`ml.season_ahead.season_ahead(..., by="category",
like_for_like=True)`): when last year's season ratio (units a day over the
horizon after the same weekday a year back, over those of the `LEVEL_DAYS`
before it; like for like, so a launch is no season), taken `NOISE_Z`
standard errors of its own counts back towards the windows (a category of
a few units a day reads far from its season by chance), lies beyond every
backtest window's by more than `UNSCORED_FACTOR` (ml/season_ahead.py), and
the year before's lay beyond them the same way where the history reaches it
(a season is what repeats: one abnormal spring is not), the season aimed at
is the milder of the two years. The forecast's own ratio is its units a day over the
horizon, over the category's regular units a day in the `LEVEL_DAYS` up to
the planning date, in the markets forecast. Where it falls short of the
season's peak (or, a season ending, stays above its lull) by a factor beyond
1 + `SMALLEST_CHANGE`, every series of the category is multiplied by the
season's ratio over the forecast's, at most `max_lift` (at least 1 /
`max_lift` going down), in each market whose own last year went the same
way (its market ratio above every window's for a peak, below for a lull: a
market that sold flat is not lifted by another's Christmas). The band moves
with the mean, p50 the count median of the new mean. A category's totals
scale with its SKUs and each market's total takes their change, so the
totals stay coherent. The season is judged on every market of the plan, so
a run of some markets lifts them as a run of all does. Where a window held
such a season nothing changes: the backtest proved what it scored.

Not judged (ml/season_ahead.py): a category without history a year back, or
selling under a unit a day in last year's level days. The lift has no
backtest of its own, since no window holds the season by construction: the
forecast asset names each lifted category with both ratios, and ml/README.md
gives what the lift did on a Christmas merchant and on the demo merchants.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossdock.bulk_days import regular_daily_sales
from crossdock.count_median import with_count_median
from ml.panel import to_timestamp
from ml.season_ahead import LEVEL_DAYS, season_ahead

MAX_LIFT = 3.0
"""The largest factor a category's forecast is lifted by (and 1 / it, the most it is lowered by); crossdock.yaml's
forecast.season_lift_max, where 1 turns the lift off."""
NOISE_Z = 1.64
"""Standard errors of its own counts a season ratio is taken back towards the windows (one-sided 95 %): what a
category's units vouch for, not what they happened to read."""
SMALLEST_CHANGE = 0.1
"""A lift under 10 % either way is left undone: a 28-day level of a category selling a few units a day misses by more."""
COLUMNS = ("category", "ratio_ahead", "ratio_year_before", "lowest_scored", "highest_scored", "season_ratio",
           "forecast_ratio", "lift")
"""`ml.season_ahead`'s ratios, the season the lift aims at (the milder year where both are known) and the forecast's."""


MARKET_COLUMNS = ("market", "peak", "lull")
"""Per market: whether its own season last year lay above every window's (peak) or below (lull), as the market
check of ml/season_ahead.py reads it, without its factor."""


@dataclass(frozen=True)
class SeasonLift:
    """The lift of one forecast: one row per category judged unscored (COLUMNS), `lift` 1 where the forecast already
    carries the season; and the markets (MARKET_COLUMNS) whose own last year agrees with a peak or a lull."""

    categories: pd.DataFrame
    markets: pd.DataFrame
    max_lift: float = MAX_LIFT

    @property
    def lifts(self) -> dict[str, float]:
        """Category -> factor, for the categories whose forecast changes (in the markets `markets_for` names)."""
        moved = self.categories[self.categories["lift"] != 1.0]
        return {str(c): float(f) for c, f in zip(moved["category"], moved["lift"], strict=True)}

    def markets_for(self, category: str) -> list[str]:
        """The markets a category's factor applies in: those whose own season last year went its way. A market
        that sold flat, or too little to judge, is not lifted by another market's Christmas."""
        way = "peak" if self.lifts.get(category, 1.0) > 1.0 else "lull"
        return sorted(self.markets.loc[self.markets[way].astype(bool), "market"].astype(str))

    def factors(self, frame: pd.DataFrame) -> np.ndarray:
        """The factor of each row of `frame` (market, category): its category's where its market agrees, else 1."""
        factor = np.ones(len(frame))
        for category, lift in self.lifts.items():
            factor[((frame["category"] == category) & frame["market"].isin(self.markets_for(category))).to_numpy()] = lift
        return factor

    def describe(self) -> str:
        """One sentence per lifted category, for the run's log and the forecast's metadata. Its ratios are what the
        units vouch for: at least (a peak) or at most (a lull) that, counting their noise."""
        rows = self.categories[self.categories["lift"] != 1.0].sort_values("category")
        return "; ".join(
            f"{r.category} in {', '.join(self.markets_for(r.category)) or 'no market'}: the same weeks last year sold "
            f"{'at least' if r.lift > 1 else 'at most'} {r.ratio_ahead:.2f}x their level"
            f"{'' if np.isnan(r.ratio_year_before) else f', the year before {r.ratio_year_before:.2f}x'} (the backtest's "
            f"windows {r.lowest_scored:.2f}x-{r.highest_scored:.2f}x), the forecast {r.forecast_ratio:.2f}x: "
            f"x{r.lift:.2f}{' (the cap)' if np.isclose(max(r.lift, 1 / r.lift), self.max_lift) else ''}"
            for r in rows.itertuples()
        )

    def metadata(self) -> dict[str, dict[str, object]]:
        """The UI's season_lifted_categories: category -> its factor and the markets it applies in."""
        return {c: {"factor": round(f, 3), "markets": self.markets_for(c)} for c, f in self.lifts.items()}


def _forecast_ratios(forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, horizon_days: int) -> pd.Series:
    """Per category: the forecast's units a day over the horizon over the regular units a day of the `LEVEL_DAYS`
    up to `as_of`, in the forecast's markets; NaN without sales in those days."""
    end = to_timestamp(as_of)
    history = history.assign(demand_date=pd.to_datetime(history["demand_date"]).dt.tz_localize(None).dt.normalize())
    history = history[(history["demand_date"] <= end) & history["market"].isin(forecast["market"].unique())]
    categories = history.drop_duplicates("sku", keep="last").set_index("sku")["category"]
    level_days = regular_daily_sales(history, end, LEVEL_DAYS)
    level = level_days["units_sold"].groupby(level_days["sku"].map(categories)).sum() / LEVEL_DAYS
    ahead = forecast["mean"].groupby(forecast["category"]).sum() / horizon_days
    return ahead / level.where(level > 0)


def _market_ways(history: pd.DataFrame, as_of: dt.date, horizon_days: int,
                 window_origins: Sequence[dt.date | pd.Timestamp]) -> pd.DataFrame:
    """MARKET_COLUMNS: each market's own last year above every window's ratio, or below; neither when not judged."""
    groups = season_ahead(history, as_of, horizon_days, window_origins).groups
    return pd.DataFrame({"market": groups["market"], "peak": (groups["ratio_ahead"] > groups["highest_scored"]).to_numpy(),
                         "lull": (groups["ratio_ahead"] < groups["lowest_scored"]).to_numpy()})


def season_lift(
    forecast: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, horizon_days: int,
    window_origins: Sequence[dt.date | pd.Timestamp], max_lift: float = MAX_LIFT,
) -> SeasonLift:
    """Judge each category's season ahead and how far `forecast` (sku, market, category, mean, ...) carries it
    (module docstring). `history` is `marts.fct_daily_demand` of every market the plan has, not only the forecast's
    (a run of some markets judges their seasons as a run of all does); only days up to `as_of` are read."""
    empty = SeasonLift(pd.DataFrame({c: pd.Series(dtype=object if c == "category" else float) for c in COLUMNS}),
                       pd.DataFrame({c: pd.Series(dtype=object if c == "market" else bool) for c in MARKET_COLUMNS}),
                       max_lift)
    if max_lift <= 1.0 or forecast.empty or "category" not in history.columns:
        return empty
    check = season_ahead(history, as_of, horizon_days, window_origins, by="category", like_for_like=True,
                         noise_z=NOISE_Z)
    groups = check.groups
    peak = groups["ratio_ahead"] > groups["highest_scored"]  # else a lull: below every window's
    before = groups["ratio_year_before"]
    repeats = before.isna() | np.where(peak, before > groups["highest_scored"], before < groups["lowest_scored"])
    rows = groups[groups["unscored"] & repeats].copy()
    if rows.empty:
        return empty
    peak = peak[rows.index]
    years = rows[["ratio_ahead", "ratio_year_before"]]
    rows["season_ratio"] = np.where(peak, years.min(axis=1), years.max(axis=1))  # the milder year: what repeats
    ratios = _forecast_ratios(forecast, history, as_of, horizon_days)
    rows = rows.assign(forecast_ratio=rows["category"].map(ratios).to_numpy(dtype=float))
    raw = rows["season_ratio"] / rows["forecast_ratio"]
    lift = np.where(peak, raw.clip(lower=1.0, upper=max_lift), raw.clip(lower=1.0 / max_lift, upper=1.0))
    worth_it = np.isfinite(raw) & (np.abs(np.log(lift)) > np.log1p(SMALLEST_CHANGE))
    rows = rows.assign(lift=np.where(worth_it, lift, 1.0))
    return SeasonLift(rows[list(COLUMNS)].reset_index(drop=True),
                      _market_ways(history, as_of, horizon_days, window_origins), max_lift)


def lift_forecast(forecast: pd.DataFrame, levels: pd.DataFrame, lift: SeasonLift) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`forecast` with each lifted category's units multiplied by its factor in the markets it applies in (p50 the
    count median of the new mean, as everywhere: crossdock/count_median.py), and `levels` (`ml.hierarchy.Reconciled`)
    coherent with it: the category and SKU rows scaled, each market's total moved by its categories' change."""
    if not lift.lifts or forecast.empty:
        return forecast, levels
    factor = lift.factors(forecast)
    out = forecast.assign(mean=forecast["mean"] * factor)
    if {"p10", "p50", "p90"} <= set(forecast.columns):
        moved = factor != 1.0
        p10, p50, p90 = with_count_median(forecast["p10"].to_numpy() * factor, out["mean"].to_numpy(),
                                          forecast["p90"].to_numpy() * factor)
        out = out.assign(p10=np.where(moved, p10, forecast["p10"]), p50=np.where(moved, p50, forecast["p50"]),
                         p90=np.where(moved, p90, forecast["p90"]))
    if levels.empty:
        return out, levels
    node_factor = pd.Series(lift.factors(levels.assign(category=levels["category"].fillna(""))), index=levels.index)
    markets = levels["category"].isna()
    change = (levels["mean"] * (node_factor - 1.0)).where(~markets & levels["sku"].isna(), 0.0)
    by_market_day = change.groupby([levels["market"], levels["forecast_date"]]).sum()
    moved_rows = pd.MultiIndex.from_frame(levels.loc[markets, ["market", "forecast_date"]])
    mean = levels["mean"] * node_factor
    mean[markets] = levels.loc[markets, "mean"].to_numpy() + by_market_day.reindex(moved_rows, fill_value=0.0).to_numpy()
    return out, levels.assign(mean=mean)
