"""forecast_demand: shape, quantile sanity, determinism and no look-ahead."""
import dataclasses
import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from ml.forecast import active_series, forecast_demand
from ml.model import ModelConfig

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

END = dt.date(2025, 6, 30)
AS_OF = dt.date(2025, 4, 30)  # two months of "future" stay in the frame for the leakage test
H = 28
FAST = ModelConfig(num_boost_round=30, num_leaves=15, min_data_in_leaf=50, row_sample=0.5)


@lru_cache(maxsize=1)
def _history() -> pd.DataFrame:
    # 8 SKUs x 5 markets x 500 days, with late launches, phase-outs and a brand-new series
    h = make_history(n_skus=8, days=500, end=END, seed=11)
    new = pd.DataFrame(
        {
            "sku": "SKU-NEW",
            "market": "DE",
            "category": "gifts",
            "demand_date": pd.to_datetime([AS_OF - dt.timedelta(days=3), AS_OF]),
            "units_sold": [2, 1],
            "units_returned": 0,
            "revenue_eur": 10.0,
        }
    )
    return pd.concat([h, new], ignore_index=True)


def history() -> pd.DataFrame:
    return _history().copy()


@lru_cache(maxsize=1)
def _result():
    return forecast_demand(history(), AS_OF, horizon_days=H, seed=7, config=FAST)


def test_one_row_per_active_series_and_horizon_day():
    res = _result()
    f = res.forecast
    active = active_series(history(), AS_OF)
    assert len(f) == len(active) * H
    got = f[["sku", "market"]].drop_duplicates().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, active[["sku", "market"]].reset_index(drop=True))
    for _, g in f.groupby(["sku", "market"]):
        assert g["horizon"].tolist() == list(range(1, H + 1))
        assert (g["forecast_date"] == pd.Timestamp(AS_OF) + pd.to_timedelta(g["horizon"], unit="D")).all()
    assert ("SKU-NEW", "DE") in set(map(tuple, got.values))  # a 4-day-old series is forecast too
    assert res.training_rows > 0 and res.feature_names and res.params["seed"] == 7


def test_quantiles_ordered_non_negative_and_finite():
    f = _result().forecast
    q = f[["p10", "p50", "p90", "mean"]].to_numpy()
    assert np.isfinite(q).all() and (q >= 0).all()
    assert (f["p10"] <= f["p50"]).all() and (f["p50"] <= f["p90"]).all()
    assert f["p90"].sum() > f["p50"].sum() > f["p10"].sum()  # the band is not degenerate


def test_deterministic_for_a_seed():
    a = _result()
    b = forecast_demand(history(), AS_OF, horizon_days=H, seed=7, config=FAST)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    assert a.model_version == b.model_version
    assert a.model_version.startswith("lgbm-quantile-20250430-")
    c = forecast_demand(history(), AS_OF, horizon_days=H, seed=8, config=FAST)
    assert c.model_version != a.model_version
    # boosters train single-threaded side by side: the core count does not change the model
    d = forecast_demand(history(), AS_OF, horizon_days=H, seed=7, config=dataclasses.replace(FAST, num_threads=1))
    pd.testing.assert_frame_equal(a.forecast, d.forecast)
    assert d.model_version == a.model_version


def test_data_after_as_of_changes_nothing():
    h = history()
    after = pd.to_datetime(h["demand_date"]) > pd.Timestamp(AS_OF)
    rng = np.random.default_rng(0)
    h.loc[after, "units_sold"] = rng.integers(0, 100_000, size=after.sum())
    extra = pd.DataFrame(
        {
            "sku": ["SKU-0001", "SKU-LATE"],
            "market": ["JP", "US"],
            "category": ["home", "home"],
            "demand_date": pd.to_datetime([AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=2)]),
            "units_sold": [10_000, 10_000],
            "units_returned": 0,
            "revenue_eur": 1.0,
        }
    )
    perturbed = forecast_demand(pd.concat([h, extra]), AS_OF, horizon_days=H, seed=7, config=FAST)
    base = _result()
    pd.testing.assert_frame_equal(perturbed.forecast, base.forecast)
    assert perturbed.model_version == base.model_version


def test_input_order_and_date_type_do_not_matter():
    h = history().sample(frac=1.0, random_state=1)
    h["demand_date"] = pd.to_datetime(h["demand_date"]).dt.date  # python dates, as some readers return
    h.index = np.zeros(len(h), dtype=int)  # a concatenated frame's duplicate labels
    res = forecast_demand(h, AS_OF, horizon_days=H, seed=7, config=FAST)
    pd.testing.assert_frame_equal(res.forecast, _result().forecast)


def test_rejects_bad_horizon():
    with pytest.raises(ValueError):
        forecast_demand(history(), AS_OF, horizon_days=0, config=FAST)
    with pytest.raises(ValueError):
        forecast_demand(history(), AS_OF, horizon_days=400, config=FAST)
