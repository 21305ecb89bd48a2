"""Market calendars: public holidays and retail sales events.

Public holidays come from the `holidays` package (per market, with the
subdivision a national storefront follows). Sales events are the retail
moments that move e-commerce demand; their dates follow published rules
(Black Friday is the day after US Thanksgiving, French sales start on dates
fixed by decree, ...) so they are computed, not typed in per year.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays
import pandas as pd

SAME_WEEKDAY_LAST_YEAR_DAYS = 364
"""52 weeks: the day a year before that falls on the same weekday, so a Saturday is compared with a Saturday (the
forecast's year-ago features, the seasonal-lull rule, the unlike_last_year exception, the dashboard's last-year line)."""


def public_holidays(market: str, years: Iterable[int], subdivision: str | None = None) -> dict[dt.date, str]:
    """Public holidays of `market` (an ISO country code) in `years`, keyed by date.

    `subdivision` is the `holidays` subdivision the storefront follows (a
    market's `holiday_subdivision` in crossdock.yaml). A market the package has
    no calendar for (a catch-all market, a country it does not cover) has no
    public holidays rather than an error: its forecast still runs, on sales
    events and its own history.
    """
    try:
        cal = holidays.country_holidays(market, subdiv=subdivision, years=list(years))
    except NotImplementedError:
        return {}
    return dict(cal.items())


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _span(start: dt.date, days: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(days)]


def sales_events(market: str, years: Iterable[int]) -> dict[dt.date, str]:
    """Retail sales-event days of `market` in `years`, keyed by date.

    Rules (approximations a planner would recognise):
    - black_friday: the Friday after the fourth Thursday of November, every market;
    - cyber_monday: the Monday after, every market but JP;
    - prime_day: the Tuesday and Wednesday of the second full week of July;
    - boxing_day: 26 December in GB, CA and AU;
    - soldes: FR winter and summer sales (second Wednesday of January and
      last Wednesday of June, first 7 days, the busiest);
    - click_frenzy: AU, second Tuesday of November and the day after;
    - hatsuuri: JP New Year sales, 2-3 January.
    """
    events: dict[dt.date, str] = {}
    for y in years:
        thanksgiving = _nth_weekday(y, 11, 3, 4)
        events[thanksgiving + dt.timedelta(days=1)] = "black_friday"
        if market != "JP":
            events[thanksgiving + dt.timedelta(days=4)] = "cyber_monday"
        prime_start = _nth_weekday(y, 7, 0, 2) + dt.timedelta(days=1)
        for d in _span(prime_start, 2):
            events[d] = "prime_day"
        if market in {"GB", "CA", "AU"}:
            events[dt.date(y, 12, 26)] = "boxing_day"
        if market == "FR":
            for d in _span(_nth_weekday(y, 1, 2, 2), 7) + _span(_last_weekday(y, 6, 2), 7):
                events[d] = "soldes"
        if market == "AU":
            for d in _span(_nth_weekday(y, 11, 1, 2), 2):
                events[d] = "click_frenzy"
        if market == "JP":
            for d in _span(dt.date(y, 1, 2), 2):
                events[d] = "hatsuuri"
    return events


def market_calendar(market: str, start: dt.date, end: dt.date, subdivision: str | None = None) -> pd.DataFrame:
    """One row per day from `start` to `end`: is_holiday, holiday_name, event_name.

    The frame is what both the demo generator and the forecast features use,
    so a market's calendar means the same thing on both sides.
    """
    days = pd.date_range(start, end, freq="D")
    years = range(start.year, end.year + 1)
    hol = public_holidays(market, years, subdivision)
    ev = sales_events(market, years)
    dates = [d.date() for d in days]
    return pd.DataFrame(
        {
            "market": market,
            "date": days,
            "holiday_name": [hol.get(d) for d in dates],
            "event_name": [ev.get(d) for d in dates],
        }
    ).assign(is_holiday=lambda f: f["holiday_name"].notna(), is_event=lambda f: f["event_name"].notna())
