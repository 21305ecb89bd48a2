"""A cycle's demand plan from the run's frames, stored per cycle, re-run safely, and rebuilt from its cut-off."""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.baselines import seasonal_naive as panel_seasonal_naive
from sop.cycle import build_cycle
from sop.cycle_store import STORES, later_snapshot, save_cycle, stage_cycles, stored_cycles
from sop.overrides import OVERRIDE_COLUMNS
from sop.value_added import seasonal_naive

AS_OF = dt.date(2026, 10, 30)  # a Friday


def forecast(as_of: dt.date = AS_OF, days: int = 14) -> pd.DataFrame:
    dates = pd.date_range(as_of + dt.timedelta(days=1), periods=days)
    rows = [pd.DataFrame({"sku": sku, "market": market, "category": category, "forecast_date": dates,
                          "p10": 0.5 * mean, "p50": mean, "p90": 1.5 * mean, "mean": mean, "as_of": as_of})
            for sku, market, category, mean in (("A", "DE", "shoes", 2.0), ("B", "DE", "bags", 1.0), ("A", "FR", "shoes", 3.0))]
    return pd.concat(rows, ignore_index=True)


def history(as_of: dt.date = AS_OF) -> pd.DataFrame:
    dates = pd.date_range(as_of - dt.timedelta(days=20), as_of)
    rng = np.random.default_rng(1)
    rows = [pd.DataFrame({"sku": sku, "market": market, "demand_date": dates,
                          "units_sold": rng.poisson(2.0, len(dates)).astype(float)})
            for sku, market in (("A", "DE"), ("B", "DE"), ("A", "FR"))]
    sold = pd.concat(rows, ignore_index=True)
    return sold[sold["units_sold"] > 0]  # the mart keeps selling days only


def revision(override_id: str, entered: str, **values) -> dict:
    row = dict.fromkeys(OVERRIDE_COLUMNS)
    row.update(override_id=override_id, entered_at_utc=pd.Timestamp(entered, tz="UTC"), author="ana", market="DE",
               bucket="week", period_start=dt.date(2026, 11, 2), reason_code="promotion", withdrawn=False)
    row.update(values)
    return row


REVISIONS = pd.DataFrame([
    revision("o1", "2026-10-29 09:00", sku="A", units=28.0),
    revision("o2", "2026-10-29 10:00", category="bags", change_pct=-50.0, author="ben", reason_code="price_change"),
    revision("o1", "2026-10-30 15:00", sku="A", units=21.0),  # revised on the planning date
], columns=list(OVERRIDE_COLUMNS))


def test_the_cycle_is_the_planning_dates_month_and_carries_every_stage():
    cycle = build_cycle(forecast(), REVISIONS, history())
    assert (cycle.cycle, cycle.planning_date, cycle.applied) == ("2026-10", AS_OF, 2)
    plan = cycle.plan
    week = plan[(plan["demand_date"] >= dt.date(2026, 11, 2)) & (plan["demand_date"] <= dt.date(2026, 11, 8))]
    assert week.query("sku == 'A' and market == 'DE'")["mean"].sum() == pytest.approx(21.0)  # the latest revision
    assert week.query("sku == 'B'")["mean"].sum() == pytest.approx(3.5)
    assert week.query("market == 'FR'")["mean"].sum() == pytest.approx(21.0)  # untouched
    assert cycle.units_moved == pytest.approx((21.0 - 14.0) + (3.5 - 7.0))
    assert plan["overrides_as_of"].iloc[0] == pd.Timestamp("2026-10-30 15:00")
    assert cycle.overrides.set_index("override_id")["units_asked"].fillna(-1).to_dict() == {"o1": 21.0, "o2": -1}


def test_seasonal_naive_repeats_last_weeks_weekday_as_the_panel_baseline_does():
    sold = history()
    cycle = build_cycle(forecast(), REVISIONS.iloc[:0], sold)
    for (sku, market), rows in cycle.plan.groupby(["sku", "market"]):
        series = sold[(sold["sku"] == sku) & (sold["market"] == market)].set_index("demand_date")["units_sold"]
        dense = series.reindex(pd.date_range(AS_OF - dt.timedelta(days=20), AS_OF), fill_value=0.0).to_numpy()
        expected = panel_seasonal_naive(dense[None, :], origin=len(dense) - 1, horizon_days=14)[0]
        assert rows.sort_values("demand_date")["naive_mean"].tolist() == pytest.approx(expected.tolist()), (sku, market)
    assert seasonal_naive(sold.iloc[:0], cycle.plan, AS_OF).eq(0.0).all()  # no sale last week: naive says none


def test_a_cycle_stored_twice_is_stored_once_and_other_cycles_stay():
    conn = duckdb.connect()
    october = build_cycle(forecast(), REVISIONS, history())
    september = build_cycle(forecast(dt.date(2026, 9, 30)), REVISIONS.iloc[:0], history(dt.date(2026, 9, 30)))
    for cycle in (september, october, october):
        save_cycle(conn, cycle.cycle, {"demand_plan": cycle.plan, "forecast_overrides": cycle.overrides})
    counts = dict(conn.execute(f"select cycle, count(*) from {STORES['demand_plan']} group by all").fetchall())
    assert counts == {"2026-09": 42, "2026-10": 42}
    assert stage_cycles(conn, "demand_plan", "run-1") == 84
    assert conn.execute("select count(*) from plan_next.demand_plan").fetchall() == [(84,)]
    stored = stored_cycles(conn, "forecast_overrides", ["cycle", "override_id", "status"])
    assert stored.values.tolist() == [["2026-10", "o1", "applied"], ["2026-10", "o2", "applied"]]


def test_a_back_dated_run_never_replaces_the_snapshot_its_cycle_was_agreed_on_later():
    """Cycle 2026-09 agreed as of 30 September; a replay as of 15 September (`crossdock run --as-of`) plans on its
    own view of the cycle, staged for its plan, but the store keeps the agreed one (it had silently replaced it, and
    with it the cycle's forecast value added and the exceptions raised on it)."""
    conn = duckdb.connect()
    agreed = build_cycle(forecast(dt.date(2026, 9, 30)), REVISIONS.iloc[:0], history(dt.date(2026, 9, 30)))
    save_cycle(conn, agreed.cycle, {"demand_plan": agreed.plan, "forecast_overrides": agreed.overrides})
    replay = build_cycle(forecast(dt.date(2026, 9, 15)), REVISIONS.iloc[:0], history(dt.date(2026, 9, 15)))
    assert replay.cycle == agreed.cycle
    assert later_snapshot(conn, replay.cycle, replay.planning_date) == dt.date(2026, 9, 30)
    assert later_snapshot(conn, agreed.cycle, agreed.planning_date) is None  # the same day again: replaced, safely
    assert later_snapshot(conn, "2026-10", dt.date(2026, 10, 1)) is None  # a cycle not stored yet
    october = build_cycle(forecast(), REVISIONS.iloc[:0], history())  # planned 30 October: September is closed
    save_cycle(conn, october.cycle, {"demand_plan": october.plan, "forecast_overrides": october.overrides})
    # a replay of a September day after its last run still may not rewrite the closed cycle
    assert later_snapshot(conn, "2026-09", dt.date(2026, 9, 30)) == dt.date(2026, 9, 30)
    assert later_snapshot(conn, "2026-10", october.planning_date) is None  # the latest run's own cycle: stored
    stage_cycles(conn, "demand_plan", "run-2", instead=(replay.cycle, replay.plan))
    staged = conn.execute("select distinct cycle, planning_date from plan_next.demand_plan order by 1").fetchall()
    assert [(c, pd.Timestamp(d).date()) for c, d in staged] == [("2026-09", dt.date(2026, 9, 15)),
                                                                ("2026-10", dt.date(2026, 10, 30))]
    stored = stored_cycles(conn, "demand_plan", ["cycle", "planning_date"]).drop_duplicates()
    assert [(c, pd.Timestamp(d).date()) for c, d in stored.values] == [("2026-09", dt.date(2026, 9, 30)),
                                                                       ("2026-10", dt.date(2026, 10, 30))]


def test_a_past_consensus_is_rebuilt_from_the_revisions_entered_by_its_cut_off():
    stored = build_cycle(forecast(), REVISIONS.iloc[:2], history())  # the cycle agreed before o1's revision
    cutoff = stored.plan["overrides_as_of"].iloc[0]
    later = pd.DataFrame([*REVISIONS.to_dict("records"), revision("o3", "2026-11-02 08:00", market="FR", change_pct=80.0)])
    known = later[pd.to_datetime(later["entered_at_utc"], utc=True) <= pd.Timestamp(cutoff, tz="UTC")]
    rebuilt = build_cycle(forecast(), known, history())
    pd.testing.assert_frame_equal(rebuilt.plan, stored.plan)
    assert not build_cycle(forecast(), later, history()).plan["mean"].equals(stored.plan["mean"])
