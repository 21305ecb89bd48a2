"""Saved forecast models: one folder per model version, enough to reproduce or audit a forecast.

A planner who questions a number in `publish.demand_forecast` needs the model
that made it, not a retrained look-alike: every row carries `model_version`,
and `<models>/<model_version>/` holds the boosters (LightGBM's own text
format, readable without crossdock), the feature list, the training window,
the parameters and seed, and the backtest metrics it was published with.
Writing is atomic (a temp folder renamed into place), so a crash never leaves
half a model behind, and saving the same version twice is a no-op.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.forecast import ForecastResult

MANIFEST = "manifest.json"


@dataclass
class SavedModel:
    """A model read back from disk: boosters keyed like `ml.model.train_models`, and its manifest."""

    boosters: dict[float | str, lgb.Booster]
    manifest: dict

    def predict(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """p10/p50/p90 (and mean) for a feature matrix built by `ml.features.build_features`."""
        from ml.model import predict

        return predict(self.boosters, X, num_threads=1)


def _booster_file(target: float | str) -> str:
    return f"{target}.txt" if isinstance(target, str) else f"p{round(target * 100)}.txt"


def _jsonable(metrics: pd.DataFrame | None) -> list[dict]:
    if metrics is None or metrics.empty:
        return []
    frame = metrics.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    return json.loads(frame.to_json(orient="records"))


def save_model(result: ForecastResult, root: Path, metrics: pd.DataFrame | None = None) -> Path:
    """Write `result`'s model under `root/<model_version>/` and return that folder.

    `metrics` is the backtest table (`ml.backtest.BacktestResult.metrics`) the
    model was judged by. An existing folder for the same version is kept as
    it is: the version id is a hash of the data and settings, so it is the
    same model.
    """
    if not result.models:
        raise ValueError("the forecast carries no trained models (no active series?): nothing to save")
    root = Path(root)
    target = root / result.model_version
    if (target / MANIFEST).exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{result.model_version}-", dir=root))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the saved model is for auditors too
    try:
        files = {}
        for key, booster in result.models.items():
            name = _booster_file(key)
            booster.save_model(str(tmp / name))
            files[str(key)] = name
        manifest = {
            "model_version": result.model_version,
            "as_of": str(result.as_of),
            "horizon_days": result.horizon_days,
            "training_window": result.training_window,
            "training_rows": result.training_rows,
            "features": list(result.feature_names),
            "params": result.params,
            "boosters": files,
            "feature_importance": _jsonable(result.feature_importance),
            "backtest_metrics": _jsonable(metrics),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        try:
            os.replace(tmp, target)
        except OSError:  # another run saved the same version first
            if not (target / MANIFEST).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_model(folder: Path) -> SavedModel:
    """Read a folder written by `save_model`."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"{folder} is not a saved crossdock model (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text())
    boosters: dict[float | str, lgb.Booster] = {}
    for key, name in manifest["boosters"].items():
        parsed: float | str = key if key == "mean" else float(key)
        boosters[parsed] = lgb.Booster(model_file=str(folder / name))
    return SavedModel(boosters=boosters, manifest=manifest)
