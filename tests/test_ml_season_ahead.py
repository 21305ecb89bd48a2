"""ml.season_ahead: the weeks ahead judged against the seasons the backtest's windows scored."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ml.backtest import window_origins
from ml.season_ahead import LEVEL_DAYS, season_ahead

AS_OF = pd.Timestamp("2024-10-31")
H = 56


def _history(rates: dict[str, object], start: str = "2023-01-01", end: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Units a day per market, each rate a number or a function of the day; one SKU per market."""
    days = pd.date_range(start, end)
    frames = []
    for market, rate in rates.items():
        units = [rate(d) if callable(rate) else rate for d in days]
        frames.append(pd.DataFrame({"sku": f"S-{market}", "market": market, "category": "c", "demand_date": days,
                                    "units_sold": np.asarray(units, dtype=float)}))
    out = pd.concat(frames, ignore_index=True)
    return out[out["units_sold"] > 0]  # the mart keeps days with a sale only


def _christmas(day: pd.Timestamp) -> float:
    return 50.0 if (day.month == 11 or (day.month == 12 and day.day <= 26)) else 10.0


def test_a_peak_last_year_beyond_every_window_is_unscored_and_a_flat_market_is_not():
    check = season_ahead(_history({"DE": _christmas, "US": 10.0}), AS_OF.date(), H, window_origins(AS_OF.date(), H, 4))
    rows = check.groups.set_index("market")
    assert check.unscored == ["DE"]
    assert rows.loc["DE", "ratio_ahead"] > 3.5 and rows.loc["DE", "highest_scored"] < 1.1
    assert rows.loc["US", "ratio_ahead"] == 1.0 and not rows.loc["US", "unscored"]
    assert "DE: the same weeks last year sold 3.7" in check.describe()


def test_a_peak_a_window_scored_is_no_surprise():
    """Windows from last year's season (a backtest run a year back would have them) cover the peak ahead."""
    history = _history({"DE": _christmas})
    origins = [pd.Timestamp("2023-11-02"), *window_origins(AS_OF.date(), H, 2)]
    assert season_ahead(history, AS_OF.date(), H, origins).unscored == []


def test_a_season_ending_is_unscored_too():
    """Planned from mid-December, last year's January lull lies below every window's ratio."""
    as_of = pd.Timestamp("2024-12-20")
    lull = lambda d: 2.0 if d.month == 1 or (d.month == 12 and d.day > 26) else _christmas(d)  # noqa: E731
    check = season_ahead(_history({"DE": lull}, end=as_of), as_of.date(), H, window_origins(as_of.date(), H, 4))
    assert check.unscored == ["DE"]
    row = check.groups.iloc[0]
    assert row["ratio_ahead"] < row["lowest_scored"] / 1.5


def test_without_a_year_back_or_with_too_few_units_nothing_is_judged():
    short = _history({"DE": _christmas}, start="2024-01-01")
    check = season_ahead(short, AS_OF.date(), H, window_origins(AS_OF.date(), H, 4))
    assert check.unscored == [] and check.groups["ratio_ahead"].isna().all()
    # a unit every other day last year: its ratio says nothing
    thin = _history({"DE": lambda d: 25.0 if d.month == 11 and d.day > 10 else float(d.day % 2)})
    check = season_ahead(thin, AS_OF.date(), H, window_origins(AS_OF.date(), H, 4))
    assert check.unscored == [] and np.isnan(check.groups["ratio_ahead"].iloc[0])
    assert LEVEL_DAYS == 28


def test_days_after_the_planning_date_are_not_read():
    history = _history({"DE": _christmas}, end=pd.Timestamp("2024-12-31"))
    later = history.assign(units_sold=np.where(pd.to_datetime(history["demand_date"]) > AS_OF, 1e6, history["units_sold"]))
    origins = window_origins(AS_OF.date(), H, 4)
    pd.testing.assert_frame_equal(season_ahead(history, AS_OF.date(), H, origins).groups,
                                  season_ahead(later, AS_OF.date(), H, origins).groups)
    assert season_ahead(history.iloc[:0], AS_OF.date(), H, origins).unscored == []


def test_a_pallet_order_last_year_is_no_season():
    """One wholesale day of 5,000 units in last year's weeks is capped to the series' busy day (crossdock.bulk_days)."""
    pallet = lambda d: 5000.0 if d == pd.Timestamp("2023-11-20") else 10.0  # noqa: E731
    check = season_ahead(_history({"US": pallet}), AS_OF.date(), H, window_origins(AS_OF.date(), H, 4))
    assert check.unscored == [] and check.groups["ratio_ahead"].iloc[0] == 1.0


def test_a_market_first_sold_inside_the_level_days_is_not_judged_there():
    """Days before a market's first sale are not a low level: FR, flat since 10 days before last year's origin,
    would read 2.5x."""
    first = AS_OF - pd.Timedelta(days=364 + 10)
    history = pd.concat([_history({"DE": 10.0}), _history({"FR": 10.0}, start=str(first.date()))])
    check = season_ahead(history, AS_OF.date(), H, window_origins(AS_OF.date(), H, 4))
    rows = check.groups.set_index("market")
    assert check.unscored == [] and np.isnan(rows.loc["FR", "ratio_ahead"]) and rows.loc["DE", "ratio_ahead"] == 1.0
    # a window whose level days began before the first sale scores nothing for it
    late = _history({"FR": 10.0}, start=str((AS_OF - pd.Timedelta(days=3 * H + 10)).date()))
    scored = season_ahead(late, AS_OF.date(), H, window_origins(AS_OF.date(), H, 4)).groups.iloc[0]
    assert scored["highest_scored"] == 1.0 and np.isnan(scored["ratio_ahead"])


def test_time_zone_aware_days_are_read_as_their_calendar_days():
    history = _history({"DE": _christmas, "US": 10.0})
    aware = history.assign(demand_date=pd.to_datetime(history["demand_date"]).dt.tz_localize("UTC"))
    origins = window_origins(AS_OF.date(), H, 4)
    pd.testing.assert_frame_equal(season_ahead(aware, AS_OF.date(), H, origins).groups,
                                  season_ahead(history, AS_OF.date(), H, origins).groups)
