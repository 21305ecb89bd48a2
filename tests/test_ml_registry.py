"""Saved models: the folder a published model_version points to reproduces its forecast."""
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from ml.features import build_context, build_features
from ml.forecast import forecast_demand
from ml.model import ModelConfig
from ml.panel import build_panel
from ml.registry import MANIFEST, load_model, save_model

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

AS_OF = dt.date(2025, 6, 30)
FAST = ModelConfig(num_boost_round=20, num_leaves=7, min_data_in_leaf=50, row_sample=0.3)


def test_saved_model_reproduces_the_forecast_and_records_how_it_was_made(tmp_path):
    history = make_history(n_skus=6, markets=("US", "DE", "JP"), days=400, end=AS_OF, seed=4)
    res = forecast_demand(history, AS_OF, horizon_days=14, seed=7, config=FAST)
    metrics = pd.DataFrame({"scope": ["overall"], "model": ["lightgbm"], "wape": [0.7], "as_of": [pd.Timestamp(AS_OF)]})
    folder = save_model(res, tmp_path, metrics)
    assert folder.name == res.model_version
    assert folder.stat().st_mode & 0o777 == 0o755
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["features"] == res.feature_names
    assert manifest["training_window"]["history_end"] == "2025-06-30"
    assert manifest["training_window"]["last_target_day"] <= "2025-06-30"
    assert manifest["params"]["seed"] == 7 and manifest["backtest_metrics"][0]["wape"] == 0.7

    saved = load_model(folder)
    panel = build_panel(history, AS_OF, FAST.max_history_days)
    ctx = build_context(panel, 14)
    key = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    f = res.forecast
    rows = pd.Series(np.arange(panel.n_series), index=key).reindex(pd.MultiIndex.from_frame(f[["sku", "market"]])).to_numpy()
    X = build_features(ctx, rows, np.full(len(rows), panel.n_days - 1), f["horizon"].to_numpy())
    P = saved.predict(X)
    for col in ("p10", "p50", "p90", "mean"):
        np.testing.assert_allclose(P[col], f[col].to_numpy(), rtol=1e-9, atol=1e-12)

    # saving the same version again keeps the first copy; no temp folders are left behind
    mtime = (folder / MANIFEST).stat().st_mtime_ns
    assert save_model(res, tmp_path, metrics) == folder
    assert (folder / MANIFEST).stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [res.model_version]


def test_load_model_names_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a saved crossdock model"):
        load_model(tmp_path)


def test_the_manifest_says_what_reuse_needs_and_latest_model_finds_the_newest_on_or_before_a_day(tmp_path):
    from ml.forecast import forecast_fingerprint
    from ml.registry import latest_model, read_record

    history = make_history(n_skus=4, markets=("US", "DE"), days=300, end=AS_OF, seed=2)
    assert latest_model(tmp_path / "none") is None and latest_model(tmp_path) is None
    early = save_model(forecast_demand(history, AS_OF - dt.timedelta(days=5), horizon_days=7, config=FAST), tmp_path)
    result = forecast_demand(history, AS_OF, horizon_days=7, config=FAST)
    late = save_model(result, tmp_path)
    (tmp_path / ".lgbm-quantile-20990101-abc").mkdir()  # a temp folder of a save in progress
    (tmp_path / "notes").mkdir()

    record = read_record(late)
    assert record.trained_on == AS_OF and record.fingerprint == forecast_fingerprint(7, config=FAST)
    assert record.levels == {"market": ("DE", "US"), "category": ("apparel", "gifts", "home", "outdoor")}
    assert record.trained_at is not None and record.active_series == len(result.forecast[["sku", "market"]].drop_duplicates())
    assert latest_model(tmp_path).folder == late
    assert latest_model(tmp_path, on_or_before=AS_OF - dt.timedelta(days=1)).folder == early
    assert latest_model(tmp_path, on_or_before=AS_OF - dt.timedelta(days=6)) is None

    # a manifest written before reuse (no fingerprint, no levels) is read, and never matched
    manifest = json.loads((early / MANIFEST).read_text())
    for key in ("fingerprint", "levels", "trained_at", "active_series"):
        manifest.pop(key)
    (early / MANIFEST).write_text(json.dumps(manifest))
    old = read_record(early)
    assert old.fingerprint is None and old.levels is None and old.trained_on == AS_OF - dt.timedelta(days=5)
    # an unreadable newest manifest is passed over for the next older model
    (late / MANIFEST).write_text("{")
    assert latest_model(tmp_path).folder == early
