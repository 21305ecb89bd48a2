"""The override the dashboard's form writes: a landing file the ingest loads like any overrides feed file, and a
form that refuses, writing nothing, what the run could not apply."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard.override_entries import BUCKETS, COLUMNS, REASONS, bucket_start, write_override
from feeds.contracts import FORECAST_OVERRIDES, OVERRIDE_BUCKETS, OVERRIDE_REASONS
from feeds.ingest import ingest_feed

AT = dt.datetime(2026, 10, 30, 9, 15, tzinfo=dt.timezone.utc)


def test_the_form_writes_the_contracts_columns_and_words():
    assert COLUMNS == tuple(c.name for c in FORECAST_OVERRIDES.columns)
    assert (REASONS, BUCKETS) == (OVERRIDE_REASONS, OVERRIDE_BUCKETS)


def test_an_override_and_its_withdrawal_load_through_the_ingest_as_two_revisions(tmp_path):
    landing = tmp_path / "landing"
    first = write_override(landing, "Ana Lima", "de", "week", dt.date(2026, 11, 2), "promotion", units=120.0,
                           sku="APP-00019", comment="banner, 3 days", at=AT)
    override_id = first.read_text().splitlines()[1].split(",")[0]
    write_override(landing, "Ana Lima", "DE", "week", dt.date(2026, 11, 2), "promotion", units=120.0, sku="APP-00019",
                   override_id=override_id, withdrawn=True, at=AT + dt.timedelta(hours=2))
    assert first.name == "overrides_20261030T091500Z_Ana-Lima.csv"
    assert not list((landing / "overrides").glob(".*"))  # no half-written file left behind
    conn = duckdb.connect()
    results = ingest_feed(conn, landing, "overrides", "salt")
    assert [(r.status, r.rows_loaded, r.rows_quarantined) for r in results] == [("loaded", 1, 0)] * 2
    rows = conn.execute("select override_id, author, market, sku, category, units, change_pct, withdrawn "
                        "from raw.forecast_overrides order by entered_at").fetchall()
    assert rows == [(override_id, "Ana Lima", "DE", "APP-00019", None, 120.0, None, None),
                    (override_id, "Ana Lima", "DE", "APP-00019", None, 120.0, None, True)]


@pytest.mark.parametrize(("values", "problem"), [
    (dict(units=10.0, change_pct=5.0), "give units or a change in percent, not both"),
    (dict(), "give units or a change in percent"),
    (dict(units=10.0, period_start=dt.date(2026, 11, 3)), "a week starts on 2026-11-02, not 2026-11-03"),
    (dict(units=10.0, bucket="month"), "a month starts on 2026-11-01, not 2026-11-02"),
    (dict(change_pct=-120.0), "a change below -100% would sell less than nothing"),
    (dict(units=10.0, author=" "), "say who you are: the author is empty"),
    (dict(units=10.0, reason_code="hunch"), "reason 'hunch' is not one of"),
    (dict(units=10.0, sku="A", category="shoes"), "give a SKU or a category, not both"),
    (dict(units=10.0, market="Germany"), "market 'Germany' is not an ISO 3166-1 alpha-2 code"),
    (dict(units=10.0, market="FR", markets=["DE", "ROW"]), "market 'FR' is not planned: choose one of DE, ROW"),
])
def test_the_form_refuses_what_the_run_could_not_apply_and_writes_nothing(tmp_path, values, problem):
    arguments = dict(author="ana", market="DE", bucket="week", period_start=dt.date(2026, 11, 2),
                     reason_code="promotion", at=AT) | values
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        write_override(tmp_path, **arguments)
    assert not (tmp_path / "overrides").exists()


def test_bucket_start_is_the_monday_or_the_first():
    assert bucket_start(dt.date(2026, 11, 5), "week") == dt.date(2026, 11, 2)
    assert bucket_start(dt.date(2026, 11, 5), "month") == dt.date(2026, 11, 1)


def test_the_form_writes_an_override_for_the_catch_all_market_it_offers(tmp_path):
    """The catch-all market (ROW) is no country, but it is planned: an override for it loads."""
    path = write_override(tmp_path, "ana", "ROW", "week", dt.date(2026, 11, 2), "promotion", units=30.0, at=AT,
                          markets=["DE", "ROW"])
    conn = duckdb.connect()
    [result] = ingest_feed(conn, tmp_path, "overrides", "salt")
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 1, 0), path
    assert conn.execute("select market, units from raw.forecast_overrides").fetchall() == [("ROW", 30.0)]
