"""Global LightGBM boosters for the band's p10 and p90 and for the expected units: training and prediction.

Global (all series in one model) because most series are short or
intermittent and borrow strength from the others through the features;
one booster per band quantile (pinball loss) because the planner needs
p10/p90, not just a point, and a Tweedie booster for the expected units
(`mean`), which sums to totals. The median, p50, is not a booster of its
own: it is the median of a count with that mean (`crossdock.count_median`).
Native `lightgbm.train` API: scikit-learn is not a dependency.
"""
from __future__ import annotations

import logging
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crossdock.count_median import with_count_median
from ml.features import CATEGORICAL_FEATURES, FEATURE_NAMES

if TYPE_CHECKING:  # LightGBM is imported where a booster is built or read, not when the code location loads
    import lightgbm as lgb

QUANTILES: tuple[float, float] = (0.1, 0.9)
"""The band's quantiles, one booster each; p50 comes from the mean (`crossdock.count_median`)."""
MEAN = "mean"

_log = logging.getLogger("ml")


def progress(message: str) -> None:
    """A short progress line: to the `ml` logger when someone listens, else to stderr."""
    if _log.hasHandlers() and _log.isEnabledFor(logging.INFO):
        _log.info(message)
    else:
        print(f"[ml] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ModelConfig:
    """Training sample and booster settings (defaults sized for ~1,300 series x ~820 days on 2 cores).

    train_days: target days (ending at the origin) the training rows come from;
        a year and a bit, so each season is seen once with year-ago features.
    horizons_per_day: horizons drawn per series x target day (direct
        multi-horizon rows).
    row_sample: share of those rows kept (random, seeded): the speed knob.
    max_training_rows: at most this many training rows, the launches' rows
        included (`ml.features.sample_rows`: each kind keeps its share, the
        first drawn), so the training time stops growing with the merchant's
        series count: the demo's 1,100 series give ~180,000 rows and are not
        touched; 10,000 series gave 1.67 million and took 49 s to train.
        400,000 rather than 600,000 since the backtest of 10,000 series had
        to fit in 3 minutes: the same weekly WAPE to 0.001 (ml/README.md).
    max_history_days: history older than this before the origin is not read
        (the oldest training row's features reach 391 days before its origin).
    num_threads: cores to use. Boosters are trained in parallel, one thread
        each, rather than one after another with `num_threads` threads:
        LightGBM's OpenMP barriers stall badly when a core is shared with
        another process (measured here: up to 100x slower per iteration),
        while independent single-thread boosters degrade gracefully and give
        bit-identical models.
    tweedie_variance_power: p of the mean's Tweedie score, which weights
        each day by its mean to the power 1 - p: the nearer p is to 1
        (Poisson), the more the model's total is held to the data's. 1.1
        since 2026-12-06 (1.2 before): the messy merchant's bias against its
        regular demand came inside +-10 % on all six draws measured (two
        were at -0.106 and -0.111), the weekly WAPE ratio within 0.006 of 1.2's
        (ml/README.md, "The mean's variance power").

    Boosters: 100 rounds at learning rate 0.09 with 31 leaves, since issue 15
    (150 rounds at 0.06 with 63 leaves before): 38-40% less CPU per fit
    for the same accuracy, measured on one window each of two origins of
    the demo and of the messy merchant (p50 WAPE 0.7136 vs 0.7140 and
    0.7340 vs 0.7322 on the demo, 0.8723 vs 0.8734 and 0.8993 vs 0.8984 on
    the messy one; mean bias and p90 pinball loss equal or better in all
    four). ml/README.md has the table.
    """

    num_boost_round: int = 100
    learning_rate: float = 0.09
    num_leaves: int = 31
    min_data_in_leaf: int = 200
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.7
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_bin: int = 127
    num_threads: int = 2
    train_days: int = 420
    horizons_per_day: int = 1
    row_sample: float = 0.4
    max_training_rows: int = 400_000
    max_history_days: int = 1100
    tweedie_variance_power: float = 1.1

    def booster_params(self, target: float | str, seed: int) -> dict:
        """LightGBM parameters for quantile `target` (0..1) or the "mean" model."""
        params = {
            "objective": "quantile",
            "alpha": target,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "lambda_l2": self.lambda_l2,
            "max_bin": self.max_bin,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "seed": seed,
            "verbose": -1,
        }
        if target == MEAN:
            params.pop("alpha")
            params["objective"] = "tweedie"
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return params

    def targets(self) -> tuple[float | str, ...]:
        return QUANTILES + (MEAN,)

    def as_dict(self) -> dict:
        return asdict(self)


def _binned(X: np.ndarray, y: np.ndarray, params: dict, config: ModelConfig, path: Path) -> Path:
    """Bin `X` once, as LightGBM would for a booster with `params`, into LightGBM's binary Dataset file at `path`.

    Binning (a quantile sketch of every feature) took 2.1 s of one core per
    booster at 746,000 rows x 48 features, four times over for the same rows.
    A booster that loads the file gets the same bins in 0.06 s and trees
    identical to binning it again (tests/test_ml_model.py), on a Dataset of
    its own: boosters trained concurrently still share nothing mutable.
    """
    import lightgbm as lgb

    lgb.Dataset(
        X, label=y, params=_dataset_params(params, config), free_raw_data=False, **_FEATURES
    ).construct().save_binary(str(path))
    return path


def _dataset_params(params: dict, config: ModelConfig) -> dict:
    return {"max_bin": config.max_bin, "verbose": -1, **params, "num_threads": 1}


_FEATURES = {"feature_name": list(FEATURE_NAMES), "categorical_feature": list(CATEGORICAL_FEATURES)}


def _fit_one(binned: Path, params: dict, config: ModelConfig) -> lgb.Booster:
    import lightgbm as lgb

    data = lgb.Dataset(str(binned), params=_dataset_params(params, config), **_FEATURES)
    return lgb.train(params, data, num_boost_round=config.num_boost_round)


def train_models(
    X: np.ndarray, y: np.ndarray, config: ModelConfig, seed: int
) -> dict[float | str, lgb.Booster]:
    """Fit one booster per band quantile and the mean model, keyed 0.1 / 0.9 / "mean".

    A fixed number of rounds, no early stopping: stopping on the evaluation
    window would leak it into the model. LightGBM releases the GIL, so a
    thread pool runs the boosters on separate cores, each on the rows binned
    once (`_binned`).
    """
    targets = config.targets()
    workers = max(1, min(config.num_threads, len(targets)))
    with tempfile.TemporaryDirectory(prefix="crossdock-lightgbm-") as folder:
        binned = _binned(X, y, config.booster_params(targets[0], seed), config, Path(folder) / "training.bin")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {t: pool.submit(_fit_one, binned, config.booster_params(t, seed), config) for t in targets}
            return {t: f.result() for t, f in futures.items()}


def _predict(model: lgb.Booster, X: np.ndarray) -> np.ndarray:
    return model.predict(X, num_threads=1)


def predict(models: dict[float | str, lgb.Booster], X: np.ndarray, num_threads: int = 2) -> dict[str, np.ndarray]:
    """p10, p50, p90 and mean in units per day, keyed by column name.

    Demand cannot be negative, so everything is clipped at 0. The two band
    boosters can cross; sorting each row restores p10 <= p90 (the sorted
    pair is never worse in pinball loss). p50 is the median of a count with
    the mean, the band widened where it would not hold it (`crossdock.count_median`).
    """
    with ThreadPoolExecutor(max_workers=max(1, num_threads)) as pool:
        raw = dict(zip(models, pool.map(lambda m: _predict(m, X), models.values())))
    band = np.clip(np.sort(np.column_stack([raw[q] for q in QUANTILES]), axis=1), 0.0, None)
    mean = np.clip(raw[MEAN], 0.0, None)
    p10, p50, p90 = with_count_median(band[:, 0], mean, band[:, 1])
    return {"p10": p10, "p50": p50, "p90": p90, MEAN: mean}
