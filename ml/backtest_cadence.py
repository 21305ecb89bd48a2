"""When the backtest has to run again, and when its last result still proves the model.

The backtest (`ml.backtest`) is the proof that the model beats seasonal naive;
it trains the model once per window and fits the statistical baselines on
every series, so it costs minutes, while a daily run adds one day of data. A
proof does not expire with one more day: it expires when what it proved no
longer describes the forecast being published. So the backtest runs when

- there is no earlier backtest, or the run config forces one;
- the model changed: its fingerprint (`model_fingerprint`: code version,
  feature list, LightGBM parameters, quantiles, horizon, windows, seed,
  baselines, holiday calendars) differs from the one proven;
- the data's shape changed: a market was added or dropped among the active
  series, or the number of active series moved by more than
  `Cadence.series_change_share` (20% by default) either way;
- the planning date moved back before the proof's (its windows would score
  days after the planning date: a replay must not read the future);
- the last backtest failed the gate (until one passes the best baseline's
  forecast is published in the model's place, or the model's unproven, so it
  is tried again on every run rather than once a week), unless this run has
  the very same planning date and data (`DataShape.digest`): a `--force` run
  on the same day would only pay the backtest again for the same scores;
- or the proof is `Cadence.every_days` (7) planning days old or older.

Otherwise the last result is reused as it is, with its own date. Age is
counted in planning days (the run's planning date minus the backtest's), not
wall-clock days: a replay of old data ages the proof as the data does.

This module only decides; `ml.backtest_store` keeps the records in the
warehouse, `ml.backtest_run` reads what a run's decision needs and decides,
and the Dagster asset wires them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from crossdock.published import published_table
from ml import backtest as bt
from ml import forecast as fc
from ml.blend import MODEL_ALONE, MeanChoice
from ml.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from ml.model import QUANTILES, ModelConfig
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS
from ml.stat_baselines import SEASON, STAT_BASELINES

DEFAULT_EVERY_DAYS = 7
DEFAULT_SERIES_CHANGE_SHARE = 0.2
RESULT_TABLES = ("forecast_accuracy", "forecast_backtest")  # the published tables a backtest result becomes


@dataclass(frozen=True)
class Cadence:
    """How long a backtest holds: `every_days` planning days, unless the series count moves by more than the share."""

    every_days: int = DEFAULT_EVERY_DAYS
    series_change_share: float = DEFAULT_SERIES_CHANGE_SHARE

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise ValueError("every_days must be >= 1")
        if not 0 < self.series_change_share:
            raise ValueError("series_change_share must be > 0")


@dataclass(frozen=True)
class DataShape:
    """What the backtest was scored on, coarsely: the markets of the active series and how many series there are;
    and `digest`, a hash of the history the backtest reads up to the planning date, per series
    (`ml.backtest_store.history_digest`), which tells a run on the very same data ("" when unknown: a record of
    an older release). The markets the training-data gate holds back are not in any of them, as the backtest
    leaves them out: `held_back` names them, so a change can be told in the planner's words."""

    markets: tuple[str, ...]
    n_series: int
    digest: str = field(default="", compare=False)  # compared on its own (`backtest_due`), not as a shape
    held_back: tuple[str, ...] = field(default=(), compare=False)  # not stored: this run's, for the reason's words

    def __post_init__(self) -> None:
        object.__setattr__(self, "markets", tuple(sorted(self.markets)))


@dataclass(frozen=True)
class BacktestRecord:
    """One backtest that ran: its planning date (the day it proved the model on), fingerprint, data shape, result."""

    as_of: dt.date
    fingerprint: str
    shape: DataShape
    seconds: float
    wape_model: float
    wape_naive: float
    run_id: str = ""
    ran_at: dt.datetime | None = None
    gate_passed: bool | None = None
    reconciliation: str | None = None  # the method the backtest chose for the hierarchy (ml.hierarchy.choose_method)
    quantile_scales: dict | None = None  # class -> (factor on p10, factor on p90), ml.calibration
    mean_weight: float | None = None  # the published mean's weight on the model, ml.blend (None: the model alone)
    zero_stopped: bool | None = None  # whether stopped series are forecast 0, ml.blend (None: kept, a record from before)

    def mean_choice(self) -> MeanChoice:
        """How the forecast makes its published mean from this backtest (`ml.blend`)."""
        return MeanChoice(self.mean_weight if self.mean_weight is not None else MODEL_ALONE, bool(self.zero_stopped))

    @property
    def passed(self) -> bool:
        """The gate's verdict (`ml.backtest_gate.gate_verdict`, checked by `model_beats_the_baselines`).

        wape_model / wape_naive are the model's and seasonal naive's weekly
        WAPE, kept for the log; a record from before the verdict was stored
        (method 2) falls back on its old rule, WAPE not above seasonal naive's.
        """
        return self.gate_passed if self.gate_passed is not None else self.wape_model <= self.wape_naive


def model_fingerprint(
    horizon_days: int,
    n_windows: int,
    seed: int,
    *,
    config: ModelConfig | None = None,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
    baselines: tuple[str, ...] = STAT_BASELINES,
    baseline_fit_days: int = bt.BASELINE_FIT_DAYS,
) -> str:
    """A short hash of everything that decides what the backtest proves, apart from the data.

    The model's code version (`ml.forecast.CODE_VERSION`, bumped whenever
    features or sampling change meaning) and the backtest's
    (`ml.backtest.METHOD_VERSION`), the feature names, the LightGBM settings
    (thread count left out: it does not change the model), the quantiles,
    horizon, windows, seed, the baselines and their fit window, the
    markets' holiday calendars, and the declared columns of the two result
    tables (a stored result must still fit them). Hashing the source files instead would also
    change with a comment; hashing the trained boosters would need the
    training the cadence exists to skip.
    """
    settings = (config or ModelConfig()).as_dict()
    settings.pop("num_threads", None)
    payload = {
        "model_code": f"{fc.MODEL_FAMILY}/{fc.CODE_VERSION}",
        "backtest_code": bt.METHOD_VERSION,
        "features": list(FEATURE_NAMES),
        "categorical": list(CATEGORICAL_FEATURES),
        "lightgbm": settings,
        "quantiles": list(QUANTILES),
        "horizon_days": horizon_days,
        "windows": n_windows,
        "seed": seed,
        "inactive_after_days": DEFAULT_INACTIVE_AFTER_DAYS,
        "baselines": sorted(baselines),
        "baseline_fit_days": baseline_fit_days,
        "baseline_season": SEASON,
        "holiday_subdivisions": {str(k): v for k, v in sorted((holiday_subdivisions or {}).items())},
        # a stored result is staged with the tables' declared columns: a new layout needs a new result
        "tables": {t: published_table(t).schema for t in RESULT_TABLES},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _shape_change(last: DataShape, now: DataShape, share: float) -> str | None:
    added = sorted(set(now.markets) - set(last.markets))
    dropped = sorted(set(last.markets) - set(now.markets))
    if added or dropped:
        held = [m for m in dropped if m in now.held_back]
        gone = [m for m in dropped if m not in now.held_back]
        parts = ([f"added {', '.join(added)}"] if added else []) + ([f"dropped {', '.join(gone)}"] if gone else []) + (
            [f"{', '.join(held)} held back by the training-data gate"] if held else [])
        return f"the markets changed ({'; '.join(parts)})"
    if last.n_series == 0:
        return None if now.n_series == 0 else f"active series went from 0 to {now.n_series:,}"
    moved = abs(now.n_series - last.n_series) / last.n_series
    if moved > share:
        return f"active series moved {moved:.0%} ({last.n_series:,} -> {now.n_series:,}; more than {share:.0%})"
    return None


def next_due(last: BacktestRecord, cadence: Cadence = Cadence()) -> dt.date:
    """The planning date from which the last backtest is too old, if nothing else expires it first."""
    return last.as_of + dt.timedelta(days=cadence.every_days)


def backtest_due(
    last: BacktestRecord | None,
    as_of: dt.date,
    fingerprint: str,
    shape: DataShape,
    cadence: Cadence = Cadence(),
    force: bool = False,
) -> tuple[bool, str]:
    """(run the backtest?, why): the first reason in the module docstring's order that applies, or why not.

    `as_of` is the run's planning date, `fingerprint` and `shape` describe
    the model and data this run would forecast with (`model_fingerprint`,
    `DataShape`), `last` is the latest backtest that ran (None before the
    first).
    """
    if force:
        return True, "forced by the run config (force_backtest)"
    if last is None:
        return True, "no earlier backtest"
    if last.fingerprint != fingerprint:
        return True, (f"the model or its windows changed (fingerprint {last.fingerprint} -> {fingerprint}; a short "
                      "history gains a window as it grows)")
    changed = _shape_change(last.shape, shape, cadence.series_change_share)
    if changed:
        return True, changed
    age = (as_of - last.as_of).days
    if age < 0:
        return True, f"the planning date {as_of} is before the last backtest's {last.as_of} (its windows read later days)"
    if not last.passed and age == 0 and last.shape.digest and last.shape.digest == shape.digest:
        return False, (
            f"the last backtest ({last.as_of}) did not beat every baseline the gate compares with, on this same "
            "planning date and data: run again it would score the same. It runs again with the next day of orders, "
            "a corrected export, a changed model, or force_backtest"
        )
    if not last.passed:
        return True, (
            f"the last backtest ({last.as_of}) did not beat every baseline the gate compares with (the model's "
            f"weekly WAPE {last.wape_model:.3f}; crossdock summary names the baseline it lost to); it is run again "
            "until one does"
        )
    if age >= cadence.every_days:
        return True, f"the last backtest ({last.as_of}) is {age} days old (every {cadence.every_days} days)"
    return False, (
        f"the backtest of {last.as_of} still holds: same model, same markets, "
        f"{shape.n_series:,} active series against {last.shape.n_series:,}"
    )


def reuse_note(last: BacktestRecord, as_of: dt.date, cadence: Cadence = Cadence()) -> str:
    """The line a run that reuses `last` reports: its date, its age, and what makes the next run backtest again."""
    age = (as_of - last.as_of).days
    return (
        f"reused backtest of {last.as_of}, proven {age} day{'s' if age != 1 else ''} ago, "
        f"reason next run: due on planning date {next_due(last, cadence)} (every {cadence.every_days} days), "
        f"or sooner if the model's fingerprint changes, a market is added or dropped, or the active series move "
        f"by more than {cadence.series_change_share:.0%} from {last.shape.n_series:,}"
    )
