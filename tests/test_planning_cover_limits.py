"""Cover dates stay representable for very slow movers."""
from __future__ import annotations

import datetime as dt

import numpy as np

from planning.cover import MAX_DAYS_AHEAD, order_by_date, projected_stockout_date


def test_order_by_date_of_a_very_slow_mover_is_null_not_an_overflow():
    # (5000 - 1) / 1e-9 days would overflow a timestamp
    dates = order_by_date([5_000.0, 40.0], [1.0, 10.0], [1e-9, 1.0], dt.date(2026, 10, 30), [False, False])
    assert np.isnat(dates.to_numpy()[0])
    assert dates[1].date() == dt.date(2026, 11, 29)


def test_stockout_beyond_ten_years_is_null():
    dates = projected_stockout_date([MAX_DAYS_AHEAD * 2.0], [1.0], dt.date(2026, 10, 30), horizon_end=dt.date(2200, 1, 1))
    assert np.isnat(dates.to_numpy()[0])
