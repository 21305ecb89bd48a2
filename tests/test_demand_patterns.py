"""The one Syntetos-Boylan rule: the planning's classes and the forecast's backtest agree on every series."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from crossdock.demand_patterns import demand_pattern
from ml.demand_class import classify
from planning.service_classes import classify_series, load_service_level_config
from planning.simulation import classify_demand


def test_the_quadrants_and_their_edges() -> None:
    adi = [1.0, 1.0, 1.32, 1.32, 1.3199, np.nan, 2.0]
    cv2 = [0.0, 0.49, 0.0, 0.4899, 0.49, 0.0, np.nan]
    assert list(demand_pattern(adi, cv2)) == ["smooth", "erratic", "intermittent", "intermittent", "erratic",
                                              "intermittent", "intermittent"]
    assert list(demand_pattern([1.5], [0.3], adi_cutoff=2.0, cv2_cutoff=0.25)) == ["erratic"]


def test_planning_and_forecast_name_a_year_of_sales_alike() -> None:
    """Series chosen in every quadrant, all selling since day one (so each measures ADI over the same days)."""
    rng = np.random.default_rng(3)
    days = 365
    series = {
        "smooth": rng.poisson(3, days) + 1.0,
        "erratic": np.where(rng.random(days) < 0.1, 40.0, 1.0),
        "intermittent": np.where(rng.random(days) < 0.2, 2.0, 0.0),
        "lumpy": np.where(rng.random(days) < 0.2, rng.choice([1.0, 30.0], days), 0.0),
    }
    series = {k: np.r_[1.0, v[1:]] for k, v in series.items()}  # a sale on the first day of the window
    Y = np.vstack(list(series.values()))
    forecast_view = classify(Y, np.zeros(len(Y), dtype=int), days - 1, window=days)
    simulation_view = [classify_demand(y) for y in Y]
    as_of = dt.date(2025, 12, 31)
    dates = pd.date_range(end=pd.Timestamp(as_of), periods=days, freq="D")
    history = pd.concat([
        pd.DataFrame({"sku": name, "market": "DE", "category": "c", "demand_date": dates, "units_sold": y,
                      "revenue_eur": y * 5.0})
        for name, y in series.items()
    ])
    history = history[history["units_sold"] > 0]
    planning_view = classify_series(history, as_of, load_service_level_config()).set_index("sku")["pattern"]
    assert list(forecast_view) == list(series) == simulation_view
    assert [planning_view[name] for name in series] == list(series)
