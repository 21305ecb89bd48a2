"""The boosters: binned once for all of them, and the same trees as binning for each."""
from __future__ import annotations

import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np

from ml.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from ml.model import ModelConfig, train_models


def _rows(n: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    for name, levels in zip(CATEGORICAL_FEATURES, (4, 7, 3)):
        X[:, FEATURE_NAMES.index(name)] = rng.integers(0, levels, n)
    X[rng.random(X.shape) < 0.05] = np.nan  # own-history features are NaN before a launch
    signal = np.nan_to_num(0.5 * X[:, 3].clip(-3, 3) + 0.3 * X[:, FEATURE_NAMES.index("market")])
    y = rng.poisson(np.exp(signal - 1)).astype(float)
    return X, y


def test_boosters_on_rows_binned_once_are_the_boosters_binned_each_on_their_own():
    X, y = _rows()
    config = ModelConfig(num_boost_round=12, min_data_in_leaf=50)
    models = train_models(X, y, config, seed=3)
    assert set(models) == set(config.targets())
    for target, model in models.items():
        params = config.booster_params(target, 3)
        own = lgb.Dataset(X, label=y, feature_name=list(FEATURE_NAMES), categorical_feature=list(CATEGORICAL_FEATURES),
                          params={"max_bin": config.max_bin, "verbose": -1, "num_threads": 1}, free_raw_data=False)
        expected = lgb.train(params, own, num_boost_round=config.num_boost_round)
        assert model.model_to_string() == expected.model_to_string(), target  # trees and recorded parameters


def test_the_binned_rows_leave_no_file_behind(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    X, y = _rows(5_000)
    train_models(X, y, ModelConfig(num_boost_round=3, min_data_in_leaf=50), seed=1)
    assert list(Path(tmp_path).iterdir()) == []
