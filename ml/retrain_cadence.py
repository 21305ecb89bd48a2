"""When the daily forecast trains its models again, and when it predicts with the last saved ones.

Training the boosters is most of the forecast's time, while a daily run
adds one day of data, which moves a model trained on 420 days very little.
So the forecast is always made as of the run's planning date, from features
of the newest history, but the boosters are trained again only when

- the run config forces it (`force_retrain`);
- there is no saved model trained on or before the planning date (none yet,
  or only ones trained on later days: a replay must not predict with a model
  that saw days after its planning date);
- the saved model cannot be matched: its manifest predates reuse (no
  fingerprint), or its fingerprint (`ml.forecast.forecast_fingerprint`: code
  version, features, categorical columns, event codes, quantiles, LightGBM
  settings, horizon, seed, inactivity rule, regional holiday calendars)
  differs from this run's;
- a series to forecast is in a market or category the model has no code for
  (the `market` and `category` features are categorical codes; a new SKU in
  a known market and category is predicted through its features like any
  other, and codes of values that appeared or dropped out elsewhere are
  mapped to the model's own);
- the history the model learned from is not this one: the units sold in the
  last 91 days of its training history differ by more than
  `HISTORY_TOLERANCE` (5%) from this run's history on the same days (a new
  warehouse beside an old models folder, a rebuilt demo, a large
  restatement; late order lines for the last few days are not a reason);
- the model is `every_days` (7, crossdock.yaml `forecast.retrain_every_days`)
  planning days old or older: the same cadence as the backtest's, which
  proves the method the model is trained with;
- or the saved model cannot be read.

Otherwise the last model is reused: its boosters predict, and the rows carry
its `model_version`, so the saved folder they name is the model that made
them. Age is counted in planning days (the planning date minus the model's),
as the backtest's is.

`retrain_due` only decides (pure); `decide_retrain` finds the last model
under the models folder and decides for a prepared forecast;
`forecast_or_reuse` does the whole step for the Dagster asset.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.forecast import (
    ForecastResult,
    PreparedForecast,
    forecast_with_models,
    prepare_forecast,
    train_forecast,
    unknown_levels,
)
from ml.model import ModelConfig
from ml.registry import ModelRecord, latest_model, load_model
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS

DEFAULT_RETRAIN_EVERY_DAYS = 7  # the backtest's cadence (ml.backtest_cadence.DEFAULT_EVERY_DAYS)
# Relative difference of the model's recent units that means another history. A merchant whose last
# days arrive incomplete (filled in by the next day's files) moves 91 days' units by a few percent at
# most; another merchant's or a rebuilt demo's history differs by far more.
HISTORY_TOLERANCE = 0.05


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def retrain_due(
    last: ModelRecord | None,
    as_of: dt.date,
    fingerprint: str,
    needed_levels: Mapping[str, list[str]],
    every_days: int = DEFAULT_RETRAIN_EVERY_DAYS,
    force: bool = False,
    newer: ModelRecord | None = None,
    units_now: float | None = None,
) -> tuple[bool, str]:
    """(train again?, why): the first reason in the module docstring's order that applies, or why not.

    `last` is the newest saved model trained on or before `as_of` (None when
    there is none; `newer` the newest one at all, when it is later: named in
    the reason). `fingerprint` and `needed_levels` describe this run's
    forecast (`ml.forecast.PreparedForecast.fingerprint` / `.needed_levels()`),
    `units_now` the units this run's history has on the days of `last.recent_units`
    (None: not checked).
    """
    if every_days < 1:
        raise ValueError("every_days must be >= 1")
    if force:
        return True, "forced by the run config (force_retrain)"
    if last is None:
        if newer is not None:
            return True, (
                f"the planning date {as_of} is before the last model's ({newer.trained_on}, {newer.model_version}), "
                "which saw later days, and no model was trained on or before it"
            )
        return True, "no saved model yet"
    if last.fingerprint is None or last.levels is None:
        return True, f"the saved model {last.model_version} was saved before models were reused (no fingerprint)"
    if last.fingerprint != fingerprint:
        return True, f"the model's settings changed (fingerprint {last.fingerprint} -> {fingerprint})"
    unknown = unknown_levels(needed_levels, last.levels)
    if unknown:
        what = "; ".join(f"{name} {', '.join(values)}" for name, values in unknown.items())
        return True, f"series to forecast are in a {' / '.join(unknown)} the model has no code for ({what})"
    changed = _history_change(last, units_now)
    if changed:
        return True, changed
    age = (as_of - last.trained_on).days
    if age >= every_days:
        return True, f"the model trained {last.trained_on} is {_days(age)} old (retrained every {_days(every_days)})"
    return False, (
        f"the model trained {last.trained_on} still holds: same settings, every market and category known, "
        f"{_days(age)} old (retrained at {_days(every_days)})"
    )


def _history_change(last: ModelRecord, units_now: float | None) -> str | None:
    if units_now is None or not last.recent_units:
        return None
    then = float(last.recent_units["units"])
    if abs(units_now - then) <= HISTORY_TOLERANCE * max(abs(then), 1.0):
        return None
    return (
        f"the history is not the one the model learned from: {last.recent_units['from']}..{last.recent_units['to']} "
        f"held {then:,.0f} units sold then, {units_now:,.0f} now (more than {HISTORY_TOLERANCE:.0%} apart)"
    )


def next_retrain(last: ModelRecord, every_days: int = DEFAULT_RETRAIN_EVERY_DAYS) -> dt.date:
    """The planning date from which `last` is too old, if nothing else expires it first."""
    return last.trained_on + dt.timedelta(days=every_days)


def reuse_note(last: ModelRecord, as_of: dt.date, every_days: int = DEFAULT_RETRAIN_EVERY_DAYS) -> str:
    """The line a run that reuses `last` reports: its training date, its age, and when it is trained again."""
    age = (as_of - last.trained_on).days
    return (
        f"model trained {last.trained_on}, reused for {_days(age)}; retrains when {_days(every_days)} old "
        f"(planning date {next_retrain(last, every_days)}), or sooner if its settings change, a series to "
        f"forecast is in a market or category it has no code for, or the history it learned from changes"
    )


@dataclass(frozen=True)
class RetrainDecision:
    """What this run's forecast does about its model, and on what grounds.

    retrain: train new boosters (reason says why) rather than predict with `last`.
    last: the newest saved model trained on or before the planning date (None when none).
    """

    as_of: dt.date
    fingerprint: str
    last: ModelRecord | None
    retrain: bool
    reason: str
    every_days: int

    @property
    def trained_on(self) -> dt.date:
        """The planning date the forecast's model was trained as of."""
        if self.retrain or self.last is None:
            return self.as_of
        return self.last.trained_on

    @property
    def model_age_days(self) -> int:
        return (self.as_of - self.trained_on).days

    def note(self) -> str:
        """One line for the log, the asset's metadata and the summary: retrained or reused, when, and why."""
        if self.retrain:
            return (
                f"model trained {self.as_of} (retrained this run: {self.reason}); "
                f"reused until {_days(self.every_days)} old"
            )
        assert self.last is not None
        return reuse_note(self.last, self.as_of, self.every_days)


def decide_retrain(
    models_root: Path,
    prep: PreparedForecast,
    every_days: int = DEFAULT_RETRAIN_EVERY_DAYS,
    force: bool = False,
) -> RetrainDecision:
    """Find the newest saved model under `models_root` and decide for the prepared forecast `prep`."""
    last = latest_model(models_root, on_or_before=prep.as_of)
    newer = latest_model(models_root) if last is None else None
    units_now = None
    if last is not None and last.recent_units:
        window = last.recent_units
        units_now = prep.units_between(dt.date.fromisoformat(window["from"]), dt.date.fromisoformat(window["to"]))
    retrain, reason = retrain_due(
        last, prep.as_of, prep.fingerprint, prep.needed_levels(), every_days, force, newer, units_now
    )
    return RetrainDecision(prep.as_of, prep.fingerprint, last, retrain, reason, every_days)


def reuse(prep: PreparedForecast, record: ModelRecord) -> ForecastResult:
    """The forecast of `prep` predicted by the saved model `record` (loaded from its folder): no fit."""
    saved = load_model(record.folder)
    manifest = saved.manifest
    importance = pd.DataFrame(manifest.get("feature_importance") or [], columns=["feature", "gain_share"])
    return forecast_with_models(
        prep,
        saved.boosters,
        model_version=record.model_version,
        levels={name: list(values) for name, values in (record.levels or {}).items()},
        trained_on=record.trained_on,
        training_rows=int(manifest.get("training_rows") or 0),
        training_window=manifest.get("training_window") or {},
        feature_importance=importance,
        recent_units=record.recent_units,
    )


def forecast_or_reuse(
    history: pd.DataFrame,
    as_of: dt.date,
    models_root: Path,
    horizon_days: int = 56,
    seed: int = 7,
    *,
    config: ModelConfig | None = None,
    inactive_after_days: int = DEFAULT_INACTIVE_AFTER_DAYS,
    launches: pd.DataFrame | None = None,
    holiday_subdivisions: Mapping[str, str | None] | None = None,
    every_days: int = DEFAULT_RETRAIN_EVERY_DAYS,
    force: bool = False,
) -> tuple[ForecastResult, RetrainDecision]:
    """The forecast as of `as_of` (like `ml.forecast.forecast_demand`), trained only when `retrain_due` says so.

    Reused: the last saved model predicts from features of the newest
    history (`ForecastResult.trained_on` is its training date, `models` its
    boosters). Retrained: as `forecast_demand`; the caller saves the model
    (`ml.registry.save_model`) so the next run finds it. A saved model that
    cannot be read is trained again, and the decision says so.
    """
    prep = prepare_forecast(
        history, as_of, horizon_days, seed, config=config, inactive_after_days=inactive_after_days,
        launches=launches, holiday_subdivisions=holiday_subdivisions,
    )
    decision = decide_retrain(models_root, prep, every_days, force)
    if not decision.retrain:
        from lightgbm.basic import LightGBMError  # here, not when the code location loads: 0.9 s of every start

        assert decision.last is not None
        try:
            return reuse(prep, decision.last), decision
        except (OSError, ValueError, KeyError, LightGBMError) as error:  # a damaged or half-deleted folder: train, not fail
            decision = dataclasses.replace(
                decision, retrain=True,
                reason=f"the saved model {decision.last.model_version} could not be read ({type(error).__name__}: {error})",
            )
    return train_forecast(prep), decision
