"""The series a forecast leaves: sold in the last year, not in the last 91 days, with their share of that year."""
import datetime as dt

import pandas as pd
import pytest

from ml.panel import build_panel
from ml.series_selection import active_in_panel, dropped_note, dropped_series

AS_OF = dt.date(2026, 10, 30)


def rows(sku: str, market: str, first: str, last: str, units: float) -> list[dict]:
    return [{"sku": sku, "market": market, "category": "c", "demand_date": day, "units_sold": units, "units_returned": 0.0}
            for day in pd.date_range(first, last)]


def test_the_series_that_stopped_over_91_days_ago_within_the_year_are_named_with_their_share():
    history = pd.DataFrame(
        rows("BIG", "DE", "2026-01-01", "2026-07-01", 10.0)         # stopped 121 days before AS_OF: dropped
        + rows("LIVE", "DE", "2026-01-01", "2026-10-30", 1.0)       # still selling
        + rows("QUIET", "US", "2026-01-01", "2026-08-15", 1.0)      # 76 quiet days: still forecast
        + rows("OLD", "US", "2025-01-01", "2025-09-30", 5.0)        # last sale over a year ago: long gone, not news
    )
    panel = build_panel(history, AS_OF)
    dropped, share = dropped_series(panel)
    assert dropped[["sku", "market"]].values.tolist() == [["BIG", "DE"]]
    assert dropped.loc[0, "last_sale_date"] == pd.Timestamp("2026-07-01")
    window = pd.date_range(end=pd.Timestamp(AS_OF), periods=364)
    in_window = {sku: sum(1 for d in pd.date_range(first, last) if d in window) * units
                 for sku, first, last, units in (("BIG", "2026-01-01", "2026-07-01", 10.0),
                                                 ("LIVE", "2026-01-01", "2026-10-30", 1.0),
                                                 ("QUIET", "2026-01-01", "2026-08-15", 1.0))}
    assert dropped.loc[0, "units"] == in_window["BIG"]
    assert share == pytest.approx(in_window["BIG"] / sum(in_window.values()))
    # exactly the series the forecast leaves out among those that sold in the year
    active = set(map(tuple, active_in_panel(panel)[["sku", "market"]].to_numpy()))
    assert active == {("LIVE", "DE"), ("QUIET", "US")}
    note = dropped_note(dropped, share)
    assert note.startswith(f"1 series that sold {share:.0%} of the last 364 days' units have not sold for over 91 days")
    assert f"BIG in DE ({in_window['BIG']:,.0f} units, last sale 2026-07-01). Taken off sale" in note
