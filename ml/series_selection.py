"""Which series a forecast covers: the sku x market pairs that still sell, and the planned launches.

Kept apart from the forecast itself because more than the model reads it:
the forecast's quality gate expects exactly these series, and the backtest's
cadence counts the same series in SQL (`ml.backtest_store.active_shape`) to
tell when the data's shape has changed.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from crossdock.wording import listed
from ml.panel import Panel, daily_units, to_timestamp

DEFAULT_INACTIVE_AFTER_DAYS = 91


def active_series(
    history: pd.DataFrame, as_of: dt.date, inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS
) -> pd.DataFrame:
    """The series to forecast at `as_of`: sku x market with a sale in the last `inactive_after_days` days.

    Active means units sold > 0 on some day d with as_of - inactive_after_days
    <= d <= as_of (so a series is dropped once more than `inactive_after_days`
    days have passed since its last sale: phased out, or out of the range).
    Only rows on or before `as_of` are read. Columns: sku, market, category
    (latest), first_sale_date, last_sale_date (datetime64), sorted by sku, market.
    """
    cols = ["sku", "market", "category", "first_sale_date", "last_sale_date"]
    daily = daily_units(history, as_of)
    daily = daily[daily["units_sold"] > 0]
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c.endswith("date") else object) for c in cols})
    g = daily.groupby(["sku", "market"], sort=True).agg(
        category=("category", "last"),
        first_sale_date=("demand_date", "min"),
        last_sale_date=("demand_date", "max"),
    )
    cutoff = to_timestamp(as_of) - pd.Timedelta(days=inactive_after_days)
    g = g[g["last_sale_date"] >= cutoff]
    return g.reset_index()[cols]


def active_in_panel(panel: Panel, inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS) -> pd.DataFrame:
    """`active_series` read off a panel whose last day is the forecast's as_of: sku, market, category.

    The same series, in the same order, with the same category (tested), for
    a panel built by `ml.panel.build_panel` from the same history over more
    than `inactive_after_days` days; the forecast has that panel already, and
    `active_series` groups the whole history again (1.4 s at 10,000 series).
    """
    last = panel.series["last_idx"].to_numpy()
    selling = (last >= 0) & (last >= panel.n_days - 1 - inactive_after_days)
    return panel.series.loc[selling, ["sku", "market", "category"]].reset_index(drop=True)


def planned_launches(
    launches: pd.DataFrame | None,
    history: pd.DataFrame,
    active: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon_days: int,
    inactive_after_days: int,
) -> pd.DataFrame:
    """The planned launches to forecast: sku, market, category, launch_date.

    Kept when the launch falls in (as_of - inactive_after_days, as_of +
    horizon_days] and the series has not sold yet (once it sells it is an
    ordinary active series). The category comes from the SKU's history in
    other markets when the plan does not give one.
    """
    cols = ["sku", "market", "category", "launch_date"]
    if launches is None or launches.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    missing = [c for c in ("sku", "market", "launch_date") if c not in launches.columns]
    if missing:
        raise ValueError(f"launches is missing columns {missing}; expected sku, market, launch_date[, category]")
    plan = launches.assign(
        sku=launches["sku"].astype(str),
        market=launches["market"].astype(str),
        launch_date=pd.to_datetime(launches["launch_date"]).dt.tz_localize(None).dt.normalize(),
    )
    known_category = daily_units(history, as_of.date()).groupby("sku")["category"].last()
    given = plan["category"] if "category" in plan.columns else pd.Series(None, index=plan.index, dtype=object)
    plan["category"] = given.where(given.notna(), plan["sku"].map(known_category))
    unknown = plan[plan["category"].isna()]
    if not unknown.empty:
        examples = ", ".join(unknown["sku"].head(3))
        raise ValueError(f"launches: no category for new SKUs {examples}: give a category column for SKUs without history")
    window = (plan["launch_date"] > as_of - pd.Timedelta(days=inactive_after_days)) & (
        plan["launch_date"] <= as_of + pd.Timedelta(days=horizon_days)
    )
    plan = plan[window].drop_duplicates(["sku", "market"], keep="last")
    selling = pd.MultiIndex.from_frame(active[["sku", "market"]])
    plan = plan[~pd.MultiIndex.from_frame(plan[["sku", "market"]]).isin(selling)]
    return plan[cols].sort_values(["sku", "market"], ignore_index=True)


DROPPED_WINDOW_DAYS = 364
DROPPED_SHARE_WARNING = 0.1  # series leaving the forecast with a tenth of the window's units or more: a warning, not a note


def dropped_series(panel: Panel, inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
                   window: int = DROPPED_WINDOW_DAYS) -> tuple[pd.DataFrame, float]:
    """The series that sold in the last `window` days of a panel ending on the forecast's as_of but not in its last
    `inactive_after_days`: no longer forecast, so no longer planned. sku, market, last_sale_date, units (sold in the
    window), biggest first; and their share of every unit sold in the window.

    A phased-out product is meant to leave the plan; the biggest sellers of a
    merchant leaving it at once (the DataCo export's nine SKUs, most of its
    units) is news a planner must hear, since nothing else will say it: the
    forecast, the plan and the exceptions only know the series still selling.
    """
    origin = panel.n_days - 1
    last = panel.series["last_idx"].to_numpy()
    units = panel.Y[:, max(origin - window + 1, 0): origin + 1].sum(axis=1)
    gone = (last >= 0) & (last < origin - inactive_after_days) & (units > 0)
    frame = panel.series.loc[gone, ["sku", "market"]].assign(
        last_sale_date=panel.start + pd.to_timedelta(last[gone], unit="D"), units=units[gone],
    ).sort_values("units", ascending=False, ignore_index=True)
    return frame, float(units[gone].sum() / units.sum()) if units.sum() > 0 else 0.0


def dropped_note(dropped: pd.DataFrame, share: float, inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
                 window: int = DROPPED_WINDOW_DAYS) -> str:
    """What the forecast says of `dropped_series`: how many, their share of the window's units, the biggest."""
    examples = [f"{r.sku} in {r.market} ({r.units:,.0f} units, last sale {r.last_sale_date.date()})"
                for r in dropped.itertuples()]
    return (f"{len(dropped)} series that sold {share:.0%} of the last {window} days' units have not sold "
            f"for over {inactive_after_days} days and are no longer forecast or planned: {listed(examples, 5)}. "
            "Taken off sale, or are their orders missing from the feed?")
