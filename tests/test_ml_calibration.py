"""Quantile bands calibrated per demand class: fitted on the backtest, held out per window, applied to the forecast."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml import backtest as bt
from ml.calibration import (
    FACTORS,
    MIN_ROWS,
    P10_FACTORS,
    TARGET_TAIL,
    apply_scales,
    calibrate_forecast,
    fit_scales,
    held_out_scales,
)
from ml.demand_class import classify
from ml.model import ModelConfig
from ml.panel import build_panel

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

AS_OF = dt.date(2025, 6, 30)
FAST = ModelConfig(num_boost_round=30, num_leaves=15, min_data_in_leaf=50, row_sample=0.5)


def _rows(cls: str, n: int, p90: float, actual: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"demand_class": cls, "actual": actual[:n], "p10": p90 / 4, "p50": p90 / 2, "p90": p90})


def test_a_band_too_narrow_is_widened_and_one_too_wide_narrowed_until_a_tenth_is_outside():
    rng = np.random.default_rng(1)
    narrow = _rows("smooth", 5_000, 10.0, rng.poisson(8.0, 5_000).astype(float))  # P(Poisson(8) > 10) ~ 18 %
    wide = _rows("intermittent", 5_000, 3.0, rng.poisson(1.0, 5_000).astype(float))  # P(Poisson(1) > 3) ~ 2 %
    few = _rows("lumpy", MIN_ROWS - 1, 1.0, np.full(MIN_ROWS, 5.0))  # always above: but too few days to move
    frame = pd.concat([narrow, wide, few], ignore_index=True)
    assert (narrow["actual"] > narrow["p90"]).mean() > 0.15
    scales = fit_scales(frame)
    assert scales["smooth"][1] > 1 and scales["intermittent"][1] < 1 and scales["lumpy"] == (1.0, 1.0)
    scaled = apply_scales(frame, frame["demand_class"].to_numpy(), scales)
    for cls in ("smooth", "intermittent"):
        part = scaled[frame["demand_class"] == cls]
        above = (part["actual"] > part["p90"]).mean()
        assert above <= TARGET_TAIL
        # the smallest factor that does it: one step narrower puts more than a tenth above
        k = scales[cls][1] - 0.05
        assert (frame.loc[part.index, "actual"] > k * frame.loc[part.index, "p90"]).mean() > TARGET_TAIL
        assert ((part["actual"] < part["p10"]).mean()) <= TARGET_TAIL
    assert (scaled["p10"] <= scaled["p50"]).all() and (scaled["p50"] <= scaled["p90"]).all()


def _by_definition(frame: pd.DataFrame) -> dict:
    """The factors as the module docstring defines them, one share per factor and class."""
    scales = {}
    for cls, rows in frame.groupby("demand_class"):
        if len(rows) < MIN_ROWS:
            scales[cls] = (1.0, 1.0)
            continue
        a, p10, p90 = rows["actual"].to_numpy(), rows["p10"].to_numpy(), rows["p90"].to_numpy()
        ok90 = [k for k in FACTORS if (a > k * p90).mean() <= TARGET_TAIL]
        ok10 = [k for k in P10_FACTORS if (a < k * p10).mean() <= TARGET_TAIL]
        scales[cls] = (float(max(ok10)) if ok10 else 0.0, float(min(ok90)) if ok90 else float(FACTORS[-1]))
    return scales


def _windows_of_bands(seed: int) -> pd.DataFrame:
    """Four windows of whole-unit actuals against bands on a 0.05 grid: many rows sit exactly on k x p90."""
    rng = np.random.default_rng(seed)
    n = 24_000
    frame = pd.DataFrame({
        "window": rng.integers(1, 5, n),
        "demand_class": rng.choice(["smooth", "erratic", "intermittent", "lumpy", "new"], n, p=[0.3, 0.3, 0.3, 0.07, 0.03]),
        "actual": rng.poisson(rng.choice([0.3, 2.0, 9.0], n)).astype(float),
        "p90": rng.integers(0, 60, n) * 0.25,
    })
    frame.loc[(frame["demand_class"] == "new") & (frame["window"] == 2), "demand_class"] = "only_in_window_2"
    return frame.assign(p10=frame["p90"] * rng.choice([0.0, 0.2, 0.5], n), p50=frame["p90"] * 0.6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_factors_from_summed_counts_are_the_factors_by_definition_and_held_out_ones_those_of_the_rest(seed):
    """fit_scales counts each row once and sums the counts; the held-out factors of a window are then those of
    the other windows' rows alone, ties on k x p90 included, and a class the rest never saw is not in them."""
    frame = _windows_of_bands(seed)
    assert fit_scales(frame) == _by_definition(frame)
    assert fit_scales(frame)["smooth"] != (1.0, 1.0)  # enough rows to move: the comparison is not vacuous
    held_out = held_out_scales(frame)
    assert sorted(held_out) == [1, 2, 3, 4]
    for window, scales in held_out.items():
        assert scales == _by_definition(frame[frame["window"] != window])
    assert "only_in_window_2" not in held_out[2] and "only_in_window_2" in held_out[1]
    assert held_out_scales(frame[frame["window"] == 3]) == {3: {}}


def test_a_class_the_backtest_never_saw_keeps_its_band():
    frame = pd.DataFrame({"p10": [1.0, 1.0], "p50": [2.0, 2.0], "p90": [3.0, 3.0]})
    out = apply_scales(frame, np.array(["smooth", "new"]), {"smooth": (0.5, 2.0)})
    assert out["p90"].tolist() == [6.0, 3.0] and out["p10"].tolist() == [0.5, 1.0]


def test_the_backtest_scores_each_window_with_factors_from_the_other_windows_only():
    history = make_history(n_skus=10, markets=("US", "GB", "DE"), days=520, end=AS_OF, seed=5)
    result = bt.backtest(history, AS_OF, horizon_days=28, n_windows=3, seed=7, config=FAST, baselines=())
    p = result.predictions
    for window in p["window"].unique():
        rows = p[p["window"] == window]
        expected = apply_scales(rows, rows["demand_class"].to_numpy(), fit_scales(p[p["window"] != window]))
        np.testing.assert_allclose(rows["p90_calibrated"], expected["p90"])
        np.testing.assert_allclose(rows["p10_calibrated"], expected["p10"])
    assert result.quantile_scales == fit_scales(p)
    overall = result.overall()
    assert overall.loc["lightgbm", "above_p90_calibrated"] == pytest.approx((p["actual"] > p["p90_calibrated"]).mean())
    assert np.isnan(overall.loc["seasonal_naive_7", "above_p90_calibrated"])


def test_the_published_band_is_scaled_by_each_series_class_at_the_planning_date():
    history = make_history(n_skus=6, markets=("US", "DE"), days=420, end=AS_OF, seed=3)
    panel = build_panel(history, AS_OF)
    classes = classify(panel.Y, panel.series["first_idx"].to_numpy(), panel.n_days - 1)
    series = panel.series.assign(demand_class=classes)[["sku", "market", "demand_class"]]
    launch = pd.DataFrame({"sku": ["NEW-1"], "market": ["US"], "demand_class": ["?"]})
    forecast = pd.concat([series, launch], ignore_index=True).assign(p10=1.0, p50=2.0, p90=3.0)
    scales = {cls: (0.5, 1.0 + i) for i, cls in enumerate(sorted(set(classes)))}
    out = calibrate_forecast(forecast.drop(columns="demand_class"), panel, scales)
    for (_, row), cls in zip(out.iterrows(), forecast["demand_class"]):
        k10, k90 = scales.get(cls, (1.0, 1.0))
        assert row["p90"] == pytest.approx(max(3.0 * k90, 2.0)) and row["p10"] == pytest.approx(min(1.0 * k10, 2.0))
    assert out.iloc[-1][["p10", "p90"]].tolist() == [1.0, 3.0]  # a planned launch has no class: its band as is
