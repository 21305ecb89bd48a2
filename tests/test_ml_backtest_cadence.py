"""When the backtest runs again (ml/backtest_cadence.py) and how its record is kept (ml/backtest_store.py)."""
import dataclasses
import datetime as dt

import duckdb
import pandas as pd
import pytest

from crossdock.publish import stage_table
from crossdock.published import published_table
from ml.backtest_cadence import BacktestRecord, Cadence, DataShape, backtest_due, model_fingerprint, next_due, reuse_note
from ml.backtest import window_origins, windows_that_fit
from ml.backtest_run import decide_backtest, proven
from ml.backtest_store import RUNS, active_shape, last_backtest, save_backtest, stage_last_backtest
from ml.model import ModelConfig

PROVEN = dt.date(2026, 10, 30)
SHAPE = DataShape(("DE", "US"), 800)
PRINT = model_fingerprint(56, 4, 7)
LAST = BacktestRecord(PROVEN, PRINT, SHAPE, seconds=300.0, wape_model=0.7, wape_naive=1.0, run_id="r1")


def due(as_of=PROVEN + dt.timedelta(days=1), fingerprint=PRINT, shape=SHAPE, last=LAST, **kwargs):
    return backtest_due(last, as_of, fingerprint, shape, **kwargs)


def test_a_fresh_proof_is_reused_and_says_so():
    run, reason = due()
    assert not run and f"backtest of {PROVEN} still holds" in reason


def test_the_first_run_and_a_forced_run_backtest():
    assert due(last=None) == (True, "no earlier backtest")
    run, reason = due(force=True)
    assert run and "force_backtest" in reason


@pytest.mark.parametrize("days, expected", [(6, False), (7, True), (30, True)])
def test_a_proof_expires_after_every_days_of_planning_date(days, expected):
    run, reason = due(as_of=PROVEN + dt.timedelta(days=days))
    assert run is expected
    if expected:
        assert f"{days} days old" in reason


def test_every_days_comes_from_the_cadence():
    assert due(as_of=PROVEN + dt.timedelta(days=1), cadence=Cadence(every_days=1))[0]
    assert not due(as_of=PROVEN + dt.timedelta(days=13), cadence=Cadence(every_days=14))[0]


def test_a_changed_model_backtests_again():
    other = model_fingerprint(56, 4, 7, config=ModelConfig(num_leaves=ModelConfig().num_leaves + 1))  # any change to the default
    run, reason = due(fingerprint=other)
    assert run and "model or its windows changed" in reason and other in reason


def test_the_fingerprint_follows_what_the_proof_depends_on_and_nothing_else():
    assert model_fingerprint(56, 4, 7) == PRINT
    assert model_fingerprint(56, 4, 7, config=ModelConfig(num_threads=8)) == PRINT  # threads do not change the model
    changed = [
        model_fingerprint(28, 4, 7),
        model_fingerprint(56, 3, 7),
        model_fingerprint(56, 4, 8),
        model_fingerprint(56, 4, 7, config=ModelConfig(num_boost_round=151)),
        model_fingerprint(56, 4, 7, holiday_subdivisions={"CA": "ON"}),
        model_fingerprint(56, 4, 7, baselines=("auto_ets",)),
        model_fingerprint(56, 4, 7, baseline_fit_days=364),
    ]
    assert len({PRINT, *changed}) == len(changed) + 1


@pytest.mark.parametrize(
    "shape, expected",
    [
        (DataShape(("US", "DE"), 800), None),  # same markets in another order
        (DataShape(("DE", "US"), 960), None),  # +20%: within the share
        (DataShape(("DE", "US"), 961), "active series moved 20%"),
        (DataShape(("DE", "US"), 639), "active series moved 20%"),
        (DataShape(("DE", "FR", "US"), 800), "added FR"),
        (DataShape(("US",), 800), "dropped DE"),
        (DataShape(("US",), 800, held_back=("DE",)), "the markets changed (DE held back by the training-data gate)"),
        (DataShape(("US",), 800, held_back=("FR",)), "the markets changed (dropped DE)"),
    ],
)
def test_a_changed_data_shape_backtests_again(shape, expected):
    run, reason = due(shape=shape)
    assert run is (expected is not None)
    if expected:
        assert expected in reason


def test_a_replay_before_the_proof_does_not_reuse_a_result_that_read_later_days():
    run, reason = due(as_of=PROVEN - dt.timedelta(days=1))
    assert run and "before the last backtest" in reason


def test_a_failed_proof_is_tried_again_on_every_run():
    failed = dataclasses.replace(LAST, wape_model=1.05)  # a record from before the verdict was stored: the old rule
    run, reason = due(last=failed)
    assert run and "did not beat every baseline" in reason
    verdict_failed = dataclasses.replace(LAST, gate_passed=False)  # better than seasonal naive, but the gate said no
    run, reason = due(last=verdict_failed)
    assert run and "did not beat every baseline" in reason
    assert not due(last=dataclasses.replace(LAST, gate_passed=True))[0]


def test_a_failed_proof_is_not_run_again_on_the_same_day_and_data():
    """`crossdock run --force` on the day and data the backtest failed on would pay it again for the same scores; a
    corrected export the same day (another digest), the next day, or a record without a digest runs it."""
    failed = dataclasses.replace(LAST, gate_passed=False, shape=dataclasses.replace(LAST.shape, digest="abc"))
    same = dataclasses.replace(LAST.shape, digest="abc")
    run, reason = due(last=failed, shape=same, as_of=PROVEN)
    assert not run and "on this same planning date and data" in reason
    assert due(last=failed, shape=dataclasses.replace(same, digest="abd"), as_of=PROVEN)[0]
    assert due(last=failed, shape=same, as_of=PROVEN + dt.timedelta(days=1))[0]
    assert due(last=dataclasses.replace(failed, shape=LAST.shape), shape=LAST.shape, as_of=PROVEN)[0]  # no digest: unknown
    assert due(last=failed, shape=same, as_of=PROVEN, force=True)[0]


def test_the_reuse_note_names_the_date_the_age_and_what_comes_next():
    note = reuse_note(LAST, PROVEN + dt.timedelta(days=3))
    assert note.startswith(f"reused backtest of {PROVEN}, proven 3 days ago, reason next run: ")
    assert str(next_due(LAST)) in note and str(PROVEN + dt.timedelta(days=7)) in note


def test_the_cadence_refuses_nonsense():
    with pytest.raises(ValueError):
        Cadence(every_days=0)


def _declared(table: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with every declared column of publish.`table`, the rows' values and nulls elsewhere."""
    return pd.DataFrame(rows).reindex(columns=list(published_table(table).column_names))


def _stage(conn, run_id: str, as_of: dt.date, wape: float, days: int) -> None:
    """What the asset stages for a fresh backtest: the accuracy rows and `days` prediction rows."""
    accuracy = [{"scope": "overall", "scope_value": "all", "model": m, "wape": w, "as_of": as_of}
                for m, w in (("lightgbm", wape), ("seasonal_naive_7", 1.0))]
    predictions = [{"window": 1, "sku": "A", "market": "US", "forecast_date": as_of - dt.timedelta(days=d),
                    "actual": 1.0, "as_of": as_of} for d in range(days)]
    stage_table(conn, "forecast_accuracy", _declared("forecast_accuracy", accuracy), run_id)
    stage_table(conn, "forecast_backtest", _declared("forecast_backtest", predictions), run_id)


def test_the_store_keeps_the_latest_record_with_its_result_and_stages_it_again(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert last_backtest(conn) is None
        _stage(conn, "r1", PROVEN, 0.7, days=2)
        save_backtest(conn, LAST, "first")
        assert last_backtest(conn).mean_weight is None  # saved without a blend: the forecast keeps the model's mean
        later = dataclasses.replace(LAST, as_of=PROVEN + dt.timedelta(days=7), wape_model=0.8, run_id="r2", mean_weight=0.75)
        _stage(conn, "r2", later.as_of, 0.8, days=3)
        save_backtest(conn, later, "7 days")
        got = last_backtest(conn)
        assert (got.as_of, got.run_id, got.shape, got.wape_model, got.passed) == (later.as_of, "r2", SHAPE, 0.8, True)
        assert got.mean_weight == 0.75
        assert conn.execute(f"select run_id, reason from {RUNS} order by ran_at").fetchall() == [("r1", "first"), ("r2", "7 days")]

        conn.execute("drop table plan_next.forecast_accuracy")  # staging is not the store
        rows = stage_last_backtest(conn, "r3")
        assert rows == {"forecast_accuracy": 2, "forecast_backtest": 3}
        assert conn.execute("select distinct as_of from plan_next.forecast_accuracy").fetchall() == [(later.as_of,)]
        types = dict(conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'plan_next' and table_name = 'forecast_backtest'"
        ).fetchall())
        assert types == {c.name: c.type.upper() for c in published_table("forecast_backtest").columns}
        assert conn.execute("select staged from plan_next.stage_log where run_id = 'r3' order by 1").fetchall() == [
            ("forecast_accuracy",), ("forecast_backtest",)
        ]


def test_a_failed_save_leaves_the_previous_record_and_result(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        _stage(conn, "r1", PROVEN, 0.7, days=1)
        save_backtest(conn, LAST, "first")
        _stage(conn, "r2", PROVEN, 0.9, days=4)
        broken = dataclasses.replace(LAST, as_of=None, run_id="r2")  # as_of is not null: the insert fails
        with pytest.raises(duckdb.Error):
            save_backtest(conn, broken, "broken")
        assert last_backtest(conn).run_id == "r1"
        assert conn.execute("select wape from audit.backtest_accuracy where model = 'lightgbm'").fetchone()[0] == 0.7
        assert conn.execute("select count(*) from audit.backtest_predictions").fetchone()[0] == 1


def test_the_active_shape_counts_series_with_a_sale_in_the_last_91_days(tmp_path):
    history = pd.DataFrame({
        "sku": ["A", "A", "B", "C", "D"],
        "market": ["US", "US", "DE", "FR", "US"],
        "demand_date": pd.to_datetime(["2026-10-30", "2026-01-01", "2026-08-01", "2026-07-30", "2026-10-29"]),
        "units_sold": [1, 3, 2, 5, 0],
    })
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create table demand as select sku, market, 'toys' as category, demand_date::date as demand_date, units_sold from history")
        # B sold on day as_of - 90 (active); C on as_of - 92 (inactive); D only returned (0 sold)
        assert active_shape(conn, "demand", PROVEN, 91) == DataShape(("DE", "US"), 2)
        # the markets the training-data gate holds back are left out, as the backtest leaves them out
        without_de = active_shape(conn, "demand", PROVEN, 91, held_back=["DE"])
        assert without_de == DataShape(("US",), 1) and without_de.held_back == ("DE",)
        assert without_de.digest != active_shape(conn, "demand", PROVEN, 91).digest


def test_decide_backtest_reads_the_markets_last_proof_and_shape_then_decides(tmp_path):
    """What forecast_accuracy asks before it runs or reuses: the first run backtests, a day later it reuses."""
    history = pd.DataFrame({"sku": ["A", "B", "A"], "market": ["DE", "US", "DE"],
                            "demand_date": pd.to_datetime(["2026-10-29", "2026-10-30", "2025-10-30"]), "units_sold": [1, 2, 1]})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema reference")
        conn.execute("create table reference.markets as select * from (values ('DE', 'BY'), ('US', null)) "
                     "as t(market_code, holiday_subdivision)")
        conn.execute("create table demand as select sku, market, 'toys' as category, demand_date::date as demand_date, units_sold from history")
        first = decide_backtest(conn, PROVEN, "demand", horizon_days=56, windows=4, seed=7, cadence=Cadence())
        assert (first.due, first.reason, first.last) == (True, "no earlier backtest", None)
        assert first.shape == DataShape(("DE", "US"), 2) and first.holiday_subdivisions == {"DE": "BY", "US": None}
        assert first.fingerprint == model_fingerprint(56, 4, 7, holiday_subdivisions={"DE": "BY", "US": None})
        with pytest.raises(ValueError, match="no backtest to reuse"):
            first.reuse_note()

        record = proven(first.fresh_record("r1"), seconds=12.0, wape_model=0.7, wape_naive=1.0, gate_passed=True)
        _stage(conn, "r1", PROVEN, 0.7, days=1)
        save_backtest(conn, record, first.reason)
        next_day = decide_backtest(conn, PROVEN + dt.timedelta(days=1), "demand", horizon_days=56, windows=4, seed=7,
                                   cadence=Cadence())
        assert not next_day.due and next_day.last.run_id == "r1" and next_day.last.gate_passed is True
        assert f"backtest of {PROVEN} still holds" in next_day.reason
        assert next_day.reuse_note().startswith(f"reused backtest of {PROVEN}, proven 1 day ago")
        forced = decide_backtest(conn, PROVEN + dt.timedelta(days=1), "demand", horizon_days=56, windows=4, seed=7,
                                 cadence=Cadence(), force=True)
        assert forced.due and "force_backtest" in forced.reason
        assert next_day.last.shape.digest == first.shape.digest != ""  # stored with the record, read back


def test_a_failed_backtest_is_reused_on_the_same_data_and_run_again_on_a_corrected_export(tmp_path):
    history = pd.DataFrame({"sku": ["A", "B", "A"], "market": ["DE", "US", "DE"], "units_sold": [1, 2, 1],
                            "demand_date": pd.to_datetime(["2026-10-29", "2026-10-30", "2025-10-30"])})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema reference")
        conn.execute("create table reference.markets as select * from (values ('DE', null), ('US', null)) "
                     "as t(market_code, holiday_subdivision)")
        conn.execute("create table demand as select sku, market, 'toys' as category, demand_date::date as demand_date, units_sold from history")

        def decide():
            return decide_backtest(conn, PROVEN, "demand", horizon_days=56, windows=4, seed=7, cadence=Cadence())

        first = decide()
        _stage(conn, "r1", PROVEN, 1.2, days=1)
        save_backtest(conn, proven(first.fresh_record("r1"), seconds=12.0, wape_model=1.2, wape_naive=1.0,
                                   gate_passed=False), first.reason)
        again = decide()
        assert not again.due and "on this same planning date and data" in again.reason
        for correction in ("update demand set demand_date = date '2026-10-28' where sku = 'A' and demand_date = date '2026-10-29'",
                           "update demand set category = 'games' where sku = 'B'",  # a corrected catalogue
                           "update demand set units_sold = 3 where sku = 'B'"):  # a corrected re-export, the same day
            conn.execute(correction)
            assert decide().due, correction
            conn.execute("update audit.backtest_runs set data_digest = ?", [decide().shape.digest])  # as if failed on it
            assert not decide().due


@pytest.mark.parametrize("first_sale, windows, said", [
    ("2025-10-30", 4, None),  # a year: every window asked fits
    ("2026-07-09", 1, "1 of the 4 backtest windows fit in the history since 2026-07-09 (a window takes 56 days, and its "
                      "model needs 28 days before it); another fits once the history covers 140 days"),
    ("2026-08-09", 0, "no backtest window fits in the history since 2026-08-09 (a window takes 56 days, and its model "
                      "needs 28 days before it); one fits once the history covers 84 days"),
])
def test_a_short_history_is_backtested_on_the_windows_that_fit_and_none_is_said(tmp_path, first_sale, windows, said):
    """A merchant with four months of orders gets one window, not an error; with under 84 days, none (and no rerun)."""
    history = pd.DataFrame({"sku": ["A", "A"], "market": ["US", "US"], "units_sold": [1, 2],
                            "demand_date": pd.to_datetime([first_sale, "2026-10-29"])})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema reference")
        conn.execute("create table reference.markets as select 'US' as market_code, null::varchar as holiday_subdivision")
        conn.execute("create table demand as select sku, market, 'toys' as category, demand_date::date as demand_date, units_sold from history")
        decision = decide_backtest(conn, PROVEN, "demand", horizon_days=56, windows=4, seed=7, cadence=Cadence())
    assert decision.windows == windows and decision.short_history_note() == said
    assert decision.due is (windows > 0) and decision.fingerprint == model_fingerprint(56, windows, 7,
                                                                                        holiday_subdivisions={"US": None})


def test_the_windows_that_fit_leave_four_weeks_before_the_oldest_origin():
    as_of = dt.date(2026, 10, 30)
    first = as_of - dt.timedelta(days=28 + 56 - 1)  # exactly 84 days of history
    assert windows_that_fit(first, as_of, 56, 4) == 1 and windows_that_fit(first + dt.timedelta(days=1), as_of, 56, 4) == 0
    assert windows_that_fit(None, as_of, 56, 4) == 0 and windows_that_fit(dt.date(2020, 1, 1), as_of, 56, 4) == 4
    [origin] = window_origins(as_of, 56, 1)
    assert (origin.date() - first).days + 1 == 28  # the model of that window sees its four weeks, origin included
