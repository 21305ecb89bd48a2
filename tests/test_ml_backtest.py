"""Rolling-origin backtest: windows, no look-ahead, metrics table, model vs baseline."""
import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from ml import backtest as bt
from ml import backtest_scores as bs
from ml import metrics
from ml.backtest_gate import gate_verdict
from ml.baselines import seasonal_naive
from ml.demand_class import classify
from ml.panel import build_panel

try:
    from ml_synthetic import DEFAULT_END as AS_OF
    from ml_synthetic import FAST_BACKTEST as FAST
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import DEFAULT_END as AS_OF
    from tests.ml_synthetic import FAST_BACKTEST as FAST
    from tests.ml_synthetic import make_history

H = 28


@lru_cache(maxsize=1)
def _history() -> pd.DataFrame:
    return make_history(n_skus=10, markets=("US", "GB", "DE", "FR", "AU"), days=520, end=AS_OF, seed=5)


def _spied_backtest(history: pd.DataFrame, as_of: dt.date, n_windows: int):
    """The backtest, and what each window's forecast was given and gave: (last history day, origin) and the forecast
    per origin, as the model made it (before the backtest blends its mean with the level)."""
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    forecasts: dict[pd.Timestamp, pd.DataFrame] = {}
    original = bt.fc.forecast_demand

    def spy(history, as_of, *args, **kwargs):
        seen.append((pd.to_datetime(history["demand_date"]).max(), pd.Timestamp(as_of)))
        res = original(history, as_of, *args, **kwargs)
        forecasts[pd.Timestamp(as_of)] = res.forecast.copy()
        return res

    bt.fc.forecast_demand = spy
    try:
        result = bt.backtest(history, as_of, horizon_days=H, n_windows=n_windows, seed=7, config=FAST)
    finally:
        bt.fc.forecast_demand = original
    return result, seen, forecasts


@lru_cache(maxsize=1)
def _spied_run():
    return _spied_backtest(_history(), AS_OF, n_windows=3)


def _run():
    result, seen, _ = _spied_run()
    return result, seen


def _model_forecasts() -> dict[pd.Timestamp, pd.DataFrame]:
    return _spied_run()[2]


def test_windows_tile_the_last_days_without_overlap():
    result, _ = _run()
    w = result.windows.sort_values("origin")
    assert w["window"].tolist() == [3, 2, 1]
    assert w["origin"].tolist() == [pd.Timestamp(AS_OF) - pd.Timedelta(days=k * H) for k in (3, 2, 1)]
    assert (w["first_scored_day"] == w["origin"] + pd.Timedelta(days=1)).all()
    assert (w["first_scored_day"].iloc[1:].to_numpy() > w["last_scored_day"].iloc[:-1].to_numpy()).all()
    assert w["last_scored_day"].iloc[-1] == pd.Timestamp(AS_OF)
    p = result.predictions
    for k, g in p.groupby("window"):
        origin = w.loc[w["window"] == k, "origin"].iloc[0]
        assert g["forecast_date"].min() == origin + pd.Timedelta(days=1)
        assert g["forecast_date"].max() == origin + pd.Timedelta(days=H)
        assert len(g) == g[["sku", "market"]].drop_duplicates().shape[0] * H


def test_each_window_trains_only_on_data_up_to_its_origin():
    result, seen = _run()
    assert len(seen) == 3
    for max_date, origin in seen:
        assert max_date <= origin
    assert [o for _, o in seen] == result.windows["origin"].tolist()


def test_metrics_table_shape_and_definitions():
    result, _ = _run()
    m = result.metrics
    assert list(m.columns) == bs.METRIC_COLUMNS
    assert set(m["model"]) == {"lightgbm", "seasonal_naive_7", "naive_1", "mean_28", "zero", "auto_ets", "croston_optimized"}
    assert set(m["scope"]) == {"overall", "market", "category", "demand_class"}
    assert set(m.loc[m["scope"] == "market", "scope_value"]) == {"US", "GB", "DE", "FR", "AU"}
    for point_only in ("seasonal_naive_7", "naive_1", "mean_28", "zero", "croston_optimized"):
        assert m.loc[m["model"] == point_only, ["coverage_p10_p90", "pinball_p10", "pinball_p90"]].isna().all().all()
    assert m.loc[m["model"] == "auto_ets", "coverage_p10_p90"].notna().all()
    assert (m["n_windows"] == 3).all() and (m["horizon_days"] == H).all()

    p = result.predictions
    ws = result.by_window_series
    overall = m[m["scope"] == "overall"].set_index("model")
    assert overall.loc["lightgbm", "wape"] == metrics.wape(p["actual"], p["p50"])
    assert overall.loc["seasonal_naive_7", "bias"] == metrics.bias(p["actual"], p["seasonal_naive_7"])
    # the gate's metrics: weekly WAPE of the model's mean (a baseline's point), RMSSE per series
    assert overall.loc["lightgbm", "weekly_wape"] == metrics.weekly_wape(p["actual"].to_numpy(), p["mean"].to_numpy(), H)
    assert overall.loc["mean_28", "weekly_wape"] == metrics.weekly_wape(p["actual"].to_numpy(), p["mean_28"].to_numpy(), H)
    assert overall.loc["zero", "weekly_wape"] == pytest.approx(1.0)
    assert overall.loc["zero", "wape"] == pytest.approx(1.0) and overall.loc["zero", "bias"] == pytest.approx(-1.0)
    assert overall.loc["lightgbm", "rmsse"] == metrics.mean_rmsse(ws.loc[ws["model"] == "lightgbm", "rmsse"].to_numpy())
    assert overall.loc["naive_1", "weekly_wape_ratio_to_naive"] == pytest.approx(
        metrics.weekly_wape(p["actual"].to_numpy(), p["naive_1"].to_numpy(), H)
        / metrics.weekly_wape(p["actual"].to_numpy(), p["seasonal_naive_7"].to_numpy(), H)
    )
    assert overall.loc["lightgbm", "coverage_p10_p90"] == metrics.coverage(p["actual"], p["p10"], p["p90"])
    assert overall.loc["lightgbm", "actual_units"] == p["actual"].sum()
    assert overall.loc["lightgbm", "mase"] == metrics.mean_mase(ws.loc[ws["model"] == "lightgbm", "mase"])
    assert overall.loc["auto_ets", "wape"] == metrics.wape(p["actual"], p["auto_ets"])
    assert overall.loc["auto_ets", "pinball_p90"] == metrics.pinball(p["actual"], p["auto_ets_p90"], 0.9)
    assert overall.loc["croston_optimized", "wape_ratio_to_naive"] == pytest.approx(
        metrics.wape(p["actual"], p["croston_optimized"]) / metrics.wape(p["actual"], p["seasonal_naive_7"])
    )
    us = m[(m["scope"] == "market") & (m["scope_value"] == "US")].set_index("model")
    pu = p[p["market"] == "US"]
    assert us.loc["lightgbm", "wape"] == metrics.wape(pu["actual"], pu["p50"])
    # the interval of the model's weekly WAPE over each model's, resampling the weeks scored: around the point ratio,
    # exactly 1 against itself, overall only
    ratio = overall["weekly_wape"].loc["lightgbm"] / overall["weekly_wape"]
    assert (overall["model_ratio_low"] <= ratio + 1e-12).all() and (ratio <= overall["model_ratio_high"] + 1e-12).all()
    assert overall.loc["lightgbm", ["model_ratio_low", "model_ratio_high"]].tolist() == [1.0, 1.0]
    assert overall.loc["zero", "model_ratio_high"] < 1.0  # the model beats nothing beyond doubt here
    assert m.loc[m["scope"] != "overall", ["model_ratio_low", "model_ratio_high"]].isna().all().all()


def test_each_demand_class_is_scored_on_its_own():
    """The class is the series' pattern at its window's origin, read from history up to it; its rows score alone."""
    result, _ = _run()
    p, m, ws = result.predictions, result.metrics, result.by_window_series
    full = build_panel(_history(), AS_OF)
    for (k, origin), g in p.groupby(["window", "origin"]):
        series = g.drop_duplicates(["sku", "market"])
        rows = full.series.reset_index().set_index(["sku", "market"]).loc[
            pd.MultiIndex.from_frame(series[["sku", "market"]]), "index"
        ].to_numpy()
        expected = classify(full.Y[rows], full.series["first_idx"].to_numpy()[rows], full.day_index(origin))
        assert list(series["demand_class"]) == list(expected)
        assert (g.groupby(["sku", "market"])["demand_class"].nunique() == 1).all()
    by_class = m[m["scope"] == "demand_class"]
    assert set(by_class["scope_value"]) == set(p["demand_class"])
    assert set(ws["demand_class"]) == set(p["demand_class"])
    for value, rows in by_class.groupby("scope_value"):
        part = p[p["demand_class"] == value]
        row = rows.set_index("model")
        assert row.loc["lightgbm", "above_p90"] == pytest.approx(float((part["actual"] > part["p90"]).mean()))
        assert row.loc["lightgbm", "actual_units"] == part["actual"].sum()
    # the classes partition the scored rows
    assert by_class[by_class["model"] == "lightgbm"]["actual_units"].sum() == pytest.approx(p["actual"].sum())


def test_actuals_and_naive_match_the_history():
    result, _ = _run()
    panel = build_panel(_history(), AS_OF)
    rows = {k: i for i, k in enumerate(zip(panel.series["sku"], panel.series["market"]))}
    p = result.predictions
    w = result.windows.set_index("window")
    for (k, sku, market), g in p.groupby(["window", "sku", "market"]):
        y = panel.Y[rows[(sku, market)]]
        o = panel.day_index(w.loc[k, "origin"])
        np.testing.assert_array_equal(g["actual"].to_numpy(), y[o + 1 : o + H + 1])
        np.testing.assert_array_equal(g["seasonal_naive_7"].to_numpy(), seasonal_naive(y[None, :], o, H)[0])
        np.testing.assert_array_equal(g["naive_1"].to_numpy(), np.full(H, y[o]))
        np.testing.assert_allclose(g["mean_28"].to_numpy(), np.full(H, y[max(0, o - 27) : o + 1].mean()))


def test_model_beats_seasonal_naive_and_zero():
    """The light model on three short synthetic windows: well ahead of seasonal naive and of nothing.
    It only draws level with the 28-day mean's weekly totals here (0.417 each), which the gate only warns about."""
    result, _ = _run()
    overall = result.metrics[result.metrics["scope"] == "overall"].set_index("model")
    assert overall.loc["lightgbm", "weekly_wape"] < 0.95 * overall.loc["seasonal_naive_7", "weekly_wape"]
    assert overall.loc["lightgbm", "weekly_wape"] < 0.5 * overall.loc["zero", "weekly_wape"]
    assert overall.loc["lightgbm", "wape"] < 0.9 * overall.loc["seasonal_naive_7", "wape"]
    assert overall.loc["lightgbm", "mase"] < overall.loc["seasonal_naive_7", "mase"]
    assert 0.6 < overall.loc["lightgbm", "coverage_p10_p90"] < 1.0


def test_a_window_sees_only_days_up_to_its_origin():
    """Triple the units sold in the first window's scored days: its forecasts (the baselines', the model's whole one) must not move,
    its actuals must."""
    result, _ = _run()
    first = result.windows.sort_values("origin").iloc[0]
    h = _history().copy()
    days = pd.to_datetime(h["demand_date"])
    scored = (days > first["origin"]) & (days <= first["last_scored_day"])
    h.loc[scored, "units_sold"] *= 3
    h = h[days <= first["last_scored_day"]]
    result_alone, _, forecasts_alone = _spied_backtest(h, first["last_scored_day"].date(), n_windows=1)
    alone = result_alone.predictions
    both = result.predictions[result.predictions["window"] == first["window"]]
    key = ["sku", "market", "forecast_date"]
    merged = both.merge(alone, on=key, suffixes=("", "_alone"))
    assert len(merged) == len(both)
    for col in ("auto_ets", "auto_ets_p10", "auto_ets_p90", "croston_optimized", "seasonal_naive_7", "naive_1", "mean_28",
                "mean_model"):  # the model's own mean: the published one is blended by the other windows' weight
        np.testing.assert_allclose(merged[col], merged[f"{col}_alone"], rtol=1e-9)
    np.testing.assert_array_equal(merged["actual_alone"], 3 * merged["actual"])
    # the model's whole forecast of that window, its band included, as the model made it: the published band is
    # widened around the blended median and scaled by the other windows' factors, so it is compared here instead
    model_both = _model_forecasts()[first["origin"]]
    [model_alone] = forecasts_alone.values()
    pd.testing.assert_frame_equal(model_both.reset_index(drop=True), model_alone.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9)
    assert (model_both["p90"] > model_both["p10"]).any()  # a band, not a point, was compared


def test_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match="unknown baselines"):
        bt.backtest(_history(), AS_OF, horizon_days=H, n_windows=1, config=FAST, baselines=("prophet",))


def test_the_gate_fails_a_forecast_of_nothing_that_daily_p50_wape_would_have_passed():
    """Issue 16: an all-zero 'model' scores weekly WAPE exactly 1, which does not beat the zero baseline (a tie proves
    nothing), while on intermittent series its daily p50 WAPE (1.0) can sit below seasonal naive's, the old gate."""
    result, _ = _run()
    p = result.predictions.assign(p10=0.0, p50=0.0, p90=0.0, mean=0.0)
    # intermittent series only: where "same weekday last week" pays for every sale it repeats
    intermittent = p[p["demand_class"].isin(["intermittent", "lumpy"])]
    assert not intermittent.empty
    ws = result.by_window_series.merge(intermittent[["window", "sku", "market"]].drop_duplicates(), on=["window", "sku", "market"])
    table = bs.summarise(intermittent, ws, n_windows=3, horizon_days=H)
    overall = table[table["scope"] == "overall"].set_index("model")
    assert overall.loc["lightgbm", "weekly_wape"] == pytest.approx(1.0) == overall.loc["zero", "weekly_wape"]
    verdict = gate_verdict(overall)
    assert not verdict.passed and "ties zero 1.000 (ratio 1.000, 90% interval 1.000-1.000)" in verdict.summary()
    assert overall.loc["lightgbm", "wape"] < overall.loc["seasonal_naive_7", "wape"]  # the daily p50 WAPE it would pass
