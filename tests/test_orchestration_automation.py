"""The landing sensor asks for one run per batch of new files, with a stable key."""
from __future__ import annotations

import dagster as dg

from orchestration.automation import daily_planning_schedule, landing_files_sensor
from orchestration.resources import LandingFolder, MerchantConfigFile


def evaluate(landing: LandingFolder, cursor: str | None, config: MerchantConfigFile | None = None):
    config = config or MerchantConfigFile(path=str(landing.root / "no-such-crossdock.yaml"))
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": landing, "merchant_config": config})
    return landing_files_sensor(context), context.cursor


def test_new_files_start_one_run_and_the_same_files_do_not_start_another(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    result, cursor = evaluate(landing, None)
    assert isinstance(result, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-01.csv").write_text("order_id\n1\n")
    first, cursor = evaluate(landing, cursor)
    assert isinstance(first, dg.RunRequest) and first.run_key

    again, cursor = evaluate(landing, cursor)
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "orders" / "orders_2026-02.csv").write_text("order_id\n2\n")
    second, _ = evaluate(landing, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key
    assert second.tags["crossdock/new_files"] == "1"


def test_the_run_key_depends_only_on_the_files(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "carriers").mkdir()
    (tmp_path / "carriers" / "tracking_2026-01.jsonl").write_text("{}\n")
    a, _ = evaluate(landing, None)
    b, _ = evaluate(landing, None)
    assert a.run_key == b.run_key


def test_an_edited_merchant_config_asks_for_a_run_of_today(tmp_path):
    landing = LandingFolder(path=str(tmp_path / "landing"))
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    config = MerchantConfigFile(path=str(tmp_path / "crossdock.yaml"))
    skipped, cursor = evaluate(landing, None, config)
    assert isinstance(skipped, dg.SkipReason)

    (tmp_path / "crossdock.yaml").write_text("nodes: []\n")
    first, cursor = evaluate(landing, cursor, config)
    assert isinstance(first, dg.RunRequest) and first.tags["crossdock/new_files"] == "1"
    assert "crossdock/files_dated" not in first.tags  # no landing file asked for it
    again, cursor = evaluate(landing, cursor, config)
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "crossdock.yaml").write_text("nodes: []\nmarkets: []\n")  # edited: new size and time
    edited, _ = evaluate(landing, cursor, config)
    assert isinstance(edited, dg.RunRequest) and edited.run_key != first.run_key


def test_daily_schedule_targets_the_planning_job():
    assert daily_planning_schedule.cron_schedule == "0 6 * * *"
    assert daily_planning_schedule.job_name == "daily_planning"


def test_new_files_ask_for_one_run_labelled_with_their_days(tmp_path):
    landing = LandingFolder(path=str(tmp_path))
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "orders_2026-01-15.csv").write_text("x\n")
    (tmp_path / "orders" / "orders_2025-12.csv").write_text("y\n")  # a late, older export
    request, _ = evaluate(landing, None)
    assert request.tags["crossdock/files_dated"] == "2025-12-31..2026-01-15"


def test_the_schedule_names_the_days_of_every_waiting_file(tmp_path):
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "inventory_2026-03-02.csv").write_text("x\n")
    context = dg.build_schedule_context(resources={"landing": LandingFolder(path=str(tmp_path))})
    request = daily_planning_schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["crossdock/files_dated"] == "2026-03-02..2026-03-02"


def test_the_ingest_assets_are_not_partitioned_so_bookkeeping_does_not_grow_with_history():
    from orchestration.assets.ingest import INGEST_ASSETS

    assert all(asset.partitions_def is None for asset in INGEST_ASSETS)


def test_a_new_file_in_a_source_folder_is_labelled_with_its_day(tmp_path):
    import os

    landing = LandingFolder(path=str(tmp_path))
    source = tmp_path / "orders" / "shopify"
    source.mkdir(parents=True)
    (source / "mapping.yaml").write_text("extends: shopify_orders\n")
    export = source / "orders_export.csv"  # no date in the name: the day comes from its modification time
    export.write_text("x\n")
    os.utime(export, (1767225600, 1767225600))  # 2026-01-01 UTC
    request, _ = evaluate(landing, None)
    assert request.tags["crossdock/files_dated"] == "2026-01-01..2026-01-01"
