"""Saved forecast models: one folder per model version, enough to reproduce or audit a forecast.

A planner who questions a number in `publish.demand_forecast` needs the model
that made it, not a retrained look-alike: every row carries `model_version`,
and `<models>/<model_version>/` holds the boosters (LightGBM's own text
format, readable without crossdock), the feature list, the training window,
the parameters and seed, and the backtest metrics it was published with.
Writing is atomic (a temp folder renamed into place), so a crash never leaves
half a model behind, and saving the same version twice is a no-op.

The manifest also says what a later run needs to reuse the model instead of
training again (`ml.retrain_cadence`): the planning date it was trained as of,
the fingerprint of its settings, and the market and category values behind
its categorical codes. `latest_model` finds the newest one from the folder
names and manifests alone, without loading boosters.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml.forecast import MODEL_FAMILY, ForecastResult

if TYPE_CHECKING:  # imported where boosters are read (load_model), not when the code location loads
    import lightgbm as lgb

MANIFEST = "manifest.json"
_FOLDER = re.compile(rf"^{re.escape(MODEL_FAMILY)}-(\d{{8}})-[0-9a-f]+$")  # <family>-<as_of YYYYMMDD>-<hash>


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

    `metrics` is the backtest table (`ml.backtest_scores.BacktestResult.metrics`) the
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
            "as_of": str(result.trained_on or result.as_of),  # the planning date the boosters were trained as of
            "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "fingerprint": result.fingerprint,
            "levels": result.levels,
            "active_series": int(result.forecast[["sku", "market"]].drop_duplicates().shape[0]),
            "recent_units": result.recent_units,
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


def _read_manifest(folder: Path) -> dict:
    """manifest.json of a folder written by `save_model`; a clear error when the folder is not one."""
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"{folder} is not a saved crossdock model (no {MANIFEST})")
    return json.loads(manifest_path.read_text())


def load_model(folder: Path) -> SavedModel:
    """Read a folder written by `save_model`."""
    import lightgbm as lgb

    folder = Path(folder)
    manifest = _read_manifest(folder)
    boosters: dict[float | str, lgb.Booster] = {}
    for key, name in manifest["boosters"].items():
        parsed: float | str = key if key == "mean" else float(key)
        boosters[parsed] = lgb.Booster(model_file=str(folder / name))
    return SavedModel(boosters=boosters, manifest=manifest)


@dataclass(frozen=True)
class ModelRecord:
    """A saved model as its manifest describes it, boosters not loaded.

    trained_on: the planning date it was trained as of (its history's last day).
    fingerprint / levels: what it must match to be reused (`ml.forecast.forecast_fingerprint`,
        the market and category values behind its codes); None in a manifest written
        before models were reused, which is then never reused.
    trained_at: when it was written (UTC), to order two models of one planning date.
    recent_units: units sold in the last days of its training history ({"from", "to", "units"}),
        to check a later history is still the one it learned from.
    """

    folder: Path
    model_version: str
    trained_on: dt.date
    fingerprint: str | None = None
    levels: dict[str, tuple[str, ...]] | None = None
    trained_at: dt.datetime | None = None
    active_series: int | None = None
    recent_units: dict | None = None


def read_record(folder: Path) -> ModelRecord:
    """The `ModelRecord` of a folder written by `save_model` (reads manifest.json only)."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    trained_at = manifest.get("trained_at")
    levels = manifest.get("levels")
    return ModelRecord(
        folder=folder,
        model_version=manifest["model_version"],
        trained_on=dt.date.fromisoformat(manifest["as_of"]),
        fingerprint=manifest.get("fingerprint") or None,
        levels={k: tuple(v) for k, v in levels.items()} if levels else None,
        trained_at=dt.datetime.fromisoformat(trained_at) if trained_at else None,
        active_series=manifest.get("active_series"),
        recent_units=manifest.get("recent_units") or None,
    )


def latest_model(root: Path, on_or_before: dt.date | None = None) -> ModelRecord | None:
    """The newest saved model under `root` trained as of `on_or_before` or earlier (any date when None).

    Newest by planning date (read from the folder name, so only that day's
    manifests are opened), then by when it was written. Folders that are not
    saved models (no manifest, an unreadable one, another name) are passed over.
    """
    root = Path(root)
    if not root.is_dir():
        return None
    by_day: dict[dt.date, list[Path]] = {}
    for folder in root.iterdir():
        match = _FOLDER.match(folder.name)
        if not match or not folder.is_dir():
            continue
        try:
            day = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if on_or_before is None or day <= on_or_before:
            by_day.setdefault(day, []).append(folder)
    for day in sorted(by_day, reverse=True):
        records = []
        for folder in by_day[day]:
            try:
                record = read_record(folder)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            written = record.trained_at or dt.datetime.fromtimestamp((folder / MANIFEST).stat().st_mtime, dt.timezone.utc)
            records.append((written, record.model_version, record))
        if records:
            return max(records, key=lambda r: (r[0], r[1]))[2]
    return None
