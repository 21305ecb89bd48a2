"""The hostile-input suite: every kind of bad file in tests/hostile_corpus.py, ingested and planned.

Two levels share the corpus. The fast one ingests every hostile file into one
warehouse with the feeds' own ingest (no Dagster) and checks each file on its
own: what happened to it, that its ledger row balances, that every good line
of a file with a bad line was kept, and that nothing of a file outside the
landing folder was read. The slow one (e2e) lands the whole corpus beside a
small demo merchant and runs the daily_planning job once: it must finish,
publish, and carry every good hostile line into the plan's inputs.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from crossdock.settings import Settings
from cli.summary import collect_summary
from cli.summary_lines import format_summary
from demo.network import install_demo_config
from hostile_corpus import SYSTEM_FILE_MARK, Hostile, Merchant, corpus, write
from job_runs import run_daily_planning
from light_forecast import use_light_forecast

MERCHANT = Merchant(sku="ELA-00001", node="US-EWR", country="US", currency="USD", day=dt.date(2026, 10, 30))
FILES = corpus(MERCHANT)
SALT = "hostile-suite-salt"


def ingest_everything(settings: Settings) -> None:
    """Ingest every feed of the landing folder the way the job's ingest assets do."""
    from feeds.ingest import ingest_feed
    from orchestration.lib.resources import MerchantConfigFile

    config = MerchantConfigFile(path=str(settings.config))
    with duckdb.connect(str(settings.warehouse)) as conn:
        for feed in ("suppliers", "orders", "inventory", "carriers"):
            ingest_feed(conn, settings.landing, feed, SALT, plausibility=config.plausibility())


def land(settings: Settings, files: list[Hostile]) -> dict[str, Path]:
    return {h.kind: write(h, settings.landing, settings.landing.parent / "outside", MERCHANT) for h in files}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    settings = Settings.under(tmp_path_factory.mktemp("hostile"))
    settings.warehouse.parent.mkdir(parents=True)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)
    paths = land(settings, FILES)
    ingest_everything(settings)
    return {"settings": settings, "paths": paths}


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def ledger_rows(settings: Settings, path: Path) -> list[tuple]:
    name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return query(
        settings,
        "select status, rows_received, rows_loaded, rows_quarantined, rows_rejected, rows_duplicate, message "
        "from audit.ingest_ledger where file_name = ?",
        [name],
    )


def kept_good_rows(settings: Settings, hostile: Hostile) -> int:
    dataset, key = hostile.extra.get("dataset", "orders"), hostile.extra.get("key", "order_id")
    prefix = f"HX-{hostile.kind}-%" if dataset == "orders" else "HX-%"
    [(count,)] = query(settings, f"select count(*) from raw.{dataset} where {key} like ?", [prefix])
    return int(count)


def test_the_corpus_has_at_least_sixty_hand_made_files():
    assert len(FILES) >= 60
    assert len({h.kind for h in FILES}) == len(FILES)


@pytest.mark.parametrize("hostile", FILES, ids=lambda h: h.kind)
def test_each_hostile_file_is_handled_as_its_kind_and_loses_no_good_line(ingested, hostile):
    settings, path = ingested["settings"], ingested["paths"][hostile.kind]
    rows = ledger_rows(settings, path)
    if hostile.outcome == "ignored":
        assert rows == [] and path.exists()
        return
    assert len(rows) == 1, rows
    status, received, loaded, quarantined, rejected, duplicate, message = rows[0]
    assert received == loaded + quarantined + rejected + duplicate, rows[0]
    assert status == hostile.outcome, (status, message)
    if hostile.outcome == "rejected":
        assert loaded == 0 and message, rows[0]
        assert not path.is_symlink() and not path.exists(), "a rejected file leaves the landing folder"
    if hostile.bad_rows is not None:
        assert quarantined == hostile.bad_rows, (quarantined, message)
    assert kept_good_rows(settings, hostile) == hostile.good_rows


def test_nothing_of_a_file_outside_landing_reaches_the_warehouse_or_the_reasons(ingested):
    settings = ingested["settings"]
    texts = query(settings, "select coalesce(message, '') from audit.ingest_ledger")
    texts += query(settings, "select coalesce(reason, '') || coalesce(cast(record as varchar), '') from audit.quarantine")
    assert not [t for (t,) in texts if SYSTEM_FILE_MARK in t]
    for reason_file in (settings.landing / "rejected").rglob("*.reason.txt"):
        assert SYSTEM_FILE_MARK not in reason_file.read_text(encoding="utf-8")
    [(outside,)] = query(settings, "select count(*) from raw.orders where order_id like 'HX-link_%'")
    assert outside == 0


def test_every_ledger_row_balances_and_ingesting_again_changes_nothing(ingested):
    settings = ingested["settings"]
    before = query(settings, "select count(*), sum(rows_loaded) from audit.ingest_ledger")
    assert query(
        settings,
        "select count(*) from audit.ingest_ledger "
        "where rows_received <> rows_loaded + rows_quarantined + rows_rejected + rows_duplicate",
    ) == [(0,)]
    ingest_everything(settings)
    assert query(settings, "select count(*), sum(rows_loaded) from audit.ingest_ledger") == before


def test_the_quarantine_export_is_safe_to_open_in_a_spreadsheet(ingested, tmp_path):
    from feeds.quarantine import export_quarantine

    out = tmp_path / "fix.csv"
    with duckdb.connect(str(ingested["settings"].warehouse)) as conn:
        assert export_quarantine(conn, "orders", out) > 0
    with out.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    dangerous = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _is_number(c))]
    assert dangerous == []
    assert any(c.startswith("'=HYPERLINK") for c in cells), "the formula is kept, escaped, so the merchant can fix it"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.e2e
def test_the_whole_job_plans_through_the_whole_corpus(tmp_path_factory):
    """One run with every hostile file beside a small demo merchant: it finishes, publishes, keeps every good line."""
    from demo.generate import generate

    settings = Settings.under(tmp_path_factory.mktemp("hostile_run"))
    generate(settings.landing, scale=0.03, seed=17, quiet=True)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)  # the test is of the inputs, not of the forecast's accuracy
    paths = land(settings, FILES)
    result = run_daily_planning(settings)
    failures = [e.step_key for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    for hostile in FILES:
        if hostile.outcome != "ignored":
            [row] = ledger_rows(settings, paths[hostile.kind])
            assert row[1] == sum(row[2:6]), (hostile.kind, row)
        assert kept_good_rows(settings, hostile) == hostile.good_rows, hostile.kind
    good_orders = sum(h.good_rows for h in FILES if h.extra.get("dataset", "orders") == "orders")
    [(planned,)] = query(settings, "select count(*) from staging.stg_orders where order_id like 'HX-%'")
    assert planned == good_orders
    [(published,)] = query(settings, "select count(*) from publish.inventory_plan")
    assert published > 0
    # a stock count of a SKU nobody sells or catalogues cannot be planned: it is named, not fatal
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        summary = format_summary(settings, collect_summary(conn))
    assert "NOT PLANNED: 1 SKUs held in stock or on order" in summary and "HX-INV-1" in summary


def test_a_reason_names_the_merchants_file_not_a_temporary_copy(ingested):
    messages = [m for (m,) in query(ingested["settings"], "select message from audit.ingest_ledger where status = 'rejected'")]
    assert messages and not [m for m in messages if "crossdock-land-" in m]
