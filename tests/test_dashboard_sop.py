"""The dashboard's S&OP cycle page: its queries on a hand-made snapshot of two cycles, and the page in Chromium,
whose form writes an override file into the landing folder."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bi_snapshots import publish_staged
from crossdock.publish import stage_table
from dashboard import data, sop_data
from sop.cycle import build_cycle
from sop.cycle_store import save_cycle, stage_cycles, stored_cycles
from sop.overrides import OVERRIDE_COLUMNS
from sop.value_added import OVERRIDE_COLUMNS as SCORED_OVERRIDE_COLUMNS, PLAN_COLUMNS, value_added

SEPTEMBER, OCTOBER = dt.date(2026, 9, 30), dt.date(2026, 10, 30)


def _forecast(as_of: dt.date) -> pd.DataFrame:
    dates = pd.date_range(as_of + dt.timedelta(days=1), periods=28)
    return pd.concat([
        pd.DataFrame({"sku": sku, "market": market, "category": category, "forecast_date": dates, "p10": 0.0,
                      "p50": mean, "p90": 2 * mean, "mean": mean, "as_of": as_of})
        for sku, market, category, mean in (("A", "DE", "shoes", 2.0), ("B", "DE", "bags", 1.0), ("A", "FR", "shoes", 4.0))
    ], ignore_index=True)


def _revision(override_id: str, entered: dt.date, **values) -> dict:
    row = dict.fromkeys(OVERRIDE_COLUMNS)
    row.update(override_id=override_id, entered_at_utc=pd.Timestamp(entered, tz="UTC"), author="ana", market="DE",
               bucket="week", reason_code="promotion", withdrawn=False)
    return row | values


REVISIONS = pd.DataFrame([
    _revision("sep-1", SEPTEMBER, sku="A", period_start=dt.date(2026, 10, 5), units=28.0),
    _revision("oct-1", OCTOBER, market="FR", author="carl", bucket="month", period_start=dt.date(2026, 11, 1),
              change_pct=50.0, reason_code="marketing"),
], columns=list(OVERRIDE_COLUMNS))


def make_snapshot(path: Path) -> None:
    """Two cycles stored as a run keeps them, scored on October's sales (A in DE sold 4 a day), published."""
    sold = pd.DataFrame({"sku": "A", "market": "DE", "units_sold": 4.0,
                         "demand_date": pd.date_range(SEPTEMBER - dt.timedelta(days=6), OCTOBER)})
    with duckdb.connect(str(path)) as conn:
        for as_of in (SEPTEMBER, OCTOBER):
            known = REVISIONS[pd.to_datetime(REVISIONS["entered_at_utc"]).dt.date <= as_of]
            cycle = build_cycle(_forecast(as_of), known, sold)
            save_cycle(conn, cycle.cycle, {"demand_plan": cycle.plan, "forecast_overrides": cycle.overrides})
        for table in ("demand_plan", "forecast_overrides"):
            stage_cycles(conn, table, "run-1")
        scores = value_added(stored_cycles(conn, "demand_plan", list(PLAN_COLUMNS)),
                             stored_cycles(conn, "forecast_overrides", list(SCORED_OVERRIDE_COLUMNS)), sold, OCTOBER)
        stage_table(conn, "forecast_value_added", scores, "run-1")
        publish_staged(conn, ["demand_plan", "forecast_overrides", "forecast_value_added"], OCTOBER)


@pytest.fixture
def snapshot(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    make_snapshot(tmp_path / "crossdock_publish.duckdb")
    return data.connect(tmp_path / "crossdock_publish.duckdb")


def test_the_current_cycle_against_the_statistical_forecast_by_market_and_day(snapshot):
    assert sop_data.current_cycle(snapshot) == "2026-10"
    markets = sop_data.cycle_by_market(snapshot, "2026-10").set_index("market")
    # FR: 28 days x 4 units; November's 28 - 1 = 27 of them moved by +50% (October 31 is not November)
    assert markets.loc["FR", "statistical_units"] == pytest.approx(112.0)
    assert markets.loc["FR", "change_units"] == pytest.approx(27 * 4 * 0.5)
    assert markets.loc["DE", "change_units"] == pytest.approx(0.0)
    assert markets.index.tolist() == ["FR", "DE"]  # the most moved first
    days = sop_data.cycle_by_day(snapshot, "2026-10")
    assert len(days) == 28 and days["statistical"].iloc[0] == pytest.approx(7.0)
    assert days["naive"].iloc[0] == pytest.approx(4.0)  # A in DE sold 4 on the same weekday last week


def test_the_overrides_of_the_cycle_and_of_one_sku(snapshot):
    assert sop_data.cycle_overrides(snapshot, "2026-10")["override_id"].tolist() == ["oct-1"]
    assert sop_data.cycle_overrides(snapshot, "2026-10", "A", "FR")["override_id"].tolist() == ["oct-1"]  # its market's
    assert sop_data.cycle_overrides(snapshot, "2026-10", "A", "DE").empty
    assert sop_data.cycle_overrides(snapshot, "2026-09", "A", "DE")["status"].tolist() == ["applied"]


def test_value_added_is_the_last_cycle_scored_before_the_current_one(snapshot):
    cycle, scores = sop_data.value_added(snapshot)
    assert cycle == "2026-09"
    overall = scores[scores["scope"] == "all"].set_index("stage")
    assert overall.index.tolist() == ["seasonal naive", "statistical", "consensus"]
    assert int(overall.loc["consensus", "days_scored"]) == 28
    ana = scores[(scores["scope"] == "author") & (scores["scope_value"] == "ana")].set_index("stage")
    # ana's 28 units for the week of 2026-10-05 met the 4 a day A sold: the forecast's 2 a day missed by half
    assert ana.loc["statistical", "wape"] == pytest.approx(0.5)
    assert ana.loc["consensus", "value_added"] == pytest.approx(0.5)
    assert sop_data.cycle_choices(snapshot) == {"market": ["DE", "FR"], "category": ["bags", "shoes"], "sku": ["A", "B"]}


@pytest.mark.browser
def test_the_sop_cycle_page_shows_the_cycle_and_its_form_writes_an_override_in_a_browser(tmp_path):
    from browser import dashboard_on_snapshot, wait_for_texts

    with dashboard_on_snapshot(tmp_path, make_snapshot) as (page, url, landing):
        page.goto(f"{url}/sop-cycle")
        missing = wait_for_texts(page, ["S&OP cycle", "Cycle 2026-10", "oct-1", "carl", "+50%",
                                        "Forecast value added, cycle 2026-09", "+0.500", "Enter an override"])
        assert not missing, f"the page does not show {missing}"
        form = page.locator("[data-testid='stForm']")
        # a date field of segments (year, month, day): typing fills one and moves to the next
        form.get_by_role("spinbutton", name="year, Period start (a Monday, or the 1st)").click()
        page.keyboard.type("20261109")
        page.keyboard.press("Tab")
        form.get_by_label("Units for the period, or the change in percent").fill("30")
        form.get_by_label("Your name").fill("dana")
        form.get_by_role("button", name="Save override").click()
        missing = wait_for_texts(page, ["The next run applies it."])
        page.screenshot(path=str(tmp_path / "sop_cycle.png"), full_page=True)
        assert not missing, page.inner_text("body")[:2000]
        assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    [written] = (landing / "overrides").glob("overrides_*_dana.csv")
    row = pd.read_csv(written).iloc[0]
    assert (row["market"], row["bucket"], row["period_start"], row["units"], row["author"]) == (
        "DE", "week", "2026-11-09", 30.0, "dana")
