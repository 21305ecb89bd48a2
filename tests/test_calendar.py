"""Market calendars come from the market's code and its configured subdivision, for any country."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from crossdock.calendar import public_holidays
from ml.calendar_features import build_calendar


def test_a_subdivision_adds_its_regional_holidays():
    national = public_holidays("CA", [2025])
    ontario = public_holidays("CA", [2025], "ON")
    assert dt.date(2025, 2, 17) in ontario and dt.date(2025, 2, 17) not in national  # Family Day
    assert set(national) <= set(ontario)


def test_any_country_has_its_holidays_and_a_catch_all_market_has_none():
    assert dt.date(2025, 11, 17) in public_holidays("MX", [2025])  # Revolution Day (third Monday of November)
    assert public_holidays("ROW", [2025]) == {}


def test_the_forecast_calendar_follows_the_configured_subdivision():
    start, end = pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")
    plain = build_calendar(("CA", "ROW"), start, end)
    configured = build_calendar(("CA", "ROW"), start, end, {"CA": "ON"})
    family_day = plain.dates.get_loc(pd.Timestamp("2025-02-17"))
    assert not plain.is_holiday[0, family_day] and configured.is_holiday[0, family_day]
    assert not configured.is_holiday[1].any()  # the catch-all market: sales events only
