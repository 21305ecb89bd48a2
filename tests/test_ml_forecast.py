"""forecast_demand: shape, quantile sanity, determinism and no look-ahead."""
import dataclasses
import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from crossdock.count_median import poisson_median
from ml.forecast import forecast_demand
from ml.series_selection import active_series
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


def test_the_median_is_the_poisson_median_of_the_mean():
    res = _result()
    np.testing.assert_array_equal(res.forecast["p50"], poisson_median(res.forecast["mean"].to_numpy()))
    assert set(res.models) == {0.1, 0.9, "mean"}  # no booster of its own


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


def _cold_start_history() -> pd.DataFrame:
    """20 SKUs in US/GB/DE for 500 days; FR gets SKUs launched part-way (some recently)."""
    return make_history(n_skus=20, markets=("US", "GB", "DE", "FR"), days=500, end=END, seed=21, late_launch_share=0.3)


def test_planned_launch_in_a_new_market_is_forecast_from_its_other_markets_not_zeros():
    h = _cold_start_history()
    h = h[~((h["sku"] == "SKU-0005") & (h["market"] == "FR"))]  # never sold in FR
    launch = pd.Timestamp(AS_OF) + pd.Timedelta(days=10)
    plan = pd.DataFrame({"sku": ["SKU-0005"], "market": ["FR"], "launch_date": [launch]})
    res = forecast_demand(h, AS_OF, horizon_days=H, seed=7, config=FAST, launches=plan)
    f = res.forecast
    fr = f[(f["sku"] == "SKU-0005") & (f["market"] == "FR")].sort_values("horizon")
    assert len(fr) == H and (fr["category"] == h.loc[h["sku"] == "SKU-0005", "category"].iloc[0]).all()
    before = fr["forecast_date"] < launch
    assert (fr.loc[before, ["p10", "p50", "p90", "mean"]].to_numpy() == 0).all()
    # after launch: a real forecast, of the order of the SKU's sales in its other markets
    after_mean = fr.loc[~before, "mean"].mean()
    assert after_mean > 0
    recent = h[(h["sku"] == "SKU-0005") & (pd.to_datetime(h["demand_date"]) > pd.Timestamp(AS_OF) - pd.Timedelta(days=91))
               & (pd.to_datetime(h["demand_date"]) <= pd.Timestamp(AS_OF))]
    elsewhere = recent.groupby("market")["units_sold"].sum().mean() / 91
    assert 0.05 * elsewhere < after_mean < 3 * elsewhere
    # the plan changes the model id, and an empty plan is the same as none
    assert res.model_version != forecast_demand(h, AS_OF, horizon_days=H, seed=7, config=FAST).model_version
    empty = plan.iloc[:0]
    assert (
        forecast_demand(h, AS_OF, horizon_days=H, seed=7, config=FAST, launches=empty).model_version
        == forecast_demand(h, AS_OF, horizon_days=H, seed=7, config=FAST).model_version
    )


def test_launches_need_a_category_for_a_brand_new_sku():
    with pytest.raises(ValueError, match="give a category column"):
        forecast_demand(
            history(), AS_OF, horizon_days=H, seed=7, config=FAST,
            launches=pd.DataFrame({"sku": ["SKU-BRAND-NEW"], "market": ["US"], "launch_date": [pd.Timestamp(AS_OF)]}),
        )
    plan = pd.DataFrame({"sku": ["SKU-BRAND-NEW"], "market": ["US"], "launch_date": [pd.Timestamp(AS_OF)], "category": ["home"]})
    f = forecast_demand(history(), AS_OF, horizon_days=H, seed=7, config=FAST, launches=plan).forecast
    new = f[f["sku"] == "SKU-BRAND-NEW"]
    assert len(new) == H and new["mean"].sum() > 0  # its category in the market speaks for it


def test_a_series_that_just_started_selling_is_not_forecast_as_its_few_days():
    """SKU-NEW sold 3 units in its first 4 days in DE; its forecast borrows from its category, not zeros."""
    f = _result().forecast
    new = f[(f["sku"] == "SKU-NEW")]
    assert len(new) == H and new["mean"].sum() > 0
