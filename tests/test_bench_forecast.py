"""bench/forecast.py builds its input like the mart, so its figures speak for the pipeline."""
import importlib.util

import pandas as pd

from crossdock.settings import PROJECT_ROOT
from demo.generate import generate


def _bench():
    spec = importlib.util.spec_from_file_location("bench_forecast", PROJECT_ROOT / "bench" / "forecast.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_history_from_landing_has_the_marts_columns_and_eur_revenue(tmp_path):
    generate(tmp_path, scale=0.05, seed=3, days=400, quiet=True)
    history = _bench().history_from_landing(tmp_path)
    assert {"sku", "market", "category", "demand_date", "units_sold", "units_returned", "revenue_eur"} <= set(history.columns)
    assert not history.duplicated(["sku", "market", "demand_date"]).any()
    sold = history[history["units_sold"] > 0]
    price = sold["revenue_eur"] / sold["units_sold"]
    assert (price > 0).all() and price.median() < 1000  # converted to EUR: JPY prices would be ~100x larger
    assert (history["category"] != "unknown").all()
    assert pd.api.types.is_datetime64_any_dtype(history["demand_date"])
