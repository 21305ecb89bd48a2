"""What the same weeks sold a year before, beside the consensus plan: the figures `unlike_last_year` judges.

The backtest scores the weeks before the planning date, never the season
ahead, so the plan is checked the way a planner checks it by eye: against
last year's same weeks (52 weeks back, the same weekdays), grown by the
market's like-for-like growth. sop/exceptions.py raises the exception from
these figures; this module builds them from the daily sales.
"""
from __future__ import annotations

import pandas as pd

from crossdock.bulk_days import RegularSales
from crossdock.calendar import SAME_WEEKDAY_LAST_YEAR_DAYS

LAST_YEAR_COLUMNS: tuple[str, ...] = (
    "sku", "market", "plan_units", "first_day", "last_day", "last_year_units", "first_sale_date",
    "market_recent_units", "market_year_before_units",
)
"""What `unlike_last_year` reads per SKU x market: the consensus plan's units from first_day to last_day (its
horizon), the units the same days sold 364 days before, the series' first sale, and its market's like-for-like
units (`last_year_figures`) over the `GROWTH_DAYS` days to the planning date and over the same days a year before."""
GROWTH_DAYS = 91
YEAR_DAYS = SAME_WEEKDAY_LAST_YEAR_DAYS
SOLD_BEFORE_DAYS = 28  # a series first sold less than this before last year's weeks has no shape to compare


def no_last_year() -> pd.DataFrame:
    """No series to compare with last year, in `LAST_YEAR_COLUMNS`."""
    days = {"first_day", "last_day", "first_sale_date"}
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in days else object if c in ("sku", "market")
                                      else float) for c in LAST_YEAR_COLUMNS})


def last_year_figures(plan: pd.DataFrame, history: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """`LAST_YEAR_COLUMNS` for each SKU x market of `plan` (sku, market, plan_units, first_day, last_day: the
    consensus plan's units over its horizon) from `history` (sku, market, demand_date, units_sold: the daily sales
    of at least the `bulk_days.WINDOW_DAYS` up to `as_of`).

    Units are the regular demand the forecast models (`crossdock.bulk_days`): a wholesaler's pallet order last
    year is not a season, nor is one this quarter a market's growth. The market's growth is like for like, as
    retailers count it: over the series that sold before the year-before window began and still sell in the
    recent one, so a range that doubled with new listings does not double every old SKU's last year. First
    sales are the earliest in `history` (`RegularSales.first_sales`).
    """
    if plan.empty:
        return no_last_year()
    as_of = pd.Timestamp(as_of).normalize()
    year, growth_days, one_day = pd.Timedelta(days=YEAR_DAYS), pd.Timedelta(days=GROWTH_DAYS), pd.Timedelta(days=1)
    keys = ["sku", "market"]
    sales = RegularSales.of(history, as_of, YEAR_DAYS + GROWTH_DAYS)
    daily, day = sales.daily, sales.daily["demand_date"]
    first_sale = sales.first_sales.set_index(keys)["first_sale"].rename("first_sale_date")

    horizons = plan[[*keys, "first_day", "last_day"]].assign(
        first_day=lambda p: pd.to_datetime(p["first_day"]), last_day=lambda p: pd.to_datetime(p["last_day"]))
    same_weeks = daily.merge(horizons, on=keys)
    same_weeks = same_weeks[(same_weeks["demand_date"] >= same_weeks["first_day"] - year)
                            & (same_weeks["demand_date"] <= same_weeks["last_day"] - year)]
    last_year = same_weeks.groupby(keys)["units_sold"].sum().rename("last_year_units")

    before_start = as_of - year - growth_days  # the year-before window is the 91 days after it
    windows = pd.concat([
        daily[day > as_of - growth_days].groupby(keys)["units_sold"].sum().rename("recent"),
        daily[(day > before_start) & (day <= as_of - year)].groupby(keys)["units_sold"].sum().rename("year_before"),
    ], axis=1).fillna(0.0).join(first_sale)
    comparable = windows[(windows["first_sale_date"] <= before_start + one_day) & (windows["recent"] > 0)]
    market = (comparable.groupby(level="market")[["recent", "year_before"]].sum()
              .rename(columns={"recent": "market_recent_units", "year_before": "market_year_before_units"}))

    figures = plan.join(last_year, on=keys).join(first_sale, on=keys).join(market, on="market")
    figures = figures.assign(
        first_day=pd.to_datetime(figures["first_day"]), last_day=pd.to_datetime(figures["last_day"]),
        last_year_units=figures["last_year_units"].fillna(0.0),
        market_recent_units=figures["market_recent_units"].fillna(0.0),
        market_year_before_units=figures["market_year_before_units"].fillna(0.0),
    )
    return figures.loc[:, list(LAST_YEAR_COLUMNS)].reset_index(drop=True)
