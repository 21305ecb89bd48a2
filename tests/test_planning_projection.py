"""Day-by-day projection: hand-worked stock paths with arrivals, overdue POs and the safety stock line."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planning.projection import project_inventory

AS_OF = dt.date(2026, 10, 30)


def _demand(sku: str, node: str, per_day: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": sku,
            "node": node,
            "forecast_date": pd.Timestamp(AS_OF) + pd.to_timedelta(np.arange(1, len(per_day) + 1), unit="D"),
            "mean": per_day,
            "p50": [0.0] * len(per_day),
        }
    )


def test_stock_path_with_an_arrival_and_an_overdue_po():
    on_hand = pd.DataFrame({"sku": ["A"], "node": ["N"], "on_hand": [10]})
    arrivals = pd.DataFrame(
        {
            "sku": ["A", "A"],
            "node": ["N", "N"],
            # one line promised 3 days ago (overdue: booked on day 1), one on day 4
            "expected_arrival_date": [pd.Timestamp("2026-10-27"), pd.Timestamp("2026-11-03")],
            "quantity": [2, 5],
        }
    )
    p = project_inventory(on_hand, arrivals, _demand("A", "N", [3.0] * 8), AS_OF, 8,
                          safety_stock=pd.DataFrame({"sku": ["A"], "node": ["N"], "safety_stock": [4.0]}))
    d = p.daily
    # day:      1   2   3   4   5   6   7   8
    # opening  10   9   6   3   5   2  -1  -4
    # arrivals  2   0   0   5   0   0   0   0
    # closing   9   6   3   5   2  -1  -4  -7
    assert d["closing_on_hand"].tolist() == [9, 6, 3, 5, 2, -1, -4, -7]
    assert d["opening_on_hand"].tolist() == [10, 9, 6, 3, 5, 2, -1, -4]
    assert d["date"].iloc[0] == pd.Timestamp("2026-10-31")
    s = p.summary.iloc[0]
    assert s["projected_stockout_date"] == pd.Timestamp("2026-11-05")  # day 6
    assert s["projected_cover_days"] == 5
    assert s["below_safety_stock_date"] == pd.Timestamp("2026-11-02")  # day 3: 3 < 4
    assert s["overdue_po_units"] == 2 and s["arriving_units"] == 7


def test_stock_that_lasts_has_no_dates_and_keys_from_every_input_appear():
    on_hand = pd.DataFrame({"sku": ["A"], "node": ["N"], "on_hand": [100]})
    arrivals = pd.DataFrame({"sku": ["B"], "node": ["N"], "expected_arrival_date": [pd.Timestamp("2026-11-02")], "quantity": [5]})
    demand = pd.concat([_demand("A", "N", [1.0] * 5), _demand("C", "M", [2.0] * 5)])
    p = project_inventory(on_hand, arrivals, demand, AS_OF, 5)
    s = p.summary.set_index(["sku", "node"])
    assert list(s.index) == [("A", "N"), ("B", "N"), ("C", "M")]
    assert pd.isna(s.loc[("A", "N"), "projected_stockout_date"]) and np.isnan(s.loc[("A", "N"), "projected_cover_days"])
    assert s.loc[("C", "M"), "projected_cover_days"] == 0  # nothing on hand: short on day 1
    assert p.daily.groupby(["sku", "node"]).size().eq(5).all()
    # arrivals after the horizon are not booked
    late = arrivals.assign(expected_arrival_date=pd.Timestamp("2027-01-01"))
    assert project_inventory(on_hand, late, demand, AS_OF, 5).summary["arriving_units"].sum() == 0


def test_demand_column_is_a_choice_and_bad_input_is_named():
    on_hand = pd.DataFrame({"sku": ["A"], "node": ["N"], "on_hand": [5]})
    none = pd.DataFrame(columns=["sku", "node", "expected_arrival_date", "quantity"])
    p = project_inventory(on_hand, none, _demand("A", "N", [3.0] * 4), AS_OF, 4, demand_column="p50")
    assert p.daily["closing_on_hand"].tolist() == [5, 5, 5, 5]
    with pytest.raises(ValueError, match="`arrivals` is missing columns"):
        project_inventory(on_hand, none.drop(columns="quantity"), _demand("A", "N", [1.0]), AS_OF, 1)
    with pytest.raises(ValueError, match="horizon_days"):
        project_inventory(on_hand, none, _demand("A", "N", [1.0]), AS_OF, 0)


def test_node_demand_samples_pool_markets_to_their_node_and_keep_the_window():
    from planning.demand import node_demand_samples

    history = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "A"],
            "market": ["US", "CA", "US", "US"],
            "demand_date": pd.to_datetime(["2026-10-30", "2026-10-30", "2026-10-28", "2026-10-31"]),
            "units_sold": [2, 3, 1, 99],  # the last row is after as_of
        }
    )
    nodes = pd.DataFrame({"market": ["US", "CA"], "node": ["US-EWR", "US-EWR"]})
    keys = pd.DataFrame({"sku": ["A", "B"], "node": ["US-EWR", "US-EWR"]})
    s = node_demand_samples(history, nodes, keys, AS_OF, days=5)
    # before A's first sale (10-28) it was not listed, and B never sold: NaN, not days that sold nothing
    np.testing.assert_array_equal(s, [[np.nan, np.nan, 1, 0, 5], [np.nan] * 5])


def test_node_demand_samples_take_a_bulk_day_as_its_series_busy_day():
    """An onboarding merchant's one 300-unit wholesale line, drawn into the safety stock's bootstrap, set a safety
    stock of 330 on a SKU selling 0.8 a day. The samples hold the regular demand the forecast learns from: the
    bulk day (over 10x the series' busy day) counts as the busy day, in its own market before pooling."""
    from crossdock.bulk_days import busy_day
    from planning.demand import node_demand_samples

    days = pd.date_range(end=pd.Timestamp(AS_OF), periods=120)
    units = [(1 + i % 3) if i % 2 else 0 for i in range(120)]  # 1-3 units every other day
    units[-10] = 300  # the wholesale line
    history = pd.DataFrame({"sku": "A", "market": "PL", "demand_date": days, "units_sold": units})
    history = pd.concat([history, pd.DataFrame({"sku": ["A"], "market": ["DE"], "demand_date": [days[-10]],
                                                "units_sold": [4]})])
    nodes = pd.DataFrame({"market": ["PL", "DE"], "node": ["WAW-1", "WAW-1"]})
    keys = pd.DataFrame({"sku": ["A"], "node": ["WAW-1"]})
    [samples] = node_demand_samples(history, nodes, keys, AS_OF, days=30)
    pl = np.array(units, dtype=float)[None, :]
    assert samples[-10] == busy_day(pl, 119)[0] + 4 < 10  # PL's busy day, plus DE's own 4 units that day
    assert samples.sum() == sum(units[-30:]) - 300 + samples[-10]  # every other day as sold
