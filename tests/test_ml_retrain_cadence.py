"""The daily forecast's model: reused while it holds, trained again when due (ml/retrain_cadence.py).

The decision (`retrain_due`) is pure and checked on records; the reuse path
runs on a small synthetic history with a fast config: a reused forecast is
the old boosters' prediction on features of the new history, as of the new
planning date, without a fit.
"""
import dataclasses
import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ml.forecast as fc
from ml.features import FEATURE_NAMES, build_context, build_features
from ml.forecast import forecast_fingerprint, prepare_forecast, recode_levels, unknown_levels
from ml.model import ModelConfig
from ml.panel import build_panel
from ml.registry import MANIFEST, ModelRecord, load_model, save_model
from ml.retrain_cadence import (
    DEFAULT_RETRAIN_EVERY_DAYS,
    RetrainDecision,
    forecast_or_reuse,
    reuse_note,
    retrain_due,
)

try:
    from ml_synthetic import make_history
except ImportError:  # tests/ imported as a package
    from tests.ml_synthetic import make_history

AS_OF = dt.date(2025, 6, 30)
END = AS_OF + dt.timedelta(days=10)  # the history runs on past AS_OF: later planning dates read more of it
H = 14
FAST = ModelConfig(num_boost_round=20, num_leaves=7, min_data_in_leaf=50, row_sample=0.3)
LEVELS = {"market": ("DE", "US"), "category": ("apparel", "gifts", "home", "outdoor")}
FP = "f" * 16


def record(trained_on: dt.date = AS_OF, fingerprint: str | None = FP, levels=LEVELS, version="m1") -> ModelRecord:
    return ModelRecord(Path("/models") / version, version, trained_on, fingerprint, levels)


def needed(markets=("DE", "US"), categories=("home",)) -> dict[str, list[str]]:
    return {"market": list(markets), "category": list(categories)}


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


# --- the decision, on records -------------------------------------------------------------------------------


def test_a_recent_model_with_the_same_settings_is_reused():
    due, why = retrain_due(record(), days(2), FP, needed())
    assert not due and "still holds" in why and "2 days old" in why
    assert reuse_note(record(), days(2)).startswith(
        f"model trained {AS_OF}, reused for 2 days; retrains when 7 days old (planning date {days(7)})"
    )
    assert not retrain_due(record(), AS_OF, FP, needed())[0]  # a rerun of the same planning date


def test_a_model_as_old_as_the_cadence_is_trained_again():
    assert DEFAULT_RETRAIN_EVERY_DAYS == 7
    assert not retrain_due(record(), days(6), FP, needed())[0]
    due, why = retrain_due(record(), days(7), FP, needed())
    assert due and why == f"the model trained {AS_OF} is 7 days old (retrained every 7 days)"
    assert retrain_due(record(), days(1), FP, needed(), every_days=1)[0]
    assert not retrain_due(record(), AS_OF, FP, needed(), every_days=1)[0]
    with pytest.raises(ValueError):
        retrain_due(record(), AS_OF, FP, needed(), every_days=0)


def test_changed_settings_or_a_manifest_without_a_fingerprint_retrain():
    due, why = retrain_due(record(), days(1), "0" * 16, needed())
    assert due and f"fingerprint {FP} -> {'0' * 16}" in why
    due, why = retrain_due(record(fingerprint=None, levels=None), days(1), FP, needed())
    assert due and "saved before models were reused" in why


def test_a_series_in_a_market_or_category_the_model_has_no_code_for_retrains():
    due, why = retrain_due(record(), days(1), FP, needed(markets=("AT", "DE")))
    assert due and "market AT" in why
    due, why = retrain_due(record(), days(1), FP, needed(categories=("garden", "home")))
    assert due and "category garden" in why
    # a value the model knows but this run does not forecast is no reason
    assert not retrain_due(record(), days(1), FP, needed(markets=("US",)))[0]


def test_another_history_under_the_same_dates_retrains_a_few_late_lines_do_not():
    last = dataclasses.replace(record(), recent_units={"from": "2025-04-01", "to": str(AS_OF), "units": 1000.0})
    assert not retrain_due(last, days(1), FP, needed(), units_now=1000.0)[0]
    assert not retrain_due(last, days(1), FP, needed(), units_now=1040.0)[0]  # late order lines
    due, why = retrain_due(last, days(1), FP, needed(), units_now=1500.0)
    assert due and why.startswith("the history is not the one the model learned from: 2025-04-01..2025-06-30 held 1,000")
    assert not retrain_due(record(), days(1), FP, needed(), units_now=1500.0)[0]  # nothing recorded: not checked


def test_no_model_a_replay_before_the_model_and_force_retrain():
    due, why = retrain_due(None, AS_OF, FP, needed())
    assert due and why == "no saved model yet"
    due, why = retrain_due(None, days(-3), FP, needed(), newer=record())
    assert due and f"before the last model's ({AS_OF}" in why
    due, why = retrain_due(record(), days(1), FP, needed(), force=True)
    assert due and "force_retrain" in why


def test_the_decision_names_the_training_date_and_age():
    reused = RetrainDecision(days(2), FP, record(), False, "still holds", 7)
    assert (reused.trained_on, reused.model_age_days) == (AS_OF, 2)
    assert reused.note().startswith(f"model trained {AS_OF}, reused for 2 days; retrains when 7 days old")
    fresh = RetrainDecision(days(7), FP, record(), True, "7 days old", 7)
    assert (fresh.trained_on, fresh.model_age_days) == (days(7), 0)
    assert fresh.note() == f"model trained {days(7)} (retrained this run: 7 days old); reused until 7 days old"


def test_the_fingerprint_follows_the_settings_not_the_thread_count():
    base = forecast_fingerprint(H, 7, config=FAST)
    assert base == forecast_fingerprint(H, 7, config=dataclasses.replace(FAST, num_threads=1))
    assert base == forecast_fingerprint(H, 7, config=FAST, holiday_subdivisions={"US": None})  # national = none given
    for other in (
        forecast_fingerprint(H + 1, 7, config=FAST),
        forecast_fingerprint(H, 8, config=FAST),
        forecast_fingerprint(H, 7, config=dataclasses.replace(FAST, num_boost_round=21)),
        forecast_fingerprint(H, 7, config=FAST, inactive_after_days=60),
        forecast_fingerprint(H, 7, config=FAST, holiday_subdivisions={"GB": "ENG"}),
    ):
        assert other != base


# --- the reuse path, on a synthetic history ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _history() -> pd.DataFrame:
    return make_history(n_skus=6, markets=("US", "DE"), days=420, end=END, seed=5)


def history(extra: pd.DataFrame | None = None) -> pd.DataFrame:
    h = _history().copy()
    return h if extra is None else pd.concat([h, extra], ignore_index=True)


def new_series(sku: str, market: str, category: str, last_day: dt.date, n: int = 20) -> pd.DataFrame:
    return pd.DataFrame({
        "sku": sku, "market": market, "category": category,
        "demand_date": pd.date_range(end=pd.Timestamp(last_day), periods=n, freq="D"),
        "units_sold": 2, "units_returned": 0, "revenue_eur": 20.0,
    })


def run(root: Path, as_of: dt.date, h: pd.DataFrame | None = None, config: ModelConfig = FAST, **kwargs):
    """forecast_or_reuse as the asset calls it, saving a retrained model as the asset does."""
    result, decision = forecast_or_reuse(history() if h is None else h, as_of, root, H, 7, config=config, **kwargs)
    if decision.retrain:
        save_model(result, root)
    return result, decision


def test_reused_forecast_is_the_old_model_on_fresh_features_as_of_the_new_day(tmp_path, monkeypatch):
    first, decision = run(tmp_path, AS_OF)
    assert decision.retrain and decision.reason == "no saved model yet" and first.trained_on == AS_OF
    manifest = json.loads((tmp_path / first.model_version / MANIFEST).read_text())
    assert manifest["fingerprint"] == forecast_fingerprint(H, 7, config=FAST) and manifest["as_of"] == str(AS_OF)
    assert manifest["levels"] == {"market": ["DE", "US"], "category": ["apparel", "gifts", "home", "outdoor"]}
    assert manifest["recent_units"]["from"] == str(AS_OF - dt.timedelta(days=90)) and manifest["recent_units"]["units"] > 0

    new_day = days(2)
    monkeypatch.setattr(fc, "train_models", lambda *a, **k: pytest.fail("the reused model was trained again"))
    again, decision = run(tmp_path, new_day)
    assert not decision.retrain and decision.last.model_version == first.model_version
    assert decision.note().startswith(f"model trained {AS_OF}, reused for 2 days; retrains when 7 days old")
    assert again.model_version == first.model_version and again.trained_on == AS_OF and again.as_of == new_day
    assert again.training_rows == first.training_rows and again.training_window == first.training_window
    f = again.forecast
    assert f["forecast_date"].min() == pd.Timestamp(new_day) + pd.Timedelta(days=1)
    assert (f["model_version"] == first.model_version).all()

    # the same numbers as the saved model's boosters on features built here from history up to the new day
    panel = build_panel(history(), new_day, FAST.max_history_days)
    ctx = build_context(panel, H)
    key = pd.MultiIndex.from_frame(panel.series[["sku", "market"]])
    rows = pd.Series(np.arange(panel.n_series), index=key).reindex(pd.MultiIndex.from_frame(f[["sku", "market"]])).to_numpy()
    X = build_features(ctx, rows, np.full(len(rows), panel.n_days - 1), f["horizon"].to_numpy())
    P = load_model(tmp_path / first.model_version).predict(X)
    for col in ("p10", "p50", "p90", "mean"):
        np.testing.assert_allclose(f[col].to_numpy(), P[col], rtol=1e-9, atol=1e-12)
    # and not the old forecast shifted: the features moved with the two new days
    assert not np.allclose(f["mean"].to_numpy(), first.forecast["mean"].to_numpy())
    assert [p.name for p in tmp_path.iterdir()] == [first.model_version]


def test_the_model_is_trained_again_when_old_changed_or_forced(tmp_path):
    first, _ = run(tmp_path, AS_OF)
    week, decision = run(tmp_path, days(7))
    assert decision.retrain and "7 days old" in decision.reason
    assert week.trained_on == days(7) and week.model_version != first.model_version

    _, decision = run(tmp_path, days(8), config=dataclasses.replace(FAST, num_boost_round=21))
    assert decision.retrain and "settings changed" in decision.reason

    _, decision = run(tmp_path, days(9), force=True)
    assert decision.retrain and "force_retrain" in decision.reason
    _, decision = run(tmp_path, days(10))
    assert not decision.retrain and decision.last.trained_on == days(9)


def test_a_new_sku_in_known_codes_is_reused_a_new_category_or_market_retrains(tmp_path, monkeypatch):
    run(tmp_path, AS_OF)
    monkeypatch.setattr(fc, "train_models", lambda *a, **k: pytest.fail("trained for a SKU in a known category"))
    known = new_series("SKU-NEW", "DE", "home", days(1), n=1)  # its first sale after the model's day
    result, decision = run(tmp_path, days(1), history(known))
    assert not decision.retrain
    assert ("SKU-NEW", "DE") in set(zip(result.forecast["sku"], result.forecast["market"]))
    monkeypatch.undo()

    _, decision = run(tmp_path, days(1), history(new_series("SKU-G", "DE", "garden", days(1))))
    assert decision.retrain and "category garden" in decision.reason
    # AT sorts before DE and US: every market code would shift, and the model has none for AT
    result, decision = run(tmp_path, days(2), history(new_series("SKU-0001", "AT", "home", days(2))))
    assert decision.retrain and "market AT" in decision.reason
    assert result.levels["market"] == ["AT", "DE", "US"]


def test_codes_are_mapped_to_the_models_when_a_value_drops_out_of_the_panel(tmp_path, monkeypatch):
    """A market that sold only long ago leaves the panel a few days after the model was trained: the
    codes of the others shift down by one, and the reused model must still read DE as its DE."""
    config = dataclasses.replace(FAST, max_history_days=200)
    gone = new_series("SKU-0002", "AT", "home", AS_OF - dt.timedelta(days=199), n=5)  # last sale on the panel's first day
    h = history(gone)
    first, _ = run(tmp_path, AS_OF, h, config=config)
    assert first.levels["market"] == ["AT", "DE", "US"]

    monkeypatch.setattr(fc, "train_models", lambda *a, **k: pytest.fail("trained although every code is known"))
    prep = prepare_forecast(h, days(1), H, 7, config=config)
    assert prep.levels()["market"] == ["DE", "US"] and not unknown_levels(prep.needed_levels(), first.levels)
    again, decision = run(tmp_path, days(1), h, config=config)
    assert not decision.retrain and again.model_version == first.model_version

    X = build_features(prep.ctx, np.repeat(prep.rows, H), np.full(len(prep.rows) * H, prep.panel.n_days - 1),
                       np.tile(np.arange(1, H + 1), len(prep.rows)))
    market = FEATURE_NAMES.index("market")
    mapped = recode_levels(X, prep, first.levels)
    assert set(np.unique(X[:, market])) == {0, 1} and set(np.unique(mapped[:, market])) == {1, 2}  # DE 0 -> 1, US 1 -> 2
    saved = load_model(tmp_path / first.model_version)
    np.testing.assert_allclose(again.forecast["mean"].to_numpy(), saved.predict(mapped)["mean"], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="no code for market"):
        recode_levels(X, prep, {"market": ["US"], "category": first.levels["category"]})


def test_a_models_folder_beside_another_merchants_history_is_not_reused(tmp_path):
    run(tmp_path, AS_OF)
    late = new_series("SKU-0001", "DE", "home", AS_OF - dt.timedelta(days=2), n=1)  # a late line for a past day
    _, decision = run(tmp_path, days(1), history(late))
    assert not decision.retrain, decision.reason
    other = make_history(n_skus=6, markets=("US", "DE"), days=420, end=END, seed=6)  # same dates, other sales
    _, decision = run(tmp_path, days(1), other)
    assert decision.retrain and "not the one the model learned from" in decision.reason


def test_a_replay_before_the_model_or_a_damaged_model_trains(tmp_path):
    first, _ = run(tmp_path, AS_OF)
    earlier, decision = run(tmp_path, days(-3))
    assert decision.retrain and f"before the last model's ({AS_OF}" in decision.reason and earlier.trained_on == days(-3)
    # the earlier model is the newest one on or before days(-1): reused, the later one never is
    _, decision = run(tmp_path, days(-1))
    assert not decision.retrain and decision.last.trained_on == days(-3)

    (tmp_path / first.model_version / "p90.txt").unlink()
    result, decision = run(tmp_path, days(1))
    assert decision.retrain and "could not be read" in decision.reason and result.trained_on == days(1)
