"""The dashboard's Exceptions page: its queries on a hand-made snapshot, the update file its form writes (which the
ingest loads as any exceptions feed file), and the page itself in Chromium on that snapshot."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bi_snapshots import publish_staged
from crossdock.publish import stage_table
from dashboard import data, sop_data
from dashboard.exception_updates import COLUMNS, update_file_name, write_update
from feeds.contracts import EXCEPTION_UPDATES
from feeds.ingest import ingest_feed
from sop.exception_status import fold_status, latest_updates
from sop.exception_rows import RAISED_COLUMNS

AS_OF = dt.date(2026, 10, 30)


def _raised() -> pd.DataFrame:
    rows = [
        ("expedite:A:DE-FRA", "expedite", "A", None, "DE-FRA", 12.0, 24.0, "reroute from GB-BHX (12): 12 units", 9.0,
         "supply planner"),
        ("expedite:B:DE-FRA", "expedite", "B", None, "DE-FRA", 5.0, 50.0, None, None, "supply planner"),
        ("excess:C:US-EWR", "excess", "C", None, "US-EWR", 600.0, 1200.0, None, None, "supply planner"),
        ("forecast_bias:A:DE", "forecast_bias", "A", "DE", None, 40.0, None, None, None, "demand planner"),
        ("stopped_selling:A:US", "stopped_selling", "A", "US", None, 3.0, None, None, None, "demand planner"),
        ("stopped_selling:B:US", "stopped_selling", "B", "US", None, 90.0, None, None, None, "demand planner"),
    ]
    frame = pd.DataFrame(rows, columns=["exception_id", "type", "sku", "market", "node", "units_affected", "value_eur",
                                        "fix", "fix_cost_eur", "default_owner"])
    frame["subject"] = frame["exception_id"]
    frame["problem"] = "what is wrong with " + frame["exception_id"]
    frame["measure"] = float("nan")
    return frame.loc[:, list(RAISED_COLUMNS)]


def _updates() -> pd.DataFrame:
    frame = pd.DataFrame([
        ("expedite:B:DE-FRA", "2026-10-30 09:00", "ben", "resolved", "ben", "air booked"),
        ("excess:C:US-EWR", "2026-10-30 10:00", "cho", "acknowledged", "Ops Lead", None),
    ], columns=["exception_id", "updated_at_utc", "updated_by", "status", "owner", "note"])
    return frame.assign(updated_at_utc=pd.to_datetime(frame["updated_at_utc"]))


def make_snapshot(path: Path) -> None:
    """A BI snapshot with the tables the Exceptions page reads (inventory_plan only for the plan date)."""
    exceptions, _ = fold_status(_raised(), None, _updates(), AS_OF)
    with duckdb.connect(str(path)) as conn:
        stage_table(conn, "exceptions", exceptions, "run-1")
        publish_staged(conn, ["exceptions"], AS_OF)


@pytest.fixture
def snapshot(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    make_snapshot(tmp_path / "crossdock_publish.duckdb")
    return data.connect(tmp_path / "crossdock_publish.duckdb")


def test_counts_per_type_and_the_open_list_most_value_first(snapshot):
    counts = sop_data.exception_counts(snapshot).set_index("type")
    assert counts.loc["expedite"].tolist() == [1, 2, 1, 2]  # open, raised, closed, ever raised
    assert counts.loc["excess"].tolist() == [1, 1, 0, 1]
    assert counts.loc["landed_cost_jump"].tolist() == [0, 0, 0, 0]
    rows = sop_data.exception_list(snapshot)
    assert rows["exception_id"].tolist() == ["expedite:A:DE-FRA", "excess:C:US-EWR", "forecast_bias:A:DE",
                                             "stopped_selling:B:US", "stopped_selling:A:US"]  # unpriced: most units first
    assert rows.set_index("exception_id").loc["excess:C:US-EWR", ["owner", "status"]].tolist() == ["Ops Lead", "acknowledged"]
    assert sop_data.exception_list(snapshot, owner="ops lead")["exception_id"].tolist() == ["excess:C:US-EWR"]
    assert sop_data.exception_list(snapshot, type_="expedite", everything=True)["exception_id"].tolist() == [
        "expedite:B:DE-FRA", "expedite:A:DE-FRA"]  # B is worth more
    resolved = sop_data.exception_list(snapshot, status="resolved")
    assert resolved["exception_id"].tolist() == ["expedite:B:DE-FRA"]
    assert resolved["history"].iloc[0] == "2026-10-30 09:00 UTC ben: resolved, owner ben: air booked"
    assert data.has_tables(snapshot, "exceptions")


def test_the_form_writes_a_file_the_ingest_loads_as_an_exceptions_update(tmp_path):
    assert COLUMNS == tuple(c.name for c in EXCEPTION_UPDATES.columns)
    at = dt.datetime(2026, 10, 30, 15, 45, 7, tzinfo=dt.timezone.utc)
    path = write_update(tmp_path / "landing", "expedite:A:DE-FRA", "in_progress", " Ben Ode ", "", "air slot, 12 units", at)
    assert path == tmp_path / "landing" / "exceptions" / "exception_updates_20261030T154507Z_Ben-Ode.csv"
    assert path.read_text().splitlines() == [
        "exception_id,updated_at,updated_by,status,owner,note",
        'expedite:A:DE-FRA,2026-10-30T15:45:07+00:00,Ben Ode,in_progress,,"air slot, 12 units"']
    assert not list(path.parent.glob(".*"))  # the hidden part file was renamed
    again = write_update(tmp_path / "landing", "excess:C:US-EWR", "dismissed", "Ben Ode", "cho", None, at)
    assert again != path and again.exists()  # same author, same second: a second file, not an overwrite
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        results = ingest_feed(conn, tmp_path / "landing", "exceptions", "salt")
        assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(1, 0), (1, 0)]
        loaded = conn.execute("select exception_id, updated_by, status, owner, note, _file_date "
                              "from raw.exception_updates order by exception_id").fetchall()
    assert loaded[1] == ("expedite:A:DE-FRA", "Ben Ode", "in_progress", None, "air slot, 12 units", dt.date(2026, 10, 30))
    assert update_file_name("../../etc", at) == "exception_updates_20261030T154507Z_etc.csv"


@pytest.mark.parametrize("exception_id, status, author, message", [
    ("", "open", "ben", "the id is empty"),
    ("expedite:A:DE-FRA", "done", "ben", "status 'done' is not one of"),
    ("expedite:A:DE-FRA", "resolved", "  ", "the update's author is empty"),
])
def test_an_update_without_an_id_an_author_or_a_known_status_writes_nothing(tmp_path, exception_id, status, author, message):
    with pytest.raises(ValueError, match=message):
        write_update(tmp_path, exception_id, status, author)
    assert not (tmp_path / "exceptions").exists()


def test_the_status_fold_reads_what_the_form_wrote(tmp_path):
    """Round trip: the form's file, ingested and read back as staging would, makes the latest update win."""
    first = dt.datetime(2026, 10, 30, 9, 0, tzinfo=dt.timezone.utc)
    write_update(tmp_path, "expedite:A:DE-FRA", "acknowledged", "ben", "ben", "asked", first)
    write_update(tmp_path, "expedite:A:DE-FRA", "resolved", "ben", None, "done", first + dt.timedelta(hours=2))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ingest_feed(conn, tmp_path, "exceptions", "salt")
        updates = conn.execute("select exception_id, updated_at as updated_at_utc, updated_by, status, "
                               "nullif(trim(owner), '') as owner, note from raw.exception_updates").df()
    status = latest_updates(updates).iloc[0]
    assert (status["status"], status["owner"], status["updates"]) == ("resolved", "ben", 2)


@pytest.mark.browser
def test_the_exceptions_page_lists_them_and_its_form_writes_an_update_in_a_browser(tmp_path):
    """Streamlit on the hand-made snapshot: the page shows the counts and the open list, and saving the form
    writes the update file into the landing folder and says when it will show."""
    from browser import dashboard_on_snapshot, wait_for_texts

    with dashboard_on_snapshot(tmp_path, make_snapshot) as (page, url, landing):
        page.goto(f"{url}/exceptions")
        missing = wait_for_texts(page, ["Exceptions", "Open exceptions", "expedite:A:DE-FRA", "excess:C:US-EWR",
                                        "Ops Lead", "acknowledged", "€1,200.00", "reroute from GB-BHX (12): 12 units"])
        assert not missing, f"the page does not show {missing}"
        assert "expedite:B:DE-FRA" not in page.inner_text("[data-testid='stTable']")  # resolved: not open
        form = page.locator("[data-testid='stForm']")
        form.locator("[data-testid='stSelectbox']").first.click()  # the exception: type to filter, Enter picks
        page.keyboard.type("excess:C")
        page.get_by_role("option", name="excess:C:US-EWR").wait_for()
        page.keyboard.press("Enter")
        form.get_by_label("Your name").fill("cho")
        form.get_by_label("Note").fill("moving 100 units to GB-BHX")
        form.get_by_role("button", name="Save update").click()
        missing = wait_for_texts(page, ["It shows here after the next run ingests it."])
        page.screenshot(path=str(tmp_path / "exceptions.png"), full_page=True)
        assert not missing, page.inner_text("body")[:2000]
        assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    [written] = (landing / "exceptions").glob("exception_updates_*_cho.csv")
    row = pd.read_csv(written).iloc[0]
    assert (row["exception_id"], row["status"], row["updated_by"], row["note"]) == (
        "excess:C:US-EWR", "open", "cho", "moving 100 units to GB-BHX")
