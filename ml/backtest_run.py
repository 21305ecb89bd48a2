"""A run's decision about the backtest: what was proven last, what the run would prove now, and whether to run it.

`forecast_accuracy` (the Dagster asset) reads, decides, runs or reuses,
stages and reports; the deciding is forecasting knowledge, so it lives here
and is tested without Dagster: the planning date, the holiday calendars and
the active series' shape are read once, the model's fingerprint is taken,
and `ml.backtest_cadence.backtest_due` says whether the last proof still
holds (ml/backtest_store.py keeps the proofs).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.engine import WarehouseLike, as_warehouse
from ml.backtest_cadence import BacktestRecord, Cadence, DataShape, backtest_due, model_fingerprint, reuse_note
from ml.backtest import MIN_TRAINING_DAYS, windows_that_fit
from ml.backtest_store import active_shape, first_sale_day, last_backtest
from ml.series_selection import DEFAULT_INACTIVE_AFTER_DAYS


@dataclass(frozen=True)
class BacktestDecision:
    """What this run does about the backtest, and on what grounds.

    due: run a fresh backtest (reason says why) rather than reuse `last`.
    fingerprint / shape: the model and the data the run would prove.
    holiday_subdivisions: each market's holiday subdivision (part of the
        fingerprint, and the calendar features' input).
    """

    as_of: dt.date
    windows: int  # the windows that fit in the history (`ml.backtest.windows_that_fit`), 0: none
    fingerprint: str
    shape: DataShape
    holiday_subdivisions: dict[str, str | None]
    last: BacktestRecord | None
    due: bool
    reason: str
    cadence: Cadence
    windows_asked: int = 0
    first_sale: dt.date | None = None
    horizon_days: int = 56

    def short_history_note(self) -> str | None:
        """What the run says when the history holds fewer windows than asked: how many fit, and when more do."""
        if self.windows >= self.windows_asked:
            return None
        needs = MIN_TRAINING_DAYS + (self.windows + 1) * self.horizon_days
        since = f"since {self.first_sale}" if self.first_sale else "with no sale"
        fit = f"{self.windows} of the {self.windows_asked} backtest windows fit" if self.windows else "no backtest window fits"
        return (f"{fit} in the history {since} (a window takes {self.horizon_days} days, and its model needs "
                f"{MIN_TRAINING_DAYS} days before it); {'another' if self.windows else 'one'} fits once the history "
                f"covers {needs} days")

    def fresh_record(self, run_id: str) -> BacktestRecord:
        """The record a fresh backtest starts from; its timing and WAPEs are filled in once it has run."""
        return BacktestRecord(self.as_of, self.fingerprint, self.shape, 0.0, float("nan"), float("nan"), run_id=run_id)

    def reuse_note(self) -> str:
        """The line a run that reuses the last backtest logs and reports."""
        if self.last is None:
            raise ValueError("there is no backtest to reuse")
        return reuse_note(self.last, self.as_of, self.cadence)


def decide_backtest(
    target: WarehouseLike,
    as_of: dt.date,
    training_table: str,
    *,
    horizon_days: int,
    windows: int,
    seed: int,
    cadence: Cadence,
    force: bool = False,
    held_back: Sequence[str] = (),
) -> BacktestDecision:
    """Read what the decision needs from the warehouse (markets, last proof, active series) and decide.

    `held_back`: the markets the training-data gate holds back, which the backtest leaves out; its shape does
    too, so a market held back, or back from it, is a change of markets that runs the backtest again.
    """
    warehouse = as_warehouse(target)
    subdivisions = dict(warehouse.rows("select market_code, holiday_subdivision from reference.markets"))
    last = last_backtest(warehouse)
    shape = active_shape(warehouse, training_table, as_of, DEFAULT_INACTIVE_AFTER_DAYS, held_back)
    first_sale = first_sale_day(warehouse, training_table, as_of)
    fit = windows_that_fit(first_sale, as_of, horizon_days, windows)
    fingerprint = model_fingerprint(horizon_days, fit, seed, holiday_subdivisions=subdivisions)
    due, reason = backtest_due(last, as_of, fingerprint, shape, cadence, force=force)
    return BacktestDecision(as_of, fit, fingerprint, shape, subdivisions, last, due and fit > 0, reason, cadence,
                            windows, first_sale, horizon_days)


def proven(record: BacktestRecord, seconds: float, wape_model: float, wape_naive: float, gate_passed: bool) -> BacktestRecord:
    """`record` once its backtest has run: how long it took, the weekly WAPEs logged and the gate's verdict."""
    return dataclasses.replace(record, seconds=seconds, wape_model=wape_model, wape_naive=wape_naive, gate_passed=gate_passed)
